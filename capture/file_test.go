package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/pktgen"
)

// t0 is a capture time with every digit down to the nanosecond in use.
const t0 = int64(1795556400_123456789)

// readAll reads every frame of a source: a copy of its bytes, its wire
// length, time and link type.
func readAll(t *testing.T, s Source) []Frame {
	t.Helper()
	var out []Frame
	var f Frame
	for {
		err := s.Next(&f)
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		f.Data = append([]byte(nil), f.Data...)
		out = append(out, f)
	}
}

// frames are three frames of different lengths: the bytes do not matter
// to the reader.
var frames = [][]byte{
	bytes.Repeat([]byte{1}, 60),
	bytes.Repeat([]byte{2}, 1514),
	bytes.Repeat([]byte{3}, 42),
}

func TestPcapFormats(t *testing.T) {
	tests := []struct {
		name string
		opt  pktgen.PcapOptions
		res  int64 // the stamps' resolution, ns
	}{
		{"little endian, microseconds", pktgen.PcapOptions{}, 1000},
		{"big endian, microseconds", pktgen.PcapOptions{BigEndian: true}, 1000},
		{"little endian, nanoseconds", pktgen.PcapOptions{Nano: true}, 1},
		{"big endian, nanoseconds", pktgen.PcapOptions{BigEndian: true, Nano: true}, 1},
		{"snap length 100", pktgen.PcapOptions{SnapLen: 100}, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := pktgen.NewPcap(&buf, uint32(LinkLinuxSLL), tt.opt)
			for i, f := range frames {
				w.Write(t0+int64(i)*1e9, f)
			}
			require.NoError(t, w.Err())
			s, err := NewFileSource(&buf, "test.pcap")
			require.NoError(t, err)
			assert.Equal(t, LinkLinuxSLL, s.LinkType())
			got := readAll(t, s)
			require.Len(t, got, len(frames))
			for i, f := range got {
				want := frames[i]
				if tt.opt.SnapLen != 0 && len(want) > tt.opt.SnapLen {
					want = want[:tt.opt.SnapLen]
				}
				assert.Equal(t, want, f.Data)
				assert.Equal(t, len(frames[i]), f.WireLen)
				assert.Equal(t, (t0+int64(i)*1e9)/tt.res*tt.res, f.Time)
				assert.Equal(t, LinkLinuxSLL, f.Link)
			}
			assert.Equal(t, SourceStats{Received: 3}, s.Stats())
		})
	}
}

// TestPcapModified reads Alexey Kuznetsov's modified pcap format, whose
// record headers carry 8 more bytes (interface index, protocol, packet
// type) that libpcap skips.
func TestPcapModified(t *testing.T) {
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h, 0xa1b2cd34)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535)
	binary.LittleEndian.PutUint32(h[20:], 1)
	rec := make([]byte, 24)
	binary.LittleEndian.PutUint32(rec, 1795556400)
	binary.LittleEndian.PutUint32(rec[4:], 250000) // µs
	binary.LittleEndian.PutUint32(rec[8:], 42)
	binary.LittleEndian.PutUint32(rec[12:], 42)
	binary.LittleEndian.PutUint32(rec[16:], 2) // ifindex
	data := append(append(h, rec...), frames[2]...)
	s, err := NewFileSource(bytes.NewReader(data), "modified")
	require.NoError(t, err)
	got := readAll(t, s)
	require.Len(t, got, 1)
	assert.Equal(t, frames[2], got[0].Data)
	assert.Equal(t, int64(1795556400_250000000), got[0].Time)
}

func TestPcapng(t *testing.T) {
	var buf bytes.Buffer
	w := pktgen.NewPcapng(&buf, false)
	eth := w.AddInterface(uint16(LinkEthernet), 65535, 0, 0)   // microseconds
	raw := w.AddInterface(uint16(LinkRaw), 100, 9, 0)          // nanoseconds, snap 100
	sll := w.AddInterface(uint16(LinkLinuxSLL2), 65535, 3, 60) // milliseconds, 60 s offset
	w.WriteBlock(5, []byte("an interface statistics block to skip"))
	w.Write(eth, t0, frames[0])
	w.Write(raw, t0+1, frames[1])
	w.Write(sll, t0+2e9, frames[2])
	w.WriteObsolete(eth, t0+3e9, frames[2])
	w.WriteSimple(frames[0])
	// A second section, big-endian, with an interface 0 of its own.
	w.Section(true)
	two := w.AddInterface(uint16(LinkIPv6), 65535, 0x80|20, 0) // 2^-20 s
	w.Write(two, t0+5e9, frames[2])
	require.NoError(t, w.Err())

	s, err := NewFileSource(&buf, "test.pcapng")
	require.NoError(t, err)
	assert.Equal(t, LinkEthernet, s.LinkType(), "the first interface's")
	got := readAll(t, s)
	want := []Frame{
		{frames[0], 60, t0 / 1000 * 1000, LinkEthernet},
		{frames[1][:100], 1514, t0 + 1, LinkRaw},
		{frames[2], 42, (t0 + 2e9) / 1e6 * 1e6, LinkLinuxSLL2},
		{frames[2], 42, (t0 + 3e9) / 1000 * 1000, LinkEthernet},
		{frames[0], 60, 0, LinkEthernet}, // simple blocks have no time
		{frames[2], 42, (t0 + 5e9) / 1e9 * 1e9, LinkIPv6},
	}
	assert.Equal(t, want, got)
}

// TestPcapngTimeResolutions checks the conversion of every kind of
// if_tsresol to nanoseconds.
func TestPcapngTimeResolutions(t *testing.T) {
	tests := []struct {
		ifc  ngIface
		ts   uint64
		want int64
	}{
		{ngIface{pow10: true, exp: 6}, 1795556400_123456, 1795556400_123456000},
		{ngIface{pow10: true, exp: 9}, 1795556400_123456789, 1795556400_123456789},
		{ngIface{pow10: true, exp: 0}, 1795556400, 1795556400_000000000},
		{ngIface{pow10: true, exp: 12}, 123_456_789_012, 123_456_789}, // picoseconds overflow 64 bits for today's dates
		{ngIface{pow10: false, exp: 0}, 1795556400, 1795556400_000000000},
		{ngIface{pow10: false, exp: 1}, 1795556400*2 + 1, 1795556400_500000000},
		{ngIface{pow10: false, exp: 32}, 1795556400<<32 | 1<<30, 1795556400_250000000},
		{ngIface{pow10: true, exp: 6, offset: -3600}, 1795556400_000000, 1795552800_000000000},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.ifc.nanos(tt.ts), "%+v", tt.ifc)
	}
}

func TestFileErrors(t *testing.T) {
	pcap := func(frames ...[]byte) []byte {
		var b bytes.Buffer
		w := pktgen.NewPcap(&b, 1, pktgen.PcapOptions{})
		for _, f := range frames {
			w.Write(t0, f)
		}
		return b.Bytes()
	}
	ng := func() []byte {
		var b bytes.Buffer
		w := pktgen.NewPcapng(&b, false)
		w.AddInterface(1, 65535, 0, 0)
		w.Write(0, t0, frames[0])
		return b.Bytes()
	}
	huge := pcap(frames[0])
	binary.LittleEndian.PutUint32(huge[24+8:], 300000)
	tests := []struct {
		name    string
		data    []byte
		open    string // the error of opening, or "" for one when reading
		reading string
	}{
		{"empty", nil, "truncated dump file; tried to read 4 file header bytes", ""},
		{"junk", []byte("this is no capture file"), "unknown file format", ""},
		{"short header", pcap()[:10], "truncated dump file; tried to read 24 file header bytes", ""},
		{"cut record header", pcap(frames[0])[:24+10], "", "truncated dump file; tried to read 16 header bytes"},
		{"cut frame", pcap(frames[0])[:24+16+10], "", "truncated dump file; tried to read 60 captured bytes"},
		{"huge frame", huge, "", "invalid packet capture length 300000, bigger than maximum of 262144"},
		{"pcapng bad byte order", append(ng()[:8:8], 1, 2, 3, 4), "the pcapng section header has an unknown byte-order magic", ""},
		{"pcapng cut block", ng()[:len(ng())-6], "", "truncated pcapng block; tried to read 92 bytes"},
		{"pcapng packet before interface", func() []byte {
			b := ng()
			return append(b[:28:28], b[28+20:]...) // without its interface block
		}(), "the first pcapng packet block comes before any interface description", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewFileSource(bytes.NewReader(tt.data), "bad.pcap")
			var fe *FileError
			if tt.open != "" {
				require.ErrorAs(t, err, &fe)
				assert.Equal(t, "bad.pcap", fe.Name)
				assert.Equal(t, tt.open, fe.Msg)
				return
			}
			require.NoError(t, err)
			var f Frame
			err = s.Next(&f)
			require.ErrorAs(t, err, &fe)
			assert.EqualError(t, err, "bad.pcap: "+tt.reading)
		})
	}
}

func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.pcap")
	var b bytes.Buffer
	w := pktgen.NewPcap(&b, 1, pktgen.PcapOptions{})
	w.Write(t0, frames[0])
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
	s, err := OpenFile(path)
	require.NoError(t, err)
	assert.Len(t, readAll(t, s), 1)
	require.NoError(t, s.Close())

	_, err = OpenFile(filepath.Join(dir, "missing.pcap"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.ErrorContains(t, err, "missing.pcap")
}

// FuzzFileSource: no bytes make the reader panic, loop or hand out a frame
// longer than the limit.
func FuzzFileSource(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.pcap*")
	for _, file := range files {
		b, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(b[:min(len(b), 512)])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := NewFileSource(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		var fr Frame
		for i := 0; ; i++ {
			if s.Next(&fr) != nil {
				return
			}
			if len(fr.Data) > maxBlock || i > len(data) {
				t.Fatalf("frame %d of %d bytes from %d bytes", i, len(fr.Data), len(data))
			}
		}
	})
}

// TestPcapngBigBlock: a block longer than the read buffer is read whole
// (and skipped), and one cut short is an error, not a buffer of the
// length it claims.
func TestPcapngBigBlock(t *testing.T) {
	var buf bytes.Buffer
	w := pktgen.NewPcapng(&buf, false)
	w.AddInterface(1, 65535, 0, 0)
	w.WriteBlock(0x0badbeef, bytes.Repeat([]byte{7}, 3<<19)) // 1.5 MiB of a block type nobody knows
	w.Write(0, t0, frames[0])
	require.NoError(t, w.Err())
	s, err := NewFileSource(bytes.NewReader(buf.Bytes()), "big.pcapng")
	require.NoError(t, err)
	got := readAll(t, s)
	require.Len(t, got, 1)
	assert.Equal(t, frames[0], got[0].Data)

	s, err = NewFileSource(bytes.NewReader(buf.Bytes()[:1<<20]), "cut.pcapng")
	require.NoError(t, err)
	var f Frame
	assert.EqualError(t, s.Next(&f), "cut.pcapng: truncated pcapng block; tried to read 1572876 bytes")
	assert.Less(t, cap(s.(*fileSource).big), 1572876, "less buffer than the block claimed: about what there was")
}

// TestPcapFramesLargerThanBuffer: frames longer than the read buffer (a
// loopback's 64 KiB segments, jumbo frames at a large snap length) come
// whole and in order between ordinary ones.
func TestPcapFramesLargerThanBuffer(t *testing.T) {
	var buf bytes.Buffer
	w := pktgen.NewPcap(&buf, 1, pktgen.PcapOptions{SnapLen: maxCapLen})
	big := bytes.Repeat([]byte{0xab}, bufSize+bufSize/2)
	huge := bytes.Repeat([]byte{0xcd}, maxCapLen)
	want := [][]byte{frames[0], big, frames[1], huge, huge, frames[2]}
	for i, f := range want {
		w.Write(t0+int64(i), f)
	}
	require.NoError(t, w.Err())
	s, err := NewFileSource(bytes.NewReader(buf.Bytes()), "big.pcap")
	require.NoError(t, err)
	got := readAll(t, s)
	require.Len(t, got, len(want))
	for i := range want {
		assert.Equal(t, want[i], got[i].Data, "frame %d", i)
	}
}
