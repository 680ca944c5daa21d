// Package pktgen builds packets and writes capture files, deterministically,
// for goprobe's tests and benchmarks: every link type and protocol the
// capture decoder knows, VLAN tags, fragments, IPv6 extension headers and
// frames cut by a snap length, and (Traffic) a plausible mix of flows of
// any size. Checksums are computed, so the real tools and tshark take the
// packets for real ones.
package pktgen

import (
	"encoding/binary"
)

// IP protocol numbers used by the builders.
const (
	ProtoICMP     = 1
	ProtoTCP      = 6
	ProtoUDP      = 17
	ProtoGRE      = 47
	ProtoESP      = 50
	ProtoAH       = 51
	ProtoICMPv6   = 58
	ProtoSCTP     = 132
	ProtoHopByHop = 0
	ProtoRouting  = 43
	ProtoFragment = 44
	ProtoDstOpts  = 60
	ProtoNoNext   = 59
)

// TCP flags.
const (
	FIN = 0x01
	SYN = 0x02
	RST = 0x04
	PSH = 0x08
	ACK = 0x10
	URG = 0x20
	ECE = 0x40
	CWR = 0x80
)

// V4 describes an IPv4 header.
type V4 struct {
	Src, Dst [4]byte
	Proto    uint8
	TOS      uint8
	TTL      uint8  // 64 when 0
	ID       uint16 // identification
	Frag     uint16 // flags and fragment offset as on the wire (0x2000 = more fragments)
	Options  []byte // padded to a multiple of 4
}

// IPv4 returns an IPv4 packet carrying payload, with its header checksum.
func IPv4(h V4, payload []byte) []byte {
	opts := pad(h.Options, 4)
	hlen := 20 + len(opts)
	b := make([]byte, hlen, hlen+len(payload))
	b[0] = 0x40 | byte(hlen/4)
	b[1] = h.TOS
	binary.BigEndian.PutUint16(b[2:], uint16(hlen+len(payload)))
	binary.BigEndian.PutUint16(b[4:], h.ID)
	binary.BigEndian.PutUint16(b[6:], h.Frag)
	b[8] = h.TTL
	if b[8] == 0 {
		b[8] = 64
	}
	b[9] = h.Proto
	copy(b[12:], h.Src[:])
	copy(b[16:], h.Dst[:])
	copy(b[20:], opts)
	binary.BigEndian.PutUint16(b[10:], ^sum(0, b))
	return append(b, payload...)
}

// V6 describes an IPv6 header.
type V6 struct {
	Src, Dst [16]byte
	Next     uint8 // next header
	TC       uint8 // traffic class
	Flow     uint32
	Hops     uint8 // 64 when 0
}

// IPv6 returns an IPv6 packet carrying payload (extension headers and the
// upper layer, see Ext).
func IPv6(h V6, payload []byte) []byte {
	b := make([]byte, 40, 40+len(payload))
	binary.BigEndian.PutUint32(b, 6<<28|uint32(h.TC)<<20|h.Flow&0xfffff)
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)))
	b[6] = h.Next
	b[7] = h.Hops
	if b[7] == 0 {
		b[7] = 64
	}
	copy(b[8:], h.Src[:])
	copy(b[24:], h.Dst[:])
	return append(b, payload...)
}

// Ext returns an IPv6 extension header of type typ (hop-by-hop, routing,
// destination options or AH) whose next header is next, with body padded
// to the header's unit, followed by rest.
func Ext(typ, next uint8, body, rest []byte) []byte {
	unit, adj := 8, 1
	if typ == ProtoAH {
		unit, adj = 4, 2
	}
	n := len(pad(append(make([]byte, 2), body...), unit))
	if typ == ProtoAH && n < 12 {
		n = 12 // next, length, reserved, SPI, sequence
	}
	b := make([]byte, n, n+len(rest))
	b[0] = next
	b[1] = byte(n/unit - adj)
	copy(b[2:], body)
	return append(b, rest...)
}

// FragHeader returns an IPv6 fragment header followed by rest.
func FragHeader(next uint8, offset int, more bool, id uint32, rest []byte) []byte {
	b := make([]byte, 8, 8+len(rest))
	b[0] = next
	fo := uint16(offset) &^ 7
	if more {
		fo |= 1
	}
	binary.BigEndian.PutUint16(b[2:], fo)
	binary.BigEndian.PutUint32(b[4:], id)
	return append(b, rest...)
}

// TCP returns a TCP segment (checksum left to Checksum).
func TCP(sport, dport uint16, flags uint8, seq uint32, payload []byte) []byte {
	b := make([]byte, 20, 20+len(payload))
	binary.BigEndian.PutUint16(b, sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint32(b[4:], seq)
	if flags&ACK != 0 {
		binary.BigEndian.PutUint32(b[8:], seq^0x5a5a5a5a)
	}
	b[12] = 5 << 4
	b[13] = flags
	binary.BigEndian.PutUint16(b[14:], 64240) // window
	return append(b, payload...)
}

// UDP returns a UDP datagram (checksum left to Checksum).
func UDP(sport, dport uint16, payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(b, sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint16(b[4:], uint16(8+len(payload)))
	return append(b, payload...)
}

// ICMP returns an ICMP or ICMPv6 message with its 4 bytes of rest of
// header (id and sequence for echo) and payload; ICMP's checksum is
// computed here, ICMPv6's by Checksum.
func ICMP(typ, code uint8, rest uint32, payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	b[0], b[1] = typ, code
	binary.BigEndian.PutUint32(b[4:], rest)
	b = append(b, payload...)
	binary.BigEndian.PutUint16(b[2:], ^sum(0, b))
	return b
}

// SCTP returns an SCTP common header (verification tag, no chunks).
func SCTP(sport, dport uint16, tag uint32) []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint16(b, sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint32(b[4:], tag)
	return b
}

// Checksum fills in the TCP, UDP or ICMPv6 checksum of a whole IP packet
// made by IPv4 or IPv6 (after any IPv6 extension headers), and returns the
// packet. Other packets, and fragments, are returned as they are.
func Checksum(pkt []byte) []byte {
	var proto uint8
	var l4 []byte
	var ph uint32
	switch pkt[0] >> 4 {
	case 4:
		hlen := int(pkt[0]&0x0f) * 4
		if binary.BigEndian.Uint16(pkt[6:])&0x3fff != 0 {
			return pkt
		}
		proto, l4 = pkt[9], pkt[hlen:]
		ph = uint32(sum(0, pkt[12:20]))
	case 6:
		proto, l4 = pkt[6], pkt[40:]
		for proto == ProtoHopByHop || proto == ProtoRouting || proto == ProtoDstOpts || proto == ProtoAH {
			n := (int(l4[1]) + 1) * 8
			if proto == ProtoAH {
				n = (int(l4[1]) + 2) * 4
			}
			proto, l4 = l4[0], l4[n:]
		}
		if proto == ProtoFragment {
			if binary.BigEndian.Uint16(l4[2:])&^6 != 0 {
				return pkt // a fragment of a datagram
			}
			proto, l4 = l4[0], l4[8:] // an atomic fragment is whole
		}
		ph = uint32(sum(0, pkt[8:40]))
	default:
		return pkt
	}
	var at int
	switch proto {
	case ProtoTCP:
		at = 16
	case ProtoUDP:
		at = 6
	case ProtoICMPv6:
		at = 2
	default:
		return pkt
	}
	if len(l4) < at+2 {
		return pkt
	}
	l4[at], l4[at+1] = 0, 0
	ph += uint32(proto) + uint32(len(l4))
	c := ^sum(ph, l4)
	if c == 0 && proto == ProtoUDP {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(l4[at:], c)
	return pkt
}

// Fragment4 splits an IPv4 packet into fragments carrying at most mtu bytes
// of IP each (the data of all but the last a multiple of 8 bytes).
func Fragment4(pkt []byte, mtu int) [][]byte {
	hlen := int(pkt[0]&0x0f) * 4
	data := pkt[hlen:]
	step := (mtu - hlen) &^ 7
	var out [][]byte
	for off := 0; off < len(data); off += step {
		end := min(off+step, len(data))
		h := append([]byte(nil), pkt[:hlen]...)
		fo := uint16(off / 8)
		if end < len(data) {
			fo |= 0x2000
		}
		binary.BigEndian.PutUint16(h[6:], fo)
		binary.BigEndian.PutUint16(h[2:], uint16(hlen+end-off))
		h[10], h[11] = 0, 0
		binary.BigEndian.PutUint16(h[10:], ^sum(0, h))
		out = append(out, append(h, data[off:end]...))
	}
	return out
}

// Fragment6 splits the fragmentable part of an IPv6 packet without
// extension headers into fragments of at most mtu bytes of IP each.
func Fragment6(pkt []byte, id uint32, mtu int) [][]byte {
	next, data := pkt[6], pkt[40:]
	step := (mtu - 48) &^ 7
	var out [][]byte
	for off := 0; off < len(data); off += step {
		end := min(off+step, len(data))
		h := append([]byte(nil), pkt[:40]...)
		h[6] = ProtoFragment
		f := FragHeader(next, off, end < len(data), id, data[off:end])
		binary.BigEndian.PutUint16(h[4:], uint16(len(f)))
		out = append(out, append(h, f...))
	}
	return out
}

// Ethernet returns an Ethernet II frame with the VLAN tags given (outer
// first: an 802.1ad tag when there are two, as QinQ has it) around a
// payload of EtherType typ.
func Ethernet(dst, src uint64, typ uint16, vlans []uint16, payload []byte) []byte {
	b := make([]byte, 12, 14+4*len(vlans)+len(payload))
	putMAC(b, dst)
	putMAC(b[6:], src)
	for i, v := range vlans {
		tpid := uint16(0x8100)
		if i == 0 && len(vlans) > 1 {
			tpid = 0x88a8
		}
		b = binary.BigEndian.AppendUint16(b, tpid)
		b = binary.BigEndian.AppendUint16(b, v)
	}
	b = binary.BigEndian.AppendUint16(b, typ)
	return append(b, payload...)
}

// SNAP returns an 802.3 frame with an LLC/SNAP header carrying payload of
// EtherType typ.
func SNAP(dst, src uint64, typ uint16, payload []byte) []byte {
	b := make([]byte, 12, 22+len(payload))
	putMAC(b, dst)
	putMAC(b[6:], src)
	b = binary.BigEndian.AppendUint16(b, uint16(8+len(payload)))
	b = append(b, 0xaa, 0xaa, 0x03, 0, 0, 0)
	b = binary.BigEndian.AppendUint16(b, typ)
	return append(b, payload...)
}

// SLL returns a Linux cooked capture (v1) frame: packet type pkttype
// (0 to us, 4 outgoing), an Ethernet source address src.
func SLL(pkttype uint16, src uint64, typ uint16, payload []byte) []byte {
	b := make([]byte, 16, 16+len(payload))
	binary.BigEndian.PutUint16(b, pkttype)
	binary.BigEndian.PutUint16(b[2:], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(b[4:], 6)
	putMAC(b[6:], src)
	binary.BigEndian.PutUint16(b[14:], typ)
	return append(b, payload...)
}

// SLL2 returns a Linux cooked capture v2 frame.
func SLL2(ifindex uint32, pkttype uint8, src uint64, typ uint16, payload []byte) []byte {
	b := make([]byte, 20, 20+len(payload))
	binary.BigEndian.PutUint16(b, typ)
	binary.BigEndian.PutUint32(b[4:], ifindex)
	binary.BigEndian.PutUint16(b[8:], 1) // ARPHRD_ETHER
	b[10] = pkttype
	b[11] = 6
	putMAC(b[12:], src)
	return append(b, payload...)
}

// Null returns a BSD loopback frame: the address family in the byte order
// given (the capturing host's), then the packet.
func Null(family uint32, bo binary.ByteOrder, payload []byte) []byte {
	b := make([]byte, 4, 4+len(payload))
	bo.PutUint32(b, family)
	return append(b, payload...)
}

// ARP returns an Ethernet ARP request.
func ARP(src uint64, spa, tpa [4]byte) []byte {
	a := []byte{0, 1, 8, 0, 6, 4, 0, 1}
	a = append(a, make([]byte, 6)...)
	putMAC(a[8:], src)
	a = append(a, spa[:]...)
	a = append(a, make([]byte, 6)...)
	a = append(a, tpa[:]...)
	return Ethernet(0xffffffffffff, src, 0x0806, nil, a)
}

func putMAC(b []byte, m uint64) {
	binary.BigEndian.PutUint16(b, uint16(m>>32))
	binary.BigEndian.PutUint32(b[2:], uint32(m))
}

func pad(b []byte, unit int) []byte {
	for len(b)%unit != 0 {
		b = append(b, 0)
	}
	return b
}

// sum is the Internet checksum's one's-complement sum of b, added to s.
func sum(s uint32, b []byte) uint16 {
	for len(b) >= 2 {
		s += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}
