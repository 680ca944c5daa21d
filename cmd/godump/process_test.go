package main

import (
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/internal/flowgen"
)

// writeLZ4Set writes files LZ4 files of n flows each, each with an
// exporter record, and returns their paths in order.
func writeLZ4Set(t *testing.T, files, n int) []string {
	t.Helper()
	dir := t.TempDir()
	g := flowgen.New(7, 1_795_555_903_000)
	var paths []string
	for f := 0; f < files; f++ {
		path := filepath.Join(dir, "nfcapd.20261125000"+string(rune('0'+f)))
		w, err := flowfile.Create(path, flowfile.WriteOptions{Compression: flowfile.LZ4, Ident: "set"})
		require.NoError(t, err)
		e := flow.Exporter{Version: 9, Addr: netip.AddrFrom4([4]byte{192, 0, 2, 1}), SysID: 1, ID: 1}
		require.NoError(t, w.WriteExporter(&e))
		var r flow.Record
		for i := 0; i < n; i++ {
			g.Next(&r)
			require.NoError(t, w.WriteFlow(&r))
		}
		require.NoError(t, w.Close())
		paths = append(paths, path)
	}
	return paths
}

// TestFileSetReadThroughPipeline: a run whose readers' workers count the
// flows (-o null) reads the files of a set through one flowfile.Pipeline,
// each file opened once, and sums every file's flows.
func TestFileSetReadThroughPipeline(t *testing.T) {
	paths := writeLZ4Set(t, 3, 3000)
	s := newScan(&options{}, io.Discard)
	s.tally, s.elements, s.workers = true, flow.TotalsElements, 2
	piped := map[string]bool{}
	require.NoError(t, s.run(paths, func(_ flowfile.Kind, r *flowfile.Reader) error {
		piped[r.Name()] = r.Pipelined()
		return nil
	}))
	for _, p := range paths {
		assert.True(t, piped[p], "%s read through the pipeline", p)
	}
	assert.EqualValues(t, 9000, s.sum.Processed)
	assert.EqualValues(t, 9000, s.sum.Passed)
	assert.Equal(t, 3, s.opened)
	assert.Zero(t, s.failed)
}

// TestFileSetStoredPlainOpenedOnce: in a run that opens each file while
// the one before is read, a file stored plain (nfcapd's default), which
// reads on its own, is read from the reader opened ahead, not opened a
// second time: removed while the file before is read, it is still read
// whole.
func TestFileSetStoredPlainOpenedOnce(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	g := flowgen.New(9, 1_795_555_903_000)
	for f := 0; f < 3; f++ {
		path := filepath.Join(dir, "nfcapd.20261125010"+string(rune('0'+f)))
		w, err := flowfile.Create(path, flowfile.WriteOptions{Compression: flowfile.None})
		require.NoError(t, err)
		e := flow.Exporter{Version: 9, Addr: netip.AddrFrom4([4]byte{192, 0, 2, 1}), SysID: 1, ID: 1}
		require.NoError(t, w.WriteExporter(&e))
		var r flow.Record
		for i := 0; i < 500; i++ {
			g.Next(&r)
			require.NoError(t, w.WriteFlow(&r))
		}
		require.NoError(t, w.Close())
		paths = append(paths, path)
	}
	s := newScan(&options{}, io.Discard)
	s.tally, s.elements, s.workers = true, flow.TotalsElements, 2
	seen := map[string]bool{}
	require.NoError(t, s.run(paths, func(_ flowfile.Kind, r *flowfile.Reader) error {
		assert.False(t, r.Pipelined(), "stored plain")
		if !seen[r.Name()] {
			seen[r.Name()] = true
			for i, p := range paths[:len(paths)-1] {
				if p == r.Name() {
					require.NoError(t, os.Remove(paths[i+1]))
				}
			}
		}
		return nil
	}))
	assert.Len(t, seen, 3)
	assert.Zero(t, s.failed)
	assert.EqualValues(t, 1500, s.sum.Processed)
	assert.Equal(t, 3, s.opened)
}
