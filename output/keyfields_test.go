package output

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/flowgen"
)

// keyOnly keeps of r what an aggregation table of NewPrintingKeys keeps:
// the header, times, counters, TCP flags, protocol, addresses and ports.
func keyOnly(r *flow.Record) flow.Record {
	return flow.Record{
		Elements: r.Elements, NFVersion: r.NFVersion, Flags: r.Flags,
		First: r.First, Last: r.Last, Flows: r.Flows,
		InPackets: r.InPackets, InBytes: r.InBytes, OutPackets: r.OutPackets, OutBytes: r.OutBytes,
		TCPFlags: r.TCPFlags, RevTCPFlags: r.RevTCPFlags, Proto: r.Proto,
		SrcAddr: r.SrcAddr, DstAddr: r.DstAddr, SrcPort: r.SrcPort, DstPort: r.DstPort,
	}
}

// TestPrintsKeyFields: every token PrintsKeyFields accepts prints a whole
// record as it prints the record's key fields alone, so that an -a table
// may keep only those; line, biline and null are such printers, the modes
// with the ToS, AS numbers or every field are not.
func TestPrintsKeyFields(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	recs := make([]flow.Record, 300)
	for i := range recs {
		recs[i] = flowgen.Random(rng)
		switch i % 5 {
		case 1:
			recs[i].Proto = flow.ProtoICMP
		case 2:
			recs[i].Proto = flow.ProtoICMPv6
			recs[i].SrcAddr, recs[i].DstAddr = netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("fe80::2")
		case 3:
			recs[i].Elements = 0 // printers work out the elements from the fields
		case 4:
			recs[i].Label = "web"
		}
	}
	print := func(mode string, rs []flow.Record) (string, bool) {
		var b bytes.Buffer
		p, err := New(&b, Options{Mode: mode, Quiet: true})
		require.NoError(t, err, mode)
		for i := range rs {
			require.NoError(t, p.Print(&rs[i]))
		}
		require.NoError(t, p.End(&Summary{}))
		return b.String(), PrintsKeyFields(p)
	}
	keys := make([]flow.Record, len(recs))
	for i := range recs {
		keys[i] = keyOnly(&recs[i])
	}
	accepted := 0
	for _, tok := range strings.Split(allTokens, "|") {
		full, ok := print("fmt:"+tok, recs)
		if !ok {
			continue
		}
		accepted++
		slim, _ := print("fmt:"+tok, keys)
		assert.Equal(t, full, slim, "%s prints fields outside the key", tok)
	}
	// Some tokens are others' aliases (%pkt and %ipkt).
	assert.GreaterOrEqual(t, accepted, len(keyTokens)-1, "the key tokens are accepted alone")
	for mode, want := range map[string]bool{
		"line": true, "biline": true, "null": true, "line6": true, "fmt:%ts %sap %dap %pkt": true,
		"long": false, "extended": false, "bilong": false, "csv": false, "json": false, "raw": false,
		"pipe": false, "fmt:%ts %sas": false, "fmt:%ts %lbl": false,
	} {
		_, got := print(mode, recs)
		assert.Equal(t, want, got, mode)
	}
}
