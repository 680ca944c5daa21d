package netflow_test

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/netflow"
)

var (
	lo   = netip.MustParseAddr("127.0.0.1")
	when = time.UnixMilli(1700000000123)
)

// v5Datagram: a NetFlow v5 header and two records.
func v5Datagram(seq uint32, sampling uint16) []byte {
	return cat(
		// header: version 5, count 2, sysUptime 10000 ms, unix 1700000000.5 s,
		// sequence, engine type 1 / id 2, sampling field
		u16(5), u16(2), u32(10000), u32(1700000000), u32(500000000), u32(seq), []byte{1, 2}, u16(sampling),
		// record 1: 10.0.0.1 -> 192.168.1.2 via 10.0.0.254, if 3 -> 4,
		// 10 pkts 1500 bytes, first 4000 last 8000, 12345 -> 80, flags 0x1b,
		// TCP, tos 16, AS 65001 -> 65002, masks 24/16 (nfcapd drops them)
		ip(10, 0, 0, 1), ip(192, 168, 1, 2), ip(10, 0, 0, 254), u16(3), u16(4),
		u32(10), u32(1500), u32(4000), u32(8000), u16(12345), u16(80),
		[]byte{0, 0x1b, 6, 16}, u16(65001), u16(65002), []byte{24, 16}, u16(0),
		// record 2: ICMP echo request with type/code in the source port
		// (0x0800), nothing optional set
		ip(10, 0, 0, 2), ip(10, 0, 0, 3), ip(0, 0, 0, 0), u16(0), u16(0),
		u32(1), u32(84), u32(9000), u32(9000), u16(0x0800), u16(0),
		[]byte{0, 0, 1, 0}, u16(0), u16(0), []byte{0, 0}, u16(0),
	)
}

func TestV5(t *testing.T) {
	c := &collector{}
	d := netflow.NewDecoder(netflow.Options{})
	require.NoError(t, d.Decode(v5Datagram(100, 0), lo, when, c))
	require.Len(t, c.flows, 2)
	require.Len(t, c.exps, 1)
	assert.Equal(t, flow.Exporter{Version: 5, Addr: lo, SysID: 1, ID: 0x0102}, c.exps[0])

	boot := uint64(1700000000500 - 10000)
	r := c.flows[0]
	assert.Equal(t, flow.Elements(0).With(flow.ElemGeneric).With(flow.ElemIPv4).With(flow.ElemMisc).
		With(flow.ElemAS).With(flow.ElemIPNextHopV4).With(flow.ElemExporterIPv4), r.Elements)
	assert.Equal(t, uint8(5), r.NFVersion)
	assert.Equal(t, uint8(1), r.EngineType)
	assert.Equal(t, uint8(2), r.EngineID)
	assert.Equal(t, uint16(1), r.ExporterID)
	assert.Equal(t, boot+4000, r.First)
	assert.Equal(t, boot+8000, r.Last)
	assert.Equal(t, uint64(1700000000123), r.Received)
	assert.Equal(t, netip.MustParseAddr("10.0.0.1"), r.SrcAddr)
	assert.Equal(t, netip.MustParseAddr("10.0.0.254"), r.IPNextHop)
	assert.Equal(t, uint32(65001), r.SrcAS)
	assert.Zero(t, r.SrcMask, "nfcapd does not keep v5 masks")
	assert.Equal(t, lo, r.Exporter)

	r = c.flows[1]
	assert.Equal(t, flow.Elements(0).With(flow.ElemGeneric).With(flow.ElemIPv4).With(flow.ElemExporterIPv4), r.Elements)
	assert.Equal(t, uint16(0), r.SrcPort)
	assert.Equal(t, uint16(0x0008), r.DstPort, "nfcapd byte-swaps the source port into the destination port")

	// sequence: next datagram must start at 102
	require.NoError(t, d.Decode(v5Datagram(102, 0), lo, when, c))
	require.NoError(t, d.Decode(v5Datagram(110, 0), lo, when, c))
	st := d.TakeStats()
	assert.Equal(t, []flow.ExporterStat{{SysID: 1, SequenceFailures: 1, Packets: 3, Flows: 6}}, st)
	assert.Equal(t, []flow.ExporterStat{{SysID: 1}}, d.TakeStats(), "zero counts are listed too")
	assert.Equal(t, uint64(6), d.Counters().Flows)
}

func TestV5Sampling(t *testing.T) {
	cases := []struct {
		name     string
		field    uint16
		def      int64
		want     *flow.Sampler
		packets  uint64
		sampledF bool
	}{
		{"none", 0, 0, nil, 10, false},
		{"header 1:100", 0x4000 | 100, 0, &flow.Sampler{ExporterSysID: 1, Algorithm: 1, ID: flow.SamplerGeneric, PacketInterval: 1, SpaceInterval: 99}, 1000, true},
		{"header 1:2 not scaled (sic)", 2, 0, &flow.Sampler{ExporterSysID: 1, ID: flow.SamplerGeneric, PacketInterval: 1, SpaceInterval: 1}, 10, false},
		{"default -s 10", 0, 10, &flow.Sampler{ExporterSysID: 1, ID: flow.SamplerDefault, PacketInterval: 1, SpaceInterval: 9}, 100, true},
		{"header beats default", 5, 10, &flow.Sampler{ExporterSysID: 1, ID: flow.SamplerGeneric, PacketInterval: 1, SpaceInterval: 4}, 50, true},
		{"overwrite -s -4", 100, -4, &flow.Sampler{ExporterSysID: 1, ID: flow.SamplerOverwrite, PacketInterval: 1, SpaceInterval: 3}, 40, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			col := &collector{}
			d := netflow.NewDecoder(netflow.Options{DefaultSampling: c.def})
			require.NoError(t, d.Decode(v5Datagram(1, c.field), lo, when, col))
			if c.want == nil {
				assert.Empty(t, d.Samplers())
			} else {
				assert.Equal(t, []flow.Sampler{*c.want}, d.Samplers())
				assert.Equal(t, []flow.Sampler{*c.want}, col.samplers)
			}
			assert.Equal(t, c.packets, col.flows[0].InPackets)
			assert.Equal(t, c.sampledF, col.flows[0].Sampled())
		})
	}
}

// v9Template: a v9 datagram with a template flowset for template 256.
func v9Template() []byte {
	return cat(
		// header: version 9, count 1, sysUptime 10000, unix 1700000000, seq 0, source id 7
		u16(9), u16(1), u32(10000), u32(1700000000), u32(0), u32(7),
		// template flowset (id 0, length 4+4+4*9 = 44): template 256, 9 fields
		u16(0), u16(44), u16(256), u16(9),
		u16(8), u16(4), // IPV4_SRC_ADDR
		u16(12), u16(4), // IPV4_DST_ADDR
		u16(7), u16(2), // L4_SRC_PORT
		u16(11), u16(2), // L4_DST_PORT
		u16(4), u16(1), // PROTOCOL
		u16(2), u16(4), // IN_PKTS
		u16(1), u16(4), // IN_BYTES
		u16(22), u16(4), // FIRST_SWITCHED
		u16(21), u16(4), // LAST_SWITCHED
	)
}

// v9Record is one record of template 256 (25 bytes).
func v9Record(i int) []byte {
	return cat(ip(10, 0, 0, byte(i)), ip(10, 0, 1, 1), u16(1024+uint16(i)), u16(443), []byte{6},
		u32(3), u32(180), u32(5000), u32(9000))
}

func v9Data(seq uint32, n int) []byte {
	var recs []byte
	for i := 0; i < n; i++ {
		recs = append(recs, v9Record(i)...)
	}
	pad := (4 - (len(recs)+4)%4) % 4
	return cat(u16(9), u16(uint16(n)), u32(10000), u32(1700000000), u32(seq), u32(7),
		u16(256), u16(uint16(4+len(recs)+pad)), recs, make([]byte, pad))
}

func TestV9(t *testing.T) {
	c := &collector{}
	d := netflow.NewDecoder(netflow.Options{})
	err := d.Decode(v9Data(0, 1), lo, when, c)
	var ne *netflow.Error
	require.ErrorAs(t, err, &ne)
	assert.Equal(t, netflow.ReasonUnknownTemplate, ne.Reason)

	require.NoError(t, d.Decode(v9Template(), lo, when, c))
	require.NoError(t, d.Decode(v9Data(2, 3), lo, when, c))
	require.Len(t, c.flows, 3)
	r := c.flows[2]
	boot := uint64(1700000000000 - 10000)
	assert.Equal(t, flow.Elements(0).With(flow.ElemGeneric).With(flow.ElemIPv4).With(flow.ElemExporterIPv4), r.Elements)
	assert.Equal(t, uint8(9), r.NFVersion)
	assert.Equal(t, uint8(7), r.EngineID, "engine id from the low byte of the source id")
	assert.Equal(t, boot+5000, r.First)
	assert.Equal(t, boot+9000, r.Last)
	assert.Equal(t, netip.MustParseAddr("10.0.0.2"), r.SrcAddr)
	assert.Equal(t, uint16(1026), r.SrcPort)
	assert.Equal(t, uint64(180), r.InBytes)
	assert.Equal(t, uint64(2), d.Counters().SequenceFailures, "sequence 0, 0, 2: v9 wants +1 per datagram, two failures")
	assert.Equal(t, uint64(1), d.Counters().Errors[netflow.ReasonUnknownTemplate])
}

// ipfixMsg builds an IPFIX message around sets.
func ipfixMsg(seq uint32, sets ...[]byte) []byte {
	body := cat(sets...)
	return cat(u16(10), u16(uint16(16+len(body))), u32(1700000000), u32(seq), u32(3), body)
}

func TestIPFIXTemplatesAndSampling(t *testing.T) {
	tmpl := cat(u16(2), u16(4+4+4*4+8),
		u16(300), u16(5),
		u16(8), u16(4), u16(12), u16(4), // addresses
		u16(152), u16(8), // flowStartMilliseconds
		u16(0x8000|2), u16(4), u32(29305), // reverse packetDeltaCount -> out packets
		u16(0x8000|100), u16(0xffff)) // enterprise field, variable length
	tmpl = append(tmpl[:len(tmpl)-0], u32(9)...) // its enterprise number
	binary.BigEndian.PutUint16(tmpl[2:], uint16(len(tmpl)))
	rec := cat(ip(1, 2, 3, 4), ip(5, 6, 7, 8), u64(1700000000999), u32(7), []byte{3, 'a', 'b', 'c'})
	data := cat(u16(300), u16(uint16(4+len(rec))), rec)

	c := &collector{}
	d := netflow.NewDecoder(netflow.Options{DefaultSampling: -5})
	require.NoError(t, d.Decode(ipfixMsg(0, tmpl, data), lo, when, c))
	require.Len(t, c.flows, 1)
	r := c.flows[0]
	assert.Equal(t, uint64(1700000000999), r.First)
	assert.Equal(t, uint64(35), r.OutPackets, "reverse packets, overwrite sampling 1:5")
	assert.Equal(t, uint64(1), r.Flows)
	assert.True(t, r.Sampled())
	assert.Equal(t, []flow.Sampler{{ExporterSysID: 1, ID: flow.SamplerOverwrite, PacketInterval: 1, SpaceInterval: 4}}, d.Samplers())

	// withdrawal of template 300, then its data is unknown
	withdraw := cat(u16(2), u16(8), u16(300), u16(0))
	require.NoError(t, d.Decode(ipfixMsg(1, withdraw), lo, when, c))
	var ne *netflow.Error
	require.ErrorAs(t, d.Decode(ipfixMsg(1, data), lo, when, c), &ne)
	assert.Equal(t, netflow.ReasonUnknownTemplate, ne.Reason)
}

func TestSamplingOverride(t *testing.T) {
	// An options template (id 3) announcing sampler 1 at 1:100 via IEs
	// 302/305/306 is overridden by -s -5 for v9 and IPFIX alike.
	c := &collector{}
	d := netflow.NewDecoder(netflow.Options{DefaultSampling: -5})
	require.NoError(t, d.Decode(v9Template(), lo, when, c))
	require.NoError(t, d.Decode(v9Data(1, 1), lo, when, c))
	assert.Equal(t, uint64(15), c.flows[0].InPackets)
}

func TestMalformed(t *testing.T) {
	v5 := v5Datagram(1, 0)
	cases := []struct {
		name   string
		pkt    []byte
		reason string
	}{
		{"empty", nil, netflow.ReasonShort},
		{"unknown version", cat(u16(6), make([]byte, 30)), netflow.ReasonVersion},
		{"v5 short header", v5[:20], netflow.ReasonShort},
		{"v5 truncated records", v5[:100], netflow.ReasonLength},
		{"v5 bogus count", cat(u16(5), u16(31), v5[4:]), netflow.ReasonCount},
		{"v1 short", cat(u16(1), u16(1), make([]byte, 20)), netflow.ReasonLength},
		{"v9 short", cat(u16(9), make([]byte, 10)), netflow.ReasonShort},
		{"v9 zero flowset", cat(v9Template()[:20], u16(256), u16(0)), netflow.ReasonFlowsetLength},
		{"v9 long flowset", cat(v9Template()[:20], u16(256), u16(400), make([]byte, 8)), netflow.ReasonFlowsetLength},
		{"v9 bad template", cat(v9Template()[:20], u16(0), u16(12), u16(256), u16(9), u32(0)), netflow.ReasonTemplate},
		{"v9 zero-length fields", cat(v9Template()[:20], u16(0), u16(16), u16(256), u16(2), u16(8), u16(0), u16(12), u16(0)), netflow.ReasonZeroLength},
		{"v9 flowset id 5", cat(v9Template()[:20], u16(5), u16(8), u32(0)), netflow.ReasonFlowsetID},
		{"ipfix short", cat(u16(10), make([]byte, 4)), netflow.ReasonShort},
		{"ipfix option template without scope", ipfixMsg(0, cat(u16(3), u16(14), u16(400), u16(1), u16(0), u16(34), u16(4))), netflow.ReasonOptionTemplate},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var logs []string
			d := netflow.NewDecoder(netflow.Options{Logf: func(f string, a ...any) { logs = append(logs, f) }})
			for i := 0; i < 3; i++ {
				err := d.Decode(c.pkt, lo, when, &collector{})
				var ne *netflow.Error
				require.ErrorAs(t, err, &ne)
				assert.Equal(t, c.reason, ne.Reason)
			}
			assert.Equal(t, uint64(3), d.Counters().Errors[c.reason])
			n := 0
			for _, l := range logs {
				if l == "%s" {
					n++
				}
			}
			assert.Equal(t, 1, n, "logged once per exporter and reason")
		})
	}
}

// TestExporterEviction: with MaxExporters known, a new exporter takes the
// place of the one silent longest; the evicted one keeps its SysID and is
// listed by TakeStats until the next call, then its SysID is free again.
func TestExporterEviction(t *testing.T) {
	d := netflow.NewDecoder(netflow.Options{MaxExporters: 2})
	c := &collector{}
	addr := func(i byte) netip.Addr { return netip.AddrFrom4([4]byte{127, 0, 0, i}) }
	at := func(s int) time.Time { return when.Add(time.Duration(s) * time.Second) }
	require.NoError(t, d.Decode(v5Datagram(1, 0), addr(1), at(0), c))
	require.NoError(t, d.Decode(v5Datagram(1, 0), addr(2), at(1), c))
	require.NoError(t, d.Decode(v5Datagram(3, 0), addr(1), at(2), c)) // 2 is now the longest silent
	require.NoError(t, d.Decode(v5Datagram(1, 0), addr(3), at(3), c))
	sysIDs := func(es []flow.Exporter) map[netip.Addr]uint16 {
		m := map[netip.Addr]uint16{}
		for _, e := range es {
			m[e.Addr] = e.SysID
		}
		return m
	}
	assert.Equal(t, map[netip.Addr]uint16{addr(1): 1, addr(3): 3}, sysIDs(d.Exporters()))
	assert.Equal(t, map[netip.Addr]uint16{addr(1): 1, addr(2): 2, addr(3): 3}, sysIDs(c.exps))
	assert.Equal(t, uint64(1), d.Counters().EvictedExporters)
	assert.Equal(t, []flow.ExporterStat{{SysID: 1, Packets: 2, Flows: 4}, {SysID: 2, Packets: 1, Flows: 2}, {SysID: 3, Packets: 1, Flows: 2}},
		d.TakeStats(), "the evicted exporter's counts go into this file")
	assert.Equal(t, []flow.ExporterStat{{SysID: 1}, {SysID: 3}}, d.TakeStats())
	// Exporter 2 comes back: a new exporter, in the SysID now free.
	require.NoError(t, d.Decode(v5Datagram(9, 0), addr(2), at(4), c))
	assert.Equal(t, map[netip.Addr]uint16{addr(2): 2, addr(3): 3}, sysIDs(d.Exporters()))
	assert.Equal(t, uint64(2), d.Counters().EvictedExporters)
}

// TestExporterCounters: the running totals of each exporter keep adding up
// across TakeStats (which reports a file's worth), and an exporter
// forgotten is no longer listed and starts from zero when it comes back.
func TestExporterCounters(t *testing.T) {
	d := netflow.NewDecoder(netflow.Options{MaxExporters: 2})
	c := &collector{}
	other := netip.MustParseAddr("127.0.0.2")
	require.NoError(t, d.Decode(v9Template(), lo, when, c))
	require.NoError(t, d.Decode(v9Data(1, 3), lo, when, c))
	require.NoError(t, d.Decode(v5Datagram(1, 0), other, when, c))
	assert.Equal(t, []flow.ExporterStat{{SysID: 1, Packets: 2, Flows: 3}, {SysID: 2, Packets: 1, Flows: 2}}, d.TakeStats())
	require.NoError(t, d.Decode(v9Data(5, 2), lo, when, c)) // 2 expected: a sequence failure
	require.NoError(t, d.Decode(v5Datagram(3, 0), other, when, c))
	require.NoError(t, d.Decode(v5Datagram(5, 0), other, when, c))
	assert.Equal(t, []flow.ExporterStat{{SysID: 1, SequenceFailures: 1, Packets: 1, Flows: 2}, {SysID: 2, Packets: 2, Flows: 4}}, d.TakeStats())

	v9 := flow.Exporter{Version: 9, Addr: lo, SysID: 1, ID: 7}
	v5 := flow.Exporter{Version: 5, Addr: other, SysID: 2, ID: 0x0102}
	assert.Equal(t, []netflow.ExporterCounters{
		{Exporter: v9, Datagrams: 3, Flows: 5, SequenceFailures: 1, Templates: 1},
		{Exporter: v5, Datagrams: 3, Flows: 6},
	}, d.AppendExporterCounters(nil))

	// A third exporter evicts the v9 one (silent longest); the v9 one
	// comes back as a new exporter without its template, from zero.
	require.NoError(t, d.Decode(v5Datagram(1, 0), netip.MustParseAddr("127.0.0.3"), when.Add(time.Second), c))
	require.NoError(t, d.Decode(v5Datagram(7, 0), other, when.Add(2*time.Second), c))
	d.TakeStats()
	err := d.Decode(v9Data(6, 1), lo, when.Add(3*time.Second), c)
	require.Error(t, err, "its template was forgotten")
	got := d.AppendExporterCounters(nil)
	require.Len(t, got, 2)
	assert.Equal(t, netflow.ExporterCounters{Exporter: flow.Exporter{Version: 9, Addr: lo, SysID: 1, ID: 7}, Datagrams: 1}, got[0], "back in the SysID freed")
	assert.Equal(t, netflow.ExporterCounters{Exporter: v5, Datagrams: 4, Flows: 8}, got[1])
}

// TestExporterExpiry: Expire forgets the exporters silent for longer than
// the idle time, with their templates; one that comes back is new.
func TestExporterExpiry(t *testing.T) {
	d := netflow.NewDecoder(netflow.Options{})
	c := &collector{}
	require.NoError(t, d.Decode(v9Template(), lo, when, c))
	require.NoError(t, d.Decode(v5Datagram(1, 0), netip.MustParseAddr("127.0.0.2"), when.Add(time.Minute), c))
	mem := d.TemplateMemory()
	assert.Positive(t, mem)
	assert.Zero(t, d.Expire(when.Add(time.Hour), time.Hour))
	assert.Equal(t, 1, d.Expire(when.Add(time.Hour+time.Second), time.Hour), "the v9 exporter, silent for an hour")
	assert.Equal(t, uint64(1), d.Counters().ExpiredExporters)
	assert.Zero(t, d.TemplateMemory(), "its template is freed")
	require.Len(t, d.Exporters(), 1)
	assert.Equal(t, uint16(2), d.Exporters()[0].SysID)
	// Its template went with it.
	var ne *netflow.Error
	require.ErrorAs(t, d.Decode(v9Data(1, 1), lo, when.Add(2*time.Hour), c), &ne)
	assert.Equal(t, netflow.ReasonUnknownTemplate, ne.Reason)
	assert.Len(t, c.exps, 3, "back as a new exporter")
	assert.Equal(t, uint16(3), c.exps[2].SysID, "its old SysID is free only after the file's stats")
}

// TestTemplateMemory: one budget for the templates of all exporters. A
// template beyond it is refused and counted, the stored ones keep
// working, and a withdrawn template or a forgotten exporter gives its
// memory back.
func TestTemplateMemory(t *testing.T) {
	probe := netflow.NewDecoder(netflow.Options{})
	require.NoError(t, probe.Decode(v9Template(), lo, when, &collector{}))
	one := probe.TemplateMemory()
	d := netflow.NewDecoder(netflow.Options{TemplateMemory: 2 * one, MaxExporters: 3})
	c := &collector{}
	a, b, x := lo, netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3")
	require.NoError(t, d.Decode(v9Template(), a, when, c))
	require.NoError(t, d.Decode(v9Template(), b, when, c))
	assert.Equal(t, 2*one, d.TemplateMemory())
	var ne *netflow.Error
	require.ErrorAs(t, d.Decode(v9Template(), x, when, c), &ne)
	assert.Equal(t, netflow.ReasonTemplateMemory, ne.Reason)
	assert.Equal(t, uint64(1), d.Counters().TemplatesRefused)
	assert.Equal(t, 2*one, d.TemplateMemory())
	// The stored templates work, refreshed or not.
	require.NoError(t, d.Decode(v9Data(1, 2), a, when, c))
	require.NoError(t, d.Decode(v9Template(), b, when, c))
	require.NoError(t, d.Decode(v9Data(1, 3), b, when, c))
	assert.Len(t, c.flows, 5)
	// A template of the same id and size replaces the old one.
	changed := v9Template()
	binary.BigEndian.PutUint16(changed[len(changed)-4:], 22) // LAST_SWITCHED -> FIRST_SWITCHED
	require.NoError(t, d.Decode(changed, a, when, c))
	assert.Equal(t, 2*one, d.TemplateMemory())
	// A fourth exporter makes room: x, silent longest, goes. When x comes
	// back, b (silent longer than a) goes with its template, and x's
	// template fits.
	require.NoError(t, d.Decode(v5Datagram(1, 0), netip.MustParseAddr("127.0.0.4"), when.Add(time.Second), c))
	require.NoError(t, d.Decode(v9Template(), x, when.Add(2*time.Second), c))
	assert.Equal(t, 2*one, d.TemplateMemory())
	assert.Equal(t, uint64(1), d.Counters().TemplatesRefused)
	var left []netip.Addr
	for _, e := range d.Exporters() {
		left = append(left, e.Addr)
	}
	assert.ElementsMatch(t, []netip.Addr{a, netip.MustParseAddr("127.0.0.4"), x}, left)
	require.NoError(t, d.Decode(v9Data(1, 1), x, when.Add(3*time.Second), c))
	assert.Len(t, c.flows, 5+2+1, "with the two flows of the v5 datagram")
}

func TestTemplateCap(t *testing.T) {
	d := netflow.NewDecoder(netflow.Options{MaxTemplates: 1})
	require.NoError(t, d.Decode(v9Template(), lo, when, &collector{}))
	second := v9Template()
	binary.BigEndian.PutUint16(second[24:], 257)
	var ne *netflow.Error
	require.ErrorAs(t, d.Decode(second, lo, when, &collector{}), &ne)
	assert.Equal(t, netflow.ReasonTooManyTemplate, ne.Reason)
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func u16(v uint16) []byte       { return binary.BigEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte       { return binary.BigEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte       { return binary.BigEndian.AppendUint64(nil, v) }
func ip(a, b, c, d byte) []byte { return []byte{a, b, c, d} }

// TestTemplateRefresh: exporters re-send their templates all the time. An
// unchanged template must cost no allocation, and a template that changes
// under the same id must take effect at once.
func TestTemplateRefresh(t *testing.T) {
	c := &collector{}
	d := netflow.NewDecoder(netflow.Options{})
	require.NoError(t, d.Decode(v9Template(), lo, when, c))
	require.NoError(t, d.Decode(v9Data(1, 2), lo, when, c))

	tmpl := v9Template()
	allocs := testing.AllocsPerRun(100, func() {
		if err := d.Decode(tmpl, lo, when, c); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs, "an unchanged v9 template is kept, not built again")

	// The same id, now with only the addresses and ports (12 bytes a record).
	changed := cat(u16(9), u16(1), u32(10000), u32(1700000000), u32(0), u32(7),
		u16(0), u16(24), u16(256), u16(4),
		u16(8), u16(4), u16(12), u16(4), u16(7), u16(2), u16(11), u16(2))
	require.NoError(t, d.Decode(changed, lo, when, c))
	rec := cat(ip(10, 9, 9, 9), ip(10, 0, 1, 1), u16(5353), u16(53))
	c.flows = nil
	require.NoError(t, d.Decode(cat(u16(9), u16(1), u32(10000), u32(1700000000), u32(3), u32(7),
		u16(256), u16(16), rec), lo, when, c))
	require.Len(t, c.flows, 1)
	assert.Equal(t, netip.MustParseAddr("10.9.9.9"), c.flows[0].SrcAddr)
	assert.Equal(t, uint16(53), c.flows[0].DstPort)
	assert.Zero(t, c.flows[0].InBytes, "the new template has no counters")

	// IPFIX, with an enterprise field in the specifiers.
	ipfixTmpl := ipfixMsg(0, cat(u16(2), u16(4+4+8+8), u16(300), u16(3),
		u16(8), u16(4), u16(12), u16(4), u16(0x8000|100), u16(4), u32(9)))
	require.NoError(t, d.Decode(ipfixTmpl, lo, when, c))
	allocs = testing.AllocsPerRun(100, func() {
		if err := d.Decode(ipfixTmpl, lo, when, c); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs, "an unchanged IPFIX template is kept, not built again")
}
