package capture

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/testutil"
)

// Our decoder is checked against gopacket/layers, which the tests may
// import (gocapd's run time may not): every frame of the test captures
// and of the shared captures the real nfcapd's tests used is decoded by
// both, and every field gopacket gives must be ours.

// view is what gopacket makes of a frame, in our terms; the flags say
// which parts gopacket decoded.
type view struct {
	p         Packet
	ip        bool // the IP header decoded
	transport bool // the ports (or ICMP type and code) decoded
	tcpFlags  bool
	macs      bool // Ethernet's two MACs
	srcMAC    bool // a cooked capture's source MAC
	fragLen   bool // FragLen is known
}

// viaGopacket decodes a frame with gopacket.
func viaGopacket(t *testing.T, link LinkType, data []byte, wireLen int) view {
	var v view
	v.p.WireLen = wireLen
	var pkt gopacket.Packet
	switch link {
	case LinkLinuxSLL2:
		// gopacket 1.1.19 has no cooked v2: start at its EtherType.
		if len(data) < 20 {
			return v
		}
		if binary.BigEndian.Uint16(data[8:]) == 1 && data[11] == 6 {
			v.p.SrcMAC, v.srcMAC = mac(data[12:]), true
		}
		pkt = gopacket.NewPacket(data[20:], layers.EthernetType(binary.BigEndian.Uint16(data)), gopacket.Default)
	case LinkIPv4:
		// gopacket 1.1.19 names these link types but has no decoders
		// for them.
		pkt = gopacket.NewPacket(data, layers.LayerTypeIPv4, gopacket.Default)
	case LinkIPv6:
		pkt = gopacket.NewPacket(data, layers.LayerTypeIPv6, gopacket.Default)
	case LinkEthernet, LinkNull, LinkLoop, LinkRaw, LinkLinuxSLL:
		pkt = gopacket.NewPacket(data, layers.LinkType(link), gopacket.Default)
	default:
		return v
	}
	var payload []byte // the payload of the last IP or extension layer
	ext := map[gopacket.LayerType]bool{}
	// Only the outer headers count: what a tunnel (GRE, VXLAN) carries
	// is not the flow's.
	outer := func(l gopacket.Layer) bool {
		switch l.(type) {
		case *layers.Ethernet, *layers.LinuxSLL, *layers.Loopback, *layers.Dot1Q, *layers.LLC, *layers.SNAP:
			return !v.ip
		case *layers.IPv4, *layers.IPv6:
			return !v.ip
		case *layers.IPv6HopByHop, *layers.IPv6Routing, *layers.IPv6Destination, *layers.IPSecAH, *layers.IPv6Fragment:
			return !v.transport
		}
		return false
	}
	for _, l := range pkt.Layers() {
		if !outer(l) {
			if v.ip && !v.transport {
				// The first layer after the IP headers is the transport.
				transport(&v, l)
			}
			break
		}
		switch l := l.(type) {
		case *layers.Ethernet:
			v.p.SrcMAC, v.p.DstMAC, v.macs = mac(l.SrcMAC), mac(l.DstMAC), true
		case *layers.LinuxSLL:
			if l.AddrType == 1 && l.AddrLen == 6 {
				v.p.SrcMAC, v.srcMAC = mac(l.Addr), true
			}
		case *layers.Dot1Q:
			if v.p.VLANs < 2 {
				v.p.VLAN[v.p.VLANs] = l.VLANIdentifier
			}
			v.p.VLANs++
		case *layers.IPv4:
			if len(l.Contents) < 20 {
				return v // the header failed to decode
			}
			v.ip = true
			v.p.Version = 4
			copy(v.p.Src[:], l.SrcIP.To4())
			copy(v.p.Dst[:], l.DstIP.To4())
			v.p.TOS, v.p.Proto, v.p.IPLen = l.TOS, uint8(l.Protocol), int(l.Length)
			if l.Flags&layers.IPv4MoreFragments != 0 || l.FragOffset != 0 {
				v.p.Fragment, v.p.MoreFrags = true, l.Flags&layers.IPv4MoreFragments != 0
				v.p.FragID, v.p.FragOff = uint32(l.Id), int(l.FragOffset)*8
				v.p.FragLen, v.fragLen = int(l.Length)-int(l.IHL)*4, true
			}
			payload = l.Payload
		case *layers.IPv6:
			if len(l.Contents) < 40 {
				return v
			}
			v.ip = true
			v.p.Version = 6
			copy(v.p.Src[:], l.SrcIP)
			copy(v.p.Dst[:], l.DstIP)
			v.p.TOS, v.p.Proto, v.p.IPLen = l.TrafficClass, uint8(l.NextHeader), 40+int(l.Length)
			if l.HopByHop != nil {
				v.p.Proto = uint8(l.HopByHop.NextHeader)
				ext[layers.LayerTypeIPv6HopByHop] = true
			}
			payload = l.Payload
		case *layers.IPv6HopByHop:
			if !ext[layers.LayerTypeIPv6HopByHop] {
				v.p.Proto, payload = uint8(l.NextHeader), l.Payload
			}
		case *layers.IPv6Routing:
			v.p.Proto, payload = uint8(l.NextHeader), l.Payload
		case *layers.IPv6Destination:
			v.p.Proto, payload = uint8(l.NextHeader), l.Payload
		case *layers.IPSecAH:
			v.p.Proto, payload = uint8(l.NextHeader), l.Payload
		case *layers.IPv6Fragment:
			v.p.Proto, payload = uint8(l.NextHeader), l.Payload
			if l.FragmentOffset != 0 || l.MoreFragments {
				v.p.Fragment, v.p.MoreFrags = true, l.MoreFragments
				v.p.FragID, v.p.FragOff = l.Identification, int(l.FragmentOffset)*8
			}
		}
	}
	if v.p.Fragment && v.p.FragOff == 0 || !v.p.Fragment && !v.transport && payload != nil {
		// gopacket stops at a first (or atomic) fragment: decode its
		// transport header from the fragment's payload.
		var next gopacket.Decoder
		switch v.p.Proto {
		case protoTCP:
			next = layers.LayerTypeTCP
		case protoUDP:
			next = layers.LayerTypeUDP
		}
		if next != nil {
			transport(&v, gopacket.NewPacket(payload, next, gopacket.Default).Layers()[0])
		}
	}
	if v.p.Version == 6 && v.p.Fragment {
		// gopacket keeps no count of the extension bytes before the
		// fragment header: FragLen is checked by the table tests.
		v.fragLen = false
	}
	return v
}

// transport reads the transport layer l (of any kind) into v: whether it
// holds ports.
func transport(v *view, l gopacket.Layer) {
	if len(l.LayerContents()) == 0 {
		return // a layer that failed to decode
	}
	switch l := l.(type) {
	case *layers.TCP:
		v.transport, v.tcpFlags = true, true
		v.p.SrcPort, v.p.DstPort = uint16(l.SrcPort), uint16(l.DstPort)
		v.p.TCPFlags = flagsOf(l)
	case *layers.UDP:
		v.transport = true
		v.p.SrcPort, v.p.DstPort = uint16(l.SrcPort), uint16(l.DstPort)
	case *layers.SCTP:
		v.transport = true
		v.p.SrcPort, v.p.DstPort = uint16(l.SrcPort), uint16(l.DstPort)
	case *layers.ICMPv4:
		v.transport = true
		v.p.DstPort = uint16(l.TypeCode)
	case *layers.ICMPv6:
		v.transport = true
		v.p.DstPort = uint16(l.TypeCode)
	}
}

func flagsOf(l *layers.TCP) uint8 {
	var f uint8
	for i, set := range []bool{l.FIN, l.SYN, l.RST, l.PSH, l.ACK, l.URG, l.ECE, l.CWR} {
		if set {
			f |= 1 << i
		}
	}
	return f
}

// captureFiles lists the test captures and, when they are there, the
// shared captures of the real tools' tests.
func captureFiles(t *testing.T) []string {
	files, err := filepath.Glob("testdata/*.pcap*")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	samples := testutil.NfcapdSamples(t)
	return append(files, filepath.Join(samples, "lo.pcap"), filepath.Join(samples, "edge.pcap"))
}

func TestDecodeLikeGopacket(t *testing.T) {
	var d Decoder
	for _, file := range captureFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			s, err := OpenFile(file)
			require.NoError(t, err)
			defer s.Close()
			var f Frame
			var p Packet
			decoded := 0
			for i := 1; s.Next(&f) == nil; i++ {
				err := d.Decode(f.Link, &f, &p)
				v := viaGopacket(t, f.Link, f.Data, f.WireLen)
				if !v.ip {
					// gopacket found no IP header: neither may we.
					assert.Error(t, err, "frame %d", i)
					continue
				}
				if !assert.NoError(t, err, "frame %d", i) {
					continue
				}
				decoded++
				want := v.p
				got := p
				// What gopacket does not say is not compared.
				got.Time, got.LinkLen = 0, 0
				if !v.transport {
					// gopacket needs a whole TCP or UDP header where we
					// take the ports from the first 4 bytes captured; in
					// a whole packet neither finds ports.
					if len(f.Data) == f.WireLen {
						assert.False(t, p.HasPorts, "frame %d: ports gopacket did not find", i)
					}
					got.HasPorts, got.SrcPort, got.DstPort, got.TCPFlags = false, 0, 0, 0
				} else {
					want.HasPorts = true
				}
				if !v.tcpFlags && v.transport {
					got.TCPFlags = 0
				}
				if !v.macs {
					got.DstMAC = 0
					if !v.srcMAC {
						got.SrcMAC = 0
					}
				}
				if !v.fragLen {
					got.FragLen = 0
				}
				assert.Equal(t, want, got, "frame %d", i)
			}
			assert.Positive(t, decoded)
		})
	}
}

// TestCapturesAreCurrent: the test captures under testdata are what
// internal/pktgen makes (go test ./capture -run TestCapturesAreCurrent
// -update remakes them).
func TestCapturesAreCurrent(t *testing.T) {
	for _, c := range pktgenCaptures() {
		path := filepath.Join("testdata", c.Name)
		if *update {
			require.NoError(t, os.WriteFile(path, c.Data, 0o644))
			continue
		}
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.True(t, string(got) == string(c.Data), "%s differs from what pktgen makes; run with -update", path)
	}
}
