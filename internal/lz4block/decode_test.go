package lz4block

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/pierrec/lz4/v4"
)

// outRoom is the output buffer the tests and benchmarks give a block: as
// the flow file reader's, 1 MiB and an eighth.
const outRoom = 1<<20 + 1<<17

// checker compares Decode with pierrec/lz4's UncompressBlock on one block
// and output size, with src and dst against the guard pages on either
// side, and dst filled with junk first.
type checker struct {
	src, dst *guarded
}

func newChecker(tb testing.TB, maxSrc, maxDst int) *checker {
	return &checker{newGuarded(tb, maxSrc), newGuarded(tb, maxDst)}
}

// check decodes src into dstLen bytes both ways and fails tb unless both
// fail or both give the same output; it returns that output.
func (c *checker) check(tb testing.TB, src []byte, dstLen int) ([]byte, error) {
	tb.Helper()
	want := make([]byte, dstLen)
	wn, werr := lz4.UncompressBlock(src, want)
	for _, atEnd := range []bool{false, true} {
		s := c.src.place(tb, len(src), atEnd)
		copy(s, src)
		d := c.dst.place(tb, dstLen, atEnd)
		for i := range d {
			d[i] = 0xA5
		}
		gn, gerr := Decode(s, d)
		if (werr == nil) != (gerr == nil) {
			tb.Fatalf("block %s into %d bytes (at end %v): pierrec %v, ours %v", short(src), dstLen, atEnd, werr, gerr)
		}
		if gerr != nil {
			if gerr != ErrCorrupt || gn != 0 {
				tb.Fatalf("block %s: error %d %v, want 0 ErrCorrupt", short(src), gn, gerr)
			}
			continue
		}
		if gn != wn || !bytes.Equal(d[:gn], want[:wn]) {
			tb.Fatalf("block %s into %d bytes (at end %v): pierrec %d bytes %s, ours %d %s", short(src), dstLen, atEnd, wn, short(want[:wn]), gn, short(d[:gn]))
		}
	}
	return want[:wn], werr
}

// short shows the first bytes of b, where it differs from the rest.
func short(b []byte) string {
	if len(b) <= 48 {
		return fmt.Sprintf("[% x]", b)
	}
	return fmt.Sprintf("[% x ...] (%d bytes)", b[:48], len(b))
}

func TestArchiveBlocks(t *testing.T) {
	for _, shape := range []string{"home", "border"} {
		t.Run(shape, func(t *testing.T) {
			c := newChecker(t, outRoom, outRoom)
			for _, src := range archiveBlocks(t, shape) {
				c.check(t, src, outRoom)
			}
		})
	}
}

// A seq is an LZ4 sequence: literals, then a match of ml bytes from off
// bytes back, or none if ml is 0.
type seq struct {
	lit     string
	off, ml int
}

// encode writes the sequences as an LZ4 block.
func encode(seqs ...seq) []byte {
	var b []byte
	length := func(n int) {
		for ; n >= 255; n -= 255 {
			b = append(b, 255)
		}
		b = append(b, byte(n))
	}
	for _, s := range seqs {
		ml := 0
		if s.ml > 0 {
			ml = s.ml - 4
		}
		b = append(b, byte(min(len(s.lit), 15)<<4|min(ml, 15)))
		if len(s.lit) >= 15 {
			length(len(s.lit) - 15)
		}
		b = append(b, s.lit...)
		if s.ml == 0 {
			continue
		}
		b = binary.LittleEndian.AppendUint16(b, uint16(s.off))
		if ml >= 15 {
			length(ml - 15)
		}
	}
	return b
}

// expand is what the sequences decode to, by the format's definition.
func expand(seqs ...seq) []byte {
	var out []byte
	for _, s := range seqs {
		out = append(out, s.lit...)
		for range s.ml {
			out = append(out, out[len(out)-s.off])
		}
	}
	return out
}

// text returns n bytes that repeat nowhere near each other.
func text(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return string(b)
}

// withLiterals returns seqs with lit added at the end: to the last
// sequence if it has no match (only the last one may lack it), else as a
// sequence of its own.
func withLiterals(seqs []seq, lit string) []seq {
	s := append([]seq(nil), seqs...)
	if last := &s[len(s)-1]; last.ml == 0 {
		last.lit += lit
		return s
	}
	return append(s, seq{lit: lit})
}

// tail is a last sequence of literals long enough that every sequence
// before it is decoded by the fast path when dst has room.
var tail = seq{lit: text(40)}

func TestValidBlocks(t *testing.T) {
	cases := map[string][]seq{
		"literals only":          {{lit: "abc"}},
		"one literal":            {{lit: "x"}},
		"no literals":            {{}},
		"literals of 14":         {{lit: text(14)}},
		"literals of 15":         {{lit: text(15)}},
		"literals of 16":         {{lit: text(16)}},
		"literals of 269":        {{lit: text(15 + 254)}},
		"literals of 270":        {{lit: text(15 + 255)}},
		"literals of 271":        {{lit: text(15 + 256)}},
		"literals of 525":        {{lit: text(15 + 510)}},
		"match at the end":       {{lit: text(20), off: 20, ml: 4}},
		"match without literals": {{lit: text(8), off: 8, ml: 4}, {off: 8, ml: 8}},
		"match at the end long":  {{lit: text(40), off: 33, ml: 300}},
		"match of 18":            {{lit: text(20), off: 20, ml: 18}, {lit: "z"}},
		"match of 19":            {{lit: text(20), off: 20, ml: 19}, {lit: "z"}},
		"match of 32":            {{lit: text(40), off: 40, ml: 32}, {lit: "z"}},
		"match of 33":            {{lit: text(40), off: 40, ml: 33}, {lit: "z"}},
		"match of 273":           {{lit: text(40), off: 40, ml: 19 + 254}, {lit: "z"}},
		"match of 274":           {{lit: text(40), off: 40, ml: 19 + 255}, {lit: "z"}},
		"match of 275":           {{lit: text(40), off: 40, ml: 19 + 256}, {lit: "z"}},
		"match of 70000":         {{lit: text(40), off: 17, ml: 70000}, {lit: "z"}},
		"offset of 65535":        {{lit: text(65535), off: 65535, ml: 100}, {lit: "q"}},
		"offset is the position": {{lit: text(30), off: 30, ml: 30}, {lit: "end"}},
		"literals and matches": {{lit: "ab", off: 2, ml: 9}, {lit: text(13), off: 7, ml: 17},
			{lit: text(3), off: 40, ml: 22}, {lit: text(15), off: 16, ml: 31}, {lit: "!"}},
	}
	for off := 1; off <= 40; off++ {
		for _, ml := range []int{4, 7, 8, 15, 16, 17, 18, 19, 31, 32, 33, 64, 300} {
			cases[fmt.Sprintf("offset %d match %d", off, ml)] = []seq{{lit: text(off), off: off, ml: ml}, {lit: "end"}}
		}
	}
	c := newChecker(t, 1<<17, 1<<17)
	for name, seqs := range cases {
		t.Run(name, func(t *testing.T) {
			for _, withTail := range []bool{false, true} {
				s := seqs
				if withTail {
					s = withLiterals(s, tail.lit)
				}
				src, want := encode(s...), expand(s...)
				for _, room := range []int{len(want), len(want) + 1, len(want) + 63, len(want) + 64, len(want) + 65, len(want) + 200} {
					got, err := c.check(t, src, room)
					if err != nil || !bytes.Equal(got, want) {
						t.Fatalf("into %d bytes: %v %s, want %s", room, err, short(got), short(want))
					}
				}
				if len(want) > 0 {
					if _, err := c.check(t, src, len(want)-1); err == nil {
						t.Fatalf("decoded into %d bytes for %d", len(want)-1, len(want))
					}
				}
			}
		})
	}
}

func TestDamagedBlocks(t *testing.T) {
	valid := encode(seq{lit: text(20), off: 20, ml: 19 + 255 + 3}, seq{lit: text(15 + 255 + 2), off: 5, ml: 40}, tail)
	cases := map[string][]byte{
		"offset 0":                        encode(seq{lit: text(20), off: 0, ml: 4}, tail),
		"offset 0 short":                  encode(seq{lit: text(20), off: 0, ml: 4}),
		"offset past the start":           encode(seq{lit: text(20), off: 21, ml: 4}, tail),
		"offset past the start short":     encode(seq{lit: text(20), off: 21, ml: 4}),
		"offset past the start, 8 to 15":  encode(seq{lit: text(5), off: 9, ml: 4}, tail),
		"offset past the start, under 8":  encode(seq{lit: text(5), off: 6, ml: 4}, tail),
		"offset past the start, long":     encode(seq{lit: text(20), off: 21, ml: 40}, tail),
		"offset past the start, no lits":  encode(seq{off: 1, ml: 4}, tail),
		"match announced at the end":      {0x51, 1, 2, 3, 4, 5},
		"one byte of offset":              {0x11, 'a', 1},
		"literals past the end":           {0x50, 1, 2, 3},
		"literal length past the end":     {0xf0},
		"literal length 255 past the end": {0xf0, 255, 255},
		"match length past the end":       {0x1f, 'a', 1, 0},
		"match length 255 past the end":   {0x1f, 'a', 1, 0, 255},
	}
	for n := 1; n < len(valid); n++ {
		cases[fmt.Sprintf("cut to %d", n)] = valid[:n]
	}
	c := newChecker(t, 1<<16, 1<<16)
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			for _, room := range []int{0, 1, 100, 1 << 16} {
				c.check(t, src, room)
			}
		})
	}
	// Most cuts leave a block that is damaged; the checks above compare
	// with pierrec whatever they leave, but the cases must not all pass.
	for _, name := range []string{"offset 0", "offset past the start", "match announced at the end", "literals past the end"} {
		if _, err := Decode(cases[name], make([]byte, 1<<16)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestEmpty(t *testing.T) {
	for _, dst := range [][]byte{nil, {}, make([]byte, 10)} {
		if n, err := Decode(nil, dst); n != 0 || err != nil {
			t.Errorf("empty block into %d bytes: %d %v", len(dst), n, err)
		}
	}
	if n, err := Decode([]byte{0}, nil); n != 0 || err != nil {
		t.Errorf("block of an empty sequence: %d %v", n, err)
	}
	if _, err := Decode([]byte{0x10, 'a'}, nil); err == nil {
		t.Error("a literal into no room: no error")
	}
}

// samples returns data to compress: random bytes of a few entropies,
// runs, and records shaped like flows (fixed fields, few distinct
// addresses and ports, growing times and counters).
func samples(r *rand.Rand) [][]byte {
	var out [][]byte
	for _, n := range []int{1, 5, 13, 16, 31, 64, 65, 100, 1000, 4096, 70000, 300000} {
		for _, alphabet := range []int{1, 2, 4, 16, 256} {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(r.IntN(alphabet))
			}
			out = append(out, b)
		}
	}
	for _, n := range []int{10, 500, 20000} {
		b := make([]byte, 0, n*48)
		t := uint32(1_700_000_000)
		for range n {
			t += uint32(r.IntN(3))
			b = binary.LittleEndian.AppendUint16(b, 12)
			b = binary.LittleEndian.AppendUint16(b, 48)
			b = binary.LittleEndian.AppendUint32(b, t)
			b = binary.LittleEndian.AppendUint32(b, t+uint32(r.IntN(60)))
			b = append(b, 10, 0, byte(r.IntN(4)), byte(r.IntN(250)))
			b = append(b, 192, 168, 1, byte(r.IntN(20)))
			b = binary.LittleEndian.AppendUint16(b, []uint16{443, 80, 53, 22}[r.IntN(4)])
			b = binary.LittleEndian.AppendUint16(b, uint16(1024+r.IntN(60000)))
			b = append(b, []byte{6, 17, 1}[r.IntN(3)], 0, 0, 0)
			b = binary.LittleEndian.AppendUint64(b, uint64(r.IntN(100)))
			b = binary.LittleEndian.AppendUint64(b, uint64(r.IntN(150000)))
			b = binary.LittleEndian.AppendUint32(b, uint32(r.IntN(3)))
		}
		out = append(out, b)
	}
	return out
}

// compressed returns blocks of the samples as pierrec's fast and HC
// compressors make them.
func compressed(tb testing.TB, r *rand.Rand) [][]byte {
	var blocks [][]byte
	for _, data := range samples(r) {
		var c lz4.Compressor
		hc := lz4.CompressorHC{Level: lz4.Level9}
		for _, compress := range []func([]byte, []byte) (int, error){c.CompressBlock, hc.CompressBlock} {
			dst := make([]byte, lz4.CompressBlockBound(len(data)))
			n, err := compress(data, dst)
			if err != nil {
				tb.Fatal(err)
			}
			if n > 0 {
				blocks = append(blocks, dst[:n])
			}
		}
	}
	return blocks
}

// TestDifferential decodes valid, cut and damaged blocks of random and
// flow-like data both ways.
func TestDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	c := newChecker(t, 1<<21, 1<<21)
	for _, src := range compressed(t, r) {
		out, err := c.check(t, src, 1<<21)
		if err != nil {
			t.Fatalf("a compressed block does not decode: %v", err)
		}
		for _, room := range []int{len(out), len(out) - 1, len(out) + 1, len(out) + 64, len(out) + 65} {
			if room >= 0 {
				c.check(t, src, room)
			}
		}
		for range 20 {
			c.check(t, src[:r.IntN(len(src))], len(out)+r.IntN(100))
		}
		for range 50 {
			bad := bytes.Clone(src)
			for range 1 + r.IntN(4) {
				bad[r.IntN(len(bad))] = byte(r.Uint32())
			}
			c.check(t, bad, len(out)+r.IntN(100))
		}
	}
}

func FuzzDecode(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, src := range compressed(f, r) {
		if len(src) < 5000 {
			f.Add(src, uint32(1<<16))
		}
	}
	for _, s := range [][]seq{{{lit: text(5), off: 3, ml: 40}, tail}, {{lit: text(15 + 255), off: 200, ml: 19 + 255}, tail}} {
		f.Add(encode(s...), uint32(len(expand(s...))))
	}
	c := newChecker(f, 1<<20, 1<<17)
	f.Fuzz(func(t *testing.T, src []byte, room uint32) {
		if len(src) > 1<<20 {
			return
		}
		c.check(t, src, int(room%(1<<17)))
	})
}
