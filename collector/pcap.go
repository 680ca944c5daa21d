package collector

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"
)

// nfcapd 1.7.1's -f file is a debugging aid: instead of its socket it
// reads the datagrams from a capture file, as fast as it can, and ends at
// the end of the file as on SIGTERM (the last file is closed under its
// slot name, exit 0). It takes Ethernet captures only; of those it keeps
// the UDP datagrams in IPv4 packets, after one VLAN tag at the most, and
// the packet's source address is the exporter. Everything is timed by
// the clock, not by the capture, as if the datagrams had just arrived.
//
// nfcapd reads the file with libpcap; gocapd has no cgo, so it reads the
// classic pcap format itself (both byte orders, micro- and nanosecond
// stamps) and pcapng (section, interface, enhanced and simple packet
// blocks). gopacket's pcapgo would read both formats, but it imports
// gopacket/layers, whose package initialisation fills tables of 65536
// entries: a build of gocapd with it measured 14.5 MB of resident memory
// at idle against 7.5 MB without, for every running collector, while -f
// is a debugging aid that Debian's nfcapd does not even include. So this
// small reader stays; goprobe, which decodes packets for real, uses
// gopacket.

// PcapError is a capture file gocapd cannot read at all; nfcapd ends with
// status 255 for it.
type PcapError struct{ Msg string }

func (e *PcapError) Error() string { return "Can't init pcap: " + e.Msg }

// PcapReader yields the NetFlow datagrams of a capture file.
type PcapReader struct {
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

// OpenPcap opens a capture file for -f.
func OpenPcap(path string) (*PcapReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &PcapError{fmt.Sprintf("%s: %v", path, errors.Unwrap(err))}
	}
	p := &PcapReader{f: f, r: bufio.NewReaderSize(f, 1<<20)}
	// Peek, so that a pcapng section header is read whole as a block.
	m, err := p.r.Peek(4)
	if err != nil {
		f.Close()
		return nil, &PcapError{"truncated dump file; tried to read 4 file header bytes"}
	}
	magic := [4]byte(m)
	switch binary.LittleEndian.Uint32(magic[:]) {
	case 0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, 0x4d3cb2a1:
		p.r.Discard(4)
		err = p.initPcap(magic)
	case 0x0a0d0d0a:
		err = p.initPcapng()
	default:
		err = &PcapError{"unknown file format"}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return p, nil
}

// Close closes the file.
func (p *PcapReader) Close() error { return p.f.Close() }

func (p *PcapReader) initPcap(magic [4]byte) error {
	var bo binary.ByteOrder = binary.LittleEndian
	if m := binary.BigEndian.Uint32(magic[:]); m == 0xa1b2c3d4 || m == 0xa1b23c4d {
		bo = binary.BigEndian
	}
	var h [20]byte
	if _, err := io.ReadFull(p.r, h[:]); err != nil {
		return &PcapError{"truncated dump file; tried to read 24 file header bytes"}
	}
	if link := bo.Uint32(h[16:]) & 0x0fffffff; link != linkEthernet {
		return &PcapError{"Snooping not on an ethernet."}
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
func (p *PcapReader) read(n int) ([]byte, error) {
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
func (p *PcapReader) checkLength(b []byte, wireLen uint32) ([]byte, error) {
	if uint32(len(b)) < wireLen {
		p.note("Short packet - missing: %d bytes", wireLen-uint32(len(b)))
		return nil, nil
	}
	return b, nil
}

func (p *PcapReader) note(format string, args ...any) {
	if p.Notef != nil {
		p.Notef(format, args...)
	}
}

func (p *PcapReader) initPcapng() error {
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
		return &PcapError{err.Error()}
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
		return &PcapError{err.Error()}
	}
	if err == nil && typ == 1 && len(body) >= 8 {
		links = append(links, bo.Uint16(body))
		if links[0] != linkEthernet {
			return &PcapError{"Snooping not on an ethernet."}
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
func (p *PcapReader) Next() ([]byte, netip.Addr, error) {
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
func (p *PcapReader) udpPayload(f []byte) ([]byte, netip.Addr, bool) {
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

// NewFromPcap makes a collector that reads the datagrams of a capture
// file (-f) instead of a socket; its Run returns at the end of the file.
func NewFromPcap(cfg Config, p *PcapReader) (*Collector, error) {
	c, err := New(cfg, nil)
	if err != nil {
		return nil, err
	}
	c.pcap = p
	return c, nil
}

// receivePcap is the receive loop of -f. Unlike the socket's it never
// drops: when the worker holds every chunk it waits for one, as reading a
// file faster than it can be decoded loses nothing by waiting.
func (c *Collector) receivePcap(ctx context.Context) {
	defer close(c.full)
	defer c.pcap.Close()
	var k *chunk
	for ctx.Err() == nil {
		b, from, err := c.pcap.Next()
		if err != nil {
			if err != io.EOF {
				c.cfg.Errorf("ERROR: %s: %v", c.pcap.f.Name(), err)
			}
			break
		}
		c.datagrams.Add(1)
		for _, rp := range c.cfg.Repeaters {
			c.rep.WriteToUDPAddrPort(b, rp)
		}
		at := time.Now()
		if k != nil && k.add(b, from, at) {
			continue
		}
		if k != nil {
			c.full <- k
		}
		if k = c.freeChunk(); k == nil {
			select {
			case k = <-c.free:
			case <-ctx.Done():
				return
			}
		}
		k.add(b, from, at)
	}
	if k != nil {
		c.full <- k
	}
}

// closeConn closes the socket, when the collector has one.
func (c *Collector) closeConn() {
	if c.conn != nil {
		c.conn.Close()
	}
}
