package main

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/aggregate"
	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/internal/flowgen"
	"github.com/nfgo/nftools/internal/testutil"
	"github.com/nfgo/nftools/output"
)

// These tests hold the printed form of aggregated records to nfdump's in
// the modes where it differs from a plain record's: under an -A list raw
// and json print only the record header (nfdump's aggregation mask clears
// the element list), -a/-b/-B raw prints the reverse TCP flags, and ICMP
// type and code read 0.0 in the fmt modes but the port in csv and pipe.

// recordBlocks cuts a listing into its records and what is left (header,
// summary). raw records start with a blank line and "Flow Record:"; json
// records are "{...}" objects separated by ",\n"; every other mode has a
// record a line, after a header line unless header is false.
func recordBlocks(out, mode string, header bool) (recs []string, rest string) {
	switch mode {
	case "raw", "raw6":
		parts := strings.Split(out, "\nFlow Record: \n")
		rest = parts[0]
		for i, p := range parts[1:] {
			if i == len(parts)-2 {
				// The last record runs into the summary.
				if j := strings.Index(p, "\nSummary: "); j >= 0 {
					p, rest = p[:j+1], rest+p[j+1:]
				}
			}
			recs = append(recs, p)
		}
		return recs, rest
	case "json":
		body := strings.TrimSuffix(strings.TrimPrefix(out, "[\n"), "]\n")
		if !strings.HasPrefix(body, "{") || !strings.HasSuffix(body, "}") {
			return nil, out
		}
		return strings.Split(body[1:len(body)-1], "},\n{"), "[]"
	}
	head, lines, tail := split(out, header)
	return lines, head + tail
}

// compareBlocks runs both programs and wants the same records in any
// order (nfdump prints its hash table's order) and the same rest.
func compareBlocks(t *testing.T, cmdlines ...string) {
	t.Helper()
	for _, cl := range cmdlines {
		args := strings.Fields(cl)
		mode := "line"
		if i := slices.Index(args, "-o"); i >= 0 {
			mode = args[i+1]
		}
		header := !slices.Contains(args, "-q") && mode != "pipe"
		want, got := nfdump(t, args...), godump(args...)
		require.Equal(t, want.code, got.code, "godump %s: %s", cl, got.stderr)
		assert.Equal(t, want.stderr, got.stderr, cl)
		wr, wrest := recordBlocks(want.stdout, mode, header)
		gr, grest := recordBlocks(got.stdout, mode, header)
		assert.Equal(t, wrest, grest, "header and summary: godump %s", cl)
		slices.Sort(wr)
		slices.Sort(gr)
		assert.Equal(t, wr, gr, "records: godump %s", cl)
	}
}

// outputModes are the modes whose rendering of an aggregated record is
// checked: the built-in printers, the fmt modes with and without flags,
// and a format with every token that shows a masked field.
var outputModes = []string{"raw", "json", "csv", "pipe", "line", "long", "extended", "bilong",
	"fmt:%sap|%dap|%dp|%it|%ic|%pr|%flg|%sa|%da|%tr|%ra|%eng|%exp|%cnt|%in|%out|%smk|%dmk|%stos|%dtos"}

func TestAggregateOutputSamples(t *testing.T) {
	inSamples(t)
	var cls []string
	for _, in := range []string{"-r " + f9, "-r " + f5, "-r " + fIPFX, "-R flows", "-R flows-edge"} {
		for _, agg := range []string{"-a", "-b", "-B", "-A srcip,dstport", "-A proto,dstport", "-A srcip4/24,proto",
			"-A srcnet,dstnet,router,inif"} {
			for _, m := range outputModes {
				cls = append(cls, in+" "+agg+" -o "+m)
			}
		}
	}
	// -q, -6, and the record tables of -s, which print their records
	// the same way.
	cls = append(cls,
		"-R flows -b -o raw -q", "-R flows -A srcip,dstport -o raw -q", "-R flows -A proto,dstport -o csv -q",
		"-R flows -B -o raw -6", "-R flows -A srcip6/64,dstport -o raw6",
	)
	// -n so high that no tie is cut: nfdump's order of equal records is
	// its own.
	cls = append(cls,
		"-R flows -b -s record -n 100 -o raw", "-R flows -A srcip,dstport -s record/bytes -n 100 -o raw",
		"-R flows -A proto,dstport -s record -n 100 -o csv", "-R flows -A proto,dstport -s record -n 100 -o line",
		"-R flows -a -s record -n 100 -o fmt:%cnt|%sap|%dap",
	)
	compareBlocks(t, cls...)
}

// TestAggregateOutputMarks: the output package knows the marks the
// aggregation engine sets by their bit numbers; they must not drift.
func TestAggregateOutputMarks(t *testing.T) {
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	elems := flow.Elements(0).With(flow.ElemGeneric).With(flow.ElemIPv4)
	icmp := flow.Record{Elements: elems, Proto: flow.ProtoICMP, SrcAddr: a, DstAddr: b, DstPort: 0x0303, InPackets: 1}
	req := flow.Record{Elements: elems, Proto: flow.ProtoTCP, SrcAddr: a, DstAddr: b, SrcPort: 40000, DstPort: 80, TCPFlags: 0x02, InPackets: 1}
	resp := req
	resp.SrcAddr, resp.DstAddr, resp.SrcPort, resp.DstPort, resp.TCPFlags = b, a, 80, 40000, 0x12
	for _, tc := range []struct {
		spec       *aggregate.Spec
		mode, want string
		in         []flow.Record
	}{
		{mustFields(t, "proto,dstport"), "fmt:%pr %dp %it %ic", "ICMP     0.0      0      0", []flow.Record{icmp}},
		{mustFields(t, "proto,dstport"), "csv", ",771,ICMP,", []flow.Record{icmp}},
		{mustFields(t, "srcip"), "raw", "Elements     =                 2: 0 0 \n  size", []flow.Record{icmp}},
		{aggregate.Bidir(false), "raw", "  tcp flags    =              0x02 ......S.\n  revtcp flags =              0x12 ...A..S.\n", []flow.Record{req, resp}},
	} {
		tb := aggregate.New(tc.spec)
		for i := range tc.in {
			tb.Add(&tc.in[i])
		}
		var out bytes.Buffer
		p, err := output.New(&out, output.Options{Mode: tc.mode, Quiet: true})
		require.NoError(t, err)
		require.NoError(t, p.Begin())
		recs := tb.Records()
		for i := range recs {
			require.NoError(t, p.Print(&recs[i]))
		}
		require.NoError(t, p.End(&output.Summary{Passed: 1}))
		assert.Contains(t, out.String(), tc.want, tc.mode)
	}
}

func mustFields(t *testing.T, list string) *aggregate.Spec {
	t.Helper()
	s, err := aggregate.ParseFields(list)
	require.NoError(t, err)
	return s
}

// writeRandomPairs writes n random flows (random elements and values,
// reverse flags in the misc element among them) and, for most, an
// answer in the other direction with flags of its own, so that -b pairs
// TCP and UDP flows that both carry flags. Ports are few, so that -A keys
// repeat.
func writeRandomPairs(t *testing.T, dir string, n int) string {
	t.Helper()
	path := filepath.Join(dir, "nfcapd.202611250100")
	w, err := flowfile.Create(path, flowfile.WriteOptions{Ident: "pairs"})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < n; i++ {
		r := flowgen.Random(rng)
		r.SrcPort, r.DstPort = 1000+r.SrcPort%5, 40000+r.DstPort%5
		if r.IsICMP() {
			r.DstPort = []uint16{0x0800, 0, 0x0303, 0x8000}[rng.IntN(4)]
		}
		if rng.IntN(4) == 0 {
			r.TCPFlags = 0
		}
		if r.Elements.Has(flow.ElemBGPNextHopV6) {
			// nfdump's csv prints the IP next hop for an IPv6 BGP next
			// hop, we do not (output/COMPATIBILITY.md).
			r.Elements, r.BGPNextHop = r.Elements.Without(flow.ElemBGPNextHopV6), netip.Addr{}
		}
		require.NoError(t, w.WriteFlow(&r))
		if rng.IntN(3) > 0 {
			back := r
			back.SrcAddr, back.DstAddr = r.DstAddr, r.SrcAddr
			back.SrcPort, back.DstPort = r.DstPort, r.SrcPort
			back.First += 10
			back.TCPFlags = uint8(rng.IntN(256))
			if rng.IntN(4) == 0 {
				back.TCPFlags = 0
			}
			require.NoError(t, w.WriteFlow(&back))
		}
	}
	require.NoError(t, w.Close())
	return path
}

func TestAggregateOutputGenerated(t *testing.T) {
	testutil.RequireTool(t, "nfdump")
	dir := t.TempDir()
	random := "-r " + writeRandomPairs(t, dir, 3000)
	plain := "-r " + writeGenerated(t, dir, 5000)
	var cls []string
	for _, in := range []string{random, plain} {
		for _, agg := range []string{"-a", "-b", "-B", "-A srcip,dstport", "-A proto,dstport", "-A srcip,srcport,proto",
			"-A srcip4/16,dstip6/48,proto,dstport", "-A srcas,dstas,inif,outif,next,bgpnext,router,tos"} {
			for _, m := range []string{"raw", "json", "csv", "pipe", "long", "extended", outputModes[len(outputModes)-1]} {
				cls = append(cls, in+" "+agg+" -o "+m)
			}
		}
	}
	// Plain records keep the reverse flags of their misc element to
	// themselves.
	cls = append(cls, random+" -o raw", random+" -o json", random+" -b -s record/bytes -n 100000 -o raw")
	compareBlocks(t, cls...)
}
