package flowgen

import (
	"math/rand/v2"
	"net/netip"

	"github.com/nfgo/nftools/flow"
)

// The border shape: what the routers at an provider's edge export, many
// exporters seeing many hosts on many ports, as opposed to the few hundred
// hosts of Generator. Tables keyed by address or port then hold hundreds
// of thousands of rows, which is the load the aggregation, sorting and
// statistics paths have to carry on a real archive.
const (
	// BorderHosts is the number of distinct host addresses; every fifth
	// is IPv6.
	BorderHosts = 200_000
	// BorderPorts is the number of distinct high ports a service may
	// listen on, beside the well-known ones.
	BorderPorts = 50_000
	// BorderExporters is the number of exporters (SysID 1 to this).
	BorderExporters = 24
	// borderPrefixes is how many networks the IPv4 hosts spread over.
	borderPrefixes = 64
)

// borderServices are the well-known ports most flows go to, most popular
// first.
var borderServices = []uint16{443, 80, 53, 123, 22, 25, 993, 587, 8080, 3389,
	445, 5060, 1194, 500, 4500, 8443, 3478, 5222, 1935, 853}

// Border produces flows of the border shape. Host addresses, networks and
// AS numbers are fixed functions of a host's number, so files made with
// different seeds share one population of hosts, as the files of one
// collector do. It is deterministic for a given seed and not safe for
// concurrent use.
type Border struct {
	rng       *rand.Rand
	now       uint64 // msec; advances with every flow
	hot       *rand.Zipf
	service   *rand.Zipf
	exporters []flow.Exporter
	hops      []netip.Addr // IPv4 next hop per exporter
	prefixes  [borderPrefixes][2]byte
}

// NewBorder returns a generator of the border shape whose flows start at
// startMsec (msec since the epoch).
func NewBorder(seed uint64, startMsec uint64) *Border {
	g := &Border{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), now: startMsec}
	// A few hosts send and receive most of the traffic, the rest a little
	// each: half the flows pick a host from a Zipf law, half uniformly.
	g.hot = rand.NewZipf(g.rng, 1.2, 4, BorderHosts-1)
	g.service = rand.NewZipf(g.rng, 1.5, 1, uint64(len(borderServices)-1))
	// The population does not depend on the seed.
	pop := rand.New(rand.NewPCG(0x626f72646572, 1))
	seen := map[[2]byte]bool{}
	for i := range g.prefixes {
		p := [2]byte{byte(20 + pop.IntN(180)), byte(pop.IntN(256))}
		for seen[p] {
			p[1]++
		}
		seen[p] = true
		g.prefixes[i] = p
	}
	for i := 0; i < BorderExporters; i++ {
		e := flow.Exporter{Version: 9, SysID: uint16(i + 1), ID: uint32(i % 4)}
		if i%3 == 2 {
			e.Version = 10
		}
		if i%8 == 7 {
			e.Addr = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 15: byte(i + 1)})
		} else {
			e.Addr = netip.AddrFrom4([4]byte{192, 0, 2, byte(i + 1)})
		}
		g.exporters = append(g.exporters, e)
		g.hops = append(g.hops, netip.AddrFrom4([4]byte{198, 51, 100, byte(i + 1)}))
	}
	return g
}

// Exporters returns the exporters the generated flows refer to, SysID 1 to
// BorderExporters.
func (g *Border) Exporters() []flow.Exporter { return g.exporters }

// host picks a host number of family v6 (every fifth number) or IPv4.
func (g *Border) host(v6 bool) int {
	var i int
	if g.rng.IntN(2) == 0 {
		i = int(g.hot.Uint64())
	} else {
		i = g.rng.IntN(BorderHosts)
	}
	switch {
	case v6 && i%5 != 0:
		i -= i % 5
	case !v6 && i%5 == 0:
		i++
	}
	return i
}

// addr returns the address of host i: IPv6 hosts in 2001:db8::/32, IPv4
// hosts spread over fixed /16 networks.
func (g *Border) addr(i int) netip.Addr {
	if i%5 == 0 {
		k := i / 5
		return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 4: byte(k % 97), 5: byte(k % 89),
			13: byte(k >> 16), 14: byte(k >> 8), 15: byte(k)})
	}
	p := g.prefixes[i%borderPrefixes]
	h := i/borderPrefixes + 1
	return netip.AddrFrom4([4]byte{p[0], p[1], byte(h >> 8), byte(h)})
}

// borderAS returns the AS number of host i's network.
func borderAS(i int) uint32 {
	if i%5 == 0 {
		return 65000 + uint32(i/5%97)
	}
	return 3000 + uint32(i%borderPrefixes)*11
}

// Next fills r with the next flow. It does not allocate.
func (g *Border) Next(r *flow.Record) {
	rng := g.rng
	g.now += uint64(rng.IntN(3))
	x := rng.IntN(len(g.exporters))
	e := &g.exporters[x]
	*r = flow.Record{NFVersion: uint8(e.Version), ExporterID: e.SysID, Exporter: e.Addr}
	dur := uint64(rng.ExpFloat64() * 4000)
	r.First = g.now - min(dur, g.now)
	r.Last = g.now
	r.Received = g.now + 1000

	v6 := rng.IntN(4) == 0
	src, dst := g.host(v6), g.host(v6)
	r.SrcAddr, r.DstAddr = g.addr(src), g.addr(dst)
	switch p := rng.IntN(100); {
	case p < 65:
		r.Proto = flow.ProtoTCP
		r.TCPFlags = []uint8{0x1b, 0x12, 0x02, 0x14, 0x18, 0x10, 0x1f, 0x04}[rng.IntN(8)]
	case p < 93:
		r.Proto = flow.ProtoUDP
	case p < 97:
		r.Proto = flow.ProtoICMP
		if v6 {
			r.Proto = flow.ProtoICMPv6
		}
	case p < 99:
		r.Proto = 50 // ESP
	default:
		r.Proto = 47 // GRE
	}
	switch r.Proto {
	case flow.ProtoICMP:
		r.DstPort = []uint16{8 << 8, 0, 3<<8 | 3, 11 << 8, 3<<8 | 1}[rng.IntN(5)]
	case flow.ProtoICMPv6:
		r.DstPort = []uint16{128 << 8, 129 << 8, 1<<8 | 4, 3 << 8}[rng.IntN(4)]
	case flow.ProtoTCP, flow.ProtoUDP:
		r.SrcPort = uint16(32768 + rng.IntN(28232))
		if rng.IntN(100) < 55 {
			r.DstPort = borderServices[g.service.Uint64()]
		} else {
			r.DstPort = uint16(1024 + rng.IntN(BorderPorts))
		}
		if rng.IntN(2) == 0 {
			r.SrcPort, r.DstPort = r.DstPort, r.SrcPort
		}
	}
	r.InPackets = 1 + uint64(rng.ExpFloat64()*30)
	r.InBytes = r.InPackets * uint64(40+rng.IntN(1460))
	if e.Version == 10 && rng.IntN(3) == 0 {
		r.OutPackets = 1 + uint64(rng.ExpFloat64()*30)
		r.OutBytes = r.OutPackets * uint64(40+rng.IntN(1460))
	}
	r.SrcTos = []uint8{0, 0, 0, 0, 0x10, 0x28, 0xb8, 0x48}[rng.IntN(8)]
	r.Input, r.Output = uint32(1+rng.IntN(8)), uint32(1+rng.IntN(8))
	if v6 {
		r.SrcMask, r.DstMask = 48, 48
	} else {
		r.SrcMask, r.DstMask = 16, 16
		r.IPNextHop = g.hops[x]
	}
	r.SrcAS, r.DstAS = borderAS(src), borderAS(dst)
}
