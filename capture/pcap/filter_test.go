package pcap

import (
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/capture"
	"github.com/nfgo/nftools/internal/pktgen"
)

func TestCompileFilter(t *testing.T) {
	tests := []struct {
		link capture.LinkType
		expr string
		err  string
	}{
		{capture.LinkEthernet, "ip", ""},
		{capture.LinkEthernet, "tcp port 80 and not host 10.0.0.1", ""},
		{capture.LinkLinuxSLL2, "udp", ""},
		{capture.LinkRaw, "ip6", ""},
		{capture.LinkEthernet, "tcp port", "syntax error"},
		{capture.LinkEthernet, "nosuchword", "can't parse filter expression: syntax error"},
		{capture.LinkRaw, "ether host 1:2:3:4:5:6", "ethernet addresses supported only on ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel"},
	}
	for _, tt := range tests {
		err := CompileFilter(tt.link, 256, tt.expr)
		if tt.err == "" {
			assert.NoError(t, err, "%s on %v", tt.expr, tt.link)
		} else {
			assert.ErrorContains(t, err, tt.err, "%s on %v", tt.expr, tt.link)
		}
	}
}

// TestFilterMatchesLikeTheDecoder runs filters on every frame of the test
// captures (every link type, cooked v2 included) and checks each answer
// against what capture's decoder makes of the frame.
func TestFilterMatchesLikeTheDecoder(t *testing.T) {
	files, err := filepath.Glob("../testdata/*.pcap*")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	exprs := []struct {
		expr string
		want func(p *capture.Packet) bool
	}{
		// libpcap's udp and tcp see an IPv6 packet's first next header
		// only (ip6 protochain follows the chain, as the decoder does):
		// the loop skips IPv6 packets with extension headers.
		{"udp", func(p *capture.Packet) bool { return p.Proto == 17 }},
		{"ip", func(p *capture.Packet) bool { return p.Version == 4 }},
		{"ip6", func(p *capture.Packet) bool { return p.Version == 6 }},
		{"tcp dst port 80", func(p *capture.Packet) bool { return p.Proto == 6 && p.HasPorts && p.DstPort == 80 }},
	}
	var d capture.Decoder
	for _, file := range files {
		s, err := capture.OpenFile(file)
		require.NoError(t, err)
		filters := map[capture.LinkType][]*Filter{}
		var f capture.Frame
		var p capture.Packet
		matched := 0
		for i := 1; s.Next(&f) == nil; i++ {
			if d.Decode(f.Link, &f, &p) != nil || p.VLANs > 0 || f.Link == capture.LinkNull || f.Link == capture.LinkLoop ||
				p.Version == 6 && f.Data[p.LinkLen+6] != p.Proto || f.Link == capture.LinkEthernet && p.LinkLen != 14 {
				// libpcap's "ip" or "udp" does not look inside VLAN tags
				// ("vlan and udp" does), behind LLC/SNAP or IPv6
				// extension headers, and it reads BSD loopback families
				// in this host's byte order only (for a file, the
				// AF_INET6 of every BSD, not Linux's), where the
				// decoder takes them in either order: such frames are
				// not compared.
				continue
			}
			if filters[f.Link] == nil {
				for _, e := range exprs {
					flt, err := NewFilter(f.Link, 262144, e.expr)
					if err != nil {
						// ip6 on an IPv4 link: libpcap refuses what can
						// match nothing.
						require.EqualError(t, err, "expression rejects all packets")
					} else {
						defer flt.Close()
					}
					filters[f.Link] = append(filters[f.Link], flt)
				}
			}
			for j, e := range exprs {
				flt := filters[f.Link][j]
				got := flt != nil && flt.Match(&f)
				if got {
					matched++
				}
				assert.Equal(t, e.want(&p), got, "%s frame %d: %s", filepath.Base(file), i, e.expr)
			}
		}
		s.Close()
		assert.Positive(t, matched, file)
	}
}

// TestFilterOfACaptureFile: a filter is compiled as libpcap compiles one
// for a capture file: on BSD loopback, "ip6" takes the AF_INET6 of every
// BSD (24, 28 and 30, in this host's byte order), where a live capture's
// filter takes this host's only (10 on Linux).
func TestFilterOfACaptureFile(t *testing.T) {
	v6 := pktgen.UDP6(pktgen.V6{Src: pktgen.A6("2001:db8::1"), Dst: pktgen.A6("2001:db8::2")}, 1000, 53, 20)
	v4 := pktgen.UDP4(pktgen.V4{Src: pktgen.A4("192.0.2.1"), Dst: pktgen.A4("192.0.2.2")}, 1000, 53, 20)
	ip6, err := NewFilter(capture.LinkNull, 256, "ip6")
	require.NoError(t, err)
	defer ip6.Close()
	ip, err := NewFilter(capture.LinkNull, 256, "ip and udp port 53")
	require.NoError(t, err)
	defer ip.Close()
	for _, tt := range []struct {
		family   uint32
		ip       []byte
		ip6, ip4 bool
	}{
		{24, v6, true, false}, // NetBSD, OpenBSD
		{28, v6, true, false}, // FreeBSD
		{30, v6, true, false}, // macOS
		{10, v6, false, false},
		{2, v4, false, true},
	} {
		data := pktgen.Null(tt.family, binary.NativeEndian, tt.ip)
		f := &capture.Frame{Data: data, WireLen: len(data), Link: capture.LinkNull}
		assert.Equal(t, tt.ip6, ip6.Match(f), "ip6, family %d", tt.family)
		assert.Equal(t, tt.ip4, ip.Match(f), "ip, family %d", tt.family)
	}
}
