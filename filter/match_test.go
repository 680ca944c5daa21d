package filter_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/filter"
	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/flowgen"
)

// rec builds a flow: an IPv4 TCP flow 10.0.0.1:1234 -> 192.168.1.1:80 of
// 10 packets and 1500 bytes over 2 seconds, changed by the given edits.
func rec(edits ...func(r *flow.Record)) *flow.Record {
	r := &flow.Record{
		NFVersion: 9, ExporterID: 1,
		First: 1_000_000, Last: 1_002_000,
		InPackets: 10, InBytes: 1500,
		SrcAddr: netip.MustParseAddr("10.0.0.1"), DstAddr: netip.MustParseAddr("192.168.1.1"),
		SrcPort: 1234, DstPort: 80, Proto: flow.ProtoTCP, TCPFlags: flow.TCPSyn | flow.TCPAck,
	}
	for _, e := range edits {
		e(r)
	}
	return r
}

func v6(r *flow.Record) {
	r.SrcAddr, r.DstAddr = netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("::1")
}

func udp(r *flow.Record) { r.Proto, r.TCPFlags = flow.ProtoUDP, 0 }

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

type matchCase struct {
	expr string
	r    *flow.Record
	want bool
}

func runCases(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, c := range cases {
		f, err := filter.Compile(c.expr, filter.Options{Location: time.UTC})
		if !assert.NoError(t, err, c.expr) {
			continue
		}
		assert.Equal(t, c.want, f.Match(c.r), "%q on %+v", c.expr, *c.r)
	}
}

func TestMatchBasics(t *testing.T) {
	runCases(t, []matchCase{
		{"any", rec(), true},
		{"not any", rec(), false},
		{"", rec(), true},
		{" ", rec(), false}, // nfdump: only blanks compile into nothing, which matches nothing
		{"# just a comment", rec(), false},
		{"ipv4", rec(), true},
		{"ipv6", rec(), false},
		{"inet6", rec(v6), true},
		{"inet", rec(v6), false},
		{"proto tcp", rec(), true},
		{"proto 6", rec(), true},
		{"PROTO TCP", rec(), true},
		{"proto 0x11", rec(udp), true},
		{"proto udp", rec(), false},
		{"proto icmp6", rec(func(r *flow.Record) { r.Proto = 58 }), true},
	})
}

func TestMatchCounters(t *testing.T) {
	runCases(t, []matchCase{
		{"packets 10", rec(), true},
		{"packets > 9", rec(), true},
		{"packets gt 10", rec(), false},
		{"in packets <= 10", rec(), true},
		{"out packets 0", rec(), true}, // no out counters read as 0
		{"out packets > 0", rec(func(r *flow.Record) { r.OutPackets = 1 }), true},
		{"bytes 1500", rec(), true},
		{"bytes > 1k", rec(), true},
		{"bytes > 1K", rec(), true},
		{"bytes >= 0x5dc", rec(), true},
		{"bytes < 1m", rec(), true},
		{"bytes > 1g", rec(func(r *flow.Record) { r.InBytes = 1_000_000_001 }), true},
		{"bytes > 1t", rec(func(r *flow.Record) { r.InBytes = 1_000_000_000_000 }), false},
		{"out bytes < 5", rec(func(r *flow.Record) { r.OutBytes = 4 }), true},
		{"flows 1", rec(), true}, // a record without a count is one flow
		{"flows 0", rec(), false},
		{"flows > 1", rec(func(r *flow.Record) { r.Flows = 7 }), true},
	})
}

func TestMatchRates(t *testing.T) {
	zeroDur := func(r *flow.Record) { r.Last = r.First }
	runCases(t, []matchCase{
		{"duration 2000", rec(), true},
		{"duration > 1999", rec(), true},
		{"duration < 10", rec(zeroDur), true},
		// The end before the start wraps to a huge duration, as in nfdump.
		{"duration > 1000000", rec(func(r *flow.Record) { r.Last = r.First - 1 }), true},
		{"pps 5", rec(), true},           // 10 packets in 2 s
		{"bps 6000", rec(), true},        // 1500 bytes in 2 s
		{"bpp 150", rec(), true},         // 1500 / 10
		{"pps 0", rec(zeroDur), true},    // no time, no rate
		{"bps > 0", rec(zeroDur), false}, // no time, no rate
		{"bpp 0", rec(func(r *flow.Record) { r.InPackets = 0 }), true},
	})
}

func TestMatchCount(t *testing.T) {
	f, err := filter.Compile("count > 2 and count <= 4", filter.Options{})
	require.NoError(t, err)
	assert.True(t, f.UsesCount())
	var got []uint64
	for n := uint64(1); n <= 6; n++ {
		if f.MatchCount(rec(), n) {
			got = append(got, n)
		}
	}
	assert.Equal(t, []uint64{3, 4}, got)
	// nfdump keeps the number in 32 bits.
	g, err := filter.Compile("count 1", filter.Options{})
	require.NoError(t, err)
	assert.True(t, g.MatchCount(rec(), 1<<32+1))
	assert.False(t, g.Match(rec()), "Match sees the running number 0")
}

func TestMatchTosVersionEngine(t *testing.T) {
	tos := func(s, d uint8) func(*flow.Record) { return func(r *flow.Record) { r.SrcTos, r.DstTos = s, d } }
	runCases(t, []matchCase{
		{"tos 184", rec(tos(184, 0)), true},
		{"src tos 184", rec(tos(184, 0)), true},
		{"dst tos 184", rec(tos(184, 0)), false},
		{"dst tos 0", rec(tos(184, 0)), true}, // no dst tos reads 0
		{"src or dst tos 16", rec(tos(0, 16)), true},
		{"src and dst tos 16", rec(tos(16, 0)), false},
		{"src and dst tos 16", rec(tos(16, 16)), true},
		{"tos > 100", rec(tos(184, 0)), true},
		{"nfversion 9", rec(), true},
		{"nfversion < 9", rec(), false},
		{"engine-type 2", rec(func(r *flow.Record) { r.EngineType = 2 }), true},
		{"engine-id > 1", rec(func(r *flow.Record) { r.EngineID = 2 }), true},
		{"sysid 1", rec(), true},
		{"sysid 2", rec(), false},
		{"fwdstat 2", rec(func(r *flow.Record) { r.FwdStatus = 2 }), true},
		{"fwdstat frag", rec(func(r *flow.Record) { r.FwdStatus = 2 }), true},
		{"fwdstat Ukwn", rec(), true},
		{"fwdstat TincAdj", rec(func(r *flow.Record) { r.FwdStatus = 130 }), true},
		{"dir 0", rec(), true}, // no misc element reads 0
		{"dir egress", rec(func(r *flow.Record) { r.Dir = 1 }), true},
		{"flowdir ingress", rec(func(r *flow.Record) { r.Dir = 1 }), false},
		{"dir 2", rec(func(r *flow.Record) { r.Dir = 2 }), true},
	})
}

// TestMatchFlags covers nfdump 1.7.1's flags: all given letters set, and
// under not "none of them" (its any-of test, then inverted).
func TestMatchFlags(t *testing.T) {
	fl := func(f uint8) func(*flow.Record) { return func(r *flow.Record) { r.TCPFlags = f } }
	syn := fl(flow.TCPSyn)
	synAck := fl(flow.TCPSyn | flow.TCPAck)
	ack := fl(flow.TCPAck)
	runCases(t, []matchCase{
		{"flags S", rec(syn), true},
		{"flags S", rec(synAck), true},
		{"flags SA", rec(syn), false},
		{"flags SA", rec(synAck), true},
		{"flags AS", rec(synAck), true}, // the keyword as, read as the letters
		{"flags as", rec(synAck), true},
		{"flags X", rec(fl(0x3f)), true},
		{"flags X", rec(fl(0x1f)), false},
		{"flags S", rec(udp, fl(flow.TCPSyn)), false}, // flags imply TCP
		{"flags 18", rec(synAck), true},
		{"flags > 16", rec(synAck), true},
		{"not flags S", rec(ack), true},
		{"not flags S", rec(synAck), false},
		// 1.7.1: not flags SA is "neither S nor A", not "not both".
		{"not flags SA", rec(syn), false},
		{"not flags SA", rec(fl(flow.TCPFin)), true},
		{"not flags SA", rec(udp), true}, // not TCP
		{"flags S and not flags AFRPU", rec(syn), true},
		{"flags S and not flags AFRPU", rec(synAck), false},
		{"not not flags SA", rec(syn), false},
		{"not not flags SA", rec(synAck), true},
	})
}

func TestMatchAddresses(t *testing.T) {
	runCases(t, []matchCase{
		{"ip 10.0.0.1", rec(), true},
		{"host 192.168.1.1", rec(), true},
		{"src ip 192.168.1.1", rec(), false},
		{"dst ip 192.168.1.1", rec(), true},
		{"src or dst ip 10.0.0.1", rec(), true},
		{"src and dst ip 10.0.0.1", rec(), false},
		{"ip 010.000.000.001", rec(), true},
		{"ip ::1", rec(v6), true},
		{"dst ip 0:0:0:0:0:0:0:1", rec(v6), true},
		{"ip 2001:DB8::1", rec(v6), true},
		{"net 10.0.0.0/8", rec(), true},
		{"net 10.0/16", rec(), true},
		{"src net 192.168.0.0/16", rec(), false},
		{"net 10.0.0.0 255.0.0.0", rec(), true},
		{"net 10.1.0.0 255.0.255.0", rec(func(r *flow.Record) { r.SrcAddr = addr("10.9.0.4") }), true},
		{"net 2001:db8::/32", rec(v6), true},
		{"net 2001:db8/32", rec(v6), true},
		{"ip in [10.0.0.1]", rec(), true},
		{"ip in [1.2.3.4 192.168.1.0/24]", rec(), true},
		{"ip in [1.2.3.4, 192.168.1.1]", rec(), true},
		{"src ip in [192.168.1.0/24]", rec(), false},
		{"src and dst ip in [10.0.0.0/8 192.168.1.1]", rec(), true},
		{"ip in [2001:db8::/64 8.8.8.8]", rec(v6), true},
		// nfdump keeps the first of overlapping list entries.
		{"ip in [10.0.0.2 10.0.0.0/8]", rec(), false},
		{"ip in [10.0.0.0/8 10.0.0.2]", rec(), true},
		{"ip in [10.0.0.0/30 10.0.0.0/8]", rec(func(r *flow.Record) { r.SrcAddr = addr("10.9.9.9") }), false},
		{"ip in [10.0.0.0/8 10.0.0.0/30]", rec(func(r *flow.Record) { r.SrcAddr = addr("10.9.9.9") }), true},
	})
}

// TestMatchFamilies covers godump's deliberate fix: an address or prefix
// only matches flows of its own family, where nfdump compares IPv4 as
// ::a.b.c.d.
func TestMatchFamilies(t *testing.T) {
	mapped := func(r *flow.Record) { r.SrcAddr, r.DstAddr = addr("::10.0.0.1"), addr("::10.0.0.1") }
	cases := []struct {
		expr             string
		r                *flow.Record
		godump, nfdump17 bool
	}{
		{"net ::/64", rec(), false, true},
		{"net ::/0", rec(), false, true},
		{"not net ::/64", rec(), true, false},
		{"net 0.0.0.0/0", rec(), true, true},
		{"net 0.0.0.0/0", rec(v6), false, true}, // ::1 has its upper 96 bits 0
		{"ip 10.0.0.1", rec(mapped), false, true},
		{"ip ::10.0.0.1", rec(), false, true},
		{"net 10.0.0.0 255.0.0.0", rec(mapped), false, true},
		{"ip in [::/64]", rec(), false, true},
		{"ip in [10.0.0.1]", rec(mapped), false, true},
		{"ip in [10.0.0.1 ::10.0.0.1]", rec(mapped), true, true},
	}
	for _, c := range cases {
		f, err := filter.Compile(c.expr, filter.Options{})
		require.NoError(t, err, c.expr)
		assert.Equal(t, c.godump, f.Match(c.r), "godump: %s", c.expr)
		b, err := filter.CompileFamilyBlind(c.expr, filter.Options{})
		require.NoError(t, err, c.expr)
		assert.Equal(t, c.nfdump17, b.Match(c.r), "nfdump 1.7.1: %s", c.expr)
	}
}

// TestMatchHops covers next hops, BGP next hops and the exporter address,
// and that an address a flow does not carry reads as 0 in either family.
func TestMatchHops(t *testing.T) {
	hop := func(r *flow.Record) { r.IPNextHop = addr("10.0.0.254") }
	bgp6 := func(r *flow.Record) { r.BGPNextHop = addr("2001:db8::fe") }
	router := func(r *flow.Record) { r.Exporter = addr("127.0.0.1") }
	runCases(t, []matchCase{
		{"next ip 10.0.0.254", rec(hop), true},
		{"next ip 10.0.0.253", rec(hop), false},
		{"next ip 0.0.0.0", rec(), true},
		{"next ip ::", rec(), true},
		{"next ip 0.0.0.0", rec(hop), false},
		{"next ip in [10.0.0.0/8]", rec(hop), true},
		{"next ip in [0.0.0.0]", rec(), true},
		{"bgpnext ip 2001:db8::fe", rec(bgp6), true},
		{"bgp next ip 2001:db8::fe", rec(bgp6), true},
		{"router ip 127.0.0.1", rec(router), true},
		{"router ip ::1", rec(router), false},
	})
}

func TestMatchPorts(t *testing.T) {
	icmp := func(typ, code uint8) func(*flow.Record) {
		return func(r *flow.Record) { r.Proto, r.SrcPort, r.DstPort = flow.ProtoICMP, 0, uint16(typ)<<8|uint16(code) }
	}
	runCases(t, []matchCase{
		{"port 80", rec(), true},
		{"port 1234", rec(), true},
		{"src port 80", rec(), false},
		{"dst port 80", rec(), true},
		{"src and dst port 80", rec(), false},
		{"src port > 1024", rec(), true},
		{"dst port < 1024", rec(), true},
		{"port in [53 80]", rec(), true},
		{"port in [53, 443]", rec(), false},
		{"dst port in [ 80, 8080 ]", rec(), true},
		{"src port in [80]", rec(), false},
		// One direction alone cuts values to 16 bits, as nfdump does.
		{"dst port in [65616]", rec(), true},
		{"icmp-type 8", rec(icmp(8, 0)), true},
		{"icmp-type 8", rec(func(r *flow.Record) { r.DstPort = 8 << 8 }), false}, // implies ICMP
		{"icmp-code 3", rec(icmp(3, 3)), true},
		{"icmp-type 128", rec(icmp(128, 0), func(r *flow.Record) { r.Proto = flow.ProtoICMPv6 }), true},
		{"icmp type 3", rec(icmp(3, 1)), true},
		{"icmp code > 0", rec(icmp(3, 1)), true},
	})
}

// TestMatchRouting covers AS numbers (without a geo database, unlike
// nfdump 1.7.1), masks, interfaces and VLANs.
func TestMatchRouting(t *testing.T) {
	as := func(r *flow.Record) { r.SrcAS, r.DstAS, r.NextAS, r.PrevAS = 65001, 3320, 1, 2 }
	misc := func(r *flow.Record) { r.SrcMask, r.DstMask, r.Input, r.Output = 24, 16, 3, 5 }
	vlan := func(s, d uint32) func(*flow.Record) { return func(r *flow.Record) { r.SrcVLAN, r.DstVLAN = s, d } }
	runCases(t, []matchCase{
		{"as 65001", rec(as), true},
		{"src as 3320", rec(as), false},
		{"dst as 3320", rec(as), true},
		{"next as 1", rec(as), true},
		{"prev as 2", rec(as), true},
		{"previous as > 1", rec(as), true},
		{"src and dst as 0", rec(), true}, // no AS element reads 0
		{"as in [3320 4200000000]", rec(as), true},
		{"src as in [3320]", rec(as), false},
		{"mask 24", rec(misc), true},
		{"src mask 16", rec(misc), false},
		{"dst mask 16", rec(misc), true},
		{"mask 0", rec(), true},
		{"if 5", rec(misc), true},
		{"in if 5", rec(misc), false},
		{"out if 5", rec(misc), true},
		{"vlan 0", rec(), true}, // no VLAN element reads 0
		{"vlan 100", rec(vlan(100, 0)), true},
		{"dst vlan 100", rec(vlan(100, 0)), false},
		{"src and dst vlan 7", rec(vlan(7, 7)), true},
		{"vlan 4464", rec(vlan(70000, 0)), true}, // nfdump keeps 16 bits
	})
}

func TestMatchMAC(t *testing.T) {
	macs := func(r *flow.Record) {
		r.InSrcMAC, r.InDstMAC, r.OutSrcMAC, r.OutDstMAC = 0x001122334455, 0x0a0b0c0d0e0f, 0x000000000001, 0xffffffffffff
	}
	runCases(t, []matchCase{
		{"mac 00:11:22:33:44:55", rec(macs), true},
		{"mac 0:0:0:0:0:1", rec(macs), true},
		{"in mac 0a:0b:0c:0d:0e:0f", rec(macs), true},
		{"out mac 0a:0b:0c:0d:0e:0f", rec(macs), false},
		{"src mac 00:00:00:00:00:01", rec(macs), true},
		{"dst mac 00:00:00:00:00:01", rec(macs), false},
		{"in src mac 00:11:22:33:44:55", rec(macs), true},
		{"in dst mac 00:11:22:33:44:55", rec(macs), false},
		{"out src mac 00:00:00:00:00:01", rec(macs), true},
		{"out dst mac FF:FF:FF:FF:FF:FF", rec(macs), true},
		{"mac 00:11:22:33:44:55", rec(), false},
	})
}

// TestMatchMPLS covers labels (nfdump compares 12 bits of the odd ones),
// exp bits, the bottom of the stack and 1.7.1's mpls any, which only
// looks at the bottom of the stack.
func TestMatchMPLS(t *testing.T) {
	stack := func(labels ...uint32) func(*flow.Record) {
		return func(r *flow.Record) {
			for i, l := range labels {
				r.MPLS[i] = l
			}
		}
	}
	entry := func(label, exp uint32, eos bool) uint32 {
		e := label<<4 | exp<<1
		if eos {
			e |= 1
		}
		return e
	}
	s := stack(entry(100, 3, false), entry(200, 5, false), entry(5, 0, true))
	runCases(t, []matchCase{
		{"mpls label1 100", rec(s), true},
		{"mpls label2 200", rec(s), true},
		{"mpls label3 5", rec(s), true},
		{"mpls label3 > 4", rec(s), true},
		{"mpls label1 0x10064", rec(s), true}, // odd labels: 12 bits
		{"mpls label2 0x100c8", rec(s), false},
		{"mpls exp1 3", rec(s), true},
		{"mpls exp2 5", rec(s), true},
		{"mpls eos 5", rec(s), true},
		{"mpls eos 200", rec(s), false},
		{"mpls any 5", rec(s), true},
		{"mpls any 100", rec(s), false}, // 1.7.1: the bottom of the stack only
		{"mpls eos > 1", rec(), true},   // no stack: nfdump's 0xff000000 is greater
		{"mpls any 0", rec(), false},
		{"mpls label1 0", rec(), true},
	})
}

func TestMatchLatencyAndLaterSpellings(t *testing.T) {
	lat := func(r *flow.Record) { r.ClientNwDelay, r.ServerNwDelay, r.ApplLatency = 1500, 300, 0 }
	runCases(t, []matchCase{
		{"client latency 1500", rec(lat), true},
		{"server latency < 500", rec(lat), true},
		{"app latency > 0", rec(lat), false},
		{"engine type 2", rec(func(r *flow.Record) { r.EngineType = 2 }), true},
		{"engine id 0", rec(), true},
		{"exporter 1", rec(), true},
		{"exporter sysid > 1", rec(), false},
		{"exporter id 1", rec(), true},
		{"proto 'tcp'", rec(), true},
		{`ip "10.0.0.1"`, rec(), true},
		// The record starts at 1970-01-01T00:16:40 UTC (First 1000000 ms).
		{"first seen > 1970-01-01T00:16:39", rec(), true},
		{"first seen = 1970-01-01T00:16:40", rec(), true},
		{"first seen < 1970-01-01T00:16", rec(), false},
		{"last seen >= 1970-01-01T00:16:42.000", rec(), true},
		{"last seen < 1970", rec(), false},
	})
}

func TestMatchIdent(t *testing.T) {
	f, err := filter.Compile("ident test or proto udp", filter.Options{})
	require.NoError(t, err)
	assert.True(t, f.UsesIdent())
	assert.False(t, f.Match(rec()), "unbound: a file without an ident")
	assert.True(t, f.WithIdent("test").Match(rec()))
	assert.False(t, f.WithIdent("TEST").Match(rec()), "idents compare exactly")
	assert.False(t, f.WithIdent("other").Match(rec()))
	assert.True(t, f.WithIdent("other").Match(rec(udp)))
	g, err := filter.Compile("proto tcp", filter.Options{})
	require.NoError(t, err)
	assert.Same(t, g, g.WithIdent("x"), "a filter without ident needs no copy")
}

func TestMatchLabel(t *testing.T) {
	f, err := filter.Compile("(proto tcp and port 80) %web or (proto udp) %dns or %icmp (proto icmp)", filter.Options{})
	require.NoError(t, err)
	assert.True(t, f.HasLabels())
	for _, c := range []struct {
		r     *flow.Record
		ok    bool
		label string
	}{
		{rec(), true, "web"},
		{rec(udp), true, "dns"},
		{rec(func(r *flow.Record) { r.Proto = flow.ProtoICMP }), true, "icmp"},
		{rec(func(r *flow.Record) { r.DstPort = 443 }), false, ""},
	} {
		ok, label := f.MatchLabel(c.r, 0)
		assert.Equal(t, c.ok, ok)
		assert.Equal(t, c.label, label)
	}
}

func TestMatchHostName(t *testing.T) {
	var log bytes.Buffer
	f, err := filter.Compile("ip gateway.test and not src host gateway.test", filter.Options{Resolver: fakeResolver{}, Log: &log})
	require.NoError(t, err)
	assert.True(t, f.Match(rec(func(r *flow.Record) { r.DstAddr = addr("10.9.9.9") })))
	assert.True(t, f.Match(rec(func(r *flow.Record) { r.SrcAddr, r.DstAddr = addr("::5"), addr("2001:db8::99") })))
	assert.False(t, f.Match(rec(func(r *flow.Record) { r.SrcAddr = addr("10.9.9.9") })))
	assert.Equal(t, "Resolving gateway.test ...\nIPv4 address: 10.9.9.9 (gateway.test)\nIPv6 address: 2001:db8::99 (<reverse lookup failed>)\n"+
		"Resolving gateway.test ...\nIPv4 address: 10.9.9.9 (gateway.test)\nIPv6 address: 2001:db8::99 (<reverse lookup failed>)\n", log.String())

	_, err = filter.Compile("ip nosuch.test", filter.Options{Resolver: fakeResolver{}})
	require.Error(t, err)
	assert.Equal(t, "Failed to resolve IP address for nosuch.test: Unknown error\nLine 1: Error parsing IP address. at 'nosuch.test'", err.Error())
}

// fakeResolver knows gateway.test (an IPv4 and an IPv6 address, the
// first with a reverse name).
type fakeResolver struct{}

func (fakeResolver) LookupHost(name string) ([]netip.Addr, error) {
	if name == "gateway.test" {
		return []netip.Addr{addr("10.9.9.9"), addr("2001:db8::99")}, nil
	}
	return nil, errors.New("no such host")
}

func (fakeResolver) LookupAddr(a netip.Addr) (string, error) {
	if a == addr("10.9.9.9") {
		return "gateway.test", nil
	}
	return "", errors.New("no name")
}

// TestMatchLikeTheTree runs every expression of the corpus, and the
// benchmark filters, on flows that carry every element in some cases and
// not in others: Match (the walk of the lowered code) and MatchLabel (the
// walk of nfdump's tree) must pass the same flows.
func TestMatchLikeTheTree(t *testing.T) {
	var recs []flow.Record
	g := flowgen.NewFull(7, 1_795_555_903_000)
	rng := rand.New(rand.NewPCG(8, 9))
	for i := 0; i < 1500; i++ {
		var r flow.Record
		if i%3 == 0 {
			r = flowgen.Random(rng)
		} else {
			g.Next(&r)
		}
		recs = append(recs, r)
	}
	exprs := benchFilters
	for _, c := range readCorpus(t, "corpus.txt") {
		exprs = append(exprs, c.expr)
	}
	differ := 0
	for _, expr := range exprs {
		f, err := filter.Compile(expr, filter.Options{})
		require.NoError(t, err, expr)
		f = f.WithIdent("bench")
		passed := 0
		for i := range recs {
			want, _ := f.MatchLabel(&recs[i], uint64(i))
			require.Equal(t, want, f.MatchCount(&recs[i], uint64(i)), "%q on %+v", expr, recs[i])
			if want {
				passed++
			}
		}
		if passed > 0 && passed < len(recs) {
			differ++
		}
	}
	// The test means something only if most filters pass some flows and
	// not others.
	require.Greater(t, differ, len(exprs)*3/4)
}

func TestMatchFlowLabel(t *testing.T) {
	f, err := filter.Compile("flowlabel web", filter.Options{})
	require.NoError(t, err)
	assert.True(t, f.Reads().Has(flow.ElemLabel), "the reader must decode the stored label")
	labelled := func(l string) *flow.Record { return rec(func(r *flow.Record) { r.Label = l }) }
	assert.True(t, f.Match(labelled("web")))
	assert.True(t, f.Match(labelled("WeB")), "labels compare without regard to case")
	assert.False(t, f.Match(labelled("webx")))
	assert.False(t, f.Match(labelled("we")))
	assert.False(t, f.Match(rec()))
	g, err := filter.Compile("not flowlabel web and (proto tcp) %tcp", filter.Options{})
	require.NoError(t, err)
	ok, label := g.MatchLabel(rec(), 0)
	assert.True(t, ok)
	assert.Equal(t, "tcp", label)
	ok, _ = g.MatchLabel(labelled("web"), 0)
	assert.False(t, ok)
}
