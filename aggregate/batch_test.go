package aggregate

import (
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
