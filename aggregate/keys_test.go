package aggregate_test

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/aggregate"
	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/flowgen"
	"github.com/nfgo/nftools/output"
)

// TestPrintingKeys: an -a, -b or -B table that keeps only keys and metas
// (NewPrintingKeys) prints, in every mode that asks for no more
// (output.PrintsKeyFields), what a table keeping the first flows prints:
// IPv4, IPv6, mixed and missing addresses, ICMP, labels, repeated and
// reversed flows, and hundreds of metas.
func TestPrintingKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var recs []flow.Record
	for i := 0; i < 3000; i++ {
		r := flowgen.Random(rng)
		r.Flags = uint8(i % 120)
		switch i % 9 {
		case 1:
			r.Proto = flow.ProtoICMP
		case 2:
			r.SrcAddr = netip.MustParseAddr("2001:db8::7")
		case 3:
			r.DstAddr = netip.Addr{}
		case 4:
			r.Label = "web"
		case 5:
			r.SrcAddr, r.DstAddr = netip.MustParseAddr("::ffff:10.0.0.1"), netip.MustParseAddr("10.0.0.2")
		case 6:
			r.Proto = flow.ProtoTCP
			r.SrcPort, r.DstPort = 443, 50000
		}
		recs = append(recs, r)
		if i%4 == 0 { // the same key again, and the other direction
			again := flowgen.Random(rng)
			again.SrcAddr, again.DstAddr, again.SrcPort, again.DstPort, again.Proto = r.SrcAddr, r.DstAddr, r.SrcPort, r.DstPort, r.Proto
			back := again
			back.SrcAddr, back.DstAddr, back.SrcPort, back.DstPort = r.DstAddr, r.SrcAddr, r.DstPort, r.SrcPort
			recs = append(recs, again, back)
		}
	}
	print := func(mode string, tab *aggregate.Table) string {
		var b bytes.Buffer
		p, err := output.New(&b, output.Options{Mode: mode, Quiet: true})
		require.NoError(t, err)
		require.True(t, output.PrintsKeyFields(p), mode)
		var r flow.Record
		for _, i := range tab.Order() {
			tab.Record(i, &r)
			require.NoError(t, p.Print(&r))
		}
		require.NoError(t, p.End(&output.Summary{}))
		return b.String()
	}
	for name, spec := range map[string]*aggregate.Spec{
		"-a": aggregate.FiveTuple(), "-b": aggregate.Bidir(false), "-B": aggregate.Bidir(true),
	} {
		full, keys := aggregate.NewPrinting(spec), aggregate.NewPrintingKeys(spec)
		for i := range recs {
			full.Add(&recs[i])
			keys.Add(&recs[i])
		}
		require.Equal(t, full.Len(), keys.Len())
		for _, mode := range []string{"line", "biline", "line6",
			"fmt:%nfv %cnt %ts %tsr %te %ter %td %tds %pr %sa %da %sap %dap %sp %dp %it %ic %pkt %opkt %byt %obyt %fl %flg %bps %pps %bpp"} {
			assert.Equal(t, print(mode, full), print(mode, keys), "%s -o %s", name, mode)
		}
	}
}
