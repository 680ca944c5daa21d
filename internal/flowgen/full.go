package flowgen

import (
	"math/rand/v2"
	"net/netip"

	"github.com/nfgo/nftools/flow"
)

// Full produces flows in which every element the record model holds is
// carried by some flows and not by others: VLANs, the four MACs, MPLS
// stacks, AS and adjacent AS numbers, IPv4 and IPv6 next hops, BGP next
// hops and exporter addresses, interfaces, masks, direction, latency, out
// counters, engine type and id, forwarding status, ToS, ICMP type and
// code, IPv4 and IPv6 flows. Values come from small pools that include
// the edges (0, the largest value, values wider than nfdump keeps), so
// that filter tests written against the pools match some flows and miss
// others, and some elements are present with all values 0, which a
// filter must tell from nothing only where nfdump does. Deterministic
// for a seed; not safe for concurrent use.
type Full struct {
	rng *rand.Rand
	now uint64
}

// NewFull returns a generator whose flows start near startMsec.
func NewFull(seed, startMsec uint64) *Full {
	return &Full{rng: rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d)), now: startMsec}
}

// Exporters returns the exporters the flows refer to by ExporterID.
func (g *Full) Exporters() []flow.Exporter {
	return []flow.Exporter{
		{Version: 9, Addr: netip.MustParseAddr("192.168.1.1"), SysID: 1, ID: 0},
		{Version: 10, Addr: netip.MustParseAddr("2001:db8::fe"), SysID: 2, ID: 7},
		{Version: 5, Addr: netip.MustParseAddr("127.0.0.1"), SysID: 3, ID: 1},
	}
}

var (
	fullV4 = addrs("10.0.0.1", "10.0.0.2", "10.0.0.200", "10.1.2.3", "10.255.255.255",
		"192.168.1.1", "192.168.1.77", "172.16.5.4", "1.2.3.4", "127.0.0.1", "8.8.8.8")
	fullV6 = addrs("2001:db8::1", "2001:db8::2", "2001:db8:1::77", "2001:db8:ffff::1", "::1",
		"fe80::1", "::ffff:1.2.3.4", "2a00:1450::200e", "64:ff9b::a00:1")
	fullPorts   = []uint16{0, 22, 53, 80, 443, 1023, 1024, 8080, 32768, 65535}
	fullFlags   = []uint8{0, 0x02, 0x12, 0x10, 0x11, 0x04, 0x18, 0x1b, 0x3f, 0xc2, 0xff}
	fullTos     = []uint8{0, 3, 8, 0x10, 0xb8, 0xff}
	fullVLAN    = []uint32{0, 1, 100, 4095, 65535, 70000}
	fullAS      = []uint32{0, 1, 3320, 64512, 65001, 4200000000, 4294967295}
	fullMAC     = []uint64{0, 0x001122334455, 0x0a0b0c0d0e0f, 0xffffffffffff, 0x000000000001}
	fullLabels  = []uint32{0, 5, 16, 100, 1048575, 65541}
	fullLatency = []uint64{0, 500, 1500, 10000, 1 << 40}
	fullFwd     = []uint8{0, 1, 2, 16, 64, 128, 131}
	fullICMP    = []uint16{0, 3<<8 | 3, 8 << 8, 11 << 8, 128 << 8, 129 << 8, 3<<8 | 1}
	fullCounts  = []uint64{0, 1, 2, 5, 999, 1000, 1001, 65535, 1 << 32, 1<<63 + 5}
)

func addrs(s ...string) []netip.Addr {
	out := make([]netip.Addr, len(s))
	for i, a := range s {
		out[i] = netip.MustParseAddr(a)
	}
	return out
}

// Next fills r with the next flow. It does not allocate.
func (g *Full) Next(r *flow.Record) {
	rng := g.rng
	pick := func(n int) int { return rng.IntN(n) }
	chance := func(pct int) bool { return rng.IntN(100) < pct }
	g.now += uint64(pick(2000))
	*r = flow.Record{
		NFVersion:  []uint8{5, 9, 10}[pick(3)],
		EngineType: uint8(pick(4)),
		EngineID:   uint8(pick(4)),
		ExporterID: uint16(1 + pick(3)),
		FwdStatus:  fullFwd[pick(len(fullFwd))],
		SrcTos:     fullTos[pick(len(fullTos))],
	}
	e := flow.Elements(0).With(flow.ElemGeneric)

	// Times: most flows short, some without duration, some long, a few
	// with the end before the start as broken exporters send them.
	r.First = g.now
	switch d := pick(10); {
	case d < 3:
		r.Last = r.First
	case d < 9:
		r.Last = r.First + uint64(pick(5000))
	default:
		if chance(50) {
			r.Last = r.First + 90_000_000
		} else {
			r.First, r.Last = r.First+5000, r.First
		}
	}
	r.Received = r.Last + uint64(pick(1000))

	v6 := chance(30)
	if v6 {
		r.SrcAddr, r.DstAddr = fullV6[pick(len(fullV6))], fullV6[pick(len(fullV6))]
		e = e.With(flow.ElemIPv6)
	} else {
		r.SrcAddr, r.DstAddr = fullV4[pick(len(fullV4))], fullV4[pick(len(fullV4))]
		e = e.With(flow.ElemIPv4)
	}
	switch p := pick(20); {
	case p < 9:
		r.Proto = flow.ProtoTCP
		r.TCPFlags = fullFlags[pick(len(fullFlags))]
	case p < 15:
		r.Proto = flow.ProtoUDP
	case p < 18:
		r.Proto = flow.ProtoICMP
		if v6 {
			r.Proto = flow.ProtoICMPv6
		}
	default:
		r.Proto = []uint8{0, 47, 50, 132, 255}[pick(5)]
	}
	if r.Proto == flow.ProtoICMP || r.Proto == flow.ProtoICMPv6 {
		r.DstPort = fullICMP[pick(len(fullICMP))]
	} else {
		r.SrcPort, r.DstPort = fullPorts[pick(len(fullPorts))], fullPorts[pick(len(fullPorts))]
		if chance(30) {
			r.SrcPort = uint16(1024 + pick(64000))
		}
	}
	r.InPackets = fullCounts[pick(len(fullCounts))]
	r.InBytes = fullCounts[pick(len(fullCounts))]
	if chance(60) {
		r.InPackets = 1 + uint64(pick(100))
		r.InBytes = r.InPackets * uint64(40+pick(1460))
	}

	if chance(50) {
		e = e.With(flow.ElemMisc)
		if chance(80) {
			r.Input, r.Output = uint32(pick(6)), uint32(pick(6))
			r.SrcMask, r.DstMask = uint8([]int{0, 8, 16, 24, 32, 64, 128}[pick(7)]), uint8(pick(33))
			r.Dir, r.DstTos = uint8(pick(2)), fullTos[pick(len(fullTos))]
			r.BiFlowDir, r.EndReason, r.RevTCPFlags = uint8(pick(3)), uint8(pick(5)), fullFlags[pick(len(fullFlags))]
		}
	}
	if chance(40) {
		e = e.With(flow.ElemCounters)
		r.OutPackets, r.OutBytes = fullCounts[pick(len(fullCounts))], fullCounts[pick(len(fullCounts))]
		r.Flows = []uint64{0, 1, 2, 7}[pick(4)]
	}
	if chance(40) {
		e = e.With(flow.ElemVLAN)
		r.SrcVLAN, r.DstVLAN = fullVLAN[pick(len(fullVLAN))], fullVLAN[pick(len(fullVLAN))]
	}
	if chance(40) {
		e = e.With(flow.ElemAS)
		r.SrcAS, r.DstAS = fullAS[pick(len(fullAS))], fullAS[pick(len(fullAS))]
	}
	if chance(30) {
		e = e.With(flow.ElemAdjacentAS)
		r.NextAS, r.PrevAS = fullAS[pick(len(fullAS))], fullAS[pick(len(fullAS))]
	}
	addrElem := func(pct int, v4, v6 int, a *netip.Addr) {
		if !chance(pct) {
			return
		}
		if chance(50) {
			*a = fullV6[pick(len(fullV6))]
			e = e.With(v6)
		} else {
			*a = fullV4[pick(len(fullV4))]
			e = e.With(v4)
		}
	}
	addrElem(40, flow.ElemIPNextHopV4, flow.ElemIPNextHopV6, &r.IPNextHop)
	addrElem(30, flow.ElemBGPNextHopV4, flow.ElemBGPNextHopV6, &r.BGPNextHop)
	addrElem(70, flow.ElemExporterIPv4, flow.ElemExporterIPv6, &r.Exporter)
	if chance(30) {
		e = e.With(flow.ElemMPLS)
		n := pick(11)
		for i := 0; i < n; i++ {
			r.MPLS[i] = fullLabels[pick(len(fullLabels))]<<4 | uint32(pick(8))<<1
		}
		if n > 0 && chance(80) {
			r.MPLS[n-1] |= 1 // bottom of stack
		}
	}
	if chance(40) {
		e = e.With(flow.ElemMAC)
		r.InSrcMAC, r.OutDstMAC = fullMAC[pick(len(fullMAC))], fullMAC[pick(len(fullMAC))]
		r.InDstMAC, r.OutSrcMAC = fullMAC[pick(len(fullMAC))], fullMAC[pick(len(fullMAC))]
	}
	if chance(30) {
		e = e.With(flow.ElemLatency)
		r.ClientNwDelay, r.ServerNwDelay = fullLatency[pick(len(fullLatency))], fullLatency[pick(len(fullLatency))]
		r.ApplLatency = fullLatency[pick(len(fullLatency))]
	}
	r.Elements = e
}
