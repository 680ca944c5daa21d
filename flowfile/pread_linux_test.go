package flowfile

import (
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestCachedFileReadsLikeFile reads a file through cachedFile at many
// offsets and lengths, with the file in the page cache and evicted from
// it (so that preadv2 with RWF_NOWAIT refuses and the ordinary read takes
// over), and across and past its end, and checks each read gives what
// os.File gives: the same bytes, count and io.EOF.
func TestCachedFileReadsLikeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data")
	rng := rand.New(rand.NewPCG(21, 22))
	data := make([]byte, 3<<20+123)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	require.NoError(t, os.WriteFile(path, data, 0o644))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	cf, ok := newCachedFile(f).(*cachedFile)
	require.True(t, ok, "a regular file is read through cachedFile")
	for _, evict := range []bool{false, true} {
		if evict {
			// Written back first, so that the pages can go.
			require.NoError(t, unix.Fdatasync(int(cf.fd)))
			require.NoError(t, unix.Fadvise(int(cf.fd), 0, 0, unix.FADV_DONTNEED))
		}
		for i := 0; i < 200; i++ {
			off := rng.Int64N(int64(len(data)) + 100)
			n := rng.IntN(600 << 10)
			got := make([]byte, n)
			want := make([]byte, n)
			gn, gerr := cf.ReadAt(got, off)
			wn, werr := f.ReadAt(want, off)
			require.Equal(t, wn, gn, "read %d at %d (evicted %v)", n, off, evict)
			require.Equal(t, werr, gerr, "read %d at %d (evicted %v)", n, off, evict)
			require.Equal(t, want[:wn], got[:gn])
		}
	}
	// Reading the last bytes exactly ends without io.EOF, as os.File does.
	b := make([]byte, 10)
	n, err := cf.ReadAt(b, int64(len(data)-10))
	require.Equal(t, 10, n)
	require.NoError(t, err)
	n, err = cf.ReadAt(b, int64(len(data)))
	require.Zero(t, n)
	require.ErrorIs(t, err, io.EOF)
}

// TestCachedFileTruncated reads a flow file that is cut short after the
// reader opened it: the reader reports the truncated block as it does for
// a file that was short from the start.
func TestCachedFileTruncated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nfcapd.cut")
	writeGenerated(t, path, LZ4, 50_000)
	r, err := Open(path, ReadOptions{Tally: true})
	require.NoError(t, err)
	defer r.Close()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(path, fi.Size()/2))
	for r.Next() {
	}
	require.Error(t, r.Err())
	require.Contains(t, r.Err().Error(), "truncated")
}
