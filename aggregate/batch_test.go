package aggregate

import (
	"net/netip"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/flowgen"
)

// TestBatchesLikeAdd: a table fed in batches, made apart from it as a
// reader's workers make them, holds what Add of the same flows builds, in
// the same order, with the same labels, for every kind of table that
// takes batches: -a and -B printing only keys, -b (opposite flows
// merged), and -A lists; some flows come through Add between batches.
func TestBatchesLikeAdd(t *testing.T) {
	g := flowgen.New(3, 1_795_555_903_000)
	recs := make([]flow.Record, 20000)
	for i := range recs {
		g.Next(&recs[i])
		switch i % 7 {
		case 1:
			recs[i].Label = "one"
		case 4:
			recs[i].Label = "two"
		}
		if i%5 == 0 && i > 0 {
			// The opposite direction of an earlier flow: -b merges it.
			o := recs[i-3]
			o.SrcAddr, o.DstAddr, o.SrcPort, o.DstPort = o.DstAddr, o.SrcAddr, o.DstPort, o.SrcPort
			o.Label = ""
			recs[i] = o
		}
		if i%11 == 0 && i > 0 {
			// The same key again, later and bigger.
			o := recs[i-2]
			o.First, o.Last, o.InBytes = o.First+5, o.Last+9, o.InBytes*3
			o.TCPFlags |= 0x11
			recs[i] = o
		}
	}
	list, err := ParseFields("srcip4/24,dstport,proto,next")
	require.NoError(t, err)
	src, err := ParseFields("srcip,dstport")
	require.NoError(t, err)
	for name, mk := range map[string]func() *Table{
		"-a":  func() *Table { return NewPrintingKeys(FiveTuple()) },
		"-b":  func() *Table { return NewPrintingKeys(Bidir(false)) },
		"-B":  func() *Table { return NewPrintingKeys(Bidir(true)) },
		"-A":  func() *Table { return NewPrinting(list) },
		"-A2": func() *Table { return NewPrinting(src) },
	} {
		want := mk()
		for i := range recs {
			want.Add(&recs[i])
		}
		got := mk()
		require.True(t, got.Batches(), name)
		b := got.NewBatch()
		for i := 0; i < len(recs); {
			if i%3000 == 7 {
				got.Add(&recs[i]) // held back: AddBatch must merge it first
				i++
				continue
			}
			b.Reset()
			end := min(i+1000+i%500, len(recs))
			for ; i < end; i++ {
				b.Flow(&recs[i])
			}
			got.AddBatch(b)
		}
		wr, gr := want.Records(), got.Records()
		require.Equal(t, len(wr), len(gr), name)
		assert.Less(t, len(gr), len(recs), "%s: some keys merged", name)
		for i := range wr {
			require.Equal(t, wr[i], gr[i], "%s: record %d", name, i)
		}
		want.Free()
		got.Free()
	}
}

// TestAddBatchDoesNotAllocate: merging a batch into a table that holds
// its keys allocates nothing, and neither does refilling a batch.
func TestAddBatchDoesNotAllocate(t *testing.T) {
	g := flowgen.New(1, 1_795_555_903_000)
	recs := make([]flow.Record, 1000)
	for i := range recs {
		g.Next(&recs[i])
	}
	tb := NewPrintingKeys(Bidir(true))
	b := tb.NewBatch()
	for i := range recs {
		b.Flow(&recs[i])
	}
	tb.AddBatch(b)
	allocs := testing.AllocsPerRun(100, func() {
		b.Reset()
		for i := range recs {
			b.Flow(&recs[i])
		}
		tb.AddBatch(b)
	})
	assert.Zero(t, allocs)
}

// TestNewBatchOfFullTable: a table that keeps whole flows takes none in
// batches.
func TestNewBatchOfFullTable(t *testing.T) {
	tb := New(FiveTuple())
	assert.False(t, tb.Batches())
	assert.Panics(t, func() { tb.NewBatch() })
}

// TestRowsOnRecycledSlots: a table big enough that its rows of entries
// and keys go into the slots its index grew out of (which hold old slot
// values, not zeros) still sums every key right, through Add and through
// batches.
func TestRowsOnRecycledSlots(t *testing.T) {
	spec, err := ParseFields("srcip,dstport")
	require.NoError(t, err)
	const n = 200_000
	recs := make([]flow.Record, n)
	for i := range recs {
		r := rec(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), b4, 1000, uint16(i%7), 6, uint64(1000+i), uint64(2000+i), 1, uint64(i), 0)
		recs[i] = r
	}
	for name, batched := range map[string]bool{"Add": false, "AddBatch": true} {
		tb := NewPrinting(spec)
		b := tb.NewBatch()
		for pass := 0; pass < 2; pass++ {
			for i := 0; i < n; i += 1000 {
				if !batched {
					for j := i; j < i+1000; j++ {
						tb.Add(&recs[j])
					}
					continue
				}
				b.Reset()
				for j := i; j < i+1000; j++ {
					b.Flow(&recs[j])
				}
				tb.AddBatch(b)
			}
		}
		require.Equal(t, n, tb.Len(), name)
		assert.GreaterOrEqual(t, tb.mem.Pool.Reused(), 1<<20, "%s: rows in recycled slots", name)
		for k, i := range tb.Order() {
			var r flow.Record
			tb.Record(i, &r)
			require.Equal(t, uint64(2*k), r.InBytes, "%s: key %d", name, k)
			require.Equal(t, uint64(2), r.InPackets, "%s: key %d", name, k)
			require.Equal(t, uint64(2), r.Flows, "%s: key %d", name, k)
			require.Equal(t, recs[k].SrcAddr, r.SrcAddr, "%s: key %d", name, k)
		}
		tb.Free()
	}
}

// TestBatchManyLabels: a batch forgets its metas and labels once it has
// met many (maxBatchMetas) and still builds the table Add builds.
func TestBatchManyLabels(t *testing.T) {
	g := flowgen.New(5, 1_795_555_903_000)
	recs := make([]flow.Record, 3000)
	for i := range recs {
		g.Next(&recs[i])
		recs[i].Label = "l" + strconv.Itoa(i%700)
	}
	spec, err := ParseFields("proto,dstport")
	require.NoError(t, err)
	want, got := NewPrinting(spec), NewPrinting(spec)
	b := got.NewBatch()
	for i := range recs {
		want.Add(&recs[i])
		b.Flow(&recs[i])
		if i%100 == 99 {
			got.AddBatch(b)
			b.Reset()
		}
	}
	got.AddBatch(b)
	require.LessOrEqual(t, len(b.labels), maxBatchMetas+100, "labels forgotten")
	assert.Equal(t, want.Records(), got.Records())
	b.Free()
}
