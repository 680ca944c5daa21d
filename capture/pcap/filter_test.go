package pcap

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/capture"
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
				// extension headers, and it knows the BSD loopback
				// families of the host that runs it, in its byte order,
				// where the decoder takes those of every BSD in either
				// order: such frames are not compared.
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
