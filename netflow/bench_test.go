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
