// Package lzo1x is an LZO1X-1 compressor: it turns a byte slice into a raw
// LZO1X stream that any standard LZO1X decompressor accepts.
//
// LZO1X is the byte-oriented LZ77 format of Markus Oberhumer's LZO library.
// A stream is a sequence of instructions that either copy literal bytes from
// the stream or copy an earlier part of the output (a "match" given by a
// distance and a length), and it ends with the instruction 11 00 00.
// LZO1X-1 is the library's fastest compression level: a greedy parser that
// looks the next four input bytes up in a hash table of recently seen
// positions, takes the match it finds there if the bytes really are equal,
// and otherwise moves on, taking bigger steps the longer it goes without
// finding one.
//
// We need it because nfdump 1.7 compresses every data block of an LZO flow
// file (nfcapd -z, compression byte 1 in the file header) with minilzo's
// lzo1x_1_compress: the payload on disk is the bare stream with no header and
// no length prefix, and nfdump reads it back with lzo1x_decompress_safe, which
// fails unless the stream decodes to the block and consumes the input exactly.
// Go has LZO1X decoders but no encoder we can depend on (github.com/anchore/go-lzo,
// whose decoder flowfile uses, has no compressor at all as of v0.1.1, so there
// was nothing to measure this one against), and a literal-only stream would
// store flow data uncompressed, so this package provides a real one.
//
// Its speed depends on the data far more than on the code around the match
// search: on the bench's flow records (random addresses, ports and counters,
// about ten matches of nine bytes a 104-byte record) it compresses some 280
// MB/s of CPU time, on records of fewer distinct values over 1 GB/s. Writing
// the short matches' instructions inline instead of through putLiterals and
// putMatch measured no faster: the lookups and the branches on their
// outcome are the cost.
//
// The encoder was written from the published description of the stream
// format (the Linux kernel's Documentation/staging/lzo.rst), not from any
// existing implementation. The instructions it emits are:
//
//   - First instruction: byte 17+n followed by n literals for n <= 238. When
//     n <= 3 the decoder treats those literals like the trailing literals of
//     a match, so the next byte must be a match.
//   - Literal run after a match with no trailing literals, or a first run
//     longer than 238 bytes: 0000LLLL copies L+3 (4..18) literals; L = 0
//     means 18 plus a length extension (see below). The next instruction is
//     then always a match.
//   - M2, 1 to 2048 bytes back, length 3..8: LLLDDDSS HHHHHHHH with
//     length = LLL+1 (LLL >= 2) and distance = H<<3 + D + 1.
//   - M3, 1 to 16384 bytes back: 001LLLLL, optional length extension, then
//     a little-endian 16-bit DDDDDDDDDDDDDDSS with distance = D + 1 and
//     length = L+2, or 33 plus the extension when L = 0.
//   - M4, 16385 to 49151 bytes back: 0001HLLL, optional length extension,
//     then a little-endian 16-bit DDDDDDDDDDDDDDSS with
//     distance = 16384 + H<<14 + D and length = L+2, or 9 plus the extension
//     when L = 0. H = 0, D = 0 (distance 16384) is the end-of-stream marker
//     11 00 00, which is why M3 covers that distance.
//   - The two S bits of every match carry the number (0..3) of literals that
//     follow it. Four or more literals need S = 0 and a literal run.
//   - A length extension is k zero bytes, each worth 255, and one non-zero
//     byte added to them.
//
// The format also has short M1 matches (two bytes after 1..3 trailing
// literals, or three bytes 2049..3072 back after a literal run); they are
// never emitted, because every match found through the 4-byte hash is at
// least four bytes long and M2, M3 or M4 encode those at least as well.
package lzo1x
