package pcapudp

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/pktgen"
)

// udpFrame is an Ethernet frame with an IPv4 UDP datagram from src; vlan
// adds an 802.1Q tag, frag sets the more-fragments flag.
func udpFrame(payload []byte, src [4]byte, vlan, frag bool) []byte {
	h := pktgen.V4{Src: src, Dst: [4]byte{127, 0, 0, 1}, Proto: pktgen.ProtoUDP}
	if frag {
		h.Frag = 0x2000 // more fragments
	}
	var vlans []uint16
	if vlan {
		vlans = []uint16{7}
	}
	ip := pktgen.IPv4(h, pktgen.UDP(40000, 2055, payload))
	return pktgen.Ethernet(0x020000000002, 0x020000000001, 0x0800, vlans, ip)
}

// pcapFile is a classic pcap of the frames, in byte order bo, with the
// link type link; cut frames claim 10 more bytes on the wire.
func pcapFile(bigEndian bool, link uint32, frames [][]byte, cut map[int]bool) []byte {
	var b bytes.Buffer
	w := pktgen.NewPcap(&b, link, pktgen.PcapOptions{BigEndian: bigEndian})
	for i, f := range frames {
		wire := len(f)
		if cut[i] {
			wire += 10
		}
		w.WriteRecord(int64(i)*1e9, f, wire)
	}
	return b.Bytes()
}

// pcapngFile is a little-endian pcapng with one Ethernet interface,
// the first frame as a simple packet block and the others enhanced.
func pcapngFile(frames [][]byte) []byte {
	var b bytes.Buffer
	w := pktgen.NewPcapng(&b, false)
	w.AddInterface(1, 65536, 0, 0)
	for i, f := range frames {
		if i == 0 {
			w.WriteSimple(f)
			continue
		}
		w.Write(0, int64(i)*1e9, f)
	}
	return b.Bytes()
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
		{"pcap little endian", pcapFile(false, 1, frames, cut), want},
		{"pcap big endian", pcapFile(true, 1, frames, cut), want},
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
		{"short header", pcapFile(false, 1, nil, nil)[:10], "Can't init pcap: truncated dump file; tried to read 24 file header bytes"},
		{"not ethernet", pcapFile(false, 113, nil, nil), "Can't init pcap: Snooping not on an ethernet."},
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
	data := pcapFile(false, 1, [][]byte{udpFrame([]byte("x"), [4]byte{10, 0, 0, 1}, false, false), udpFrame([]byte("y"), [4]byte{10, 0, 0, 1}, false, false)}, nil)
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
