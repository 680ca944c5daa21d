package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/internal/flowgen"
	"github.com/nfgo/nftools/internal/testutil"
)

// TestSummaryFromFlowsNotStatRecord pins down where nfdump 1.7.1 takes a
// summary from, with a file whose stat record disagrees with its blocks:
// the flows, bytes, packets and rates of "Summary:" come from the flow
// records (so godump must read every block, even for -o null without a
// filter: the stat record cannot stand in for them), and only the "Time
// window:" line from the stat record.
func TestSummaryFromFlowsNotStatRecord(t *testing.T) {
	testutil.RequireTool(t, "nfdump")
	dir := t.TempDir()
	path := filepath.Join(dir, "nfcapd.202611242140")
	w, err := flowfile.Create(path, flowfile.WriteOptions{Compression: flowfile.LZ4, Ident: "liar"})
	require.NoError(t, err)
	g := flowgen.New(3, 1795556400000)
	var r flow.Record
	for i := 0; i < 5000; i++ {
		g.Next(&r)
		require.NoError(t, w.WriteFlow(&r))
	}
	st := w.Stat()
	require.EqualValues(t, 5000, st.Flows)
	// A stat record that lies about everything the summary prints.
	st.Flows, st.Bytes, st.Packets = 7, 70000, 700
	st.FirstSeen -= 3600_000
	st.LastSeen += 7200_000
	require.NoError(t, w.Close())

	for _, args := range [][]string{
		{"-r", path, "-o", "null"},
		{"-r", path, "-o", "null", "-N"},
		{"-r", path, "-c", "10", "-o", "null"},
		{"-r", path, "-I"},
	} {
		want := nfdump(t, args...)
		got := godump(args...)
		assert.Equal(t, want, got, "%v", args)
	}
	// What nfdump shows: the records' count, and the lying window.
	out := nfdump(t, "-r", path, "-o", "null", "-N").stdout
	assert.Contains(t, out, "Summary: total flows: 5000,")
	assert.Contains(t, out, "Time window: 2026-11-24 20:")
}
