// Package pcapudp takes the UDP datagrams of IPv4 packets out of a
// capture file, for gocapd -f: nfcapd 1.7.1's debugging aid that reads the
// datagrams from a capture instead of its socket. Like nfcapd it takes
// Ethernet captures only, skips one VLAN tag at the most, and gives each
// datagram with the packet's source address as the exporter.
//
// The file itself is read by package capture, the pure-Go pcap and pcapng
// reader goprobe uses too; this package keeps only what nfcapd does on top
// of libpcap: its checks, its notes and the way down to the UDP payload.
// That small walk stays here rather than in capture's decoder, which
// decodes everything goprobe counts (IPv6, tunnels of VLAN tags, cooked
// captures) where nfcapd takes one shape of frame and says why it skips
// the others.
package pcapudp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"

	"github.com/nfgo/nftools/capture"
)

// Error is a capture file gocapd cannot read at all; nfcapd ends with
// status 255 for it.
type Error struct{ Msg string }

func (e *Error) Error() string { return "Can't init pcap: " + e.Msg }

// Reader yields the NetFlow datagrams of a capture file.
type Reader struct {
	src   capture.Source
	name  string
	frame capture.Frame
	// Notef, when set, gets nfcapd's notes about the frames it skips
	// ("Short packet - missing: N bytes", "Skip VLAN labels", ...).
	Notef func(format string, args ...any)
}

// Open opens a capture file for -f.
func Open(path string) (*Reader, error) {
	src, err := capture.OpenFile(path)
	if err != nil {
		var fe *capture.FileError
		var pe *os.PathError
		switch {
		case errors.As(err, &fe):
			return nil, &Error{fe.Msg}
		case errors.As(err, &pe):
			return nil, &Error{fmt.Sprintf("%s: %v", path, pe.Err)}
		}
		return nil, &Error{err.Error()}
	}
	if src.LinkType() != capture.LinkEthernet {
		src.Close()
		return nil, &Error{"Snooping not on an ethernet."}
	}
	return &Reader{src: src, name: path}, nil
}

// Close closes the file.
func (p *Reader) Close() error { return p.src.Close() }

// Name returns the path of the capture file.
func (p *Reader) Name() string { return p.name }

func (p *Reader) note(format string, args ...any) {
	if p.Notef != nil {
		p.Notef(format, args...)
	}
}

// Next returns the next NetFlow datagram and its sender's address, skipping
// frames that hold none; io.EOF at the end of the file. The datagram is
// valid until the next call.
func (p *Reader) Next() ([]byte, netip.Addr, error) {
	f := &p.frame
	for {
		if err := p.src.Next(f); err != nil {
			var fe *capture.FileError
			if errors.As(err, &fe) {
				// The caller names the file itself.
				return nil, netip.Addr{}, errors.New(fe.Msg)
			}
			return nil, netip.Addr{}, err
		}
		// libpcap hands on the frames of a pcapng file's other
		// interfaces, which nfcapd would take for Ethernet; they are
		// skipped here.
		if f.Link != capture.LinkEthernet {
			continue
		}
		// A frame cut short by the capture's snap length is skipped, as
		// nfcapd does.
		if len(f.Data) < f.WireLen {
			p.note("Short packet - missing: %d bytes", f.WireLen-len(f.Data))
			continue
		}
		if b, from, ok := p.udpPayload(f.Data); ok {
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
