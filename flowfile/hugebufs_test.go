package flowfile

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/region"
)

// TestAppendixWithoutBlockBuffer: opening a file reads its appendix (the
// ident and the stat record, all -I needs) into buffers of its size, and
// makes no block buffer, whose first touch may fault in a huge page.
func TestAppendixWithoutBlockBuffer(t *testing.T) {
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	rng := rand.New(rand.NewPCG(11, 12))
	f := randomFile(rng, 50)
	p := filepath.Join(t.TempDir(), "small")
	writeTestFile(t, p, WriteOptions{Compression: LZ4, Ident: "appendix"}, &f)
	made := bufsMade.Load()
	for _, opts := range []ReadOptions{{}, {Tally: true}} {
		r, err := Open(p, opts)
		require.NoError(t, err)
		ident, ok := r.Ident()
		assert.True(t, ok)
		assert.Equal(t, "appendix", ident)
		require.NoError(t, r.Close())
	}
	assert.Zero(t, bufsMade.Load()-made, "block buffers made by Open")
}

// TestHugeBuffersOnlyForLargeFiles: a reader that only counts the flows
// takes huge-page buffers for a file of half a megabyte or more, small
// pages for a smaller one, and one that hands out the flows never.
func TestHugeBuffersOnlyForLargeFiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	f := randomFile(rng, 200)
	writeTestFile(t, small, WriteOptions{Compression: LZ4}, &f)
	large := filepath.Join(dir, "large")
	f = randomFile(rng, 40000)
	writeTestFile(t, large, WriteOptions{Compression: None}, &f)
	fi, err := os.Stat(large)
	require.NoError(t, err)
	require.GreaterOrEqual(t, fi.Size(), int64(region.HugePage/4))
	for _, c := range []struct {
		path string
		opts ReadOptions
		huge bool
	}{
		{small, ReadOptions{Tally: true}, false},
		{large, ReadOptions{Tally: true}, true},
		{large, ReadOptions{}, false},
	} {
		r, err := Open(c.path, c.opts)
		require.NoError(t, err)
		assert.Equal(t, c.huge, r.hugeBufs(), "%s %+v", filepath.Base(c.path), c.opts)
		require.NoError(t, r.Close())
	}
}
