package pcapudp

import (
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// udpFrame is an Ethernet frame with an IPv4 UDP datagram from src; vlan
// adds an 802.1Q tag, frag sets the more-fragments flag.
func udpFrame(payload []byte, src [4]byte, vlan, frag bool) []byte {
	f := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1} // destination, source MAC
	if vlan {
		f = append(f, 0x81, 0x00, 0x00, 0x07) // 802.1Q, VLAN 7
	}
	f = append(f, 0x08, 0x00) // IPv4
	ip := make([]byte, 28)
	ip[0] = 0x45                                                // version 4, 20 bytes
	binary.BigEndian.PutUint16(ip[2:], uint16(28+len(payload))) // total length
	if frag {
		ip[6] = 0x20 // more fragments
	}
	ip[9] = 17 // UDP
	copy(ip[12:], src[:])
	binary.BigEndian.PutUint16(ip[24:], uint16(8+len(payload))) // UDP length
	return append(append(f, ip...), payload...)
}

// pcapFile is a classic pcap of the frames, in byte order bo, with the
// link type link; cut frames claim 10 more bytes on the wire.
func pcapFile(bo binary.ByteOrder, link uint32, frames [][]byte, cut map[int]bool) []byte {
	h := make([]byte, 24)
	bo.PutUint32(h, 0xa1b2c3d4)
	bo.PutUint16(h[4:], 2)
	bo.PutUint16(h[6:], 4)
	bo.PutUint32(h[16:], 65535)
	bo.PutUint32(h[20:], link)
	for i, f := range frames {
		r := make([]byte, 16)
		bo.PutUint32(r[8:], uint32(len(f)))
		wire := len(f)
		if cut[i] {
			wire += 10
		}
		bo.PutUint32(r[12:], uint32(wire))
		h = append(append(h, r...), f...)
	}
	return h
}

// pcapngFile is a little-endian pcapng with one Ethernet interface,
// the first frame as a simple packet block and the others enhanced.
func pcapngFile(frames [][]byte) []byte {
	le := binary.LittleEndian
	block := func(typ uint32, body []byte) []byte {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		b := make([]byte, 8, 12+len(body))
		le.PutUint32(b, typ)
		le.PutUint32(b[4:], uint32(12+len(body)))
		b = append(b, body...)
		return le.AppendUint32(b, uint32(12+len(body)))
	}
	shb := le.AppendUint32(nil, 0x1a2b3c4d)        // byte-order magic
	shb = append(shb, 1, 0, 0, 0)                  // version 1.0
	shb = le.AppendUint64(shb, 0xffffffffffffffff) // section length unknown
	out := block(0x0a0d0d0a, shb)
	out = append(out, block(1, []byte{1, 0, 0, 0, 0, 0, 1, 0})...) // Ethernet, snap 65536
	for i, f := range frames {
		if i == 0 {
			out = append(out, block(3, append(le.AppendUint32(nil, uint32(len(f))), f...))...)
			continue
		}
		epb := make([]byte, 20)
		le.PutUint32(epb[12:], uint32(len(f)))
		le.PutUint32(epb[16:], uint32(len(f)))
		out = append(out, block(6, append(epb, f...))...)
	}
	return out
}

func TestPcapReader(t *testing.T) {
	a, b := [4]byte{192, 0, 2, 1}, [4]byte{192, 0, 2, 2}
	arp := append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06}, make([]byte, 28)...)
	frames := [][]byte{
		udpFrame([]byte("one"), a, false, false),
		arp,
		udpFrame([]byte("two"), b, true, false),
		udpFrame([]byte("frag"), a, false, true),
		udpFrame([]byte("cut"), a, false, false),
		udpFrame([]byte("three"), b, false, false),
	}
	want := []string{"one 192.0.2.1", "two 192.0.2.2", "three 192.0.2.2"}
	cut := map[int]bool{4: true}
	dir := t.TempDir()
	tests := []struct {
		name string
		data []byte
		want []string
	}{
		{"pcap little endian", pcapFile(binary.LittleEndian, 1, frames, cut), want},
		{"pcap big endian", pcapFile(binary.BigEndian, 1, frames, cut), want},
		{"pcapng", pcapngFile(append(frames[:4:4], frames[5])), want},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(dir, "f")
			require.NoError(t, os.WriteFile(file, tt.data, 0o644))
			p, err := Open(file)
			require.NoError(t, err)
			defer p.Close()
			var notes []string
			p.Notef = func(f string, args ...any) { notes = append(notes, f) }
			var got []string
			for {
				d, from, err := p.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				require.NoError(t, err)
				got = append(got, string(d)+" "+from.String())
			}
			assert.Equal(t, tt.want, got)
			assert.Contains(t, notes, "Skip VLAN labels")
		})
	}
}

func TestPcapReaderErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		data []byte
		err  string
	}{
		{"empty", nil, "Can't init pcap: truncated dump file; tried to read 4 file header bytes"},
		{"junk", []byte("this is no capture file"), "Can't init pcap: unknown file format"},
		{"short header", pcapFile(binary.LittleEndian, 1, nil, nil)[:10], "Can't init pcap: truncated dump file; tried to read 24 file header bytes"},
		{"not ethernet", pcapFile(binary.LittleEndian, 113, nil, nil), "Can't init pcap: Snooping not on an ethernet."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(dir, "f")
			require.NoError(t, os.WriteFile(file, tt.data, 0o644))
			_, err := Open(file)
			var pe *Error
			require.ErrorAs(t, err, &pe)
			assert.EqualError(t, err, tt.err)
		})
	}

	// A file cut in the middle of a packet ends with an error, after the
	// packets before it.
	data := pcapFile(binary.LittleEndian, 1, [][]byte{udpFrame([]byte("x"), [4]byte{10, 0, 0, 1}, false, false), udpFrame([]byte("y"), [4]byte{10, 0, 0, 1}, false, false)}, nil)
	file := filepath.Join(dir, "cut")
	require.NoError(t, os.WriteFile(file, data[:len(data)-5], 0o644))
	p, err := Open(file)
	require.NoError(t, err)
	defer p.Close()
	d, from, err := p.Next()
	require.NoError(t, err)
	assert.Equal(t, "x", string(d))
	assert.Equal(t, netip.MustParseAddr("10.0.0.1"), from)
	_, _, err = p.Next()
	assert.ErrorContains(t, err, "truncated dump file")
}
