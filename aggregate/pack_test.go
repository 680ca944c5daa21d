package aggregate

import (
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/internal/flowgen"
)

// TestPackRoundTrip checks that a packed record comes back whole, but for
// the counters, times and TCP flags, which the entry's sums replace.
func TestPackRoundTrip(t *testing.T) {
	full := flow.Record{
		Elements: 0x3fffe, NFVersion: 10, Flags: 3, EngineType: 1, EngineID: 2, ExporterID: 513,
		Received: 1_795_555_903_123, SrcAddr: netip.MustParseAddr("2001:db8::1"),
		DstAddr: netip.MustParseAddr("::ffff:10.1.2.3"), SrcPort: 443, DstPort: 65535,
		Proto: 17, FwdStatus: 64, SrcTos: 255, DstTos: 8, Input: 0xffffffff, Output: 7,
		SrcMask: 64, DstMask: 128, Dir: 1, BiFlowDir: 2, EndReason: 3, RevTCPFlags: 0x12,
		SrcVLAN: 100, DstVLAN: 0xffffffff, SrcAS: 65000, DstAS: 1, NextAS: 2, PrevAS: 3,
		BGPNextHop: netip.MustParseAddr("192.0.2.1"), IPNextHop: netip.MustParseAddr("fe80::1"),
		Exporter: netip.MustParseAddr("0.0.0.0"), InSrcMAC: 0xaabbccddeeff, OutDstMAC: 1,
		InDstMAC: 2, OutSrcMAC: 3, MPLS: [10]uint32{1, 2, 3, 4, 5, 6, 7, 8, 9, 0xffffffff},
		ClientNwDelay: 1, ServerNwDelay: 2, ApplLatency: 3,
	}
	v4 := flow.Record{Elements: 0x16, NFVersion: 9, SrcAddr: netip.MustParseAddr("10.0.0.1"),
		DstAddr: netip.MustParseAddr("10.0.0.2"), Proto: 6, DstPort: 80}
	var a arena
	labels := []uint32{7, 0, 1 << 31}
	refs := []uint32{a.put(&full, labels[0]), a.put(&v4, labels[1]), a.put(&flow.Record{}, labels[2])}
	for i, want := range []flow.Record{full, v4, {}} {
		var got flow.Record
		assert.Equal(t, labels[i], a.get(refs[i], &got))
		assert.Equal(t, want, got)
	}
}

// TestPrintingTable checks that a table keeping only keys and metas
// prints what a table keeping the first flows prints, with many metas.
func TestPrintingTable(t *testing.T) {
	recs := benchFlows(5000)
	for i := range recs {
		switch i % 7 {
		case 1:
			recs[i].SrcAddr = netip.MustParseAddr("2001:db8::1")
			recs[i].DstAddr = netip.MustParseAddr("2001:db8::2")
		case 2:
			recs[i].IPNextHop = netip.Addr{}
		case 3:
			recs[i].Exporter = netip.MustParseAddr("::1")
		}
		// Hundreds of metas, interleaved: more than the table's cache
		// of them holds.
		recs[i].Flags = uint8(i % 150)
		recs[i].NFVersion = uint8(9 + i%2)
	}
	for _, list := range []string{
		"srcip4/24,dstport", "srcip,dstip,srcport,dstport,proto", "srcip4/16,srcip,dstip6/64,dstnet",
		"srcnet,dstnet,next,bgpnext,router", "srcas,dstas,nextas,prevas,inif,outif,srcvlan,dstvlan",
		"insrcmac,outdstmac,indstmac,outsrcmac,mpls1,mpls2,mpls3,srcmask,dstmask,tos,dsttos,srctos",
		"proto", "xsrcip,xdstport,odid,srcgeo",
	} {
		spec, err := ParseFields(list)
		require.NoError(t, err, list)
		full, printing := New(spec), NewPrinting(spec)
		for i := range recs {
			full.Add(&recs[i])
			printing.Add(&recs[i])
		}
		assert.Equal(t, full.Records(), printing.Records(), list)
	}
}

// TestPrintReads checks that a printing table fed with flows read with
// only Spec.PrintReads decoded prints what one fed with whole flows does.
func TestPrintReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nfcapd.test")
	w, err := flowfile.Create(path, flowfile.WriteOptions{})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		r := flowgen.Random(rng)
		require.NoError(t, w.WriteFlow(&r))
	}
	require.NoError(t, w.Close())
	fill := func(spec *Spec, want flow.Elements) []flow.Record {
		r, err := flowfile.Open(path, flowfile.ReadOptions{Elements: want})
		require.NoError(t, err)
		defer r.Close()
		tab := NewPrinting(spec)
		for r.Next() {
			if r.Kind() == flowfile.KindFlow {
				tab.Add(r.Flow())
			}
		}
		require.NoError(t, r.Err())
		return tab.Records()
	}
	for id := fieldID(0); id < numFields; id++ {
		list := fieldTable[id].name
		switch fieldTable[id].prefix {
		case 4:
			list += "/20"
		case 6:
			list += "/48"
		}
		if id != fProto {
			list += ",proto"
		}
		spec, err := ParseFields(list)
		require.NoError(t, err, list)
		assert.Equal(t, fill(spec, 0), fill(spec, spec.PrintReads()), list)
	}
}
