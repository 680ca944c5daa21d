// Package lz4block decodes LZ4 blocks (the raw block format, as
// LZ4_compress_default writes them) for the flow file reader.
//
// It exists because decoding LZ4 is two thirds of godump's CPU time on
// `-o null` over LZ4 files, and pierrec/lz4's amd64 decoder, general as
// it must be, spends 44 instructions a sequence on our blocks (11 bytes of
// output a sequence, with 1 to 7 literals and matches of 4 to 31 bytes
// from far back in nearly all). The reader decodes a block of at most a
// megabyte into a buffer of a megabyte and an eighth, so the output nearly
// always has room to spare: the fast path here copies 16 bytes of
// literals and 32 of match whatever their lengths (bytes past the
// output's end are overwritten with junk), with one branch for each case
// it leaves to the exact path (literal runs of 15 and more, matches of
// more than 32 bytes, offsets under 8) and the next token's address a
// load, a shift and a LEA after the last one's. On every block of the
// first file of the benchmark archives (26 and 33 blocks) it runs 29
// instructions a sequence, 0.66 of pierrec's (callgrind), and takes 0.83
// of pierrec's time on both (median of 15 alternating runs of 40 passes,
// load 2), 0.74 and 0.79 on one block that stays in the cache.
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
