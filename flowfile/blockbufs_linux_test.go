package flowfile

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/region"
	"github.com/nfgo/nftools/internal/region/regiontest"
)

// TestBlockBuffersSmallPages: the workers' block buffers, those of a
// reader that only counts the flows of a large file too, lie in memory
// outside Go's heap that is not advised for huge pages, whose first touch
// may take milliseconds on a VM (carve).
func TestBlockBuffersSmallPages(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	p := filepath.Join(t.TempDir(), "large")
	f := randomFile(rng, 40000)
	writeTestFile(t, p, WriteOptions{Compression: LZ4}, &f)
	fi, err := os.Stat(p)
	require.NoError(t, err)
	require.Greater(t, fi.Size(), int64(region.HugePage/4), "a file of a huge page's quarter or more")
	r, err := Open(p, ReadOptions{Tally: true, Workers: 2})
	require.NoError(t, err)
	for r.Next() {
	}
	require.NoError(t, r.Err())
	require.NoError(t, r.Close())
	// The reader's workers gave their buffers back; take them as the next
	// reader's would.
	for i := 0; i < 2; i++ {
		b := newBuf(LZ4)
		defer putBuf(b)
		huge, mapped := regiontest.HugeAdvised(t, b.mem)
		assert.True(t, mapped, "buffer %d outside the arena", i)
		assert.Empty(t, huge, "buffer %d advised for huge pages (MiB)", i)
	}
}
