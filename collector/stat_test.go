package collector

import (
	"net/netip"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
)

func TestStatCounterCountsLikeNfcapd(t *testing.T) {
	v4 := netip.MustParseAddr("10.0.0.1")
	v6 := netip.MustParseAddr("2001:db8::1")
	var c statCounter
	c.reset()
	// No flows: the file covers its slot.
	assert.Equal(t, flowfile.Stat{FirstSeen: 1000, LastSeen: 2000}, c.stat(1000, 2000))

	// Counted in parts and merged, as the file's blocks are, the flows
	// give the same record: the part with the zero first time (v5) comes
	// after one without (IPFIX), and an empty part changes nothing.
	var parts [3]statCounter
	for _, r := range []flow.Record{
		// v9 ICMPv6 counts as ICMP; its aggregated count does not matter.
		{NFVersion: 9, Proto: flow.ProtoICMPv6, SrcAddr: v6, DstAddr: v6, InPackets: 2, InBytes: 200, Flows: 5, First: 5000, Last: 6000},
		// v5 ICMPv6 (impossible on the wire, but counted as other).
		{NFVersion: 5, Proto: flow.ProtoICMPv6, SrcAddr: v4, DstAddr: v4, InPackets: 1, InBytes: 10, First: 4000, Last: 4500},
		// IPFIX with out counters: they go to the totals only.
		{NFVersion: 10, Proto: flow.ProtoTCP, SrcAddr: v4, DstAddr: v4, InPackets: 3, InBytes: 300, OutPackets: 4, OutBytes: 400, First: 7000, Last: 9000},
		// v5 UDP with a first time of 0: nfcapd's minimum takes it.
		{NFVersion: 5, Proto: flow.ProtoUDP, SrcAddr: v4, DstAddr: v4, InPackets: 1, InBytes: 50, First: 0, Last: 8000},
	} {
		c.add(&r)
		parts[min(int(r.NFVersion)/5, 2)].add(&r)
	}
	var merged statCounter
	for _, i := range []int{2, 1, 0} {
		merged.merge(&parts[i])
	}
	assert.Equal(t, c.stat(1000, 2000), merged.stat(1000, 2000))
	got := c.stat(1000, 2000)
	assert.Equal(t, flowfile.Stat{
		Flows: 4, Packets: 2 + 1 + 3 + 4 + 1, Bytes: 200 + 10 + 300 + 400 + 50,
		FlowsTCP: 1, PacketsTCP: 3, BytesTCP: 300,
		FlowsUDP: 1, PacketsUDP: 1, BytesUDP: 50,
		FlowsICMP: 1, PacketsICMP: 2, BytesICMP: 200,
		FlowsOther: 1, PacketsOther: 1, BytesOther: 10,
		FirstSeen: 0, LastSeen: 9000,
	}, got)
}

func TestListenBuffer(t *testing.T) {
	var logged []string
	logf := func(format string, args ...any) { logged = append(logged, format) }
	conn, bound, err := Listen(ListenConfig{Host: "127.0.0.1", Port: "0", Family: 4, Buffer: 1000, Logf: logf})
	require.NoError(t, err)
	defer conn.Close()
	assert.Contains(t, bound, "Bound to IPv4 host/IP: 127.0.0.1, Port: ")
	// Linux doubles the request, which -B raises to MinBuffer.
	assert.Equal(t, 2*MinBuffer, ReadBuffer(conn))
	assert.Equal(t, []string{
		"I want at least %d bytes as socket buffer",
		"Standard setsockopt, SO_RCVBUF is %d Requested length is %d bytes",
		"System set setsockopt, SO_RCVBUF to %d bytes",
	}, logged)

	// Without a size: DefaultBuffer, silently (as far as the kernel
	// lets an unprivileged process go).
	logged = nil
	conn2, _, err := Listen(ListenConfig{Host: "127.0.0.1", Port: "0", Family: 4, Logf: logf})
	require.NoError(t, err)
	defer conn2.Close()
	assert.Empty(t, logged)
	if os.Geteuid() == 0 {
		assert.Equal(t, 2*DefaultBuffer, ReadBuffer(conn2))
	} else {
		assert.Greater(t, ReadBuffer(conn2), 2*MinBuffer)
	}
}
