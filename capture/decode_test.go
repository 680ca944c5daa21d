package capture

import (
	"encoding/binary"
	"flag"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/pktgen"
)

var update = flag.Bool("update", false, "remake the test captures under testdata")

func pktgenCaptures() []pktgen.Capture { return pktgen.Captures() }

var (
	c4, s4 = pktgen.A4("192.0.2.1"), pktgen.A4("198.51.100.1")
	c6, s6 = pktgen.A6("2001:db8::1"), pktgen.A6("2001:db8:1::80")
)

func addr4(a [4]byte) (b [16]byte) { copy(b[:], a[:]); return }

func TestDecode(t *testing.T) {
	up := pktgen.V4{Src: c4, Dst: s4, TOS: 0x28, ID: 0x4242}
	up6 := pktgen.V6{Src: c6, Dst: s6, TC: 0xb8}
	syn := pktgen.TCP4(up, 40000, 443, pktgen.SYN|pktgen.ECE|pktgen.CWR, 0)
	frags := pktgen.Fragment4(pktgen.UDP4(up, 40001, 7000, 3000), 1500)
	frags6 := pktgen.Fragment6(pktgen.UDP6(up6, 40002, 7000, 3000), 0xdeadbeef, 1280)
	eth := func(vlans []uint16, ip []byte) []byte {
		typ := uint16(0x0800)
		if ip[0]>>4 == 6 {
			typ = 0x86dd
		}
		return pktgen.Ethernet(pktgen.RouterMAC, pktgen.ClientMAC, typ, vlans, ip)
	}
	v4 := func(p Packet) Packet {
		p.Version, p.Src, p.Dst, p.TOS = 4, addr4(c4), addr4(s4), 0x28
		return p
	}
	v6 := func(p Packet) Packet {
		p.Version, p.Src, p.Dst, p.TOS = 6, c6, s6, 0xb8
		return p
	}
	tests := []struct {
		name  string
		link  LinkType
		frame []byte
		wire  int // when the frame was cut
		want  Packet
		err   error
	}{
		{"Ethernet TCP", LinkEthernet, eth(nil, syn), 0, v4(Packet{LinkLen: 14, Proto: 6, IPLen: 40, HasPorts: true, SrcPort: 40000, DstPort: 443, TCPFlags: 0xc2,
			SrcMAC: pktgen.ClientMAC, DstMAC: pktgen.RouterMAC}), nil},
		{"QinQ", LinkEthernet, eth([]uint16{200, 300}, syn), 0, v4(Packet{LinkLen: 22, Proto: 6, IPLen: 40, HasPorts: true, SrcPort: 40000, DstPort: 443, TCPFlags: 0xc2,
			VLANs: 2, VLAN: [2]uint16{200, 300}, SrcMAC: pktgen.ClientMAC, DstMAC: pktgen.RouterMAC}), nil},
		{"first fragment", LinkRaw, frags[0], 0, v4(Packet{Proto: 17, IPLen: 1500, HasPorts: true, SrcPort: 40001, DstPort: 7000,
			Fragment: true, MoreFrags: true, FragID: 0x4242, FragLen: 1480}), nil},
		{"middle fragment", LinkRaw, frags[1], 0, v4(Packet{Proto: 17, IPLen: 1500,
			Fragment: true, MoreFrags: true, FragID: 0x4242, FragOff: 1480, FragLen: 1480}), nil},
		{"last fragment", LinkRaw, frags[2], 0, v4(Packet{Proto: 17, IPLen: 68,
			Fragment: true, FragID: 0x4242, FragOff: 2960, FragLen: 48}), nil},
		{"IPv6 first fragment", LinkIPv6, frags6[0], 0, v6(Packet{Proto: 17, IPLen: 1280, HasPorts: true, SrcPort: 40002, DstPort: 7000,
			Fragment: true, MoreFrags: true, FragID: 0xdeadbeef, FragLen: 1232}), nil},
		{"IPv6 last fragment", LinkIPv6, frags6[2], 0, v6(Packet{Proto: 17, IPLen: 40 + 8 + 3008 - 2*1232,
			Fragment: true, FragID: 0xdeadbeef, FragOff: 2464, FragLen: 3008 - 2*1232}), nil},
		{"IPv6 fragment behind destination options", LinkIPv6,
			pktgen.IPv6(pktgen.V6{Src: c6, Dst: s6, TC: 0xb8, Next: pktgen.ProtoDstOpts},
				pktgen.Ext(pktgen.ProtoDstOpts, pktgen.ProtoFragment, nil, pktgen.FragHeader(pktgen.ProtoUDP, 16, false, 9, make([]byte, 16)))),
			0, v6(Packet{Proto: 17, IPLen: 72, Fragment: true, FragID: 9, FragOff: 16, FragLen: 16}), nil},
		{"IPv6 atomic fragment is whole", LinkIPv6,
			pktgen.IPv6(pktgen.V6{Src: c6, Dst: s6, TC: 0xb8, Next: pktgen.ProtoFragment}, pktgen.FragHeader(pktgen.ProtoUDP, 0, false, 9, pktgen.UDP(1, 2, nil))),
			0, v6(Packet{Proto: 17, IPLen: 56, HasPorts: true, SrcPort: 1, DstPort: 2}), nil},
		{"IPv6 AH before ICMPv6", LinkIPv6,
			pktgen.IPv6(pktgen.V6{Src: c6, Dst: s6, TC: 0xb8, Next: pktgen.ProtoAH},
				pktgen.Ext(pktgen.ProtoAH, pktgen.ProtoICMPv6, make([]byte, 14), pktgen.ICMP(135, 0, 0, nil))),
			0, v6(Packet{Proto: 58, IPLen: 40 + 16 + 8, HasPorts: true, DstPort: 135 << 8}), nil},
		{"ICMP unreachable", LinkIPv4, pktgen.ICMP4(up, 3, 13, 28), 0, v4(Packet{Proto: 1, IPLen: 56, HasPorts: true, DstPort: 3<<8 | 13}), nil},
		{"GRE has no ports", LinkIPv4, pktgen.IPv4(up, append([]byte{0, 0, 8, 0}, make([]byte, 20)...)), 0, v4(Packet{IPLen: 44}), nil},
		{"cut inside TCP: ports, no flags", LinkIPv4, syn[:24], 40, v4(Packet{Proto: 6, IPLen: 40, HasPorts: true, SrcPort: 40000, DstPort: 443}), nil},
		{"cut inside TCP ports", LinkIPv4, syn[:22], 40, v4(Packet{Proto: 6, IPLen: 40}), nil},
		{"Ethernet padding is not transport", LinkEthernet, eth(nil, append(pktgen.IPv4(up, []byte{1, 2}), make([]byte, 20)...)), 0,
			v4(Packet{LinkLen: 14, IPLen: 22, SrcMAC: pktgen.ClientMAC, DstMAC: pktgen.RouterMAC}), nil},
		{"SLL", LinkLinuxSLL, pktgen.SLL(4, pktgen.ClientMAC, 0x0800, syn), 0, v4(Packet{LinkLen: 16, Proto: 6, IPLen: 40, HasPorts: true, SrcPort: 40000, DstPort: 443, TCPFlags: 0xc2,
			SrcMAC: pktgen.ClientMAC}), nil},
		{"SLL2", LinkLinuxSLL2, pktgen.SLL2(2, 0, pktgen.ClientMAC, 0x0800, syn), 0, v4(Packet{LinkLen: 20, Proto: 6, IPLen: 40, HasPorts: true, SrcPort: 40000, DstPort: 443, TCPFlags: 0xc2,
			SrcMAC: pktgen.ClientMAC}), nil},
		{"Null, big-endian host", LinkNull, pktgen.Null(2, binary.BigEndian, syn), 0, v4(Packet{LinkLen: 4, Proto: 6, IPLen: 40, HasPorts: true, SrcPort: 40000, DstPort: 443, TCPFlags: 0xc2}), nil},
		{"LLC/SNAP", LinkEthernet, pktgen.SNAP(pktgen.RouterMAC, pktgen.ClientMAC, 0x0800, syn), 0, v4(Packet{LinkLen: 22, Proto: 6, IPLen: 40, HasPorts: true, SrcPort: 40000, DstPort: 443, TCPFlags: 0xc2,
			SrcMAC: pktgen.ClientMAC, DstMAC: pktgen.RouterMAC}), nil},

		{"ARP", LinkEthernet, pktgen.ARP(pktgen.ClientMAC, c4, s4), 0, Packet{}, ErrNotIP},
		{"Null of another family", LinkNull, pktgen.Null(7, binary.LittleEndian, syn), 0, Packet{}, ErrNotIP},
		{"raw that is no IP", LinkRaw, []byte{0x50, 0, 0, 0}, 0, Packet{}, ErrNotIP},
		{"IPv6 in an IPv4 link", LinkIPv4, pktgen.UDP6(up6, 1, 2, 0), 0, Packet{}, ErrMalformed},
		{"EtherType says IPv4, packet is IPv6", LinkEthernet, pktgen.Ethernet(1, 2, 0x0800, nil, pktgen.UDP6(up6, 1, 2, 0)), 0, Packet{}, ErrMalformed},
		{"IHL of 4", LinkIPv4, append([]byte{0x44}, syn[1:]...), 0, Packet{}, ErrMalformed},
		{"total length below the header", LinkIPv4, append([]byte{0x45, 0, 0, 19}, syn[4:]...), 0, Packet{}, ErrMalformed},
		{"cut inside the IPv4 header", LinkEthernet, eth(nil, syn)[:30], 54, Packet{}, ErrTruncated},
		{"cut inside the IPv6 header", LinkIPv6, pktgen.UDP6(up6, 1, 2, 0)[:39], 48, Packet{}, ErrTruncated},
		{"cut inside a VLAN tag", LinkEthernet, eth([]uint16{5}, syn)[:16], 58, Packet{}, ErrTruncated},
		{"cut Ethernet header", LinkEthernet, make([]byte, 13), 60, Packet{}, ErrTruncated},
		{"unknown link type", 147, syn, 0, Packet{}, ErrLinkType},
	}
	var d Decoder
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire := tt.wire
			if wire == 0 {
				wire = len(tt.frame)
			}
			f := Frame{Data: tt.frame, WireLen: wire, Time: 42, Link: tt.link}
			var p Packet
			err := d.Decode(tt.link, &f, &p)
			if tt.err != nil {
				assert.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			tt.want.Time, tt.want.WireLen = 42, wire
			assert.Equal(t, tt.want, p)
		})
	}
}

// TestDecodeFixedLink: fprobe's -K skips a fixed link header, whatever the
// link type says.
func TestDecodeFixedLink(t *testing.T) {
	syn := pktgen.TCP4(pktgen.V4{Src: c4, Dst: s4}, 1, 2, pktgen.SYN, 0)
	d := Decoder{FixedLink: true, LinkHeader: 6}
	f := Frame{Data: append(make([]byte, 6), syn...), WireLen: 46}
	var p Packet
	require.NoError(t, d.Decode(147, &f, &p))
	assert.Equal(t, 6, p.LinkLen)
	assert.Equal(t, uint16(2), p.DstPort)
	f.Data = f.Data[:6]
	assert.ErrorIs(t, d.Decode(147, &f, &p), ErrTruncated)
}

func TestPacketAddrs(t *testing.T) {
	p := Packet{Version: 4, Src: addr4(c4), Dst: addr4(s4)}
	assert.Equal(t, "192.0.2.1", p.SrcAddr().String())
	assert.Equal(t, "198.51.100.1", p.DstAddr().String())
	p = Packet{Version: 6, Src: c6, Dst: s6}
	assert.Equal(t, "2001:db8::1", p.SrcAddr().String())
	assert.Equal(t, "2001:db8:1::80", p.DstAddr().String())
}

// testFrames returns every frame of the test captures, with its link
// type.
func testFrames(t testing.TB) []Frame {
	var out []Frame
	files, _ := filepath.Glob("testdata/*.pcap*")
	for _, file := range files {
		s, err := OpenFile(file)
		require.NoError(t, err)
		var f Frame
		for s.Next(&f) == nil {
			f.Data = append([]byte(nil), f.Data...)
			out = append(out, f)
		}
		s.Close()
	}
	require.NotEmpty(t, out)
	return out
}

func TestDecodeAllocatesNothing(t *testing.T) {
	frames := testFrames(t)
	var d Decoder
	var p Packet
	allocs := testing.AllocsPerRun(10, func() {
		for i := range frames {
			d.Decode(frames[i].Link, &frames[i], &p)
		}
	})
	assert.Zero(t, allocs)
}

// FuzzDecode: no bytes make the decoder panic or claim more than the
// frame holds.
func FuzzDecode(f *testing.F) {
	for _, fr := range testFrames(f) {
		f.Add(uint16(fr.Link), fr.Data)
	}
	var d Decoder
	f.Fuzz(func(t *testing.T, link uint16, data []byte) {
		fr := Frame{Data: data, WireLen: len(data)}
		var p Packet
		if err := d.Decode(LinkType(link), &fr, &p); err != nil {
			return
		}
		if p.LinkLen > len(data) || p.Version != 4 && p.Version != 6 || p.IPLen < 20 {
			t.Fatalf("decoded %+v from %d bytes", p, len(data))
		}
		if p.Fragment && p.FragOff != 0 && p.HasPorts {
			t.Fatalf("a later fragment with ports: %+v", p)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	frames := testFrames(b)
	var d Decoder
	var p Packet
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := &frames[i%len(frames)]
		d.Decode(f.Link, f, &p)
	}
}
