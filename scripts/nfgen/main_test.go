package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/internal/flowgen"
)

// readCounts returns the number of flows and exporters in a file, and its
// ident.
func readCounts(t *testing.T, path string) (flows, exporters int, ident string) {
	r, err := flowfile.Open(path, flowfile.ReadOptions{})
	require.NoError(t, err)
	defer r.Close()
	for r.Next() {
		switch r.Kind() {
		case flowfile.KindFlow:
			flows++
		case flowfile.KindExporter:
			exporters++
		}
	}
	require.NoError(t, r.Err())
	ident, _ = r.Ident()
	return flows, exporters, ident
}

func TestGenerateThenCopy(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "gen")
	w, err := flowfile.Create(gen, flowfile.WriteOptions{Compression: flowfile.LZ4, Ident: "generated"})
	require.NoError(t, err)
	require.NoError(t, generate(w, "home", 5000, 1, "2026-11-24T21:40:00Z"))
	require.NoError(t, w.Close())
	flows, exporters, ident := readCounts(t, gen)
	assert.Equal(t, 5000, flows)
	assert.Equal(t, 1, exporters)
	assert.Equal(t, "generated", ident)

	cp := filepath.Join(dir, "copy")
	w, err = flowfile.Create(cp, flowfile.WriteOptions{Compression: flowfile.LZO, Ident: "unused"})
	require.NoError(t, err)
	require.NoError(t, copyFile(w, gen, true))
	require.NoError(t, w.Close())
	flows, exporters, ident = readCounts(t, cp)
	assert.Equal(t, 5000, flows)
	assert.Equal(t, 1, exporters)
	assert.Equal(t, "generated", ident, "the copy keeps the source's ident")

	w, err = flowfile.Create(filepath.Join(dir, "bad"), flowfile.WriteOptions{})
	require.NoError(t, err)
	assert.Error(t, generate(w, "home", 1, 1, "yesterday"))
	assert.Error(t, generate(w, "office", 1, 1, "2026-11-24T21:40:00Z"))
	assert.Error(t, copyFile(w, filepath.Join(dir, "missing"), true))
	require.NoError(t, w.Close())
}

func TestGenerateFull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "full")
	w, err := flowfile.Create(path, flowfile.WriteOptions{Compression: flowfile.LZ4, Ident: "full"})
	require.NoError(t, err)
	require.NoError(t, generateFull(w, 3000, 1, "2026-11-24T21:40:00Z"))
	require.NoError(t, w.Close())
	flows, exporters, _ := readCounts(t, path)
	assert.Equal(t, 3000, flows)
	assert.Equal(t, 3, exporters)
}

func TestGenerateBorder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "border")
	w, err := flowfile.Create(path, flowfile.WriteOptions{Compression: flowfile.LZ4})
	require.NoError(t, err)
	require.NoError(t, generate(w, "border", 5000, 3, "2026-11-24T21:40:00Z"))
	require.NoError(t, w.Close())
	flows, exporters, _ := readCounts(t, path)
	assert.Equal(t, 5000, flows)
	assert.Equal(t, flowgen.BorderExporters, exporters)
}
