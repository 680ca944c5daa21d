// Package lz4block decodes LZ4 blocks (the raw block format, as
// LZ4_compress_default writes them) for the flow file reader.
//
// It exists because decoding LZ4 is two thirds of godump's CPU time on
// `-o null` over LZ4 files, and pierrec/lz4's amd64 decoder, general as
// it must be, spends 44 instructions a sequence on our blocks (11 bytes of
// output a sequence, with 0 to 7 literals and matches of 4 to 31 bytes
// from far back in nearly all). The reader decodes a block of at most a
// megabyte into a buffer of a megabyte and an eighth, so the output nearly
// always has room to spare: the fast path here copies 16 bytes of
// literals and 32 of match whatever their lengths (bytes past the
// output's end are overwritten with junk), with one branch for each case
// it leaves to the exact path (literal runs of 15 and more, matches of
// more than 32 bytes, offsets under 8). What sets its pace is the chain
// from one token to the next, the token's load and its shift to the
// literal length; the next token is loaded by an address made of that
// register (3(SI)(CX*1)), not after a LEA. On every block of the first
// file of the benchmark archives (26 and 33 blocks of a megabyte) it runs
// 30 instructions a sequence, 0.68 of pierrec's (callgrind), and takes
// 0.80 (home) and 0.81-0.85 (border) of pierrec's time (median and best
// of 20 alternating runs of 40 passes, load 5), 0.79 on one block that
// stays in the cache. godump -o null over the 2-million-flow archives
// took 0.88 of the CPU time it took with pierrec (see flowfile/lz4.go).
//
// Everything the fast path cannot take, and every block near the ends of
// its buffers, goes through an exact path that checks every read and
// write. Decode succeeds and fails on the same blocks as pierrec's
// UncompressBlock and gives the same output, which the tests check on
// valid, cut and damaged blocks with both buffers against guard pages.
// Other architectures use pierrec.
package lz4block

import "errors"

// ErrCorrupt is the one error of Decode: src is damaged or dst too short,
// which LZ4 blocks cannot tell apart. Its text is pierrec/lz4's, which
// users saw before.
var ErrCorrupt = errors.New("lz4: invalid source or destination buffer too short")
