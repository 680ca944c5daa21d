package flowfile

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
)

// TestSink writes the records of two files through a Sink: every flow,
// each exporter and sampler once, the ident given, and nothing left but
// the file.
func TestSink(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(51, 52))
	var srcs []string
	var want testFile
	for i := 0; i < 2; i++ {
		f := randomFile(rng, 3000)
		if i == 1 {
			// The second file repeats exporter 2 and a sampler, and adds
			// an exporter of its own.
			f.exporters = append(f.exporters[1:2], flow.Exporter{Version: 9, Addr: f.exporters[0].Addr, SysID: 4, ID: 9})
			f.samplers = f.samplers[:1]
		} else {
			want.exporters, want.samplers = f.exporters, f.samplers
		}
		p := filepath.Join(dir, "src", "f"+string(rune('0'+i)))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		writeTestFile(t, p, WriteOptions{Compression: LZ4}, &f)
		srcs = append(srcs, p)
		want.flows = append(want.flows, f.flows...)
	}
	want.exporters = append(want.exporters, flow.Exporter{Version: 9, Addr: want.exporters[0].Addr, SysID: 4, ID: 9})

	out := filepath.Join(dir, "out", "nfcapd.sel")
	require.NoError(t, os.MkdirAll(filepath.Dir(out), 0o755))
	s := NewSink(out, WriteOptions{Compression: LZO})
	assert.False(t, s.IsOpen())
	for _, p := range srcs {
		r, err := Open(p, ReadOptions{})
		require.NoError(t, err)
		require.NoError(t, s.Open("sel"))
		for r.Next() {
			require.NoError(t, s.Add(r))
		}
		require.NoError(t, r.Err())
		require.NoError(t, r.Close())
	}
	require.NoError(t, s.Close())
	entries, err := os.ReadDir(filepath.Dir(out))
	require.NoError(t, err)
	require.Len(t, entries, 1, "only the file is left")

	got := readAll(t, out)
	assert.Equal(t, "sel", got.ident)
	assert.Equal(t, want.exporters, got.exporters)
	assert.Equal(t, want.samplers, got.samplers)
	require.Equal(t, len(want.flows), len(got.flows))
	for i := range want.flows {
		require.Equal(t, want.flows[i], got.flows[i], "flow %d", i)
	}
	r, err := Open(out, ReadOptions{})
	require.NoError(t, err)
	assert.Equal(t, LZO, r.Header().Compression)
	require.NoError(t, r.Close())
}

// TestSinkNothingOrFailing: a sink never opened writes no file; one that
// cannot put its file in place leaves no temporary file behind.
func TestSinkNothingOrFailing(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "none")
	require.NoError(t, NewSink(out, WriteOptions{}).Close())
	_, err := os.Stat(out)
	assert.True(t, os.IsNotExist(err))

	// The final name is a directory that is not empty: the rename fails.
	busy := filepath.Join(dir, "busy")
	require.NoError(t, os.MkdirAll(filepath.Join(busy, "x"), 0o755))
	s := NewSink(busy, WriteOptions{})
	require.NoError(t, s.Open(""))
	require.NoError(t, s.WriteFlow(&flow.Record{Proto: 6}))
	assert.Error(t, s.Close())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "the temporary file is gone")

	assert.Error(t, NewSink(filepath.Join(dir, "missing", "f"), WriteOptions{}).Open(""))
}
