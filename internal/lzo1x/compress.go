package lzo1x

import (
	"encoding/binary"
	"math/bits"
	"slices"
)

// Limits of the stream format; the comment of the package describes where
// they come from.
const (
	minMatch = 4 // shortest match the 4-byte hash table can find

	m2MaxLen  = 8
	m2MaxDist = 2048
	m3MaxLen  = 33 // longest M3 without a length extension
	m3MaxDist = 16384
	m4MaxLen  = 9 // longest M4 without a length extension
	m4MaxDist = 49151
	maxDist   = m4MaxDist

	// maxFirstRun is the longest literal run the special first byte 17+n can
	// carry.
	maxFirstRun = 238
	// maxShortRun is the longest literal run 0000LLLL carries without a
	// length extension.
	maxShortRun = 18
)

// Hash table geometry. LZO1X-1 uses 2^14 entries, which keeps the table in
// the first- or second-level cache; small inputs use a smaller part of it so
// that clearing it does not cost more than compressing them.
const (
	maxTableBits = 14
	minTableBits = 10
	hashPrime    = 2654435761 // Knuth's multiplicative hashing constant
)

// endOfStream is the M4 instruction with distance 16384 that ends a stream.
var endOfStream = [3]byte{0x11, 0x00, 0x00}

// Compressor holds the hash table so repeated calls do not allocate.
//
// The zero value is ready to use. A Compressor is 64 KiB large and must not be
// used by several goroutines at once, so keep one per goroutine and reuse it.
type Compressor struct {
	// table maps the hash of four input bytes to the (truncated) position
	// where they were last seen. Entries are only hints: every candidate is
	// checked against the input before it is used, so a stale entry costs a
	// missed match at worst, never a wrong one.
	table [1 << maxTableBits]uint32
}

// MaxCompressedLen returns an upper bound of the output size for n input bytes.
//
// This is the bound LZO documents for LZO1X-1, and our encoder stays well
// below it. A match of at least four bytes takes at least one byte less than
// it replaces, and a literal run of r bytes costs at most 2 + r/255 bytes more
// than r, of which the match before it pays one. So only runs of 19 or more
// literals, each after a match, add a byte plus their length extension, and
// the output is at most n + n/23 + n/255 + 5 bytes. Compress relies on the
// bound: it reserves that much room before writing.
func MaxCompressedLen(n int) int {
	return n + n/16 + 64 + 3
}

// Compress appends the LZO1X-1 stream of src to dst and returns it.
//
// The stream has no header and no length prefix and ends with 11 00 00, like
// the output of minilzo's lzo1x_1_compress. If dst has room for
// MaxCompressedLen(len(src)) more bytes, Compress does not allocate. The same
// input always gives the same output.
func (c *Compressor) Compress(dst, src []byte) []byte {
	start := len(dst)
	bound := MaxCompressedLen(len(src))
	dst = slices.Grow(dst, bound)
	out := dst[:start+bound]

	o := start
	// stateAt is the index of the byte whose low two bits tell the decoder
	// how many literals follow the last match. It is negative until the first
	// match, which makes a leading literal run use the first-byte encoding.
	stateAt := -1
	lit := 0 // first input byte not yet written to out

	if len(src) > minMatch {
		o, stateAt, lit = c.compressMatches(out, o, src)
	}
	o = putLiterals(out, o, stateAt, src[lit:])
	o += copy(out[o:], endOfStream[:])
	return out[:o]
}

// compressMatches writes the literal runs and matches of src to out[o:],
// greedily, and returns the new output index, the index of the state bits of
// the last match and the start of the literals that are still pending.
func (c *Compressor) compressMatches(out []byte, o int, src []byte) (int, int, int) {
	tableBits := bits.Len(uint(len(src) - 1))
	tableBits = max(minTableBits, min(maxTableBits, tableBits))
	table := c.table[:1<<tableBits]
	// Clearing makes the output depend only on src, not on earlier calls.
	clear(table)
	shift := uint(32 - tableBits)

	stateAt := -1
	lit := 0
	misses := 0 // failed lookups since the last match
	// A match needs four readable bytes at its start.
	last := len(src) - minMatch
	for p := 0; p <= last; {
		v := binary.LittleEndian.Uint32(src[p:])
		// The mask changes nothing but lets the compiler drop the bounds
		// check.
		h := (v * hashPrime) >> shift & uint32(len(table)-1)
		// Positions are stored truncated to 32 bits, so the subtraction
		// wraps for inputs over 4 GiB; the range checks below and the
		// comparison with the input keep any candidate honest.
		dist := int(uint32(p) - table[h])
		table[h] = uint32(p)
		if uint(dist-1) >= maxDist || dist > p ||
			binary.LittleEndian.Uint32(src[p-dist:]) != v {
			// Stride faster through data that does not compress, as
			// LZO1X-1 does, so that random input costs little more than a
			// copy. The step grows by one every 64 failed lookups rather
			// than with the length of the literal run: after a long run a
			// stride proportional to the run would step over most repeats of
			// the data before it.
			p += 1 + misses>>6
			misses++
			continue
		}

		// Extend the match forwards, then backwards into the pending
		// literals, which the hash lookup may have skipped over.
		end := p + minMatch + matchLen(src[p+minMatch:], src[p-dist+minMatch:])
		for p > lit && p > dist && src[p-1] == src[p-1-dist] {
			p--
		}

		o = putLiterals(out, o, stateAt, src[lit:p])
		o, stateAt = putMatch(out, o, dist, end-p)
		p, lit = end, end
		misses = 0

		// Remember a position near the end of the match, so that data
		// which repeats right after it can be found again.
		if p <= last {
			q := p - 2
			hq := (binary.LittleEndian.Uint32(src[q:]) * hashPrime) >> shift & uint32(len(table)-1)
			table[hq] = uint32(q)
		}
	}
	return o, stateAt, lit
}

// matchLen returns how many leading bytes a and b have in common; b must be
// at least as long as a.
func matchLen(a, b []byte) int {
	b = b[:len(a)]
	n := 0
	for len(a) >= 8 {
		x := binary.LittleEndian.Uint64(a) ^ binary.LittleEndian.Uint64(b)
		if x != 0 {
			return n + bits.TrailingZeros64(x)>>3
		}
		a, b = a[8:], b[8:]
		n += 8
	}
	for i := range a {
		if a[i] != b[i] {
			return n + i
		}
	}
	return n + len(a)
}

// putLiterals writes a literal run to out[o:] and returns the new output
// index. stateAt is the index of the state bits of the previous match, or
// negative when the run is the first instruction of the stream.
func putLiterals(out []byte, o, stateAt int, lits []byte) int {
	n := len(lits)
	switch {
	case n == 0:
		return o
	case stateAt < 0 && n <= maxFirstRun:
		// Only the first instruction may use 18..255 as a literal count.
		out[o] = byte(17 + n)
		o++
	case stateAt >= 0 && n <= 3:
		// Up to three literals ride for free in the previous match.
		out[stateAt] |= byte(n)
	case n <= maxShortRun:
		out[o] = byte(n - 3)
		o++
	default:
		out[o] = 0
		o = putExtension(out, o+1, n-maxShortRun)
	}
	return o + copy(out[o:], lits)
}

// putMatch writes the shortest instruction for a match of length n (at least
// 3) that starts dist bytes back, with no trailing literals yet. It returns
// the new output index and the index of the byte holding the state bits.
func putMatch(out []byte, o, dist, n int) (int, int) {
	switch {
	case dist <= m2MaxDist && n <= m2MaxLen:
		d := dist - 1
		out[o] = byte((n-1)<<5 | (d&7)<<2)
		out[o+1] = byte(d >> 3)
		return o + 2, o
	case dist <= m3MaxDist:
		if n <= m3MaxLen {
			out[o] = 0x20 | byte(n-2)
			o++
		} else {
			out[o] = 0x20
			o = putExtension(out, o+1, n-m3MaxLen)
		}
		return putDistance(out, o, dist-1)
	default:
		d := dist - m3MaxDist // 1..32767: H is bit 14, D the 14 bits below
		h := byte(d>>14) << 3
		if n <= m4MaxLen {
			out[o] = 0x10 | h | byte(n-2)
			o++
		} else {
			out[o] = 0x10 | h
			o = putExtension(out, o+1, n-m4MaxLen)
		}
		return putDistance(out, o, d&0x3fff)
	}
}

// putDistance writes the 14-bit distance field of an M3 or M4 instruction
// with zero state bits, and returns the new output index and the index of the
// byte holding the state bits.
func putDistance(out []byte, o, d int) (int, int) {
	out[o] = byte(d << 2)
	out[o+1] = byte(d >> 6)
	return o + 2, o
}

// putExtension writes v >= 1 as a length extension: zero bytes worth 255 each
// and a final non-zero byte.
func putExtension(out []byte, o, v int) int {
	zeros := (v - 1) / 255
	// out may hold old data from the caller's buffer, so the zeros must be
	// written.
	clear(out[o : o+zeros])
	o += zeros
	out[o] = byte(v - zeros*255)
	return o + 1
}
