// Package flowgen makes plausible synthetic flows for demos, benchmarks and
// load tests: a few hundred hosts talking over common services, with
// IPv4 and IPv6, the elements a NetFlow v5/v9 collector stores, and times
// that advance like a live capture. It is deterministic for a given seed, so
// a benchmark reads the same data every run.
package flowgen

import (
	"math/rand/v2"
	"net/netip"

	"github.com/nfgo/nftools/flow"
)

// Generator produces flows. It is not safe for concurrent use.
type Generator struct {
	rng   *rand.Rand
	now   uint64 // msec; advances with every flow
	v4    []netip.Addr
	v6    []netip.Addr
	exp   netip.Addr
	hop   netip.Addr
	ports []uint16
}

// New returns a generator whose flows start at startMsec (msec since the
// epoch).
func New(seed uint64, startMsec uint64) *Generator {
	g := &Generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), now: startMsec}
	for i := 0; i < 256; i++ {
		g.v4 = append(g.v4, netip.AddrFrom4([4]byte{10, byte(i / 64), byte(i % 64), byte(1 + g.rng.IntN(250))}))
		g.v4 = append(g.v4, netip.AddrFrom4([4]byte{byte(20 + g.rng.IntN(180)), byte(g.rng.IntN(256)), byte(g.rng.IntN(256)), byte(1 + g.rng.IntN(250))}))
	}
	for i := 0; i < 64; i++ {
		var b [16]byte
		b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
		b[7] = byte(i)
		b[15] = byte(1 + g.rng.IntN(250))
		g.v6 = append(g.v6, netip.AddrFrom16(b))
	}
	g.exp = netip.MustParseAddr("127.0.0.1")
	g.hop = netip.MustParseAddr("10.0.0.254")
	g.ports = []uint16{80, 443, 53, 22, 25, 123, 993, 8080, 3306, 5432}
	return g
}

// Exporter returns the exporter the generated flows refer to (SysID 1).
func (g *Generator) Exporter() flow.Exporter {
	return flow.Exporter{Version: 9, Addr: g.exp, SysID: 1, ID: 0}
}

// Next fills r with the next flow. It does not allocate.
func (g *Generator) Next(r *flow.Record) {
	rng := g.rng
	g.now += uint64(rng.IntN(3))
	*r = flow.Record{NFVersion: 9, ExporterID: 1, Exporter: g.exp}
	dur := uint64(rng.ExpFloat64() * 2000)
	r.First = g.now - min(dur, g.now)
	r.Last = g.now
	r.Received = g.now + 1000
	if rng.IntN(8) == 0 {
		r.SrcAddr = g.v6[rng.IntN(len(g.v6))]
		r.DstAddr = g.v6[rng.IntN(len(g.v6))]
	} else {
		r.SrcAddr = g.v4[rng.IntN(len(g.v4))]
		r.DstAddr = g.v4[rng.IntN(len(g.v4))]
	}
	switch p := rng.IntN(100); {
	case p < 70:
		r.Proto = flow.ProtoTCP
		r.TCPFlags = []uint8{0x1b, 0x12, 0x02, 0x14, 0x18, 0x10}[rng.IntN(6)]
	case p < 95:
		r.Proto = flow.ProtoUDP
	default:
		r.Proto = flow.ProtoICMP
	}
	if r.Proto == flow.ProtoICMP {
		r.DstPort = []uint16{8 << 8, 0, 3<<8 | 3, 11 << 8}[rng.IntN(4)]
	} else {
		r.SrcPort = uint16(32768 + rng.IntN(28000))
		r.DstPort = g.ports[rng.IntN(len(g.ports))]
		if rng.IntN(2) == 0 {
			r.SrcPort, r.DstPort = r.DstPort, r.SrcPort
		}
	}
	r.InPackets = 1 + uint64(rng.ExpFloat64()*20)
	r.InBytes = r.InPackets * uint64(40+rng.IntN(1460))
	r.SrcTos = []uint8{0, 0, 0, 0x10, 0x28, 0xb8}[rng.IntN(6)]
	if rng.IntN(2) == 0 {
		r.Input, r.Output = uint32(1+rng.IntN(4)), uint32(1+rng.IntN(4))
		r.SrcMask, r.DstMask = 24, 16
	}
	if rng.IntN(3) == 0 {
		r.SrcAS, r.DstAS = uint32(64512+rng.IntN(100)), uint32(64512+rng.IntN(100))
	}
	if r.SrcAddr.Is4() && rng.IntN(2) == 0 {
		r.IPNextHop = g.hop
	}
}
