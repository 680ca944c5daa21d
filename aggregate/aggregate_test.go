package aggregate

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/flowgen"
)

var (
	a4 = netip.MustParseAddr("10.1.2.3")
	b4 = netip.MustParseAddr("192.168.7.9")
	a6 = netip.MustParseAddr("2001:db8::1")
)

func rec(src, dst netip.Addr, sp, dp uint16, proto uint8, first, last, pk, by uint64, flags uint8) flow.Record {
	return flow.Record{
		Elements: flow.Elements(0).With(flow.ElemGeneric).With(flow.ElemIPv4),
		SrcAddr:  src, DstAddr: dst, SrcPort: sp, DstPort: dp, Proto: proto,
		First: first, Last: last, InPackets: pk, InBytes: by, TCPFlags: flags,
		ExporterID: 3, SrcTos: 7, Input: 4, Output: 5,
	}
}

func TestParseFieldsErrors(t *testing.T) {
	for _, tc := range []struct{ in, msg string }{
		{"foo", "Unknown aggregation field 'foo'"},
		{"srcip,foo", "Unknown aggregation field 'foo'"},
		{"foo4/3", "Unknown aggregation field 'foo4'"},
		{"srcip4", "'srcip4' needs number of subnet bits to aggregate"},
		{"srcip/24", "Need src4/dst4 or src6/dst6 for IPv4 or IPv6 to aggregate with explicit netmask: 'srcip/24'"},
		{"srcip4/0", "Subnet mask length '0' out of range for IPv4"},
		{"dstip4/33", "Subnet mask length '33' out of range for IPv4"},
		{"srcip6/200", "Subnet mask length '200' out of range for IPv4"},
		{"srcip,srcip", "Duplicate aggregation mask: srcip"},
		{"SRCIP,srcip", "Duplicate aggregation mask: srcip"},
		{",", "No aggregation specified!"},
		{"", "No aggregation specified!"},
		{"mpls4/8", "'mpls4' No subnet bits allowed here"},
	} {
		_, err := ParseFields(tc.in)
		assert.EqualError(t, err, tc.msg, tc.in)
		var e *Error
		assert.ErrorAs(t, err, &e, tc.in)
	}
}

func TestParseFieldsFormat(t *testing.T) {
	for _, tc := range []struct{ in, format string }{
		// The tokens follow the order typed, joined as nfdump does.
		{"srcip,dstport", "fmt:%ts %td  %sa %dp  %pkt %byt %bps %bpp %fl"},
		{"dstport,srcip", "fmt:%ts %td  %dp %sa  %pkt %byt %bps %bpp %fl"},
		{"Proto,tos,srctos", "fmt:%ts %td  %pr %tos %stos  %pkt %byt %bps %bpp %fl"},
		{"srcip4/24,dstip6/64,mpls10", "fmt:%ts %td  %sa %da %mpls10  %pkt %byt %bps %bpp %fl"},
	} {
		s, err := ParseFields(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.format, s.Format(), tc.in)
		assert.True(t, s.Custom())
	}
	assert.Equal(t, "biline", Bidir(true).Format())
	assert.Equal(t, "", FiveTuple().Format())
}

func TestFiveTuple(t *testing.T) {
	tb := New(FiveTuple())
	r1 := rec(a4, b4, 1000, 80, flow.ProtoTCP, 2000, 3000, 2, 100, 0x02)
	r2 := rec(a4, b4, 1000, 80, flow.ProtoTCP, 1000, 2500, 3, 200, 0x10)
	r2.ExporterID, r2.Flows = 9, 4
	r3 := rec(b4, a4, 80, 1000, flow.ProtoTCP, 1500, 1600, 1, 50, 0x12)
	for _, r := range []flow.Record{r1, r2, r3} {
		tb.Add(&r)
	}
	require.Equal(t, 2, tb.Len())
	got := tb.Records()
	// Sorted by first seen: the merged 1000 before the reverse 1500.
	want := r1
	want.First, want.Last, want.InPackets, want.InBytes, want.Flows, want.TCPFlags = 1000, 3000, 5, 300, 5, 0x12
	want.Elements |= flow.MarkReverseFlags
	back := r3
	back.Flows, back.Elements = 1, r3.Elements|flow.MarkReverseFlags
	assert.Equal(t, []flow.Record{want, back}, got)
}

func TestBidir(t *testing.T) {
	for _, guess := range []bool{false, true} {
		tb := New(Bidir(guess))
		// The server's answer comes first; -b keeps its direction, -B
		// turns it around because 80 < 1024 <= 40000.
		resp := rec(b4, a4, 80, 40000, flow.ProtoTCP, 1100, 1900, 4, 4000, 0x12)
		req := rec(a4, b4, 40000, 80, flow.ProtoTCP, 1000, 2000, 3, 300, 0x02)
		icmp := rec(a4, b4, 0, 0x0800, flow.ProtoICMP, 500, 600, 1, 84, 0)
		icmpBack := rec(b4, a4, 0x0800, 0, flow.ProtoICMP, 700, 800, 1, 84, 0)
		for _, r := range []flow.Record{resp, req, icmp, icmpBack} {
			tb.Add(&r)
		}
		got := tb.Records()
		require.Len(t, got, 3, "ICMP is not matched in reverse")
		tcp := got[2]
		assert.Equal(t, uint64(1000), tcp.First)
		assert.Equal(t, uint64(2000), tcp.Last)
		assert.Equal(t, uint64(2), tcp.Flows)
		assert.Equal(t, uint8(0x12), tcp.TCPFlags)
		assert.Equal(t, uint8(0x02), tcp.RevTCPFlags)
		if guess {
			assert.Equal(t, []any{a4, b4, uint16(40000), uint16(80), uint64(3), uint64(300), uint64(4), uint64(4000), uint32(5), uint32(4)},
				[]any{tcp.SrcAddr, tcp.DstAddr, tcp.SrcPort, tcp.DstPort, tcp.InPackets, tcp.InBytes, tcp.OutPackets, tcp.OutBytes, tcp.Input, tcp.Output})
		} else {
			assert.Equal(t, []any{b4, a4, uint16(80), uint16(40000), uint64(4), uint64(4000), uint64(3), uint64(300)},
				[]any{tcp.SrcAddr, tcp.DstAddr, tcp.SrcPort, tcp.DstPort, tcp.InPackets, tcp.InBytes, tcp.OutPackets, tcp.OutBytes})
		}
	}
}

func TestCustomMasks(t *testing.T) {
	s, err := ParseFields("srcip4/24,dstport")
	require.NoError(t, err)
	tb := New(s)
	r1 := rec(a4, b4, 1000, 80, flow.ProtoTCP, 1000, 2000, 1, 10, 0x02)
	r2 := rec(netip.MustParseAddr("10.1.2.200"), a4, 5, 80, flow.ProtoUDP, 500, 900, 2, 20, 0x10)
	r3 := rec(a6, a4, 5, 80, flow.ProtoUDP, 3000, 3100, 1, 1, 0)
	r3.Elements = r3.Elements.Without(flow.ElemIPv4).With(flow.ElemIPv6)
	r3.DstAddr = a6
	for _, r := range []flow.Record{r1, r2, r3} {
		tb.Add(&r)
	}
	got := tb.Records()
	require.Len(t, got, 2)
	want := flow.Record{
		Elements: r1.Elements | flow.MarkMasked,
		SrcAddr:  netip.MustParseAddr("10.1.2.0"), DstAddr: netip.IPv4Unspecified(),
		DstPort: 80, First: 500, Last: 2000, InPackets: 3, InBytes: 30, Flows: 2,
		IPNextHop: netip.Addr{}, Exporter: netip.Addr{},
	}
	assert.Equal(t, want, got[0])
	// The /24 of an IPv4 mask keeps the upper 96 bits of an IPv6 address.
	assert.Equal(t, netip.MustParseAddr("2001:db8::"), got[1].SrcAddr)
	assert.Equal(t, netip.IPv6Unspecified(), got[1].DstAddr)

	// -w keeps the first flow's fields, only the prefix applied.
	w := tb.WriteRecords()
	assert.Equal(t, netip.MustParseAddr("10.1.2.0"), w[0].SrcAddr)
	assert.Equal(t, b4, w[0].DstAddr)
	assert.Equal(t, uint16(1000), w[0].SrcPort, "from the first flow seen")
	assert.Equal(t, uint8(flow.ProtoTCP), w[0].Proto)
}

func TestCustomFieldsKeyAndClear(t *testing.T) {
	s, err := ParseFields("proto,dstport,srcas,mpls1,mpls2,inif,srcnet")
	require.NoError(t, err)
	tb := New(s)
	r1 := rec(a4, b4, 1, 0x0303, flow.ProtoICMP, 1000, 2000, 1, 10, 0)
	r1.SrcAS, r1.DstAS, r1.SrcMask = 65000, 1, 8
	r1.MPLS[0], r1.MPLS[1] = 0x12345<<4|1, 0x54321<<4|1
	r2 := r1
	r2.SrcAddr = netip.MustParseAddr("10.200.0.1") // same /8
	r2.MPLS[0] = 0x22345<<4 | 1                    // differs only above nfdump's 12 bits
	r3 := r1
	r3.Input = 99
	for _, r := range []flow.Record{r1, r2, r3} {
		tb.Add(&r)
	}
	got := tb.Records()
	require.Len(t, got, 2)
	g := got[0]
	assert.Equal(t, uint64(2), g.Flows)
	assert.Equal(t, netip.MustParseAddr("10.0.0.0"), g.SrcAddr)
	// The printers show ICMP type and code 0.0 for a masked record; csv
	// and pipe print the port the key keeps.
	assert.Equal(t, uint16(0x303), g.DstPort)
	assert.Equal(t, flow.MarkMasked, g.Elements&flow.MarkMasked)
	assert.Equal(t, uint32(65000), g.SrcAS)
	assert.Equal(t, uint32(0), g.DstAS)
	assert.Equal(t, [10]uint32{0x345 << 4, 0x54321 << 4}, g.MPLS)
	assert.Equal(t, uint32(4), g.Input)
	assert.Equal(t, uint32(0), g.Output)
	assert.Equal(t, uint8(0), g.SrcTos)
	assert.Equal(t, uint16(0), g.ExporterID)
}

// TestAddDoesNotAllocate: after the table holds every key, adding flows
// allocates nothing.
func TestAddDoesNotAllocate(t *testing.T) {
	specs := map[string]*Spec{"-a": FiveTuple(), "-B": Bidir(true)}
	s, err := ParseFields("srcip4/24,dstport,proto,next,mpls3")
	require.NoError(t, err)
	specs["-A"] = s
	for name, spec := range specs {
		g := flowgen.New(1, 1_795_555_903_000)
		recs := make([]flow.Record, 1000)
		for i := range recs {
			g.Next(&recs[i])
		}
		tb := New(spec)
		for i := range recs {
			tb.Add(&recs[i])
		}
		i := 0
		allocs := testing.AllocsPerRun(1000, func() {
			tb.Add(&recs[i%len(recs)])
			i++
		})
		assert.Zero(t, allocs, name)
	}
}

// TestLabelOfFirstFlow checks that an aggregated record carries the flow
// label of its key's first flow, as nfdump's does, with the EXlabel
// element nfdump adds to a rebuilt record, in every kind of table.
func TestLabelOfFirstFlow(t *testing.T) {
	flows := []flow.Record{
		rec(a4, b4, 1000, 80, 6, 10, 20, 1, 100, 0),
		rec(a4, b4, 1000, 80, 6, 11, 21, 1, 100, 0),
		rec(b4, a4, 80, 1000, 6, 12, 22, 1, 100, 0),
		rec(a6, a6, 53, 53, 17, 13, 23, 1, 100, 0),
		rec(a6, a6, 53, 53, 17, 14, 24, 1, 100, 0),
	}
	labels := []string{"web", "other", "", "", "dns"}
	for i := range flows {
		flows[i].Label = labels[i]
	}
	bidir := Bidir(false)
	list, err := ParseFields("proto,srcip4/8")
	require.NoError(t, err)
	for _, tc := range []struct {
		name  string
		table *Table
		want  []string // by key, in Order
	}{
		{"-a", New(FiveTuple()), []string{"web", "", ""}},
		{"-b", New(bidir), []string{"web", ""}},
		{"-A", New(list), []string{"web", "", ""}},
		{"-A printing", NewPrinting(list), []string{"web", "", ""}},
	} {
		for i := range flows {
			tc.table.Add(&flows[i])
		}
		var got []string
		for _, i := range tc.table.Order() {
			var r flow.Record
			tc.table.Record(i, &r)
			got = append(got, r.Label)
			assert.Equal(t, r.Label != "", r.Elements.Has(flow.ElemLabel), "%s: EXlabel with the label", tc.name)
			if tc.table.full {
				var w flow.Record
				tc.table.WriteRecord(i, &w)
				assert.Equal(t, r.Label, w.Label, "%s: written", tc.name)
			}
		}
		assert.Equal(t, tc.want, got, tc.name)
	}
}

// TestLastFlowMerged: Add holds a flow back until the next one comes (to
// prefetch), and every way of reading the table still sees the last flow
// added.
func TestLastFlowMerged(t *testing.T) {
	fill := func() *Table {
		tb := NewPrinting(FiveTuple())
		r := rec(a4, b4, 1, 2, 6, 1000, 2000, 1, 100, 0)
		tb.Add(&r)
		r.InBytes = 50 // the same key: merged into the first
		tb.Add(&r)
		return tb
	}
	assert.Equal(t, 1, fill().Len())
	assert.Len(t, fill().Order(), 1)
	recs := fill().Records()
	require.Len(t, recs, 1)
	assert.Equal(t, uint64(150), recs[0].InBytes)
	o, err := ParseOrder("bytes")
	require.NoError(t, err)
	tb := fill()
	got := tb.Sorted(o, 0)
	require.Len(t, got, 1)
	var r flow.Record
	tb.Record(got[0], &r)
	assert.Equal(t, uint64(150), r.InBytes)
	full := New(FiveTuple())
	x := rec(a4, b4, 1, 2, 6, 1000, 2000, 1, 100, 0)
	full.Add(&x)
	assert.Len(t, full.WriteRecords(), 1)
}
