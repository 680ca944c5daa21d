package aggregate

import (
	"testing"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/flowgen"
)

// benchFlows is a day's worth of plausible flows in miniature: flowgen's
// few hundred hosts, so keys repeat as they do on a real network.
func benchFlows(n int) []flow.Record {
	g := flowgen.New(7, 1_795_555_903_000)
	recs := make([]flow.Record, n)
	for i := range recs {
		g.Next(&recs[i])
	}
	return recs
}

// BenchmarkAdd reports the cost of adding one flow (ns/op, allocs/op are
// per flow); the table is filled once before the timer starts, so growth
// is not counted.
func BenchmarkAdd(b *testing.B) {
	recs := benchFlows(1 << 16)
	custom, err := ParseFields("srcip4/24,dstport,proto")
	if err != nil {
		b.Fatal(err)
	}
	// Fields of every size, through the field table.
	many, err := ParseFields("srcas,dstas,inif,outif,srcvlan,mpls1,insrcmac,next,proto,dsttos,dstport")
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		spec *Spec
	}{{"a", FiveTuple()}, {"B", Bidir(true)}, {"A", custom}, {"A-many", many}} {
		b.Run(bc.name, func(b *testing.B) {
			tb := New(bc.spec)
			for i := range recs {
				tb.Add(&recs[i])
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tb.Add(&recs[i&(len(recs)-1)])
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mflows/s")
		})
	}
}

// BenchmarkAggregate aggregates 1M flows into a new table, growth
// included.
func BenchmarkAggregate(b *testing.B) {
	recs := benchFlows(1 << 20)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tb := New(FiveTuple())
		for j := range recs {
			tb.Add(&recs[j])
		}
	}
	b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds()/1e6, "Mflows/s")
}
