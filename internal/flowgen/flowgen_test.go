package flowgen

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
)

func TestDeterministicAndPlausible(t *testing.T) {
	a, b := New(1, 1_795_555_903_000), New(1, 1_795_555_903_000)
	var ra, rb flow.Record
	protos := map[uint8]int{}
	v6 := 0
	for i := 0; i < 10000; i++ {
		a.Next(&ra)
		b.Next(&rb)
		assert.Equal(t, ra, rb)
		assert.LessOrEqual(t, ra.First, ra.Last)
		assert.GreaterOrEqual(t, ra.InBytes, ra.InPackets*40)
		assert.True(t, ra.SrcAddr.Is6() == ra.DstAddr.Is6(), "one address family per flow")
		protos[ra.Proto]++
		if ra.IsIPv6() {
			v6++
		}
	}
	assert.Len(t, protos, 3)
	assert.Greater(t, protos[flow.ProtoTCP], protos[flow.ProtoUDP])
	assert.InDelta(t, 1250, v6, 300)
	assert.Zero(t, testing.AllocsPerRun(100, func() { a.Next(&ra) }))
}

func TestBorderShape(t *testing.T) {
	const n = 200_000
	a, b := NewBorder(7, 1_795_555_903_000), NewBorder(7, 1_795_555_903_000)
	var ra, rb flow.Record
	srcs := map[netip.Addr]bool{}
	ports := map[uint16]bool{}
	exporters := map[uint16]bool{}
	v6 := 0
	for i := 0; i < n; i++ {
		a.Next(&ra)
		b.Next(&rb)
		require.Equal(t, ra, rb)
		require.LessOrEqual(t, ra.First, ra.Last)
		require.True(t, ra.SrcAddr.Is6() == ra.DstAddr.Is6(), "one address family per flow")
		srcs[ra.SrcAddr] = true
		ports[ra.SrcPort], ports[ra.DstPort] = true, true
		exporters[ra.ExporterID] = true
		if ra.IsIPv6() {
			v6++
		}
	}
	// A tenth of an archive already shows the shape: many hosts, many
	// ports, every exporter, a quarter IPv6.
	assert.Greater(t, len(srcs), 60_000)
	assert.Greater(t, len(ports), 40_000)
	assert.Len(t, exporters, BorderExporters)
	assert.Len(t, a.Exporters(), BorderExporters)
	assert.InDelta(t, n/4, v6, n/50)
	assert.Zero(t, testing.AllocsPerRun(100, func() { a.Next(&ra) }))

	// Files made with other seeds share the population of hosts.
	c := NewBorder(8, 1_795_555_903_000)
	shared := 0
	for i := 0; i < 10_000; i++ {
		c.Next(&ra)
		if srcs[ra.SrcAddr] {
			shared++
		}
	}
	assert.Greater(t, shared, 5_000)
}
