package lzo1x

import (
	"bytes"
	"fmt"
	"testing"

	lzo "github.com/anchore/go-lzo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGoldenStreams pins the exact encoding of a few tiny inputs, worked out
// by hand from the format description.
func TestGoldenStreams(t *testing.T) {
	tests := []struct {
		name string
		src  []byte
		want []byte
	}{
		{"empty", nil, []byte{0x11, 0x00, 0x00}},
		{"one byte", []byte("a"), []byte{0x12, 'a', 0x11, 0x00, 0x00}},
		{"three bytes", []byte("abc"), []byte{0x14, 'a', 'b', 'c', 0x11, 0x00, 0x00}},
		{"four bytes", []byte("abcd"), []byte{0x15, 'a', 'b', 'c', 'd', 0x11, 0x00, 0x00}},
		// One literal, then M2 with length 4 and distance 1.
		{"five zeros", make([]byte, 5), []byte{0x12, 0x00, 0x60, 0x00, 0x11, 0x00, 0x00}},
		// One literal, then M3 with length 9 and distance 1 (M2 stops at 8).
		{"ten zeros", make([]byte, 10), []byte{0x12, 0x00, 0x27, 0x00, 0x00, 0x11, 0x00, 0x00}},
		// Four literals, M2 of length 8 at distance 4, and the last two
		// literals in its state bits.
		{
			"trailing literals in state bits", []byte("abcdabcdabcdxy"),
			[]byte{0x15, 'a', 'b', 'c', 'd', 0xEE, 0x00, 'x', 'y', 0x11, 0x00, 0x00},
		},
	}
	var c Compressor
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			comp, _ := roundTrip(t, &c, tt.src)
			assert.Equal(t, tt.want, comp)
		})
	}
}

// TestRoundTrip round-trips a range of inputs and checks that the
// compressible ones really shrink, which a literal-only encoder cannot do.
func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		src      []byte
		maxRatio float64 // compressed/original must stay below this; 0: no check
	}{
		{name: "empty", src: []byte{}},
		{name: "nil", src: nil},
		{name: "zeros 1MiB", src: make([]byte, 1<<20), maxRatio: 0.01},
		{name: "0xff 5MiB", src: bytes.Repeat([]byte{0xff}, 5<<20), maxRatio: 0.01},
		{name: "record stream 8000x120", src: recordStream(8000 * recordSize), maxRatio: 0.40},
		{name: "text 256KiB", src: textBytes(1, 256<<10), maxRatio: 0.60},
		{name: "random 1MiB", src: randomBytes(2, 1<<20), maxRatio: 1.01},
		{name: "random then zeros", src: append(randomBytes(3, 100000), make([]byte, 100000)...), maxRatio: 0.51},
		{name: "zeros then random", src: append(make([]byte, 100000), randomBytes(4, 100000)...), maxRatio: 0.51},
		{
			name:     "random with repeats",
			src:      bytes.Join([][]byte{randomBytes(5, 3000), randomBytes(6, 500), randomBytes(5, 3000), randomBytes(6, 500)}, nil),
			maxRatio: 0.55,
		},
		{name: "byte ramp", src: ramp(300000), maxRatio: 0.05},
	}
	var c Compressor
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			comp, _ := roundTrip(t, &c, tt.src)
			if len(tt.src) > 0 {
				ratio := float64(len(comp)) / float64(len(tt.src))
				t.Logf("%d -> %d bytes (%.2f%%)", len(tt.src), len(comp), 100*ratio)
				if tt.maxRatio > 0 {
					assert.Less(t, ratio, tt.maxRatio)
				}
			}
		})
	}
}

// ramp returns 0, 1, ..., 255, 0, 1, ... with period 256.
func ramp(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// TestEveryShortLength covers every input length up to 300 bytes, where the
// first-instruction rules, tiny inputs and the end of the input meet.
func TestEveryShortLength(t *testing.T) {
	kinds := []struct {
		name string
		gen  func(n int) []byte
	}{
		{"zeros", func(n int) []byte { return make([]byte, n) }},
		{"random", func(n int) []byte { return randomBytes(uint64(n), n) }},
		{"text", func(n int) []byte { return textBytes(uint64(n), n) }},
		{"abc", func(n int) []byte { return bytes.Repeat([]byte("abc"), n)[:n] }},
		{"records", recordStream},
		{"random prefix then zeros", func(n int) []byte {
			b := make([]byte, n)
			copy(b, randomBytes(7, n/2))
			return b
		}},
	}
	var c Compressor
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			for n := 0; n <= 300; n++ {
				src := k.gen(n)
				require.Len(t, src, n)
				roundTrip(t, &c, src)
			}
		})
	}
}

// TestPeriods round-trips inputs that repeat a random block with periods from
// 1 to 70000 bytes. Periods up to the largest M4 distance must be found, so
// everything after the first period has to compress to almost nothing;
// longer periods are out of reach of the format and must still round-trip.
func TestPeriods(t *testing.T) {
	var periods []int
	for p := 1; p <= 300; p++ {
		periods = append(periods, p)
	}
	periods = append(periods, 511, 512, 513, 1000, 1023, 1024, 1025, 2047, 2048, 2049,
		3072, 3073, 4096, 8191, 10000, 16383, 16384, 16385, 16386, 20000, 32767,
		32768, 32769, 40000, 49150, 49151, 49152, 49153, 50000, 65535, 65536, 70000)
	// And a sweep across the whole range with an odd step, so that the
	// periods fall at all sorts of positions relative to the limits.
	for p := 301; p < 70000; p += 997 {
		periods = append(periods, p)
	}
	var c Compressor
	for _, p := range periods {
		t.Run(fmt.Sprint(p), func(t *testing.T) {
			block := randomBytes(uint64(p)+1000, p)
			n := max(3*p, 4096)
			src := bytes.Repeat(block, n/p+1)[:n]
			comp, _ := roundTrip(t, &c, src)
			if p <= maxDist {
				// The first period is stored as literals; all the rest is
				// one long match, give or take a few stray ones.
				assert.Less(t, len(comp), p+p/16+64, "repeats of period %d were not found", p)
			}
		})
	}
}

// distanceInput returns a block of n non-zero random bytes, zeros up to
// offset d, the same block again at offset d and a non-zero tail, so that the
// block can only be matched from exactly d bytes back.
func distanceInput(d, n int) []byte {
	block := nonZeroRandomBytes(uint64(d*100+n), n)
	src := make([]byte, d+n+16)
	copy(src, block)
	copy(src[d:], block)
	copy(src[d+n:], nonZeroRandomBytes(1, 16))
	return src
}

// TestDistanceBoundaries places a repeat exactly at the distance limits of
// M2 (2048), M3 (16384) and M4 (49151) and just beyond them, and checks the
// instruction chosen for it.
func TestDistanceBoundaries(t *testing.T) {
	tests := []struct {
		dist, length int
		want         opKind // opLiterals: the repeat is too far away to match
	}{
		{1024, 6, opM2},
		{2048, 6, opM2},
		{2048, 8, opM2},
		{2048, 9, opM3},
		{2048, 64, opM3},
		{2049, 6, opM3},
		{2049, 64, opM3},
		{3072, 6, opM3},
		{16384, 6, opM3},
		{16384, 64, opM3},
		{16385, 6, opM4},
		{16385, 9, opM4},
		{16385, 10, opM4},
		{16385, 64, opM4},
		{32767, 64, opM4},
		{32768, 64, opM4},
		{32769, 6, opM4},
		{49151, 6, opM4},
		{49151, 64, opM4},
		{49152, 64, opLiterals},
		{49153, 64, opLiterals},
	}
	var c Compressor
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%d", tt.dist, tt.length), func(t *testing.T) {
			src := distanceInput(tt.dist, tt.length)
			_, ops := roundTrip(t, &c, src)
			found := false
			for _, o := range ops {
				if o.dist == tt.dist {
					assert.Equal(t, tt.want, o.kind, "instruction for distance %d", tt.dist)
					assert.Equal(t, tt.length, o.length, "match length")
					found = true
				}
			}
			assert.Equal(t, tt.want != opLiterals, found, "match at distance %d", tt.dist)
		})
	}
}

// TestLiteralRuns checks literal runs around the limits of their encodings:
// 238 and 239 bytes for the first instruction, 18 and 19 bytes for a run
// after a match, and 255+18 bytes where the length extension needs its first
// zero byte.
func TestLiteralRuns(t *testing.T) {
	t.Run("first", func(t *testing.T) {
		tests := []struct {
			n    int
			head []byte // expected first bytes of the stream
		}{
			{1, []byte{18}},
			{3, []byte{20}},
			{4, []byte{21}},
			{238, []byte{255}},
			{239, []byte{0, 239 - 18}},
			{273, []byte{0, 255}},
			{274, []byte{0, 0, 1}},
			{528, []byte{0, 0, 255}},
			{529, []byte{0, 0, 0, 1}},
			{100000, nil},
		}
		var c Compressor
		for _, tt := range tests {
			t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
				src := nonZeroRandomBytes(uint64(tt.n), tt.n)
				comp, ops := roundTrip(t, &c, src)
				require.Len(t, ops, 1)
				assert.Equal(t, op{kind: opLiterals, length: tt.n}, ops[0])
				if tt.head != nil {
					assert.Equal(t, tt.head, comp[:len(tt.head)])
				}
			})
		}
	})
	t.Run("after match", func(t *testing.T) {
		// The encoding is tested on hand-built streams, so that the
		// length of the run does not depend on where the match finder
		// happens to pick up the next match: "abcd", a match of "abcdabcd"
		// 4 bytes back, then the run.
		tests := []struct {
			n    int
			head []byte // expected bytes between the match and the literals
		}{
			{1, nil}, {2, nil}, {3, nil}, // in the state bits of the match
			{4, []byte{1}},
			{18, []byte{15}},
			{19, []byte{0, 1}},
			{238, []byte{0, 238 - 18}},
			{239, []byte{0, 239 - 18}},
			{273, []byte{0, 255}},
			{274, []byte{0, 0, 1}},
			{275, []byte{0, 0, 2}},
			{528, []byte{0, 0, 255}},
			{529, []byte{0, 0, 0, 1}},
			{5000, append(make([]byte, 1+19), 137)}, // 5000 = 18 + 19*255 + 137
		}
		for _, tt := range tests {
			t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
				lits := nonZeroRandomBytes(uint64(tt.n), tt.n)
				out := make([]byte, 64+tt.n+tt.n/255)
				o := putLiterals(out, 0, -1, []byte("abcd"))
				o, stateAt := putMatch(out, o, 4, 8)
				afterMatch := o
				o = putLiterals(out, o, stateAt, lits)
				o += copy(out[o:], endOfStream[:])
				stream := out[:o]

				assert.Equal(t, tt.head, nilIfEmpty(stream[afterMatch:afterMatch+len(tt.head)]))
				assert.Equal(t, byte(min(tt.n, 4)%4), stream[stateAt]&3, "state bits")
				want := append([]byte("abcdabcdabcd"), lits...)
				got, ops, err := decodeStrict(stream)
				require.NoError(t, err)
				requireSameBytes(t, want, got, "strict decoder output")
				assert.Equal(t, []op{{opLiterals, 4, 0}, {opM2, 8, 4}, {opLiterals, tt.n, 0}}, ops)
				got = make([]byte, len(want))
				n, err := lzo.Decompress(stream, got)
				require.NoError(t, err)
				assert.Equal(t, len(want), n)
				requireSameBytes(t, want, got, "go-lzo output")
			})
		}
	})
	t.Run("compressed", func(t *testing.T) {
		// The same lengths through Compress, between two blocks of zeros.
		var c Compressor
		for _, n := range []int{1, 2, 3, 4, 5, 17, 18, 19, 20, 238, 239, 272, 273, 274, 275, 528, 529, 530, 5000} {
			t.Run(fmt.Sprint(n), func(t *testing.T) {
				src := bytes.Join([][]byte{make([]byte, 64), nonZeroRandomBytes(uint64(n), n), make([]byte, 64)}, nil)
				_, ops := roundTrip(t, &c, src)
				longest := 0
				for _, o := range ops {
					if o.kind == opLiterals {
						longest = max(longest, o.length)
					}
				}
				// The match finder may leave a few zeros next to the
				// random bytes as literals, but must keep the random
				// bytes in one run.
				assert.GreaterOrEqual(t, longest, n)
				assert.LessOrEqual(t, longest, n+8)
			})
		}
	})
}

// nilIfEmpty makes an empty slice compare equal to a nil expectation.
func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// TestCompressAppends checks that Compress keeps what dst already holds and
// does not depend on stale bytes in its spare capacity.
func TestCompressAppends(t *testing.T) {
	var c Compressor
	src := bytes.Join([][]byte{randomBytes(8, 1000), make([]byte, 5000), randomBytes(8, 1000)}, nil)
	want := c.Compress(nil, src)

	dst := bytes.Repeat([]byte{0xaa}, MaxCompressedLen(len(src))+10)[:5]
	got := c.Compress(dst, src)
	assert.Equal(t, []byte{0xaa, 0xaa, 0xaa, 0xaa, 0xaa}, got[:5])
	assert.Equal(t, want, got[5:])
}

// TestDeterministic checks that the output depends only on the input, not on
// what the Compressor compressed before.
func TestDeterministic(t *testing.T) {
	src := recordStream(100000)
	var fresh, used Compressor
	want := fresh.Compress(nil, src)
	used.Compress(nil, textBytes(9, 1<<20))
	assert.Equal(t, want, used.Compress(nil, src))
}

// TestZeroAllocs checks that a warmed-up Compressor with a big enough dst
// does not allocate.
func TestZeroAllocs(t *testing.T) {
	src := recordStream(1 << 20)
	c := new(Compressor)
	dst := make([]byte, 0, MaxCompressedLen(len(src)))
	allocs := testing.AllocsPerRun(10, func() {
		dst = c.Compress(dst[:0], src)
	})
	assert.Zero(t, allocs)
}

// BenchmarkCompress measures the compression of a 1 MiB stream of flow
// records, the kind of data nfdump blocks hold.
func BenchmarkCompress(b *testing.B) {
	src := recordStream(1 << 20)
	c := new(Compressor)
	dst := make([]byte, 0, MaxCompressedLen(len(src)))
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		dst = c.Compress(dst[:0], src)
	}
	b.ReportMetric(float64(len(dst))/float64(len(src))*100, "%ratio")
}

// BenchmarkCompressInputs compares the speed on other kinds of data: text,
// data that does not compress (where the growing stride matters) and zeros.
func BenchmarkCompressInputs(b *testing.B) {
	inputs := []struct {
		name string
		src  []byte
	}{
		{"text", textBytes(1, 1<<20)},
		{"random", randomBytes(1, 1<<20)},
		{"zeros", make([]byte, 1<<20)},
	}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			c := new(Compressor)
			dst := make([]byte, 0, MaxCompressedLen(len(in.src)))
			b.SetBytes(int64(len(in.src)))
			b.ReportAllocs()
			for b.Loop() {
				dst = c.Compress(dst[:0], in.src)
			}
			b.ReportMetric(float64(len(dst))/float64(len(in.src))*100, "%ratio")
		})
	}
}
