package flow

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTCPFlagString(t *testing.T) {
	tests := []struct {
		flags uint8
		want  string
	}{
		{0, "........"},
		{0x1b, "...AP.SF"}, // the sample file's TCP flow
		{0x14, "...A.R.."},
		{0x02, "......S."},
		{0xff, "CEUAPRSF"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, TCPFlagString(tt.flags), "flags %#x", tt.flags)
	}
}

func TestNeededElements(t *testing.T) {
	v4 := netip.MustParseAddr("10.0.0.1")
	v6 := netip.MustParseAddr("2001:db8::1")
	tests := []struct {
		name string
		rec  Record
		want []int
	}{
		{"empty flow is generic + IPv4", Record{}, []int{ElemGeneric, ElemIPv4}},
		{"IPv6 addresses", Record{SrcAddr: v6, DstAddr: v6}, []int{ElemGeneric, ElemIPv6}},
		{"misc from interfaces", Record{Input: 3}, []int{ElemGeneric, ElemIPv4, ElemMisc}},
		{"misc from end reason", Record{EndReason: 2}, []int{ElemGeneric, ElemIPv4, ElemMisc}},
		{"counters from out bytes", Record{OutBytes: 1}, []int{ElemGeneric, ElemIPv4, ElemCounters}},
		{"vlan", Record{DstVLAN: 7}, []int{ElemGeneric, ElemIPv4, ElemVLAN}},
		{"as", Record{SrcAS: 65001}, []int{ElemGeneric, ElemIPv4, ElemAS}},
		{"next hops and exporter by family", Record{BGPNextHop: v6, IPNextHop: v4, Exporter: v6},
			[]int{ElemGeneric, ElemIPv4, ElemBGPNextHopV6, ElemIPNextHopV4, ElemExporterIPv6}},
		{"mpls", Record{MPLS: [10]uint32{0, 0, 1605}}, []int{ElemGeneric, ElemIPv4, ElemMPLS}},
		{"mac", Record{OutSrcMAC: 0xaabbccddeeff}, []int{ElemGeneric, ElemIPv4, ElemMAC}},
		{"adjacent as", Record{PrevAS: 1}, []int{ElemGeneric, ElemIPv4, ElemAdjacentAS}},
		{"latency", Record{ApplLatency: 1500}, []int{ElemGeneric, ElemIPv4, ElemLatency}},
		{"kept element with zero values", Record{Elements: Elements(0).With(ElemMisc).With(ElemCounters)},
			[]int{ElemGeneric, ElemIPv4, ElemMisc, ElemCounters}},
		{"address family switch drops the stale element", Record{Elements: Elements(0).With(ElemIPNextHopV4), IPNextHop: v6},
			[]int{ElemGeneric, ElemIPv4, ElemIPNextHopV6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want Elements
			for _, id := range tt.want {
				want = want.With(id)
			}
			assert.Equal(t, want, tt.rec.NeededElements())
		})
	}
}

func TestICMPAndSampler(t *testing.T) {
	r := Record{Proto: ProtoICMP, DstPort: 3<<8 | 1}
	assert.True(t, r.IsICMP())
	assert.Equal(t, uint8(3), r.ICMPType())
	assert.Equal(t, uint8(1), r.ICMPCode())
	assert.Equal(t, uint64(1), r.AggrFlows())

	s := Sampler{PacketInterval: 1, SpaceInterval: 9}
	assert.Equal(t, uint64(10), s.Rate())
	assert.Equal(t, uint64(1), (&Sampler{}).Rate())
}

func TestProtoNumber(t *testing.T) {
	tests := []struct {
		name string
		want uint8
		ok   bool
	}{
		{"tcp", 6, true},
		{"TCP", 6, true},
		{"icmp6", 58, true},
		{"idpr", 35, true}, // two protocols share the name; the first wins
		{"ax.25", 93, true},
		{"99", 99, true},
		{"ipv6-icmp", 0, false}, // six letters or more never match
		{"ISOIP", 80, true},
		{"", 0, false},
		{"nosuch", 0, false},
	}
	for _, tt := range tests {
		got, ok := ProtoNumber(tt.name)
		assert.Equal(t, tt.ok, ok, tt.name)
		assert.Equal(t, tt.want, got, tt.name)
	}
}
