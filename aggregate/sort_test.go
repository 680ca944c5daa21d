package aggregate

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/flowgen"
)

// sortedByRecords is what Sorted replaces: every record built, then a
// stable sort of the list in Order by o's key.
func sortedByRecords(tb *Table, o *Order) []flow.Record {
	recs := tb.Records()
	ptrs := make([]*flow.Record, len(recs))
	for i := range recs {
		ptrs[i] = &recs[i]
	}
	o.Sort(ptrs)
	out := make([]flow.Record, len(ptrs))
	for i, p := range ptrs {
		out[i] = *p
	}
	return out
}

func TestSortedMatchesSortingRecords(t *testing.T) {
	// Coarse counters and times make many keys equal, so the ties are
	// tested as much as the keys.
	g := flowgen.NewBorder(5, 1_795_555_903_000)
	flows := make([]flow.Record, 800)
	for i := range flows {
		g.Next(&flows[i])
		r := &flows[i]
		r.InPackets, r.InBytes = r.InPackets%4, r.InBytes%3*100
		r.OutPackets, r.OutBytes = r.OutPackets%3, r.OutBytes%2*50
		r.First -= r.First % 1000
		r.Last = r.First + r.Last%3*1000
	}
	custom, err := ParseFields("srcip4/8,dstport")
	require.NoError(t, err)
	specs := map[string]*Spec{"a": FiveTuple(), "B": Bidir(true), "b": Bidir(false), "A": custom}
	for name, spec := range specs {
		tb := NewPrinting(spec)
		for i := range flows {
			tb.Add(&flows[i])
		}
		for _, od := range orders {
			for _, dir := range []string{"", ":a", ":d"} {
				o, err := ParseOrder(od.name + dir)
				require.NoError(t, err)
				want := sortedByRecords(tb, o)
				for _, topN := range []int{0, 1, 7, tb.Len() - 1, tb.Len(), tb.Len() + 5} {
					idx := tb.Sorted(o, topN)
					n := len(want)
					if topN > 0 {
						n = min(n, topN)
					}
					require.Len(t, idx, n, "%s -O %s%s -n %d", name, od.name, dir, topN)
					var r flow.Record
					for j, i := range idx {
						tb.Record(i, &r)
						if !assert.Equal(t, want[j], r, "%s -O %s%s -n %d: record %d", name, od.name, dir, topN, j) {
							break
						}
					}
				}
			}
		}
	}
}

func TestSortedAllocatesPerKeptEntry(t *testing.T) {
	g := flowgen.NewBorder(9, 1_795_555_903_000)
	tb := NewPrinting(FiveTuple())
	var r flow.Record
	for i := 0; i < 20000; i++ {
		g.Next(&r)
		tb.Add(&r)
	}
	o, err := ParseOrder("bytes")
	require.NoError(t, err)
	// A top 20 allocates for its 20 entries only, whatever the table's
	// size: its heap and the list it returns.
	assert.LessOrEqual(t, testing.AllocsPerRun(5, func() { tb.Sorted(o, 20) }), 25.0)
}
