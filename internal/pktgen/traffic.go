package pktgen

import "math/rand/v2"

// Traffic makes a plausible stream of Ethernet frames for benchmarks and
// load tests: a few thousand flows at a time between a few hundred hosts,
// IPv4 and IPv6, TCP connections from SYN to FIN, UDP exchanges and ICMP
// echoes, some in VLANs, a few big and many small, with times advancing
// as on a busy link. It is deterministic for a seed.
type Traffic struct {
	rng    *rand.Rand
	now    int64
	flows  []tflow
	buf    []byte
	v4     [][4]byte
	v6     [][16]byte
	plain  bool // IPv4 only, no VLAN tags
	length int  // how many times as long as usual the flows are
}

// tflow is a flow the generator is in the middle of.
type tflow struct {
	proto    uint8
	v6       bool
	src, dst int // host numbers
	sport    uint16
	dport    uint16
	vlan     uint16
	tos      uint8
	left     int // packets to go
	sent     int
	size     int // payload of its data packets
	reverse  bool
}

// Concurrent is how many flows NewTraffic keeps open at a time.
const Concurrent = 4096

// NewTraffic returns a generator whose first frame is at start (ns since
// the epoch).
func NewTraffic(seed uint64, start int64) *Traffic {
	return NewTrafficFlows(seed, start, Concurrent, 1)
}

// NewTrafficFlows is NewTraffic with concurrent flows open at a time
// (at least 1) instead of Concurrent, each length times as long (at
// least 1) as NewTraffic's: the shape of the traffic. The flows a number
// of packets makes is about that number over 15*length.
func NewTrafficFlows(seed uint64, start int64, concurrent, length int) *Traffic {
	concurrent = max(concurrent, 1)
	g := &Traffic{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), now: start, length: max(length, 1)}
	for i := 0; i < 512; i++ {
		g.v4 = append(g.v4, [4]byte{10, byte(i >> 8), byte(i), byte(1 + i%250)})
		var a [16]byte
		copy(a[:], []byte{0x20, 0x01, 0x0d, 0xb8, byte(i >> 8), byte(i)})
		a[15] = byte(1 + i%250)
		g.v6 = append(g.v6, a)
	}
	g.flows = make([]tflow, concurrent)
	for i := range g.flows {
		g.flows[i] = g.newFlow()
	}
	return g
}

// NewIPv4Traffic is NewTraffic without IPv6 and VLAN tags: what fprobe
// 1.1, which reads IPv4 behind a plain Ethernet header only, can take
// apart.
func NewIPv4Traffic(seed uint64, start int64) *Traffic {
	return NewTraffic(seed, start).IPv4Only()
}

// IPv4Only makes g's flows, those open and those to come, plain IPv4 as
// NewIPv4Traffic's, and returns g.
func (g *Traffic) IPv4Only() *Traffic {
	g.plain = true
	for i := range g.flows {
		g.flows[i].v6, g.flows[i].vlan = false, 0
		if g.flows[i].proto == ProtoICMPv6 {
			g.flows[i].proto = ProtoICMP
		}
	}
	return g
}

var services = []uint16{80, 443, 443, 443, 53, 22, 25, 123, 8080, 3306}

func (g *Traffic) newFlow() tflow {
	r := g.rng
	f := tflow{src: r.IntN(len(g.v4)), dst: r.IntN(len(g.v4)), v6: r.IntN(4) == 0,
		sport: uint16(32768 + r.IntN(28000)), dport: services[r.IntN(len(services))]}
	if r.IntN(5) == 0 {
		f.vlan = uint16(10 + r.IntN(10))
	}
	if g.plain {
		f.v6, f.vlan = false, 0
	}
	if r.IntN(10) == 0 {
		f.tos = 0xb8
	}
	switch n := r.IntN(10); {
	case n < 7:
		f.proto = ProtoTCP
		// Most connections are short; a few carry most of the bytes.
		f.left = 4 + r.IntN(12)
		if r.IntN(20) == 0 {
			f.left = 200 + r.IntN(2000)
		}
		f.size = 100 + r.IntN(1361)
	case n < 9:
		f.proto = ProtoUDP
		f.left = 1 + r.IntN(6)
		f.size = 20 + r.IntN(500)
	default:
		f.proto = ProtoICMP
		if f.v6 {
			f.proto = ProtoICMPv6
		}
		f.left = 2 + 2*r.IntN(3)
		f.size = 56
	}
	f.left *= g.length
	return f
}

// Next returns the next frame and its time; the frame is valid until the
// next call.
func (g *Traffic) Next() (int64, []byte) {
	g.now += int64(1 + g.rng.IntN(4000)) // 2 µs apart on average: 500 kpps
	n := len(g.flows)
	i := g.rng.IntN(n)
	if q := max(n/4, 1); i >= q {
		i = g.rng.IntN(q) // a quarter of the flows are busier
	}
	f := &g.flows[i]
	frames := g.packet(f)
	f.sent++
	f.left--
	if f.left <= 0 {
		*f = g.newFlow()
	}
	return g.now, frames
}

// packet builds the next packet of flow f.
func (g *Traffic) packet(f *tflow) []byte {
	src, dst, sport, dport := f.src, f.dst, f.sport, f.dport
	if f.reverse {
		src, dst, sport, dport = dst, src, dport, sport
	}
	f.reverse = !f.reverse
	var l4 []byte
	switch f.proto {
	case ProtoTCP:
		flags, n := uint8(ACK), f.size
		switch {
		case f.sent == 0:
			flags, n = SYN, 0
		case f.sent == 1:
			flags, n = SYN|ACK, 0
		case f.left == 1:
			flags, n = FIN|ACK, 0
		case f.sent%3 == 0:
			flags |= PSH
		}
		l4 = TCP(sport, dport, flags, uint32(f.sent), Payload(n))
	case ProtoUDP:
		l4 = UDP(sport, dport, Payload(f.size))
	default:
		// Echo requests and replies by turns.
		typ := uint8(8 - 8*(f.sent%2))
		if f.proto == ProtoICMPv6 {
			typ = uint8(128 + f.sent%2)
		}
		l4 = ICMP(typ, 0, uint32(f.sport)<<16|uint32(f.sent), Payload(f.size))
	}
	var ip []byte
	typ := uint16(0x0800)
	if f.v6 {
		typ = 0x86dd
		ip = Checksum(IPv6(V6{Src: g.v6[src], Dst: g.v6[dst], Next: f.proto, TC: f.tos}, l4))
	} else {
		ip = Checksum(IPv4(V4{Src: g.v4[src], Dst: g.v4[dst], Proto: f.proto, TOS: f.tos, ID: uint16(f.sent)}, l4))
	}
	var vlans []uint16
	if f.vlan != 0 {
		vlans = []uint16{f.vlan}
	}
	mac := func(h int) uint64 { return 0x020000000000 | uint64(h) }
	g.buf = Ethernet(mac(dst), mac(src), typ, vlans, ip)
	return g.buf
}
