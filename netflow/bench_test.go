package netflow_test

import (
	"testing"

	"github.com/nfgo/nftools/netflow"
)

func benchDecode(b *testing.B, setup, pkt []byte, flows int) {
	d := netflow.NewDecoder(netflow.Options{})
	if setup != nil {
		if err := d.Decode(setup, lo, when, nopHandler{}); err != nil {
			b.Fatal(err)
		}
	}
	if err := d.Decode(pkt, lo, when, nopHandler{}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = d.Decode(pkt, lo, when, nopHandler{})
	}
	b.ReportMetric(float64(b.N)*float64(flows)/b.Elapsed().Seconds(), "flows/s")
}

func BenchmarkDecodeV5(b *testing.B) {
	var pkt []byte
	for i := 0; i < 15; i++ { // 15 blocks of 2 records = 30 flows
		pkt = append(pkt, v5Datagram(uint32(2*i), 0)...)
	}
	benchDecode(b, nil, pkt, 30)
}

func BenchmarkDecodeV9(b *testing.B) {
	benchDecode(b, v9Template(), v9Data(1, 50), 50)
}

func BenchmarkDecodeIPFIX(b *testing.B) {
	// template 300: addresses, ports, protocol, counters, millisecond times
	tmpl := cat(u16(2), u16(4+4+9*4), u16(300), u16(9),
		u16(8), u16(4), u16(12), u16(4), u16(7), u16(2), u16(11), u16(2), u16(4), u16(1),
		u16(2), u16(8), u16(1), u16(8), u16(152), u16(8), u16(153), u16(8))
	var recs []byte
	for i := 0; i < 40; i++ {
		recs = append(recs, cat(ip(10, 0, 0, byte(i)), ip(10, 0, 1, 1), u16(1024), u16(443), []byte{6},
			u64(3), u64(180), u64(1700000000000), u64(1700000001000))...)
	}
	data := cat(u16(300), u16(uint16(4+len(recs))), recs)
	benchDecode(b, ipfixMsg(0, tmpl), ipfixMsg(0, data), 40)
}

// batchSink is a V3BatchHandler that keeps nothing: the room it hands
// out is written over by every batch.
type batchSink struct {
	nopHandler
	room  []byte
	flows int
}

func (h *batchSink) V3Space() []byte            { return h.room }
func (h *batchSink) FlowV3(*netflow.V3Flow)     { h.flows++ }
func (h *batchSink) FlowsV3(b *netflow.V3Batch) { h.flows += b.N }

// v5Block is a v5 datagram of n flows (interfaces set, no AS numbers or
// next hop, as scripts/nfsend sends them), sequence seq.
func v5Block(seq uint32, n int) []byte {
	b := cat(u16(5), u16(uint16(n)), u32(86_400_000), u32(1700000000), u32(0), u32(seq), u16(0), u16(0))
	for i := 0; i < n; i++ {
		b = append(b, cat(ip(10, 0, byte(i>>8), byte(i)), ip(192, 168, 0, byte(i)), u32(0),
			u16(3), u16(4), u32(uint32(1+i)), u32(uint32(64*(1+i))), u32(86_395_000), u32(86_399_900),
			u16(uint16(1024+i)), u16(443), []byte{0, 0x18, []byte{6, 17, 1, 47}[i%4], 0}, make([]byte, 8))...)
	}
	return b
}

// BenchmarkDecodeV3 decodes datagrams into V3 records, a batch at a time,
// as gocapd does (Options.V3 and a V3BatchHandler), without writing them:
// v5 with 30 flows a datagram (its most) and 24 (scripts/bench/gocapd.sh's
// default), v9 with 24 of the template of BenchmarkDecodeV9 (25 bytes a
// record). The difference of the two v5 rates' costs a flow is the
// datagram's share: header, sequence check, exporter, the batch's
// handing over.
func BenchmarkDecodeV3(b *testing.B) {
	for _, bc := range []struct {
		name  string
		setup []byte
		pkts  [][]byte
		flows int
	}{
		{"v5/30", nil, [][]byte{v5Block(0, 30), v5Block(30, 30)}, 30},
		{"v5/24", nil, [][]byte{v5Block(0, 24), v5Block(24, 24)}, 24},
		{"v9/24", v9Template(), [][]byte{v9Data(1, 24), v9Data(2, 24)}, 24},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d := netflow.NewDecoder(netflow.Options{V3: true})
			h := &batchSink{room: make([]byte, netflow.V3BatchRoom)}
			if bc.setup != nil {
				if err := d.Decode(bc.setup, lo, when, h); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := d.Decode(bc.pkts[i&1], lo, when, h); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if h.flows != b.N*bc.flows {
				b.Fatalf("%d flows in batches, want %d", h.flows, b.N*bc.flows)
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N*bc.flows), "ns/flow")
		})
	}
}
