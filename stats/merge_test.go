package stats

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/flowgen"
)

// TestMergeLikeAdd counts flows block by block into a reused table and
// merges the blocks in order, and checks that every order prints the rows
// (all of them, ties in first-seen order, times, counters) that counting
// the flows one by one prints.
func TestMergeLikeAdd(t *testing.T) {
	g := flowgen.New(3, 1795556400000)
	rng := rand.New(rand.NewPCG(41, 42))
	recs := make([]flow.Record, 20000)
	for i := range recs {
		if i%3 == 0 {
			// Random values: many keys seen once, in some blocks only.
			recs[i] = flowgen.Random(rng)
			continue
		}
		g.Next(&recs[i])
		recs[i].InBytes = uint64(i % 7) // many ties
	}
	for _, s := range []string{"srcip/flows/bytes/pps/bpp", "ip/bytes:a", "dstport:p/packets/obyte", "proto/flows/bps",
		"srcport/bytes", "mpls2/ipkg", "insrcmac/flows"} {
		spec := mustSpec(t, s)
		want := NewTable(spec)
		for i := range recs {
			want.Add(&recs[i])
		}
		for _, size := range []int{1, 7, 1000, 5000, len(recs)} {
			got, block := NewTable(spec), NewTable(spec)
			for start := 0; start < len(recs); start += size {
				block.Reset()
				for i := start; i < min(start+size, len(recs)); i++ {
					block.Add(&recs[i])
				}
				got.Merge(block)
			}
			require.Equal(t, want.Len(), got.Len(), "%s, blocks of %d", s, size)
			for _, o := range spec.Orders {
				for _, topN := range []int{0, 10} {
					w, g := want.Top(o, topN, Limit{}, Limit{}), got.Top(o, topN, Limit{}, Limit{})
					// Compare row by row: a diff of thousands of rows
					// takes minutes to print.
					require.Equal(t, len(w.Rows), len(g.Rows))
					for i := range w.Rows {
						if w.Rows[i] != g.Rows[i] {
							t.Fatalf("%s by %s, blocks of %d, top %d: row %d is %+v, want %+v",
								s, o.Name, size, topN, i, g.Rows[i], w.Rows[i])
						}
					}
					w.Rows, g.Rows = nil, nil
					assert.Equal(t, w, g)
				}
			}
		}
	}
}

// TestResetKeepsMemory: a block table reused for blocks of no more keys
// than before allocates nothing, and merging keys the table knows
// allocates nothing either.
func TestResetKeepsMemory(t *testing.T) {
	g := flowgen.New(1, 1795556400000)
	recs := make([]flow.Record, 5000)
	for i := range recs {
		g.Next(&recs[i])
	}
	spec := mustSpec(t, "ip/bytes")
	total, block := NewTable(spec), NewTable(spec)
	count := func() {
		block.Reset()
		for i := range recs {
			block.Add(&recs[i])
		}
		total.Merge(block)
	}
	count()
	assert.Zero(t, testing.AllocsPerRun(10, count))
	assert.Equal(t, block.Len(), total.Len())
	block.Reset()
	assert.Zero(t, block.Len())
}

func BenchmarkMerge(b *testing.B) {
	g := flowgen.New(1, 1795556400000)
	recs := make([]flow.Record, 10000)
	for i := range recs {
		g.Next(&recs[i])
	}
	for _, s := range []string{"srcip/bytes", "dstport:p/bytes"} {
		spec, err := ParseSpec(s)
		require.NoError(b, err)
		b.Run(s, func(b *testing.B) {
			total, block := NewTable(spec), NewTable(spec)
			for i := range recs {
				block.Add(&recs[i])
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				total.Merge(block)
			}
			b.ReportMetric(float64(block.Len()), "rows/op")
		})
	}
}
