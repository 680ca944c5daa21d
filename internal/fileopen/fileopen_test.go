package fileopen

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Open must fail as os.Open does (flowfile.Open's callers print its
// errors) and read what os.Open reads, a directory's entries too.
func TestOpenLikeOsOpen(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{filepath.Join(dir, "missing"), filepath.Join(dir, "missing", "below")} {
		_, err := Open(path)
		_, want := os.Open(path)
		require.Error(t, err)
		assert.Equal(t, want.Error(), err.Error())
		assert.ErrorIs(t, err, fs.ErrNotExist)
	}
	path := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(path, []byte("nfcapd"), 0o644))
	f, err := Open(path)
	require.NoError(t, err)
	b, err := io.ReadAll(f)
	require.NoError(t, err)
	assert.Equal(t, "nfcapd", string(b))
	assert.Equal(t, path, f.Name())
	require.NoError(t, f.Close())

	d, err := Open(dir)
	require.NoError(t, err)
	names, err := d.Readdirnames(-1)
	require.NoError(t, err)
	assert.Equal(t, []string{"file"}, names)
	require.NoError(t, d.Close())
}
