// Package pcapudp takes the UDP datagrams of IPv4 packets out of a
// capture file, for gocapd -f: nfcapd 1.7.1's debugging aid that reads the
// datagrams from a capture instead of its socket. Like nfcapd it takes
// Ethernet captures only, skips one VLAN tag at the most, and gives each
// datagram with the packet's source address as the exporter.
//
// nfcapd reads the file with libpcap; gocapd has no cgo, so this package
// reads the classic pcap format itself (both byte orders, micro- and
// nanosecond stamps) and pcapng (section, interface, enhanced and simple
// packet blocks). gopacket's pcapgo would read both formats, but it
// imports gopacket/layers, whose package initialisation fills tables of
// 65536 entries: a build of gocapd with it measured 14.5 MB of resident
// memory at idle against 7.5 MB without, for every running collector,
// while -f is a debugging aid that Debian's nfcapd does not even include.
// So this small reader stays; goprobe, which decodes packets for real,
// uses gopacket.
package pcapudp

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
)

// Error is a capture file gocapd cannot read at all; nfcapd ends with
// status 255 for it.
type Error struct{ Msg string }

func (e *Error) Error() string { return "Can't init pcap: " + e.Msg }

// Reader yields the NetFlow datagrams of a capture file.
type Reader struct {
	f    *os.File
	r    *bufio.Reader
	next func() ([]byte, error) // the next frame, io.EOF at the end
	buf  []byte
	// Notef, when set, gets nfcapd's notes about the frames it skips
	// ("Short packet - missing: N bytes", "Skip VLAN labels", ...).
	Notef func(format string, args ...any)
}

const (
	linkEthernet = 1
	pcapMaxFrame = 256 << 10
)

// Open opens a capture file for -f.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{fmt.Sprintf("%s: %v", path, errors.Unwrap(err))}
	}
	p := &Reader{f: f, r: bufio.NewReaderSize(f, 1<<20)}
	// Peek, so that a pcapng section header is read whole as a block.
	m, err := p.r.Peek(4)
	if err != nil {
		f.Close()
		return nil, &Error{"truncated dump file; tried to read 4 file header bytes"}
	}
	magic := [4]byte(m)
	switch binary.LittleEndian.Uint32(magic[:]) {
	case 0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, 0x4d3cb2a1:
		p.r.Discard(4)
		err = p.initPcap(magic)
	case 0x0a0d0d0a:
		err = p.initPcapng()
	default:
		err = &Error{"unknown file format"}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return p, nil
}

// Close closes the file.
func (p *Reader) Close() error { return p.f.Close() }

// Name returns the path of the capture file.
func (p *Reader) Name() string { return p.f.Name() }

func (p *Reader) initPcap(magic [4]byte) error {
	var bo binary.ByteOrder = binary.LittleEndian
	if m := binary.BigEndian.Uint32(magic[:]); m == 0xa1b2c3d4 || m == 0xa1b23c4d {
		bo = binary.BigEndian
	}
	var h [20]byte
	if _, err := io.ReadFull(p.r, h[:]); err != nil {
		return &Error{"truncated dump file; tried to read 24 file header bytes"}
	}
	if link := bo.Uint32(h[16:]) & 0x0fffffff; link != linkEthernet {
		return &Error{"Snooping not on an ethernet."}
	}
	var rh [16]byte
	p.next = func() ([]byte, error) {
		if _, err := io.ReadFull(p.r, rh[:]); err != nil {
			if err == io.ErrUnexpectedEOF {
				return nil, fmt.Errorf("truncated dump file; tried to read 16 header bytes")
			}
			return nil, err
		}
		capLen, wireLen := bo.Uint32(rh[8:]), bo.Uint32(rh[12:])
		if capLen > pcapMaxFrame {
			return nil, fmt.Errorf("invalid packet capture length %d, bigger than maximum of %d", capLen, pcapMaxFrame)
		}
		b, err := p.read(int(capLen))
		if err != nil {
			return nil, err
		}
		return p.checkLength(b, wireLen)
	}
	return nil
}

// read reads n bytes into the reader's buffer.
func (p *Reader) read(n int) ([]byte, error) {
	if cap(p.buf) < n {
		p.buf = make([]byte, n)
	}
	b := p.buf[:n]
	if _, err := io.ReadFull(p.r, b); err != nil {
		return nil, fmt.Errorf("truncated dump file; tried to read %d captured bytes", n)
	}
	return b, nil
}

// checkLength skips a frame that was cut short by the capture's snap
// length, as nfcapd does; a nil frame is skipped.
func (p *Reader) checkLength(b []byte, wireLen uint32) ([]byte, error) {
	if uint32(len(b)) < wireLen {
		p.note("Short packet - missing: %d bytes", wireLen-uint32(len(b)))
		return nil, nil
	}
	return b, nil
}

func (p *Reader) note(format string, args ...any) {
	if p.Notef != nil {
		p.Notef(format, args...)
	}
}

func (p *Reader) initPcapng() error {
	var bo binary.ByteOrder
	var links []uint16
	// block reads the next block: its type and body.
	block := func() (uint32, []byte, error) {
		var h [8]byte
		if _, err := io.ReadFull(p.r, h[:]); err != nil {
			if err == io.ErrUnexpectedEOF {
				err = errors.New("truncated pcapng block header")
			}
			return 0, nil, err
		}
		typ := binary.LittleEndian.Uint32(h[:])
		if typ == 0x0a0d0d0a {
			// A new section says its byte order in its first body word.
			var bom [4]byte
			if _, err := io.ReadFull(p.r, bom[:]); err != nil {
				return 0, nil, errors.New("truncated pcapng section header")
			}
			switch binary.LittleEndian.Uint32(bom[:]) {
			case 0x1a2b3c4d:
				bo = binary.LittleEndian
			case 0x4d3c2b1a:
				bo = binary.BigEndian
			default:
				return 0, nil, errors.New("pcapng section header has an unknown byte-order magic")
			}
			links = links[:0]
			n := bo.Uint32(h[4:])
			if n < 28 || n > pcapMaxFrame || n%4 != 0 {
				return 0, nil, fmt.Errorf("pcapng section header of %d bytes", n)
			}
			if _, err := p.read(int(n) - 12); err != nil {
				return 0, nil, err
			}
			return typ, nil, nil
		}
		if bo == nil {
			return 0, nil, errors.New("pcapng block before the section header")
		}
		typ = bo.Uint32(h[:])
		n := bo.Uint32(h[4:])
		if n < 12 || n > pcapMaxFrame || n%4 != 0 {
			return 0, nil, fmt.Errorf("pcapng block of %d bytes", n)
		}
		body, err := p.read(int(n) - 8)
		if err != nil {
			return 0, nil, err
		}
		return typ, body[:len(body)-4], nil
	}
	// The file must start with a section and describe its first
	// interface before the first packet; libpcap checks the link type of
	// that first interface.
	if _, _, err := block(); err != nil {
		return &Error{err.Error()}
	}
	p.next = func() ([]byte, error) {
		for {
			typ, body, err := block()
			if err != nil {
				return nil, err
			}
			switch typ {
			case 1: // interface description
				if len(body) < 8 {
					return nil, errors.New("pcapng interface description too short")
				}
				links = append(links, bo.Uint16(body))
			case 6: // enhanced packet
				if len(body) < 20 {
					return nil, errors.New("pcapng packet block too short")
				}
				ifc := bo.Uint32(body)
				capLen, wireLen := bo.Uint32(body[12:]), bo.Uint32(body[16:])
				if int(ifc) >= len(links) || uint64(capLen) > uint64(len(body)-20) {
					return nil, errors.New("pcapng packet block for no interface or beyond its end")
				}
				if links[ifc] != linkEthernet {
					continue
				}
				return p.checkLength(body[20:20+capLen], wireLen)
			case 3: // simple packet, on interface 0
				if len(body) < 4 || len(links) == 0 {
					return nil, errors.New("pcapng simple packet block without interface")
				}
				wireLen := bo.Uint32(body)
				b := body[4:]
				if uint32(len(b)) > wireLen {
					b = b[:wireLen]
				}
				if links[0] != linkEthernet {
					continue
				}
				return p.checkLength(b, wireLen)
			}
		}
	}
	// Look at the first interface now, so that a capture of another link
	// type fails at once as with libpcap.
	typ, body, err := block()
	if err != nil && err != io.EOF {
		return &Error{err.Error()}
	}
	if err == nil && typ == 1 && len(body) >= 8 {
		links = append(links, bo.Uint16(body))
		if links[0] != linkEthernet {
			return &Error{"Snooping not on an ethernet."}
		}
	}
	if err == io.EOF {
		p.next = func() ([]byte, error) { return nil, io.EOF }
	}
	return nil
}

// Next returns the next NetFlow datagram and its sender's address, skipping
// frames that hold none; io.EOF at the end of the file. The datagram is
// valid until the next call.
func (p *Reader) Next() ([]byte, netip.Addr, error) {
	for {
		frame, err := p.next()
		if err != nil {
			return nil, netip.Addr{}, err
		}
		if frame == nil {
			continue
		}
		if b, from, ok := p.udpPayload(frame); ok {
			return b, from, nil
		}
	}
}

// udpPayload takes an Ethernet frame apart down to the UDP payload.
// Unlike nfcapd it checks every length against the bytes captured and
// skips fragments, whose payload is no datagram.
func (p *Reader) udpPayload(f []byte) ([]byte, netip.Addr, bool) {
	if len(f) < 14 {
		return nil, netip.Addr{}, false
	}
	typ := binary.BigEndian.Uint16(f[12:])
	ip := f[14:]
	if typ == 0x8100 {
		p.note("Skip VLAN labels")
		if len(f) < 18 {
			return nil, netip.Addr{}, false
		}
		typ = binary.BigEndian.Uint16(f[16:])
		ip = f[18:]
	}
	switch typ {
	case 0x0800:
	case 0x0806: // ARP
		return nil, netip.Addr{}, false
	default:
		p.note("PCAP unknown linktype %d%d", typ>>8, typ&0xff)
		return nil, netip.Addr{}, false
	}
	if len(ip) < 20 || ip[0]>>4 != 4 {
		return nil, netip.Addr{}, false
	}
	hlen := int(ip[0]&0x0f) * 4
	if hlen < 20 {
		p.note("bad-hlen %d ", hlen/4)
		return nil, netip.Addr{}, false
	}
	total := int(binary.BigEndian.Uint16(ip[2:]))
	if total > len(ip) {
		p.note("\ntruncated IP - %d bytes missing", total-len(ip))
		return nil, netip.Addr{}, false
	}
	if total < hlen || ip[9] != 17 {
		return nil, netip.Addr{}, false
	}
	if frag := binary.BigEndian.Uint16(ip[6:]); frag&0x3fff != 0 {
		return nil, netip.Addr{}, false
	}
	udp := ip[hlen:total]
	if len(udp) < 8 {
		return nil, netip.Addr{}, false
	}
	ulen := int(binary.BigEndian.Uint16(udp[4:]))
	if ulen < 8 || ulen > len(udp) {
		return nil, netip.Addr{}, false
	}
	return udp[8:ulen], netip.AddrFrom4([4]byte(ip[12:16])), true
}
