package capture

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"unsafe"
)

// Why Decode refuses a frame. They are values, so that a caller counting
// the reasons allocates nothing.
var (
	ErrNotIP     = errors.New("capture: not an IP packet")
	ErrTruncated = errors.New("capture: frame ends inside the IP header")
	ErrMalformed = errors.New("capture: malformed IP header")
	ErrLinkType  = errors.New("capture: unknown link type")
)

// IP protocol numbers the decoder looks into.
const (
	protoHopByHop = 0
	protoICMP     = 1
	protoTCP      = 6
	protoUDP      = 17
	protoRouting  = 43
	protoFragment = 44
	protoAH       = 51
	protoICMPv6   = 58
	protoDstOpts  = 60
	protoSCTP     = 132
	protoUDPLite  = 136
)

// Packet is what Decode takes out of a frame: what the flow cache counts and
// keys on, and what v9 and IPFIX carry beside it. A caller keeps one Packet
// and decodes every frame into it.
type Packet struct {
	Time    int64 // capture time, ns since the epoch (from the frame)
	WireLen int   // the frame's length on the wire, link header included
	LinkLen int   // bytes before the IP header: link header and VLAN tags

	Version  uint8    // 4 or 6
	Src, Dst [16]byte // addresses; an IPv4 address fills the first 4 bytes
	Proto    uint8    // the upper-layer protocol, after any IPv6 extension headers
	TOS      uint8    // IPv4 type of service, IPv6 traffic class
	IPLen    int      // the packet's IP length as its header says (IPv6: 40 + payload length)

	// HasPorts says the transport header was captured far enough for the
	// ports (TCP, UDP, UDP-Lite, SCTP) or the ICMP type and code, which go
	// to DstPort as type<<8|code as nfdump keeps them. Later fragments
	// have no ports; the cache finds them through the first fragment.
	HasPorts bool
	SrcPort  uint16
	DstPort  uint16
	TCPFlags uint8 // the TCP header's flags byte (CWR and ECE included)

	// A fragment: Fragment is set for every piece of a fragmented datagram
	// (not for IPv6's atomic fragments, which are whole).
	Fragment  bool
	MoreFrags bool
	FragID    uint32 // IPv4 identification or IPv6 fragment identification
	FragOff   int    // offset of this fragment's data in the datagram, bytes
	FragLen   int    // bytes of the datagram's data this fragment carries

	VLANs  uint8     // how many 802.1Q / 802.1ad tags the frame had
	VLAN   [2]uint16 // the outer two VLAN ids, outer first
	SrcMAC uint64    // the frame's source MAC as a number (Ethernet, cooked captures)
	DstMAC uint64    // the frame's destination MAC (Ethernet only)

	// The flow key's hash, when Cache.Prefetch made it for the cache
	// whose id hashBy is (0: none), for Add to use again.
	hash, hashBy uint64
}

// SrcAddr returns the source address.
func (p *Packet) SrcAddr() netip.Addr { return p.addr(&p.Src) }

// DstAddr returns the destination address.
func (p *Packet) DstAddr() netip.Addr { return p.addr(&p.Dst) }

func (p *Packet) addr(a *[16]byte) netip.Addr {
	if p.Version == 4 {
		return netip.AddrFrom4([4]byte(a[:4]))
	}
	return netip.AddrFrom16(*a)
}

// Decoder takes frames apart. The zero Decoder finds the IP header by the
// link type; it holds no state between frames, so one Decoder serves any
// number of sources, one goroutine at a time.
type Decoder struct {
	// FixedLink makes the decoder skip exactly LinkHeader bytes of link
	// header and read IP behind them, whatever the link type (fprobe's
	// -K, for link types it does not know).
	FixedLink  bool
	LinkHeader int
}

// Decode decodes frame f of link type link into p, which it overwrites. It
// returns ErrNotIP for frames that carry no IP (ARP, LLDP, ...),
// ErrTruncated when the capture ends inside the IP header, ErrMalformed for
// IP headers whose lengths cannot be, and ErrLinkType for a link type it
// does not know. It never allocates.
func (d *Decoder) Decode(link LinkType, f *Frame, p *Packet) error {
	*p = Packet{Time: f.Time, WireLen: f.WireLen}
	b := f.Data
	if d.FixedLink {
		if d.LinkHeader < 0 || len(b) <= d.LinkHeader {
			return ErrTruncated
		}
		p.LinkLen = d.LinkHeader
		return p.ip(b[d.LinkHeader:], 0)
	}
	switch link {
	case LinkEthernet:
		if len(b) < 14 {
			return ErrTruncated
		}
		p.DstMAC = mac(b)
		p.SrcMAC = mac(b[6:])
		// Untagged IPv4, most frames of most links, is taken apart
		// without the calls through the EtherType loop and the
		// version switch.
		if binary.BigEndian.Uint16(b[12:]) == 0x0800 && len(b) > 14 && b[14]>>4 == 4 {
			p.LinkLen = 14
			return p.ipv4(b[14:])
		}
		return p.ether(b, 12)
	case LinkLinuxSLL:
		// packet type, ARPHRD type, address length, 8 address bytes,
		// protocol
		if len(b) < 16 {
			return ErrTruncated
		}
		if binary.BigEndian.Uint16(b[2:]) == 1 && binary.BigEndian.Uint16(b[4:]) == 6 {
			p.SrcMAC = mac(b[6:])
		}
		return p.ether(b, 14)
	case LinkLinuxSLL2:
		// protocol, reserved, interface index, ARPHRD type, packet
		// type, address length, 8 address bytes
		if len(b) < 20 {
			return ErrTruncated
		}
		if binary.BigEndian.Uint16(b[8:]) == 1 && b[11] == 6 {
			p.SrcMAC = mac(b[12:])
		}
		return p.etherType(b, binary.BigEndian.Uint16(b), 20)
	case LinkNull, LinkLoop:
		if len(b) < 4 {
			return ErrTruncated
		}
		// Null's family is in the capturing host's byte order; the
		// families are small numbers, so the order that gives one is
		// the right one. Loop's is always big-endian.
		fam := binary.BigEndian.Uint32(b)
		if link == LinkNull && fam > 0xffff {
			fam = binary.LittleEndian.Uint32(b)
		}
		p.LinkLen = 4
		switch fam {
		case 2:
			return p.ip(b[4:], 4)
		case 10, 24, 28, 30: // AF_INET6 of Linux, NetBSD/OpenBSD, FreeBSD/DragonFly, macOS
			return p.ip(b[4:], 6)
		}
		return ErrNotIP
	case LinkRaw:
		return p.ip(b, 0)
	case LinkIPv4:
		return p.ip(b, 4)
	case LinkIPv6:
		return p.ip(b, 6)
	}
	return ErrLinkType
}

func mac(b []byte) uint64 {
	return uint64(binary.BigEndian.Uint16(b))<<32 | uint64(binary.BigEndian.Uint32(b[2:]))
}

// ether reads the EtherType at b[off:] and what follows it.
func (p *Packet) ether(b []byte, off int) error {
	return p.etherType(b, binary.BigEndian.Uint16(b[off:]), off+2)
}

// etherType follows an EtherType t whose payload starts at b[off:]: VLAN
// tags, LLC/SNAP, then IP.
func (p *Packet) etherType(b []byte, t uint16, off int) error {
	for {
		switch t {
		case 0x0800:
			p.LinkLen = off
			return p.ip(b[off:], 4)
		case 0x86dd:
			p.LinkLen = off
			return p.ip(b[off:], 6)
		case 0x8100, 0x88a8, 0x9100: // 802.1Q, 802.1ad, the old QinQ type
			if len(b) < off+4 {
				return ErrTruncated
			}
			if p.VLANs < 2 {
				p.VLAN[p.VLANs] = binary.BigEndian.Uint16(b[off:]) & 0x0fff
			}
			if p.VLANs < 255 {
				p.VLANs++
			}
			t = binary.BigEndian.Uint16(b[off+2:])
			off += 4
		default:
			// An 802.3 length with an LLC/SNAP header of EtherType
			// encapsulation carries an EtherType too.
			if t > 1500 || len(b) < off+8 || b[off] != 0xaa || b[off+1] != 0xaa || b[off+2] != 3 ||
				b[off+3]|b[off+4]|b[off+5] != 0 {
				return ErrNotIP
			}
			t = binary.BigEndian.Uint16(b[off+6:])
			off += 8
		}
	}
}

// ip decodes an IP packet of the version given (0: by its first nibble).
func (p *Packet) ip(b []byte, version uint8) error {
	if len(b) < 1 {
		return ErrTruncated
	}
	v := b[0] >> 4
	if version != 0 && v != version {
		return ErrMalformed
	}
	switch v {
	case 4:
		return p.ipv4(b)
	case 6:
		return p.ipv6(b)
	}
	if version == 0 {
		return ErrNotIP
	}
	return ErrMalformed
}

func (p *Packet) ipv4(b []byte) error {
	if len(b) < 20 {
		return ErrTruncated
	}
	hlen := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:]))
	if total == 0 {
		// Linux's BIG TCP and segmentation offload hand the capture
		// packets longer than 64 KiB with a total length of 0: the frame
		// says how long they are.
		total = p.WireLen - p.LinkLen
	}
	if hlen < 20 || total < hlen {
		return ErrMalformed
	}
	if len(b) < hlen {
		return ErrTruncated
	}
	p.Version = 4
	p.TOS = b[1]
	p.IPLen = total
	p.Proto = b[9]
	// The addresses are stored a word at a time, the zeros after them
	// included: the flow key's hash reads them back as words, which a
	// store of 4 bytes would stall. Not through binary.PutUint64: the
	// compiler left out the word's four zero bytes, which the packet's
	// zeroing had written already, a store of 4 bytes again, after
	// which the hash's load waited for both stores to reach the cache
	// (a quarter of the decoding goroutine's samples when the batch's
	// lines were last the counting goroutine's, on another processor).
	le := binary.LittleEndian
	*(*uint64)(unsafe.Pointer(&p.Src)) = uint64(le.Uint32(b[12:16]))
	*(*uint64)(unsafe.Pointer(&p.Src[8])) = 0
	*(*uint64)(unsafe.Pointer(&p.Dst)) = uint64(le.Uint32(b[16:20]))
	*(*uint64)(unsafe.Pointer(&p.Dst[8])) = 0
	frag := binary.BigEndian.Uint16(b[6:])
	off := int(frag&0x1fff) * 8
	data := total - hlen
	if frag&0x3fff != 0 {
		p.Fragment = true
		p.MoreFrags = frag&0x2000 != 0
		p.FragID = uint32(binary.BigEndian.Uint16(b[4:]))
		p.FragOff = off
		p.FragLen = data
		if off != 0 {
			return nil
		}
	}
	// The captured transport header, no further than the IP length says.
	l4 := b[hlen:]
	if len(l4) > data {
		l4 = l4[:data]
	}
	p.transport(l4)
	return nil
}

func (p *Packet) ipv6(b []byte) error {
	if len(b) < 40 {
		return ErrTruncated
	}
	p.Version = 6
	p.TOS = uint8(binary.BigEndian.Uint16(b) >> 4)
	payload := int(binary.BigEndian.Uint16(b[4:]))
	if payload == 0 && b[6] == protoHopByHop {
		// A jumbogram (or offload's BIG TCP): its length is in a
		// hop-by-hop option; the frame says it as well.
		payload = max(p.WireLen-p.LinkLen-40, 0)
	}
	p.IPLen = 40 + payload
	copy(p.Src[:], b[8:24])
	copy(p.Dst[:], b[24:40])
	next := b[6]
	rest := b[40:]
	if len(rest) > payload {
		rest = rest[:payload]
	}
	consumed := 0 // extension header bytes walked so far
	for {
		var n int
		switch next {
		case protoHopByHop, protoRouting, protoDstOpts:
			if len(rest) < 2 {
				p.Proto = next
				return nil
			}
			n = (int(rest[1]) + 1) * 8
		case protoAH:
			if len(rest) < 2 {
				p.Proto = next
				return nil
			}
			n = (int(rest[1]) + 2) * 4
		case protoFragment:
			if len(rest) < 8 {
				p.Proto = next
				return nil
			}
			n = 8
			fo := binary.BigEndian.Uint16(rest[2:])
			off, more := int(fo&^7), fo&1 != 0
			if off != 0 || more {
				p.Fragment = true
				p.MoreFrags = more
				p.FragID = binary.BigEndian.Uint32(rest[4:])
				p.FragOff = off
				p.FragLen = max(payload-consumed-8, 0)
			}
			if off != 0 {
				// Only the first fragment has the headers that follow;
				// the others take the fragment header's next header as
				// their protocol.
				p.Proto = rest[0]
				return nil
			}
		default:
			p.Proto = next
			p.transport(rest)
			return nil
		}
		if n > len(rest) {
			p.Proto = next
			return nil
		}
		next = rest[0]
		rest = rest[n:]
		consumed += n
	}
}

// transport reads the ports (or ICMP type and code) and TCP flags from the
// captured start of the transport header.
func (p *Packet) transport(b []byte) {
	switch p.Proto {
	case protoTCP:
		if len(b) >= 14 {
			p.TCPFlags = b[13]
		}
		fallthrough
	case protoUDP, protoSCTP, protoUDPLite:
		if len(b) >= 4 {
			p.HasPorts = true
			p.SrcPort = binary.BigEndian.Uint16(b)
			p.DstPort = binary.BigEndian.Uint16(b[2:])
		}
	case protoICMP, protoICMPv6:
		if len(b) >= 2 {
			p.HasPorts = true
			p.DstPort = binary.BigEndian.Uint16(b)
		}
	}
}
