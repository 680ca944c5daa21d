package netflow_test

import (
	"testing"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/flowgen"
	"github.com/nfgo/nftools/netflow"
)

// benchEncode encodes batches of plausible flows (one in eight IPv6,
// which v5 skips) into datagrams, reusing one buffer, and reports ns and
// allocations per record.
func benchEncode(b *testing.B, version int) {
	g := flowgen.New(1, exportTime-600_000)
	recs := make([]flow.Record, 1024)
	for i := range recs {
		g.Next(&recs[i])
	}
	enc, err := netflow.NewEncoder(netflow.EncoderConfig{Version: version})
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, netflow.DefaultMTU)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for rest := recs; len(rest) > 0; {
			d, n := enc.Encode(buf, rest, exportTime)
			buf = d
			rest = rest[n:]
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
}

func BenchmarkEncodeV5(b *testing.B)    { benchEncode(b, 5) }
func BenchmarkEncodeV9(b *testing.B)    { benchEncode(b, 9) }
func BenchmarkEncodeIPFIX(b *testing.B) { benchEncode(b, 10) }
