package netflow_test

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/flowgen"
	"github.com/nfgo/nftools/netflow"
)

// exportTime is the export time of the encoder tests (ms since the epoch):
// no test reads the clock.
const exportTime = uint64(1_700_000_123_456)

var versions = []int{1, 5, 7, 9, 10}

// carried returns what a collector gets back of r after r went through an
// encoder of version v with cfg and a decoder: the documented limits of
// each version. Fields the decoder adds itself (Elements, NFVersion,
// ExporterID, Exporter, Received) are left to strip. ok is false for a
// record the version cannot carry at all.
func carried(v int, cfg netflow.EncoderConfig, r flow.Record) (out flow.Record, ok bool) {
	v4 := func(a netip.Addr) netip.Addr {
		if a.Is4() {
			return a
		}
		return netip.AddrFrom4([4]byte{})
	}
	out = flow.Record{
		First: r.First, Last: r.Last, Proto: r.Proto, SrcTos: r.SrcTos, TCPFlags: r.TCPFlags,
		SrcPort: r.SrcPort, DstPort: r.DstPort,
	}
	if v < 9 {
		if r.IsIPv6() {
			return out, false // v1, v5 and v7 are IPv4 only
		}
		out.SrcAddr, out.DstAddr = v4(r.SrcAddr), v4(r.DstAddr)
		// counters and interfaces truncated to the formats' 32 and 16 bits
		out.InPackets, out.InBytes = uint64(uint32(r.InPackets)), uint64(uint32(r.InBytes))
		out.Input, out.Output = uint32(uint16(r.Input)), uint32(uint16(r.Output))
		if r.IPNextHop.Is4() && !r.IPNextHop.IsUnspecified() {
			out.IPNextHop = r.IPNextHop
		}
		if v != 1 {
			out.SrcAS, out.DstAS = uint32(uint16(r.SrcAS)), uint32(uint16(r.DstAS))
		}
		if v == 5 {
			out.EngineType, out.EngineID = cfg.EngineType, cfg.EngineID
		}
		if r.Proto == flow.ProtoICMP {
			// Cisco's layout: type and code in the destination port, the
			// source port 0 whatever the record held.
			out.SrcPort = 0
		}
		// The masks travel, but nfcapd does not keep v5 masks.
		return out, true
	}
	six := r.IsIPv6()
	if six {
		a6 := func(a netip.Addr) netip.Addr {
			if !a.IsValid() {
				return netip.IPv6Unspecified()
			}
			return netip.AddrFrom16(a.As16())
		}
		out.SrcAddr, out.DstAddr = a6(r.SrcAddr), a6(r.DstAddr)
	} else {
		out.SrcAddr, out.DstAddr = v4(r.SrcAddr), v4(r.DstAddr)
	}
	out.InPackets, out.InBytes, out.Input, out.Output = r.InPackets, r.InBytes, r.Input, r.Output
	if r.IsICMP() {
		out.SrcPort = 0
	}
	if v == 9 {
		boot := cfg.BootTime - cfg.BootTime%1000
		out.EngineType, out.EngineID = uint8(cfg.SourceID>>8), uint8(cfg.SourceID)
		if uint32(r.Last-boot) == 0 {
			// nfcapd's v9 takes a LAST_SWITCHED of 0 for no times at all
			out.First, out.Last = 0, 0
		}
	}
	const mac48 = 1<<48 - 1
	out.InSrcMAC, out.InDstMAC = r.InSrcMAC&mac48, r.InDstMAC&mac48
	out.OutDstMAC, out.OutSrcMAC = r.OutDstMAC&mac48, r.OutSrcMAC&mac48
	out.SrcVLAN, out.DstVLAN = uint32(uint16(r.SrcVLAN)), uint32(uint16(r.DstVLAN))
	if r.SrcMask|r.DstMask != 0 || r.SrcAS|r.DstAS != 0 || r.IPNextHop.IsValid() && !r.IPNextHop.IsUnspecified() {
		out.SrcMask, out.DstMask, out.SrcAS, out.DstAS = r.SrcMask, r.DstMask, r.SrcAS, r.DstAS
		// the next hop travels in the flow's family only
		if six && r.IPNextHop.Is6() {
			out.IPNextHop = r.IPNextHop
		} else if !six && r.IPNextHop.Is4() {
			out.IPNextHop = r.IPNextHop
		} else if six {
			out.IPNextHop = netip.IPv6Unspecified()
		} else {
			out.IPNextHop = netip.AddrFrom4([4]byte{})
		}
	}
	// Not carried by v9 and IPFIX: BGP next hop, out counters and
	// aggregated flows, forwarding status, destination ToS, direction,
	// biflow and end reason, MPLS labels, adjacent ASes, latencies.
	return out, true
}

// strip zeroes what a decoder adds to a record.
func strip(r flow.Record) flow.Record {
	r.Elements, r.NFVersion, r.ExporterID, r.Exporter, r.Received = 0, 0, 0, netip.Addr{}, 0
	return r
}

// encodeAll encodes recs into datagrams with enc until all are taken.
func encodeAll(t testing.TB, enc netflow.Encoder, recs []flow.Record, now uint64) [][]byte {
	t.Helper()
	var out [][]byte
	for len(recs) > 0 {
		d, n := enc.Encode(make([]byte, 0, netflow.DefaultMTU), recs, now)
		require.Positive(t, n, "Encode took no record")
		require.LessOrEqual(t, n, len(recs))
		recs = recs[n:]
		if len(d) > 0 {
			out = append(out, d)
		}
	}
	return out
}

// roundTrip encodes recs with a fresh encoder of cfg, decodes the
// datagrams, and checks that every record comes back as carried says, that
// the decoder saw no sequence failure and that the stats add up.
func roundTrip(t *testing.T, cfg netflow.EncoderConfig, recs []flow.Record) {
	t.Helper()
	enc, err := netflow.NewEncoder(cfg)
	require.NoError(t, err)
	dgrams := encodeAll(t, enc, recs, exportTime)
	c := &collector{}
	dec := netflow.NewDecoder(netflow.Options{})
	mtu := cfg.MTU
	if mtu == 0 {
		mtu = netflow.DefaultMTU
	}
	for i, d := range dgrams {
		require.LessOrEqual(t, len(d), mtu, "datagram %d", i)
		require.NoError(t, dec.Decode(d, lo, when, c), "datagram %d", i)
	}
	eff := cfg
	if eff.BootTime == 0 {
		eff.BootTime = exportTime - netflow.FprobeUptime // fprobe's uptime trick
	}
	var want []flow.Record
	skipped := 0
	for _, r := range recs {
		if w, ok := carried(cfg.Version, eff, r); ok {
			want = append(want, w)
		} else {
			skipped++
		}
	}
	// A datagram carries its records grouped by template, not in the
	// order given.
	got := make([]flow.Record, len(c.flows))
	for i, r := range c.flows {
		got[i] = strip(r)
	}
	require.ElementsMatch(t, want, got)
	if len(dgrams) > 0 {
		st := dec.TakeStats()
		require.Len(t, st, 1)
		assert.Zero(t, st[0].SequenceFailures, "sequence numbers")
	}
	assert.Equal(t, netflow.EncoderStats{Datagrams: uint64(len(dgrams)), Records: uint64(len(want)),
		Skipped: uint64(skipped), Templates: enc.Stats().Templates}, enc.Stats())
}

// windowed moves a record's times into the last hour before exportTime,
// where every version carries them exactly.
func windowed(r flow.Record, rng *rand.Rand) flow.Record {
	d := r.Last - r.First
	r.Last = exportTime - uint64(rng.IntN(3_600_000))
	r.First = r.Last - min(d, 3_600_000)
	return r
}

// edgeRecords are records at the limits of the formats.
func edgeRecords() []flow.Record {
	v4 := netip.MustParseAddr
	first := exportTime - 60_000
	base := flow.Record{First: first, Last: exportTime - 1, SrcAddr: v4("10.1.2.3"), DstAddr: v4("192.0.2.9"),
		Proto: flow.ProtoTCP, SrcPort: 40000, DstPort: 443, InPackets: 10, InBytes: 1500, TCPFlags: 0x1b, SrcTos: 0x28}
	with := func(f func(r *flow.Record)) flow.Record { r := base; f(&r); return r }
	return []flow.Record{
		base,
		// zero but for the times (v1-v9 carry times within 2^32 ms of
		// the boot time they count from)
		{First: exportTime - 1, Last: exportTime - 1},
		with(func(r *flow.Record) { r.First, r.Last = exportTime, exportTime }), // exported the instant it ended
		with(func(r *flow.Record) { r.InPackets, r.InBytes = 1<<32-1, 1<<32-1 }),
		with(func(r *flow.Record) { r.InPackets, r.InBytes = 1<<40, 1<<64-1 }), // v9/IPFIX only
		with(func(r *flow.Record) { r.Input, r.Output = 65535, 70000 }),
		with(func(r *flow.Record) { r.Proto, r.SrcPort, r.DstPort, r.TCPFlags = flow.ProtoICMP, 0, 3<<8|3, 0 }),
		with(func(r *flow.Record) { r.Proto, r.SrcPort, r.DstPort, r.TCPFlags = flow.ProtoICMP, 0, 0<<8|0, 0 }),
		with(func(r *flow.Record) { r.Proto, r.SrcPort, r.DstPort, r.TCPFlags = flow.ProtoICMP, 0, 8<<8, 0 }),
		with(func(r *flow.Record) { r.Proto, r.SrcPort, r.DstPort = 132, 5000, 5001 }), // SCTP keeps its ports
		with(func(r *flow.Record) { r.Proto, r.SrcPort, r.DstPort = 47, 0, 0 }),
		with(func(r *flow.Record) {
			r.SrcAddr, r.DstAddr = v4("2001:db8::1"), v4("2001:db8:ffff::2")
		}),
		with(func(r *flow.Record) {
			r.SrcAddr, r.DstAddr, r.Proto, r.SrcPort, r.DstPort = v4("fe80::1"), v4("ff02::1"), flow.ProtoICMPv6, 0, 135<<8
		}),
		with(func(r *flow.Record) { r.SrcAddr = v4("::ffff:10.0.0.1") }), // v4-mapped: an IPv6 flow
		with(func(r *flow.Record) {
			r.InSrcMAC, r.InDstMAC, r.OutDstMAC, r.OutSrcMAC = 0x0000_5e00_5301, 0xffff_ffff_ffff, 0, 0x0200_0000_0001
		}),
		with(func(r *flow.Record) { r.SrcVLAN, r.DstVLAN = 4095, 1 }),
		with(func(r *flow.Record) {
			r.SrcVLAN, r.InSrcMAC, r.SrcMask, r.DstMask, r.SrcAS, r.DstAS = 100, 0x0a0b0c0d0e0f, 24, 16, 4200000000, 65001
			r.IPNextHop = v4("10.0.0.254")
		}),
		with(func(r *flow.Record) {
			r.SrcAddr, r.DstAddr, r.IPNextHop, r.SrcMask = v4("2001:db8::1"), v4("2001:db8::2"), v4("fe80::1"), 64
		}),
		with(func(r *flow.Record) { r.IPNextHop = v4("2001:db8::1") }), // next hop of the other family
	}
}

// TestEncodeRoundTrip: every version, with fprobe's uptime and with a
// configured boot time, carries plausible, random and edge-case records
// through our decoders as carried documents, with sequence numbers the
// decoder accepts.
func TestEncodeRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	var recs []flow.Record
	g := flowgen.New(3, exportTime-3_600_000)
	for range 400 {
		var r flow.Record
		g.Next(&r)
		recs = append(recs, r)
	}
	for range 400 {
		recs = append(recs, windowed(flowgen.Random(rng), rng))
	}
	recs = append(recs, edgeRecords()...)
	for _, v := range versions {
		for _, boot := range []uint64{0, exportTime - 86_400_000 - 777} {
			cfg := netflow.EncoderConfig{Version: v, BootTime: boot, EngineType: 3, EngineID: 4, SourceID: 0x0506}
			t.Run(name(v, boot), func(t *testing.T) { roundTrip(t, cfg, recs) })
		}
	}
}

// name names a round-trip subtest.
func name(v int, boot uint64) string {
	if boot == 0 {
		return vname(v) + "-uptime-trick"
	}
	return vname(v) + "-boot"
}

// vname names a version: v1, v5, v7, v9, ipfix.
func vname(v int) string {
	if v == 10 {
		return "ipfix"
	}
	return fmt.Sprintf("v%d", v)
}

// TestEncodeSkipsIPv6: v1, v5 and v7 take IPv6 flows and count them as
// skipped; a batch of IPv6 flows only gives an empty datagram.
func TestEncodeSkipsIPv6(t *testing.T) {
	v6 := flow.Record{SrcAddr: netip.MustParseAddr("2001:db8::1"), DstAddr: netip.MustParseAddr("2001:db8::2"), Last: exportTime}
	v4 := flow.Record{SrcAddr: netip.MustParseAddr("10.0.0.1"), DstAddr: netip.MustParseAddr("10.0.0.2"), Last: exportTime}
	for _, v := range []int{1, 5, 7} {
		enc, err := netflow.NewEncoder(netflow.EncoderConfig{Version: v})
		require.NoError(t, err)
		d, n := enc.Encode(nil, []flow.Record{v6, v6, v6}, exportTime)
		assert.Empty(t, d, "v%d", v)
		assert.Equal(t, 3, n)
		d, n = enc.Encode(nil, []flow.Record{v6, v4, v6, v4}, exportTime)
		assert.Equal(t, 4, n)
		assert.Equal(t, uint16(2), binary.BigEndian.Uint16(d[2:]), "v%d count", v)
		assert.Equal(t, netflow.EncoderStats{Datagrams: 1, Records: 2, Skipped: 5}, enc.Stats(), "v%d", v)
	}
}

// TestEncodeFixedFormats checks the v1, v5 and v7 headers field by field,
// the record limits and the flow sequence that counts flows.
func TestEncodeFixedFormats(t *testing.T) {
	rec := flow.Record{SrcAddr: netip.MustParseAddr("10.0.0.1"), DstAddr: netip.MustParseAddr("10.0.0.2"),
		First: exportTime - 5000, Last: exportTime - 1000, InPackets: 2, InBytes: 80, Proto: flow.ProtoUDP}
	recs := make([]flow.Record, 100)
	for i := range recs {
		recs[i] = rec
	}
	be := binary.BigEndian
	for _, c := range []struct {
		v, hdr, rec, max int
	}{{1, 16, 48, 24}, {5, 24, 48, 30}, {7, 24, 52, 27}} {
		enc, err := netflow.NewEncoder(netflow.EncoderConfig{Version: c.v, EngineType: 1, EngineID: 2})
		require.NoError(t, err)
		seq := uint32(0)
		var d []byte
		for rest := recs; len(rest) > 0; {
			want := min(c.max, len(rest))
			var n int
			d, n = enc.Encode(d, rest, exportTime)
			rest = rest[n:]
			require.Equal(t, want, n, "v%d", c.v)
			require.Len(t, d, c.hdr+want*c.rec)
			assert.Equal(t, uint16(c.v), be.Uint16(d))
			assert.Equal(t, uint16(want), be.Uint16(d[2:]))
			assert.Equal(t, uint32(netflow.FprobeUptime), be.Uint32(d[4:]), "sysUpTime of the uptime trick")
			assert.Equal(t, uint32(exportTime/1000), be.Uint32(d[8:]))
			assert.Equal(t, uint32(exportTime%1000*1e6), be.Uint32(d[12:]))
			first := uint32(netflow.FprobeUptime - 5000)
			assert.Equal(t, first, be.Uint32(d[c.hdr+24:]), "first switched")
			assert.Equal(t, first+4000, be.Uint32(d[c.hdr+28:]), "last switched")
			if c.v == 1 {
				continue
			}
			assert.Equal(t, seq, be.Uint32(d[16:]), "v%d flow sequence", c.v)
			seq += uint32(want)
			if c.v == 5 {
				assert.Equal(t, []byte{1, 2, 0, 0}, d[20:24], "engine type, id, sampling")
			} else {
				assert.Equal(t, []byte{0, 0, 0, 0}, d[20:24], "v7 reserved")
			}
		}
	}
}

// TestEncodeMTU: a smaller MTU gives smaller datagrams that still carry
// every record; an MTU too small for one record is refused.
func TestEncodeMTU(t *testing.T) {
	g := flowgen.New(5, exportTime-600_000)
	recs := make([]flow.Record, 300)
	for i := range recs {
		g.Next(&recs[i])
	}
	for _, v := range versions {
		for _, mtu := range []int{400, 576, 1452, 9000} {
			cfg := netflow.EncoderConfig{Version: v, MTU: mtu, SourceID: 1}
			enc, err := netflow.NewEncoder(cfg)
			require.NoError(t, err, "v%d mtu %d", v, mtu)
			total := 0
			dec := netflow.NewDecoder(netflow.Options{})
			c := &collector{}
			for rest := recs; len(rest) > 0; {
				d, n := enc.Encode(nil, rest, exportTime)
				require.LessOrEqual(t, len(d), mtu)
				require.NoError(t, dec.Decode(d, lo, when, c))
				rest = rest[n:]
				total += n
			}
			require.Equal(t, len(recs), total)
			kept := 0
			for _, r := range recs {
				if _, ok := carried(v, cfg, r); ok {
					kept++
				}
			}
			require.Len(t, c.flows, kept, "v%d mtu %d", v, mtu)
		}
		_, err := netflow.NewEncoder(netflow.EncoderConfig{Version: v, MTU: 60})
		assert.Error(t, err, "v%d MTU 60", v)
	}
	_, err := netflow.NewEncoder(netflow.EncoderConfig{Version: 8})
	assert.ErrorContains(t, err, "version 8")
}

// sets lists the (set id, length) pairs of a v9 or IPFIX datagram.
func sets(t *testing.T, d []byte) [][2]int {
	t.Helper()
	hdr := 20
	if binary.BigEndian.Uint16(d) == 10 {
		hdr = 16
		require.Equal(t, len(d), int(binary.BigEndian.Uint16(d[2:])), "IPFIX length")
	}
	var out [][2]int
	for p := d[hdr:]; len(p) > 0; {
		require.GreaterOrEqual(t, len(p), 4)
		id, l := int(binary.BigEndian.Uint16(p)), int(binary.BigEndian.Uint16(p[2:]))
		require.GreaterOrEqual(t, l, 4)
		require.LessOrEqual(t, l, len(p))
		out = append(out, [2]int{id, l})
		p = p[l:]
	}
	return out
}

// templateIDs lists the ids of the template records in the datagram's
// template sets.
func templateIDs(t *testing.T, d []byte) []int {
	t.Helper()
	hdr, tid := 20, 0
	if binary.BigEndian.Uint16(d) == 10 {
		hdr, tid = 16, 2
	}
	var ids []int
	p := d[hdr:]
	for _, s := range sets(t, d) {
		if s[0] == tid {
			for q := p[4:s[1]]; len(q) > 0; {
				ids = append(ids, int(binary.BigEndian.Uint16(q)))
				q = q[4+4*int(binary.BigEndian.Uint16(q[2:])):]
			}
		}
		p = p[s[1]:]
	}
	return ids
}

// templateRecords counts the template records in the datagram.
func templateRecords(t *testing.T, d []byte) int { return len(templateIDs(t, d)) }

// TestEncodeTemplates: templates go first, once per shape, then again every
// N datagrams and every T ms; v9 counts datagrams and records (templates
// included), IPFIX counts data records.
func TestEncodeTemplates(t *testing.T) {
	v4 := flow.Record{SrcAddr: netip.MustParseAddr("10.0.0.1"), DstAddr: netip.MustParseAddr("10.0.0.2"),
		First: exportTime - 10, Last: exportTime, InPackets: 1, InBytes: 40, Proto: flow.ProtoTCP}
	v6 := v4
	v6.SrcAddr, v6.DstAddr = netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
	vlan := v4
	vlan.SrcVLAN = 7
	be := binary.BigEndian
	for _, v := range []int{9, 10} {
		enc, err := netflow.NewEncoder(netflow.EncoderConfig{Version: v, TemplateEvery: 3, TemplateTimeout: 10_000})
		require.NoError(t, err)
		tid := map[int]int{9: 0, 10: 2}[v]
		now := exportTime
		got := []int{}
		for i := range 8 {
			recs := []flow.Record{v4, v4}
			if i == 1 {
				recs = []flow.Record{v4, v6, vlan, v6} // two new shapes
			}
			if i == 7 {
				now += 10_000 // the timeout, 2 datagrams after the last refresh
			}
			d, n := enc.Encode(nil, recs, now)
			require.Equal(t, len(recs), n)
			got = append(got, templateRecords(t, d))
			ss := sets(t, d)
			if i == 0 {
				assert.Equal(t, [][2]int{{tid, ss[0][1]}, {256, ss[1][1]}}, ss, "template set, then data")
			}
			if i == 1 {
				// The two new templates in one set, then a data set a
				// shape, in the order the shapes came: the two v6
				// records in one set.
				ids := []int{}
				for _, s := range ss {
					ids = append(ids, s[0])
				}
				assert.Equal(t, []int{tid, 256, 257, 256 + 8}, ids)
			}
			if v == 9 {
				assert.Equal(t, uint32(i), be.Uint32(d[12:]), "v9 sequence counts datagrams")
				assert.Equal(t, uint16(len(recs)+got[i]), be.Uint16(d[2:]), "v9 count: templates and records")
			}
		}
		// datagram 0: one; 1: two new; 3 and 6: every 3 (all three known);
		// 7: the 10 s timeout.
		assert.Equal(t, []int{1, 2, 0, 3, 0, 0, 3, 0}[:7], got[:7], "v%d", v)
		assert.Equal(t, 3, got[7], "v%d timeout refresh", v)
		if v == 10 {
			// 2 + 4 + 2*6 data records before the last message
			d, _ := enc.Encode(nil, []flow.Record{v4}, now)
			assert.Equal(t, uint32(2+4+2*6), be.Uint32(d[8:]), "IPFIX sequence counts data records")
		}
		assert.Equal(t, uint64(1+2+3+3+3), enc.Stats().Templates)
	}
}

// TestEncodeRefreshSpills: a refresh of more templates than fit one
// datagram goes out over the following ones, each datagram still carrying
// records, and a refresh due before the last one finished goes on with it
// rather than starting over, so that every template is refreshed.
func TestEncodeRefreshSpills(t *testing.T) {
	var recs []flow.Record
	for s := range 64 { // one record of every shape
		r := flow.Record{SrcAddr: netip.MustParseAddr("10.0.0.1"), DstAddr: netip.MustParseAddr("10.0.0.2"), Last: exportTime}
		if s&1 != 0 {
			r.SrcAddr, r.DstAddr = netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
		}
		if s&2 != 0 {
			r.InSrcMAC = 1
		}
		if s&4 != 0 {
			r.OutDstMAC = 1
		}
		if s&8 != 0 {
			r.SrcVLAN = 1
		}
		if s&16 != 0 {
			r.SrcMask = 8
		}
		if s&32 != 0 {
			r.InBytes = 1 << 32
		}
		recs = append(recs, r)
	}
	for _, v := range []int{9, 10} {
		enc, err := netflow.NewEncoder(netflow.EncoderConfig{Version: v, MTU: 576, TemplateEvery: 1})
		require.NoError(t, err)
		dec := netflow.NewDecoder(netflow.Options{})
		c := &collector{}
		ids := map[int]bool{}
		for rest := recs; len(rest) > 0; {
			d, n := enc.Encode(nil, rest, exportTime)
			require.Positive(t, n)
			require.LessOrEqual(t, len(d), 576)
			require.NoError(t, dec.Decode(d, lo, when, c))
			for _, id := range templateIDs(t, d) {
				ids[id] = true
			}
			rest = rest[n:]
		}
		require.Len(t, c.flows, 64)
		require.Len(t, ids, 64, "v%d: every shape's template", v)
		// Every following datagram is due for a refresh: the 64
		// templates need several, and each still carries its record.
		refreshed := map[int]int{}
		counts := []int{}
		for range 24 {
			d, n := enc.Encode(nil, recs[:1], exportTime)
			require.Equal(t, 1, n)
			require.LessOrEqual(t, len(d), 576)
			got := templateIDs(t, d)
			counts = append(counts, len(got))
			for _, id := range got {
				refreshed[id]++
			}
		}
		assert.Greater(t, slices.Max(counts), 1, "v%d: %v", v, counts)
		assert.Less(t, slices.Max(counts), 64, "v%d: a 576-byte datagram cannot hold all 64", v)
		assert.Len(t, refreshed, 64, "v%d: every template refreshed: %v", v, counts)
	}
}

// TestEncodePure: the same records and times give the same bytes.
func TestEncodePure(t *testing.T) {
	g := flowgen.New(9, exportTime-600_000)
	recs := make([]flow.Record, 200)
	for i := range recs {
		g.Next(&recs[i])
	}
	for _, v := range versions {
		a, err := netflow.NewEncoder(netflow.EncoderConfig{Version: v})
		require.NoError(t, err)
		b, err := netflow.NewEncoder(netflow.EncoderConfig{Version: v})
		require.NoError(t, err)
		assert.Equal(t, encodeAll(t, a, recs, exportTime), encodeAll(t, b, recs, exportTime), "v%d", v)
	}
}

// TestEncodeNoAlloc: in steady state (templates built, a buffer of MTU
// capacity) encoding does not allocate.
func TestEncodeNoAlloc(t *testing.T) {
	g := flowgen.New(11, exportTime-600_000)
	recs := make([]flow.Record, 64)
	for i := range recs {
		g.Next(&recs[i])
	}
	for _, v := range versions {
		enc, err := netflow.NewEncoder(netflow.EncoderConfig{Version: v, TemplateEvery: 2})
		require.NoError(t, err)
		buf := make([]byte, 0, netflow.DefaultMTU)
		encodeAll(t, enc, recs, exportTime)
		allocs := testing.AllocsPerRun(100, func() {
			for rest := recs; len(rest) > 0; {
				d, n := enc.Encode(buf, rest, exportTime)
				buf = d
				rest = rest[n:]
			}
		})
		assert.Zero(t, allocs, "v%d", v)
		// Without a buffer, a datagram's is made once, as large as the
		// largest datagram, not grown.
		allocs = testing.AllocsPerRun(100, func() { enc.Encode(nil, recs, exportTime) })
		assert.Equal(t, 1.0, allocs, "v%d: a datagram's buffer", v)
	}
}

// fuzzRecords turns fuzz bytes into records, 40 bytes each: every field
// any version carries, times within the window of 2^20 s before
// exportTime that every version carries exactly.
func fuzzRecords(b []byte) []flow.Record {
	be := binary.BigEndian
	var recs []flow.Record
	for ; len(b) >= 40; b = b[40:] {
		ctl := b[0]
		r := flow.Record{
			Proto:   []uint8{flow.ProtoTCP, flow.ProtoUDP, flow.ProtoICMP, flow.ProtoICMPv6, b[1]}[int(ctl&7)%5],
			SrcPort: be.Uint16(b[2:]), DstPort: be.Uint16(b[4:]),
			TCPFlags: b[6], SrcTos: b[7],
			InPackets: be.Uint64(b[8:]) >> (b[1] & 63), InBytes: be.Uint64(b[16:]) >> (b[6] & 63),
			Input: uint32(be.Uint16(b[24:])) << (ctl >> 7 * 16), Output: uint32(b[26]),
		}
		back := uint64(be.Uint32(b[27:])) % netflow.FprobeUptime
		r.Last = exportTime - back
		r.First = r.Last - uint64(be.Uint16(b[31:]))%(netflow.FprobeUptime-back+1)
		var a4 [4]byte
		copy(a4[:], b[33:37])
		r.SrcAddr, r.DstAddr = netip.AddrFrom4(a4), netip.AddrFrom4([4]byte{10, b[37], b[38], b[39]})
		if ctl&8 != 0 {
			var a16 [16]byte
			copy(a16[:], b[24:40])
			r.SrcAddr, r.DstAddr = netip.AddrFrom16(a16), netip.AddrFrom16([16]byte{0x20, 1, 0xd, 0xb8, 15: b[2]})
		}
		if ctl&16 != 0 {
			r.InSrcMAC, r.OutDstMAC = be.Uint64(b[8:])>>16, uint64(b[30])
		}
		if ctl&32 != 0 {
			r.SrcVLAN, r.DstVLAN = uint32(be.Uint16(b[2:])), uint32(b[5])
		}
		if ctl&64 != 0 {
			r.SrcMask, r.DstMask, r.SrcAS, r.DstAS = b[36], b[37], be.Uint32(b[12:]), uint32(b[38])
			r.IPNextHop = r.DstAddr
		}
		recs = append(recs, r)
	}
	return recs
}

// FuzzEncodeRoundTrip: for any records and any configuration, every
// version's datagrams decode back to the records as carried documents.
func FuzzEncodeRoundTrip(f *testing.F) {
	seed := make([]byte, 4+40*8)
	for i := range seed {
		seed[i] = byte(i * 37)
	}
	f.Add(seed)
	f.Add(make([]byte, 4+40*3))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 4 {
			return
		}
		cfg := netflow.EncoderConfig{
			Version:       versions[int(b[0])%len(versions)],
			MTU:           400 + int(binary.BigEndian.Uint16(b[1:]))%9000,
			TemplateEvery: 1 + int(b[3]%30),
			SourceID:      uint32(b[3]),
		}
		if b[0]&0x80 != 0 {
			cfg.BootTime = exportTime - netflow.FprobeUptime + 1000*uint64(b[1])
		}
		roundTrip(t, cfg, fuzzRecords(b[4:]))
	})
}

// TestEncodeMaxRecords: no Encode call takes MaxRecords records or more,
// and handing an encoder MaxRecords records at a time gives the
// datagrams handing it all of them gives; the smallest shape is the
// one MaxRecords counts with.
func TestEncodeMaxRecords(t *testing.T) {
	g := flowgen.New(12, exportTime-600_000)
	recs := make([]flow.Record, 3000)
	for i := range recs {
		g.Next(&recs[i])
	}
	// Runs of small IPv4 flows, the most a datagram takes.
	for i := 0; i < 1000; i++ {
		r := &recs[i]
		*r = flow.Record{SrcAddr: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), DstAddr: netip.MustParseAddr("10.9.9.9"),
			SrcPort: uint16(i), DstPort: 53, Proto: flow.ProtoUDP, InPackets: 1, InBytes: 60, First: r.First, Last: r.First}
	}
	for _, v := range versions {
		for _, mtu := range []int{0, 600, 9000} {
			cfg := netflow.EncoderConfig{Version: v, MTU: mtu}
			all, err := netflow.NewEncoder(cfg)
			require.NoError(t, err)
			win, err := netflow.NewEncoder(cfg)
			require.NoError(t, err)
			bound := win.MaxRecords()
			if v < 9 {
				assert.Zero(t, bound, "v%d skips IPv6 flows: no bound", v)
				continue
			}
			require.Positive(t, bound)
			most := 0
			for i, j := 0, 0; i < len(recs); {
				a, n := all.Encode(nil, recs[i:], exportTime)
				b, m := win.Encode(nil, recs[j:min(j+bound, len(recs))], exportTime)
				require.Equal(t, a, b, "v%d MTU %d, datagram at flow %d", v, mtu, i)
				require.Equal(t, n, m)
				require.Less(t, n, bound)
				most = max(most, n)
				i, j = i+n, j+m
			}
			assert.Equal(t, bound-1, most, "v%d MTU %d: the bound is met by the smallest records", v, mtu)
		}
	}
}
