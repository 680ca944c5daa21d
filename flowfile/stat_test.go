package flowfile

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
)

// statFlows are flows on which nfdump's and nfcapd's ways of counting
// differ.
func statFlows() []flow.Record {
	v4 := netip.MustParseAddr("10.0.0.1")
	v6 := netip.MustParseAddr("2001:db8::1")
	return []flow.Record{
		// v9 ICMPv6, aggregated from 5 flows.
		{NFVersion: 9, Proto: flow.ProtoICMPv6, SrcAddr: v6, DstAddr: v6, InPackets: 2, InBytes: 200, Flows: 5, First: 5000, Last: 6000},
		// v5 ICMPv6.
		{NFVersion: 5, Proto: flow.ProtoICMPv6, SrcAddr: v4, DstAddr: v4, InPackets: 1, InBytes: 10, First: 4000, Last: 4500},
		// IPFIX TCP with out counters.
		{NFVersion: 10, Proto: flow.ProtoTCP, SrcAddr: v4, DstAddr: v4, InPackets: 3, InBytes: 300, OutPackets: 4, OutBytes: 400, First: 7000, Last: 9000},
		// v5 UDP with a first time of 0.
		{NFVersion: 5, Proto: flow.ProtoUDP, SrcAddr: v4, DstAddr: v4, InPackets: 1, InBytes: 50, First: 0, Last: 8000},
		// v5 GRE with out counters, which v5 does not count.
		{NFVersion: 5, Proto: 47, SrcAddr: v4, DstAddr: v4, InPackets: 6, InBytes: 600, OutPackets: 1, OutBytes: 1, First: 3000, Last: 3500},
	}
}

func TestStatCountingWays(t *testing.T) {
	var nfdump, nfcapd Stat
	for _, r := range statFlows() {
		nfdump.AddNfdump(&r)
		nfcapd.AddNfcapd(&r)
	}
	assert.Equal(t, Stat{
		Flows: 5 + 1 + 1 + 1 + 1, Packets: 2 + 1 + 7 + 1 + 7, Bytes: 200 + 10 + 700 + 50 + 601,
		FlowsTCP: 1, PacketsTCP: 7, BytesTCP: 700,
		FlowsUDP: 1, PacketsUDP: 1, BytesUDP: 50,
		FlowsICMP: 6, PacketsICMP: 3, BytesICMP: 210,
		FlowsOther: 1, PacketsOther: 7, BytesOther: 601,
		FirstSeen: 0, LastSeen: 9000,
	}, nfdump, "nfdump's way")
	assert.Equal(t, Stat{
		Flows: 5, Packets: 2 + 1 + 3 + 4 + 1 + 6, Bytes: 200 + 10 + 300 + 400 + 50 + 600,
		FlowsTCP: 1, PacketsTCP: 3, BytesTCP: 300,
		FlowsUDP: 1, PacketsUDP: 1, BytesUDP: 50,
		FlowsICMP: 1, PacketsICMP: 2, BytesICMP: 200,
		FlowsOther: 2, PacketsOther: 7, BytesOther: 610,
		FirstSeen: 0, LastSeen: 9000,
	}, nfcapd, "nfcapd's way")
}

// TestNfcapdSums: flows summed in batches and counted at once make the
// stat record that AddNfcapd of each makes, for the old versions (ICMPv6
// with other) and v9 (with ICMP), on a record that already counts flows
// and on an empty one, with first times of zero among them.
func TestNfcapdSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 7))
	protos := []uint8{flow.ProtoTCP, flow.ProtoUDP, flow.ProtoICMP, flow.ProtoICMPv6, 47, 0, 255}
	for _, version := range []uint8{5, 9} {
		for _, start := range []int{0, 3} {
			var each, sums Stat
			var batch NfcapdSums
			for i := 0; i < 500; i++ {
				r := flow.Record{NFVersion: version, Proto: protos[rng.IntN(len(protos))],
					InPackets: rng.Uint64N(1000), InBytes: rng.Uint64N(1 << 40),
					First: rng.Uint64N(1e6) + 1e6, Last: rng.Uint64N(1e6) + 2e6}
				if rng.IntN(50) == 0 {
					r.First = 0
				}
				each.AddNfcapd(&r)
				if i < start {
					sums.AddNfcapd(&r)
					continue
				}
				batch.Add(r.First, r.Last, r.InPackets, r.InBytes, r.Proto)
				if rng.IntN(24) == 0 {
					sums.AddNfcapdSums(&batch, version == 9)
					batch = NfcapdSums{}
					sums.AddNfcapdSums(&batch, version == 9) // nothing summed: no change
				}
			}
			sums.AddNfcapdSums(&batch, version == 9)
			assert.Equal(t, each, sums, "v%d, %d flows counted one by one first", version, start)
		}
	}
}

// TestWriterCounts: the writer counts what it writes the way its options
// say, and leaves the record to the caller with CountNone.
func TestWriterCounts(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []Counting{CountNfdump, CountNfcapd, CountNone} {
		p := filepath.Join(dir, "f")
		w, err := Create(p, WriteOptions{Count: c})
		require.NoError(t, err)
		var want Stat
		for _, r := range statFlows() {
			require.NoError(t, w.WriteFlow(&r))
			switch c {
			case CountNfdump:
				want.AddNfdump(&r)
			case CountNfcapd:
				want.AddNfcapd(&r)
			}
		}
		if c == CountNone {
			want = Stat{Flows: 42, SequenceFailures: 3}
			*w.Stat() = want
		}
		require.NoError(t, w.Close())
		r, err := Open(p, ReadOptions{})
		require.NoError(t, err)
		assert.Equal(t, want, r.Stat(), "counting %d", c)
		require.NoError(t, r.Close())
	}
}

// TestStatSum sums the stat records of files as nfdump -I does, with the
// first file's ident, also when that file has none.
func TestStatSum(t *testing.T) {
	dir := t.TempDir()
	var want Stat
	var sum, noIdent StatSum
	for i, ident := range []string{"first", "second"} {
		p := filepath.Join(dir, ident)
		w, err := Create(p, WriteOptions{Ident: ident})
		require.NoError(t, err)
		for _, r := range statFlows()[i:] {
			require.NoError(t, w.WriteFlow(&r))
			want.AddNfdump(&r)
		}
		w.Stat().SequenceFailures = uint64(i + 1)
		require.NoError(t, w.Close())
		r, err := Open(p, ReadOptions{})
		require.NoError(t, err)
		sum.Add(r)
		require.NoError(t, r.Close())
	}
	want.SequenceFailures = 3
	assert.Equal(t, StatSum{Stat: want, Ident: "first", HasIdent: true, Files: 2}, sum)

	// A file without an appendix has no ident.
	p := filepath.Join(dir, "bare")
	w, err := Create(p, WriteOptions{})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	le.PutUint16(data[18:], 0) // no appendix blocks
	require.NoError(t, os.WriteFile(p, data, 0o644))
	r, err := Open(p, ReadOptions{})
	require.NoError(t, err)
	noIdent.Add(r)
	require.NoError(t, r.Close())
	assert.Equal(t, StatSum{Files: 1}, noIdent)
}
