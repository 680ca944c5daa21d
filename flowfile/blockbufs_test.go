package flowfile

import (
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAppendixWithoutBlockBuffer: opening a file reads its appendix (the
// ident and the stat record, all -I needs) into buffers of its size, and
// makes no block buffer, megabytes to map and fault in.
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
