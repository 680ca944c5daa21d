package flowfile

import (
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
)

// TestExporters collects a file's exporters as nfdump -E does: the first
// record of a SysID wins, statistics add up, samplers come once each, and
// records of unknown exporters, or of one met only later, are orphans.
func TestExporters(t *testing.T) {
	a := netip.MustParseAddr("192.0.2.1")
	b := netip.MustParseAddr("2001:db8::2")
	p := filepath.Join(t.TempDir(), "f")
	w, err := Create(p, WriteOptions{})
	require.NoError(t, err)
	s1 := flow.Sampler{ExporterSysID: 1, ID: 3, PacketInterval: 1, SpaceInterval: 9}
	s2 := flow.Sampler{ExporterSysID: 2, ID: flow.SamplerDefault, PacketInterval: 1, SpaceInterval: 99}
	orphanSampler := flow.Sampler{ExporterSysID: 4, ID: 1}
	require.NoError(t, w.WriteSampler(&s2)) // exporter 2 is not known yet
	require.NoError(t, w.WriteExporter(&flow.Exporter{Version: 5, Addr: a, SysID: 1, ID: 7}))
	require.NoError(t, w.WriteExporter(&flow.Exporter{Version: 10, Addr: b, SysID: 2, ID: 8}))
	require.NoError(t, w.WriteExporter(&flow.Exporter{Version: 9, Addr: a, SysID: 1, ID: 99})) // ignored
	require.NoError(t, w.WriteExporter(&flow.Exporter{Version: 9, Addr: a, SysID: 5, ID: 5}))  // after a gap
	for _, s := range []flow.Sampler{s1, s2, s1, orphanSampler} {
		require.NoError(t, w.WriteSampler(&s))
	}
	require.NoError(t, w.WriteExporterStats([]flow.ExporterStat{
		{SysID: 1, SequenceFailures: 1, Packets: 10, Flows: 100},
		{SysID: 3, Packets: 1, Flows: 1},
		{SysID: 1, SequenceFailures: 2, Packets: 5, Flows: 50},
	}))
	require.NoError(t, w.Close())

	r, err := Open(p, ReadOptions{})
	require.NoError(t, err)
	defer r.Close()
	type orphan struct {
		id      uint32
		sampler bool
	}
	var orphans []orphan
	list, found, err := Exporters(r, func(id uint32, sampler bool) { orphans = append(orphans, orphan{id, sampler}) })
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, []flow.ExporterSummary{
		{Exporter: flow.Exporter{Version: 5, Addr: a, SysID: 1, ID: 7}, SequenceFailures: 3, Packets: 15, Flows: 150, Samplers: []flow.Sampler{s1}},
		{Exporter: flow.Exporter{Version: 10, Addr: b, SysID: 2, ID: 8}, Samplers: []flow.Sampler{s2}},
	}, list)
	assert.Equal(t, []orphan{{2, true}, {4, true}, {3, false}}, orphans)

	// A file without exporters.
	p2 := filepath.Join(t.TempDir(), "g")
	w, err = Create(p2, WriteOptions{})
	require.NoError(t, err)
	require.NoError(t, w.WriteFlow(&flow.Record{}))
	require.NoError(t, w.Close())
	r2, err := Open(p2, ReadOptions{})
	require.NoError(t, err)
	defer r2.Close()
	list, found, err = Exporters(r2, nil)
	require.NoError(t, err)
	assert.False(t, found)
	assert.Empty(t, list)
}
