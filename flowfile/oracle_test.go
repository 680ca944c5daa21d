package flowfile

// Differential tests against the real nfdump 1.7.1: every file nfcapd wrote
// for the shared samples must decode to exactly what nfdump prints for it,
// and every file we write must be accepted and printed back by nfdump.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/testutil"
)

// runNfdump runs the real nfdump with TZ=UTC. It must succeed and print
// nothing on stderr: nfdump exits 0 even when a block fails to decompress,
// and the only sign is a message there.
func runNfdump(t *testing.T, args ...string) string {
	t.Helper()
	res := testutil.RunTool(t, "", "nfdump", args...)
	require.Zero(t, res.Code, "nfdump %v: %s", args, res.Stderr)
	require.Empty(t, res.Stderr, "nfdump %v printed errors", args)
	return res.Stdout
}

// readAll reads a whole file with our reader.
type fileContent struct {
	flows     []flow.Record
	exporters []flow.Exporter
	stats     []flow.ExporterStat
	samplers  []flow.Sampler
	ident     string
	stat      Stat
	skipped   Skipped
}

func readAll(t *testing.T, path string) fileContent {
	t.Helper()
	r, err := Open(path, ReadOptions{})
	require.NoError(t, err)
	defer r.Close()
	var c fileContent
	for r.Next() {
		switch r.Kind() {
		case KindFlow:
			c.flows = append(c.flows, *r.Flow())
		case KindExporter:
			c.exporters = append(c.exporters, *r.Exporter())
		case KindExporterStat:
			c.stats = append(c.stats, r.ExporterStats()...)
		case KindSampler:
			c.samplers = append(c.samplers, *r.Sampler())
		}
	}
	require.NoError(t, r.Err())
	require.Empty(t, r.Warnings())
	c.ident, _ = r.Ident()
	c.stat = r.Stat()
	c.skipped = r.Skipped()
	return c
}

func msecUTC(ms uint64) string {
	return time.UnixMilli(int64(ms)).UTC().Format("2006-01-02T15:04:05.000")
}

func macString(m uint64) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x",
		byte(m>>40), byte(m>>32), byte(m>>24), byte(m>>16), byte(m>>8), byte(m))
}

// netString renders src_net/dst_net as nfdump 1.7.1 does. For IPv6 it
// clears the low mask bits instead of keeping the high ones (observed with
// masks up to 32, the only ones the tests generate for IPv6).
func netString(a netip.Addr, bits uint8) string {
	if a.Is6() {
		b := a.As16()
		for i := 0; i < int(bits); i++ {
			b[15-i/8] &^= 1 << uint(i%8)
		}
		return netip.AddrFrom16(b).String()
	}
	p, err := a.Prefix(int(bits))
	if err != nil {
		return "?"
	}
	return p.Addr().String()
}

// expectedJSON is what nfdump -o json prints for r: every key, its value as
// text, in nfdump's order (the key order follows the record's elements).
func expectedJSON(r *flow.Record) [][2]string {
	var kv [][2]string
	add := func(k string, v any) { kv = append(kv, [2]string{k, fmt.Sprint(v)}) }
	typ := "FLOW"
	if r.Flags&flow.FlagEvent != 0 {
		typ = "EVENT"
	}
	add("type", typ)
	sampled := 0
	if r.Sampled() {
		sampled = 1
	}
	add("sampled", sampled)
	add("export_sysid", r.ExporterID)
	e := r.Elements
	if e.Has(flow.ElemGeneric) {
		add("first", msecUTC(r.First))
		add("last", msecUTC(r.Last))
		add("received", msecUTC(r.Received))
		add("in_packets", r.InPackets)
		add("in_bytes", r.InBytes)
		add("proto", r.Proto)
		if r.IsICMP() {
			add("icmp_type", r.ICMPType())
			add("icmp_code", r.ICMPCode())
		} else {
			add("tcp_flags", flow.TCPFlagString(r.TCPFlags))
			add("src_port", r.SrcPort)
			add("dst_port", r.DstPort)
		}
		add("src_tos", r.SrcTos)
	}
	if e.Has(flow.ElemIPv4) {
		add("src4_addr", r.SrcAddr)
		add("dst4_addr", r.DstAddr)
	}
	if e.Has(flow.ElemIPv6) {
		add("src6_addr", r.SrcAddr)
		add("dst6_addr", r.DstAddr)
	}
	if e.Has(flow.ElemMisc) {
		add("input_snmp", r.Input)
		add("output_snmp", r.Output)
		add("src_mask", r.SrcMask)
		add("dst_mask", r.DstMask)
		if r.SrcMask == 0 && r.DstMask == 0 {
			add("src_net", "")
			add("dst_net", "")
		} else {
			add("src_net", netString(r.SrcAddr, r.SrcMask))
			add("dst_net", netString(r.DstAddr, r.DstMask))
		}
		add("fwd_status", r.FwdStatus)
		add("direction", r.Dir)
		add("dst_tos", r.DstTos)
	}
	if e.Has(flow.ElemCounters) {
		add("out_packets", r.OutPackets)
		add("out_bytes", r.OutBytes)
		add("aggr_flows", r.AggrFlows()) // nfdump counts 0 as 1
	}
	if e.Has(flow.ElemVLAN) {
		add("src_vlan", r.SrcVLAN)
		add("dst_vlan", r.DstVLAN)
	}
	if e.Has(flow.ElemAS) {
		add("src_as", r.SrcAS)
		add("dst_as", r.DstAS)
	}
	for _, a := range []struct {
		v4, v6 int
		k4, k6 string
		addr   netip.Addr
	}{
		{flow.ElemBGPNextHopV4, flow.ElemBGPNextHopV6, "bgp4_next_hop", "bgp6_next_hop", r.BGPNextHop},
		{flow.ElemIPNextHopV4, flow.ElemIPNextHopV6, "ip4_next_hop", "ip6_next_hop", r.IPNextHop},
		{flow.ElemExporterIPv4, flow.ElemExporterIPv6, "ip4_router", "ip6_router", r.Exporter},
	} {
		if e.Has(a.v4) {
			add(a.k4, a.addr)
		}
		if e.Has(a.v6) {
			add(a.k6, a.addr)
		}
	}
	if e.Has(flow.ElemMPLS) {
		for i, l := range r.MPLS {
			add(fmt.Sprintf("mpls_%d", i+1), fmt.Sprintf("%d-%d-%d", l>>4, (l>>1)&7, l&1))
		}
	}
	if e.Has(flow.ElemMAC) {
		add("in_src_mac", macString(r.InSrcMAC))
		add("out_dst_mac", macString(r.OutDstMAC))
		add("in_dst_mac", macString(r.InDstMAC))
		add("out_src_mac", macString(r.OutSrcMAC))
	}
	if e.Has(flow.ElemAdjacentAS) {
		add("next_as", r.NextAS)
		add("prev_as", r.PrevAS)
	}
	if e.Has(flow.ElemLatency) {
		add("cli_latency", fmt.Sprintf("%f", float64(r.ClientNwDelay)/1000))
		add("srv_latency", fmt.Sprintf("%f", float64(r.ServerNwDelay)/1000))
		add("app_latency", fmt.Sprintf("%f", float64(r.ApplLatency)/1000))
	}
	add("label", "<none>")
	return kv
}

// jsonLine matches one key/value line of nfdump's json output.
var jsonLine = regexp.MustCompile(`^\t"([^"]+)" : (.*?),?$`)

// parseNfdumpJSON splits nfdump -o json output into records of key/value
// pairs, keeping nfdump's order and its text for each value.
func parseNfdumpJSON(t *testing.T, out string) [][][2]string {
	// nfdump prints this line even in json mode when no flow passed.
	out = strings.Replace(out, "No matching flows\n", "", 1)
	var all []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &all), "nfdump json is not valid JSON")
	var recs [][][2]string
	var cur [][2]string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "{"):
			cur = nil
		case strings.HasPrefix(line, "}"):
			recs = append(recs, cur)
		default:
			if m := jsonLine.FindStringSubmatch(line); m != nil {
				cur = append(cur, [2]string{m[1], strings.Trim(m[2], `"`)})
			}
		}
	}
	require.Len(t, recs, len(all))
	return recs
}

// rawFacts extracts from nfdump -o raw what json does not print: the
// element list, flags, NetFlow version and engine of each record.
func rawFacts(out string) []string {
	var facts []string
	var cur []string
	flush := func() {
		if cur != nil {
			facts = append(facts, strings.Join(cur, " | "))
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "Flow Record:") {
			flush()
			cur = []string{}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || cur == nil {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "Flags", "Elements", "engine type", "engine ID", "biFlow Dir", "end reason":
			if k == "Elements" {
				cur = append(cur, k+"="+v)
				continue
			}
			cur = append(cur, k+"="+strings.Fields(v)[0])
			if k == "Flags" {
				cur = append(cur, "version="+v)
			}
		}
	}
	flush()
	return facts
}

func expectedRawFacts(r *flow.Record) string {
	var ids []string
	for id := 1; id <= flow.MaxModeledElement; id++ {
		if r.Elements.Has(id) {
			ids = append(ids, strconv.Itoa(id))
		}
	}
	sampled := "Unsampled"
	if r.Sampled() {
		sampled = "Sampled"
	}
	ver := fmt.Sprintf("NETFLOW v%d", r.NFVersion&0x0f)
	switch {
	case r.NFVersion&0x80 != 0:
		ver = "SFLOW"
	case r.NFVersion&0x40 != 0:
		ver = "PCAP"
	case r.NFVersion == 0:
		ver = "FLOW"
	}
	if r.Flags&flow.FlagEvent != 0 {
		ver = "EVENT"
	}
	if r.Flags&flow.FlagAnon != 0 {
		ver += " Anonymized"
	}
	facts := []string{
		fmt.Sprintf("Flags=0x%02x", r.Flags),
		fmt.Sprintf("version=0x%02x %s, %s", r.Flags, ver, sampled),
		fmt.Sprintf("Elements=%d: %s", len(ids), strings.Join(ids, " ")),
		fmt.Sprintf("engine type=%d", r.EngineType),
		fmt.Sprintf("engine ID=%d", r.EngineID),
	}
	if r.Elements.Has(flow.ElemMisc) {
		facts = append(facts, fmt.Sprintf("biFlow Dir=0x%02x", r.BiFlowDir), fmt.Sprintf("end reason=0x%02x", r.EndReason))
	}
	return strings.Join(facts, " | ")
}

// checkAgainstNfdump compares every flow of path as we read it with what
// the real nfdump prints for it.
func checkAgainstNfdump(t *testing.T, path string, c fileContent) {
	t.Helper()
	got := parseNfdumpJSON(t, runNfdump(t, "-r", path, "-o", "json"))
	require.Len(t, got, len(c.flows), "number of flows")
	for i := range c.flows {
		assert.Equal(t, expectedJSON(&c.flows[i]), got[i], "flow %d (json)", i)
	}
	raw := rawFacts(runNfdump(t, "-r", path, "-o", "raw"))
	require.Len(t, raw, len(c.flows))
	for i := range c.flows {
		assert.Equal(t, sortedFacts(expectedRawFacts(&c.flows[i])), sortedFacts(raw[i]), "flow %d (raw)", i)
	}
	checkInfo(t, path, c)
}

func sortedFacts(s string) []string {
	f := strings.Split(s, " | ")
	sort.Strings(f)
	return f
}

// checkInfo compares the appendix (nfdump -I) and the exporters (nfdump -E).
func checkInfo(t *testing.T, path string, c fileContent) {
	t.Helper()
	info := runNfdump(t, "-r", path, "-I")
	s := c.stat
	want := fmt.Sprintf("Ident: %s\nFlows: %d\nFlows_tcp: %d\nFlows_udp: %d\nFlows_icmp: %d\nFlows_other: %d\n"+
		"Packets: %d\nPackets_tcp: %d\nPackets_udp: %d\nPackets_icmp: %d\nPackets_other: %d\n"+
		"Bytes: %d\nBytes_tcp: %d\nBytes_udp: %d\nBytes_icmp: %d\nBytes_other: %d\n"+
		"First: %d\nLast: %d\nmsec_first: %d\nmsec_last: %d\nSequence failures: %d\n",
		c.ident, s.Flows, s.FlowsTCP, s.FlowsUDP, s.FlowsICMP, s.FlowsOther,
		s.Packets, s.PacketsTCP, s.PacketsUDP, s.PacketsICMP, s.PacketsOther,
		s.Bytes, s.BytesTCP, s.BytesUDP, s.BytesICMP, s.BytesOther,
		s.FirstSeen/1000, s.LastSeen/1000, s.FirstSeen%1000, s.LastSeen%1000, s.SequenceFailures)
	assert.Equal(t, want, strings.TrimLeft(info, " "), "nfdump -I")

	exp := runNfdump(t, "-E", path)
	sums := map[uint32]flow.ExporterStat{}
	for _, st := range c.stats {
		sum := sums[st.SysID]
		sum.SequenceFailures += st.SequenceFailures
		sum.Packets += st.Packets
		sum.Flows += st.Flows
		sums[st.SysID] = sum
	}
	for _, e := range c.exporters {
		tail := " - no flows sent"
		if sum := sums[uint32(e.SysID)]; sum.Packets != 0 || sum.Flows != 0 {
			tail = fmt.Sprintf(", Sequence failures: %d, packets: %d, flows: %d",
				sum.SequenceFailures, sum.Packets, sum.Flows)
		}
		re := regexp.MustCompile(fmt.Sprintf(`(?m)^SysID: %d, IP: +%s, version: %d, ID: +%d%s$`,
			e.SysID, regexp.QuoteMeta(e.Addr.String()), e.Version, e.ID, regexp.QuoteMeta(tail)))
		assert.Regexp(t, re, exp, "exporter %d", e.SysID)
	}
	for _, sm := range c.samplers {
		assert.Contains(t, exp, fmt.Sprintf("algorithm: %d, packet interval: %d, packet space: %d",
			sm.Algorithm, sm.PacketInterval, sm.SpaceInterval), "sampler %d", sm.ID)
	}
}

func TestReadNfcapdSamplesMatchesNfdump(t *testing.T) {
	for _, path := range testutil.SampleFiles(t) {
		name, _ := filepath.Rel(testutil.NfcapdSamples(t), path)
		t.Run(name, func(t *testing.T) {
			c := readAll(t, path)
			checkAgainstNfdump(t, path, c)
		})
	}
}
