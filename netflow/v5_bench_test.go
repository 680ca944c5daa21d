package netflow_test

import (
	"testing"

	"github.com/nfgo/nftools/netflow"
)

// walkSink is a V3BatchHandler whose room walks through a region, batch
// after batch, as a collector's records go through its writer's block
// buffers, and starts again at the region's start when the rest is too
// short for a batch.
type walkSink struct {
	nopHandler
	region []byte
	at     int
	flows  int
}

func (h *walkSink) V3Space() []byte {
	if len(h.region)-h.at < netflow.V3BatchRoom {
		h.at = 0
	}
	return h.region[h.at:]
}
func (h *walkSink) FlowV3(*netflow.V3Flow) { h.flows++ }
func (h *walkSink) FlowsV3(b *netflow.V3Batch) {
	h.flows += b.N
	h.at += len(b.Records)
}

// BenchmarkDecodeV3Room decodes v5 datagrams of 24 flows into V3 records
// whose room walks through regions of three sizes: 128 KiB (the block
// memory stays in the processor's L2 cache), 3 MiB (a writer's three
// block buffers: past the L2 cache of 2 MiB on this project's machine,
// in its L3) and 512 MiB (past the L3 as well), so that the difference
// of the costs a flow is that of the record stores' misses (the
// datagram's loads stay in the cache).
func BenchmarkDecodeV3Room(b *testing.B) {
	pkts := [][]byte{v5Block(0, 24), v5Block(24, 24)}
	for _, bc := range []struct {
		name string
		size int
	}{{"hot", 128 << 10}, {"l3", 3 << 20}, {"far", 512 << 20}} {
		b.Run(bc.name, func(b *testing.B) {
			d := netflow.NewDecoder(netflow.Options{V3: true})
			h := &walkSink{region: make([]byte, bc.size)}
			for i := range h.region {
				h.region[i] = 1 // faulted in, off the zero page
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := d.Decode(pkts[i&1], lo, when, h); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if h.flows != b.N*24 {
				b.Fatalf("%d flows in batches, want %d", h.flows, b.N*24)
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N*24), "ns/flow")
		})
	}
}
