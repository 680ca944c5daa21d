package pktgen

import (
	"bytes"
	"encoding/binary"
	"net/netip"
)

// The test captures under capture/testdata, made here so that they can be
// checked and remade (go test ./capture -run TestCaptures -update): every
// link type and protocol the decoder knows, VLAN and QinQ tags,
// fragments in and out of order, IPv6 extension headers, frames cut by
// the snap length, and frames that carry no IP.

// Capture is a capture file: its name under testdata and its bytes.
type Capture struct {
	Name string
	Data []byte
}

// Captures returns the test captures.
func Captures() []Capture {
	return []Capture{
		{"mix.pcap", Mix()},
		{"links.pcapng", Links()},
		{"sll-be-ns.pcap", SLLBigNano()},
	}
}

// Start is the time of the test captures' first packet:
// 2026-11-24 21:30:00 UTC, in ns.
const Start = int64(1795555800) * 1e9

// MAC addresses of the test captures: a client and a router.
const (
	ClientMAC = 0x020000000001
	RouterMAC = 0x020000000002
)

// A4 returns an IPv4 address's bytes.
func A4(s string) [4]byte { return netip.MustParseAddr(s).As4() }

// A6 returns an IPv6 address's bytes.
func A6(s string) [16]byte { return netip.MustParseAddr(s).As16() }

// Payload returns n bytes of deterministic filler.
func Payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// TCP4 returns an IPv4 TCP packet with n bytes of payload.
func TCP4(h V4, sport, dport uint16, flags uint8, n int) []byte {
	h.Proto = ProtoTCP
	return Checksum(IPv4(h, TCP(sport, dport, flags, uint32(sport)<<16|uint32(dport), Payload(n))))
}

// UDP4 returns an IPv4 UDP packet with n bytes of payload.
func UDP4(h V4, sport, dport uint16, n int) []byte {
	h.Proto = ProtoUDP
	return Checksum(IPv4(h, UDP(sport, dport, Payload(n))))
}

// ICMP4 returns an IPv4 ICMP message with n bytes of payload.
func ICMP4(h V4, typ, code uint8, n int) []byte {
	h.Proto = ProtoICMP
	return IPv4(h, ICMP(typ, code, 0x12340001, Payload(n)))
}

// TCP6 returns an IPv6 TCP packet with n bytes of payload.
func TCP6(h V6, sport, dport uint16, flags uint8, n int) []byte {
	h.Next = ProtoTCP
	return Checksum(IPv6(h, TCP(sport, dport, flags, uint32(sport)<<16|uint32(dport), Payload(n))))
}

// UDP6 returns an IPv6 UDP packet with n bytes of payload.
func UDP6(h V6, sport, dport uint16, n int) []byte {
	h.Next = ProtoUDP
	return Checksum(IPv6(h, UDP(sport, dport, Payload(n))))
}

// ICMP6 returns an ICMPv6 message with n bytes of payload.
func ICMP6(h V6, typ, code uint8, n int) []byte {
	h.Next = ProtoICMPv6
	return Checksum(IPv6(h, ICMP(typ, code, 0x12340001, Payload(n))))
}

// eth wraps an IP packet in Ethernet from the client (up) or the router.
func eth(up bool, vlans []uint16, ip []byte) []byte {
	src, dst := uint64(ClientMAC), uint64(RouterMAC)
	if !up {
		src, dst = dst, src
	}
	typ := uint16(0x0800)
	if ip[0]>>4 == 6 {
		typ = 0x86dd
	}
	return Ethernet(dst, src, typ, vlans, ip)
}

// timeline writes frames at times relative to Start.
type timeline struct {
	w *Pcap
}

func (l timeline) at(ms int, frames ...[]byte) {
	for i, f := range frames {
		l.w.Write(Start+int64(ms)*1e6+int64(i)*1e3, f)
	}
}

// Mix is an Ethernet capture (little-endian, microseconds, snap length
// 256 as fprobe's default) of every protocol and header shape the decoder
// must take apart; see the comments for what each frame is.
func Mix() []byte {
	var buf bytes.Buffer
	l := timeline{NewPcap(&buf, 1, PcapOptions{SnapLen: 256})}
	c4, s4, d4 := A4("192.0.2.1"), A4("198.51.100.1"), A4("198.51.100.53")
	c6, s6 := A6("2001:db8::1"), A6("2001:db8:1::80")
	up := V4{Src: c4, Dst: s4}
	down := V4{Src: s4, Dst: c4}
	up6 := V6{Src: c6, Dst: s6}
	down6 := V6{Src: s6, Dst: c6}

	// A TCP connection from its SYN to its FIN and last ACK; the server
	// sends one segment too long for the snap length.
	l.at(0, eth(true, nil, TCP4(up, 40000, 80, SYN, 0)))
	l.at(1, eth(false, nil, TCP4(down, 80, 40000, SYN|ACK, 0)))
	l.at(2, eth(true, nil, TCP4(up, 40000, 80, ACK, 0)),
		eth(true, nil, TCP4(up, 40000, 80, PSH|ACK, 100)))
	l.at(5, eth(false, nil, TCP4(down, 80, 40000, ACK, 1460)),
		eth(false, nil, TCP4(down, 80, 40000, PSH|ACK|ECE|CWR, 300)))
	l.at(6, eth(true, nil, TCP4(up, 40000, 80, FIN|ACK, 0)))
	l.at(7, eth(false, nil, TCP4(down, 80, 40000, FIN|ACK, 0)))
	l.at(8, eth(true, nil, TCP4(up, 40000, 80, ACK, 0)))
	// A refused connection: SYN, RST.
	l.at(10, eth(true, nil, TCP4(up, 40001, 9, SYN, 0)),
		eth(false, nil, TCP4(down, 9, 40001, RST|ACK, 0)))
	// A UDP request and reply, ICMP echo and an unreachable quoting a
	// datagram.
	l.at(20, eth(true, nil, UDP4(V4{Src: c4, Dst: d4}, 53000, 5300, 30)),
		eth(false, nil, UDP4(V4{Src: d4, Dst: c4}, 5300, 53000, 90)))
	l.at(30, eth(true, nil, ICMP4(up, 8, 0, 56)), eth(false, nil, ICMP4(down, 0, 0, 56)))
	quoted := UDP4(V4{Src: c4, Dst: s4}, 53001, 5301, 30)[:28]
	l.at(31, eth(false, nil, IPv4(V4{Src: s4, Dst: c4, Proto: ProtoICMP}, ICMP(3, 3, 0, quoted))))
	// 802.1Q: VLAN 100. QinQ: 802.1ad tag 200 around 802.1Q tag 300.
	l.at(40, eth(true, []uint16{100}, TCP4(up, 40002, 443, SYN, 0)))
	l.at(41, eth(true, []uint16{200, 300}, UDP4(up, 40003, 5001, 50)))
	// Three tags: the decoder keeps the outer two.
	l.at(42, eth(true, []uint16{10, 20, 30}, UDP4(up, 40004, 5002, 50)))
	// A priority tag (VLAN 0 with a PCP) and an IPv6 packet in VLAN 100.
	l.at(43, eth(true, []uint16{0xa000}, UDP4(up, 40005, 123, 48)),
		eth(true, []uint16{100}, UDP6(up6, 40006, 123, 48)))
	// IPv4 options (router alert): a 24-byte header.
	l.at(50, eth(true, nil, UDP4(V4{Src: c4, Dst: s4, Options: []byte{0x94, 4, 0, 0}}, 40007, 5000, 10)))
	// The same 5-tuple with two ToS values: two flows for fprobe's key.
	l.at(51, eth(true, nil, UDP4(V4{Src: c4, Dst: s4, TOS: 0xb8}, 40008, 5004, 160)),
		eth(true, nil, UDP4(V4{Src: c4, Dst: s4, TOS: 0}, 40008, 5004, 160)))
	// A fragmented UDP datagram, in order, and one out of order (last
	// fragment first, first fragment last).
	for i, f := range Fragment4(UDP4(V4{Src: c4, Dst: s4, ID: 0x1111}, 40009, 7000, 3000), 1500) {
		l.at(60+i, eth(true, nil, f))
	}
	fr := Fragment4(UDP4(V4{Src: c4, Dst: s4, ID: 0x2222}, 40010, 7000, 3000), 1500)
	l.at(70, eth(true, nil, fr[2]), eth(true, nil, fr[1]), eth(true, nil, fr[0]))
	// A fragment whose first fragment never comes.
	l.at(75, eth(true, nil, Fragment4(UDP4(V4{Src: c4, Dst: s4, ID: 0x3333}, 40011, 7000, 3000), 1500)[1]))
	// Protocols without ports: GRE, ESP, and SCTP with ports.
	l.at(80, eth(true, nil, IPv4(V4{Src: c4, Dst: s4, Proto: ProtoGRE}, append([]byte{0, 0, 0x08, 0}, UDP4(up, 1, 2, 4)...))))
	l.at(81, eth(true, nil, IPv4(V4{Src: c4, Dst: s4, Proto: ProtoESP}, Payload(64))))
	l.at(82, eth(true, nil, IPv4(V4{Src: c4, Dst: s4, Proto: ProtoSCTP}, SCTP(40012, 38412, 0xabcdef))))
	// IPv6: TCP, UDP, ICMPv6 echo.
	l.at(90, eth(true, nil, TCP6(up6, 40013, 443, SYN, 0)), eth(false, nil, TCP6(down6, 443, 40013, SYN|ACK, 0)))
	l.at(91, eth(true, nil, UDP6(V6{Src: c6, Dst: s6, TC: 0x28, Flow: 0x12345}, 40014, 5300, 40)))
	l.at(92, eth(true, nil, ICMP6(up6, 128, 0, 56)), eth(false, nil, ICMP6(down6, 129, 0, 56)))
	// IPv6 extension headers: hop-by-hop, destination options and a
	// routing header before UDP; AH before TCP; no next header.
	udp := UDP(40015, 5400, Payload(20))
	chain := Ext(ProtoHopByHop, ProtoDstOpts, []byte{1, 4, 0, 0, 0, 0},
		Ext(ProtoDstOpts, ProtoRouting, []byte{1, 4, 0, 0, 0, 0},
			Ext(ProtoRouting, ProtoUDP, append([]byte{0, 1, 0, 0, 0, 0}, s6[:]...), udp))) // type 0 (the one gopacket reads), one address
	l.at(100, eth(true, nil, Checksum(IPv6(V6{Src: c6, Dst: s6, Next: ProtoHopByHop}, chain))))
	ah := Ext(ProtoAH, ProtoTCP, Payload(14), TCP(40016, 22, PSH|ACK, 1, Payload(32)))
	l.at(101, eth(true, nil, Checksum(IPv6(V6{Src: c6, Dst: s6, Next: ProtoAH}, ah))))
	l.at(102, eth(true, nil, IPv6(V6{Src: c6, Dst: s6, Next: ProtoNoNext}, nil)))
	// A fragmented IPv6 datagram.
	for i, f := range Fragment6(UDP6(up6, 40017, 7000, 3000), 0xdeadbeef, 1280) {
		l.at(110+i, eth(true, nil, f))
	}
	// A datagram in two fragments behind a destination options header.
	udp2 := UDP6(up6, 40022, 7002, 24)[40:] // 32 bytes: 16 in each fragment
	dst := func(off int, more bool, b []byte) []byte {
		f := Ext(ProtoDstOpts, ProtoFragment, []byte{1, 4, 0, 0, 0, 0}, FragHeader(ProtoUDP, off, more, 0xfeed, b))
		return IPv6(V6{Src: c6, Dst: s6, Next: ProtoDstOpts}, f)
	}
	l.at(115, eth(true, nil, dst(0, true, udp2[:16])), eth(true, nil, dst(16, false, udp2[16:])))
	// An atomic fragment (offset 0, no more): a whole datagram.
	atomic := FragHeader(ProtoUDP, 0, false, 7, UDP(40018, 7001, Payload(8)))
	l.at(120, eth(true, nil, Checksum(IPv6(V6{Src: c6, Dst: s6, Next: ProtoFragment}, atomic))))
	// Not IP: ARP, and an IPv4 packet in LLC/SNAP.
	l.at(130, ARP(ClientMAC, c4, s4))
	l.at(131, SNAP(RouterMAC, ClientMAC, 0x0800, UDP4(up, 40019, 6900, 20)))
	// A frame cut inside its IPv4 header, and one cut inside the TCP
	// header (ports, no flags).
	short := eth(true, nil, TCP4(up, 40020, 80, SYN, 0))
	l.w.WriteRecord(Start+140e6, short[:14+12], len(short))
	l.w.WriteRecord(Start+141e6, short[:14+20+8], len(short))
	// A big-TCP packet with an IPv4 total length of 0, as Linux hands
	// the capture segments longer than 64 KiB.
	big := TCP4(up, 40021, 80, ACK, 200)
	binary.BigEndian.PutUint16(big[2:], 0)
	binary.BigEndian.PutUint16(big[10:], 0)
	binary.BigEndian.PutUint16(big[10:], ^sum(0, big[:20]))
	l.at(150, eth(true, nil, big))
	return buf.Bytes()
}

// Links is a pcapng file with one interface of every link type the
// decoder knows, each with an IPv4 TCP and an IPv6 UDP packet, in several
// time resolutions.
func Links() []byte {
	var buf bytes.Buffer
	w := NewPcapng(&buf, false)
	c4, s4 := A4("192.0.2.7"), A4("198.51.100.7")
	c6, s6 := A6("2001:db8::7"), A6("2001:db8:1::7")
	v4 := TCP4(V4{Src: c4, Dst: s4}, 41000, 80, SYN, 0)
	v6 := UDP6(V6{Src: c6, Dst: s6}, 41001, 5300, 30)
	le, be := binary.LittleEndian, binary.BigEndian
	type iface struct {
		link   uint16
		res    Resolution
		frames [][]byte
	}
	ifaces := []iface{
		{1, 0, [][]byte{eth(true, nil, v4), eth(true, []uint16{7}, v6)}},
		{0, 9, [][]byte{Null(2, le, v4), Null(24, le, v6), Null(28, le, v6), Null(30, le, v6), Null(2, be, v4), Null(10, be, v6), Null(7, le, v4)}},
		{108, 3, [][]byte{Null(2, be, v4), Null(24, be, v6)}},
		{101, 0x80 | 20, [][]byte{v4, v6, {0x50, 0, 0, 0}}},
		{228, 6, [][]byte{v4}},
		{229, 6, [][]byte{v6}},
		{113, 6, [][]byte{SLL(0, ClientMAC, 0x0800, v4), SLL(4, ClientMAC, 0x86dd, v6), SLL(0, ClientMAC, 0x8100, append([]byte{0, 5, 0x08, 0}, v4...)), SLL(0, ClientMAC, 0x0806, Payload(28))}},
		{276, 9, [][]byte{SLL2(3, 0, ClientMAC, 0x0800, v4), SLL2(3, 4, ClientMAC, 0x86dd, v6)}},
		{147, 6, [][]byte{v4}}, // a user link type the decoder does not know
	}
	for _, ifc := range ifaces {
		w.AddInterface(ifc.link, 65535, ifc.res, 0)
	}
	t := Start
	for i, ifc := range ifaces {
		for _, f := range ifc.frames {
			t += 1e9
			w.Write(i, t, f)
		}
	}
	return buf.Bytes()
}

// SLLBigNano is a big-endian, nanosecond pcap of Linux cooked frames, as
// tcpdump -i any writes on a big-endian host with --nano.
func SLLBigNano() []byte {
	var buf bytes.Buffer
	w := NewPcap(&buf, 113, PcapOptions{BigEndian: true, Nano: true})
	c4, s4 := A4("192.0.2.9"), A4("198.51.100.9")
	w.Write(Start+123456789, SLL(4, ClientMAC, 0x0800, TCP4(V4{Src: c4, Dst: s4}, 42000, 80, SYN, 0)))
	w.Write(Start+223456789, SLL(0, RouterMAC, 0x0800, TCP4(V4{Src: s4, Dst: c4}, 80, 42000, SYN|ACK, 0)))
	return buf.Bytes()
}
