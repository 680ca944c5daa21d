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

// TestRewrite rewrites a file with another compression and ident: the
// records, the stat record, the creation time and the permissions stay,
// and nothing else is left in the directory; a failing rewrite leaves the
// file as it was.
func TestRewrite(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(53, 54))
	f := randomFile(rng, 4000)
	p := filepath.Join(dir, "f")
	writeTestFile(t, p, WriteOptions{Compression: LZ4, Ident: "old"}, &f)
	require.NoError(t, os.Chmod(p, 0o640))
	before := readAll(t, p)
	r, err := Open(p, ReadOptions{})
	require.NoError(t, err)
	created := r.Header().Created
	require.NoError(t, r.Close())

	var seen string
	require.NoError(t, Rewrite(p, func(r *Reader) WriteOptions {
		seen, _ = r.Ident()
		return WriteOptions{Compression: BZ2, Ident: "new"}
	}))
	assert.Equal(t, "old", seen)
	after := readAll(t, p)
	assert.Equal(t, "new", after.ident)
	after.ident = before.ident
	assert.Equal(t, before, after)
	r, err = Open(p, ReadOptions{})
	require.NoError(t, err)
	assert.Equal(t, BZ2, r.Header().Compression)
	assert.Equal(t, created, r.Header().Created)
	require.NoError(t, r.Close())
	fi, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1)

	// A damaged file is not replaced.
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	offs := blockOffsets(t, data)
	bad := append([]byte(nil), data...)
	for i := offs[0] + blockHeaderSize; i < offs[0]+blockHeaderSize+200; i++ {
		bad[i] ^= 0x5a
	}
	require.NoError(t, os.WriteFile(p, bad, 0o640))
	assert.Error(t, Rewrite(p, func(*Reader) WriteOptions { return WriteOptions{Compression: None} }))
	now, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, bad, now)
	entries, err = os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1)
}
