package flowfile

import (
	"math/rand/v2"
	"os"
	"runtime/debug"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
)

// shapeVariants returns b and records made from it that share its size and
// element count, so that a v3Decoder finds a shape of the same key for
// each: an element turned into one this package does not model (ids 0 and
// 40), two elements swapped, an element's length broken, and the element
// count lowered.
func shapeVariants(b []byte) [][]byte {
	var offs []int
	for off := v3HeaderSize; off < len(b); off += int(le.Uint16(b[off+2:])) {
		offs = append(offs, off)
	}
	variant := func(change func(c []byte)) []byte {
		c := append([]byte(nil), b...)
		change(c)
		return c
	}
	last := offs[len(offs)-1]
	out := [][]byte{b,
		variant(func(c []byte) { le.PutUint16(c[last:], 40) }),
		variant(func(c []byte) { le.PutUint16(c[offs[0]:], 0) }),
		variant(func(c []byte) { le.PutUint16(c[last+2:], le.Uint16(c[last+2:])+4) }),
		variant(func(c []byte) { le.PutUint16(c[4:], uint16(len(offs)-1)) }),
	}
	if len(offs) > 1 {
		// The last two elements swapped: the same set in another order.
		a, z := offs[len(offs)-2], last
		out = append(out, variant(func(c []byte) {
			n := copy(c[a:], b[z:])
			copy(c[a+n:], b[a:z])
		}))
	}
	return out
}

// TestShapeDecoderLikeDecodeV3 decodes a random sequence of records, with
// many layouts (more than a decoder keeps) and damaged ones whose size and
// element count equal a good layout's, through one v3Decoder and through
// decodeV3, and checks that both give the same record, skipped count and
// error every time, and that the sums a shape takes from a record's bytes
// are those flow.Totals counts from the decoded record. Some records have
// more elements than matches compares without a loop.
func TestShapeDecoderLikeDecodeV3(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	f := randomFile(rng, 400)
	var pool [][]byte
	for i := range f.flows {
		pool = append(pool, shapeVariants(appendV3(nil, &f.flows[i], new(v3Layout)))...)
	}
	for _, want := range []flow.Elements{allElements, flow.TotalsElements, 1<<flow.ElemIPv6 | 1<<flow.ElemMisc | 1<<flow.ElemIPv4} {
		var d v3Decoder
		d.reset(want)
		var viaShape, plain flow.Record
		learned, long := 0, 0
		for i := 0; i < 20000; i++ {
			// Mostly a few records again and again, as a file of few
			// templates gives, sometimes any.
			b := pool[rng.IntN(len(pool))]
			if rng.IntN(4) > 0 {
				b = pool[rng.IntN(min(len(pool), 60))]
			}
			n0 := d.n
			gotSkipped, gotErr := d.decode(b, &viaShape)
			wantSkipped, wantErr := decodeV3(b, &plain, want)
			if d.n > n0 {
				learned++
			}
			require.Equal(t, wantErr, gotErr, "record %d", i)
			require.Equal(t, wantSkipped, gotSkipped, "record %d", i)
			require.Equal(t, plain, viaShape, "record %d", i)
			if wantErr == nil && want&flow.TotalsElements == flow.TotalsElements {
				// The sums taken from the bytes are those of the record.
				s := d.find(b)
				require.NotNil(t, s, "record %d has the shape just used", i)
				if s.n > fastHeaders {
					long++
				}
				var fromBytes, fromRecord flow.Totals
				fromBytes.Add(&flow.Record{First: 7, Last: 7})
				fromRecord = fromBytes
				s.total(b, &fromBytes)
				fromRecord.Add(&plain)
				require.Equal(t, fromRecord, fromBytes, "record %d", i)
			}
		}
		require.Equal(t, maxShapes, d.n, "the decoder filled its shapes")
		require.Greater(t, learned, 0)
		if want&flow.TotalsElements == flow.TotalsElements {
			require.Greater(t, long, 0, "records of more elements than matches compares at once")
		}
	}
}

// TestShapeDecoderAllocs checks that decoding through the shapes allocates
// nothing.
func TestShapeDecoderAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	f := randomFile(rng, 8)
	var recs [][]byte
	for i := range f.flows {
		recs = append(recs, appendV3(nil, &f.flows[i], new(v3Layout)))
	}
	var d v3Decoder
	d.reset(allElements)
	var r flow.Record
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := d.decode(recs[i%len(recs)], &r); err != nil {
			t.Fatal(err)
		}
		i++
	})
	require.Zero(t, allocs)
}

// TestSumShapedLikeDecoding sums blocks of records of many layouts, some
// damaged in ways a shape of the same key would not notice, with
// tallyShaped as the reader's workers do (a record it stops at goes
// through decode, and a damaged one is passed over here), and checks the
// sums, the records counted and the elements skipped against decoding
// every record with decodeV3 and adding it to flow.Totals; with a limit
// on the records, and both with the shapes the decoder learns on the way
// and with fewer than it needs (the oldest replaced).
func TestSumShapedLikeDecoding(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	f := randomFile(rng, 300)
	var pool [][]byte
	for i := range f.flows {
		pool = append(pool, shapeVariants(appendV3(nil, &f.flows[i], new(v3Layout)))...)
	}
	for round := 0; round < 40; round++ {
		var block []byte
		var want flow.Totals
		var wantSkipped uint64
		var rec flow.Record
		kinds := 8 + rng.IntN(60) // few layouts, or more than a decoder keeps
		nrec := 1 + rng.IntN(3000)
		for range nrec {
			b := pool[rng.IntN(min(len(pool), kinds))]
			block = append(block, b...)
			if skipped, err := decodeV3(b, &rec, flow.TotalsElements); err == nil {
				want.Add(&rec)
				wantSkipped += uint64(skipped)
			}
		}
		var d v3Decoder
		d.reset(flow.TotalsElements)
		var got flow.Totals
		var gotSkipped uint64
		limit := uint32(1 + rng.IntN(200))
		for pos, left := 0, nrec; left > 0; {
			n, used, skipped := d.sumShaped(block[pos:], min(uint32(left), limit), &got, &rec, nil)
			require.LessOrEqual(t, n, limit)
			gotSkipped += skipped
			pos += used
			left -= int(n)
			if left == 0 {
				break
			}
			// The record it stopped at: unknown or damaged.
			size := int(le.Uint16(block[pos+2:]))
			if skipped, err := d.decode(block[pos:pos+size], &rec); err == nil {
				got.Add(&rec)
				gotSkipped += uint64(skipped)
			}
			pos += size
			left--
		}
		require.Equal(t, want, got, "round %d", round)
		require.Equal(t, wantSkipped, gotSkipped, "round %d", round)
	}
}

// TestSumShapedShortRecordAtEnd hands sumShaped a record shorter than
// the shape its key hashes to, as the last bytes before memory that is
// not mapped: it must compare the record's key (its size among it)
// before it reads the shape's header offsets, which lie past such a
// record's end. A fault there is made a panic (debug.SetPanicOnFault),
// so that the test fails instead of the whole binary.
func TestSumShapedShortRecordAtEnd(t *testing.T) {
	var d v3Decoder
	d.reset(flow.TotalsElements)
	buf := generatedV3(1, 64)
	learnShapes(t, &d, buf)
	long := buf[:le.Uint16(buf[2:])]
	require.Greater(t, len(long), v3HeaderSize+4, "a shape whose headers lie past a bare record header")
	slot := recordHash(long)

	// A bare 12-byte record whose key hashes to the long record's shape.
	short := make([]byte, v3HeaderSize)
	le.PutUint16(short, recV3)
	le.PutUint16(short[2:], v3HeaderSize)
	found := false
	for v := range 1 << 16 {
		le.PutUint16(short[4:], uint16(v))
		if recordHash(short) == slot {
			found = true
			break
		}
	}
	require.True(t, found, "a key of the long shape's hash")

	page := os.Getpagesize()
	mem, err := unix.Mmap(-1, 0, 2*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	require.NoError(t, err)
	defer unix.Munmap(mem)
	require.NoError(t, unix.Mprotect(mem[page:], unix.PROT_NONE))
	end := mem[page-len(short) : page]
	copy(end, short)

	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	var tot flow.Totals
	var rec flow.Record
	var count uint32
	require.NotPanics(t, func() { count, _, _ = d.sumShaped(end, 1, &tot, &rec, nil) })
	require.Zero(t, count, "a record of no known shape is left to the long way")
}
