package capture

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRawReader: regular files are read with the raw read(2), pipes and
// other readers as they are.
func TestRawReader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(path, []byte("0123456789"), 0o644))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	r := rawReader(f)
	require.IsType(t, &rawFile{}, r)
	s, err := OpenFile(path)
	require.Error(t, err, "not a capture")
	assert.Nil(t, s)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, "0123456789", string(got))
	n, err := r.Read(make([]byte, 4))
	assert.Equal(t, 0, n)
	assert.Equal(t, io.EOF, err, "at the end")

	// readv(2): into several buffers in order, short at the end.
	_, err = f.Seek(0, io.SeekStart)
	require.NoError(t, err)
	a, b := make([]byte, 4), make([]byte, 8)
	n, err = readFullV(r.(vecReader), [][]byte{a, b})
	assert.Equal(t, 10, n)
	assert.Equal(t, io.ErrUnexpectedEOF, err)
	assert.Equal(t, "0123456789", string(a)+string(b[:6]))
	n, err = r.(vecReader).readv([][]byte{a, b})
	assert.Equal(t, 0, n)
	assert.Equal(t, io.EOF, err, "at the end")

	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	defer pr.Close()
	defer pw.Close()
	assert.Same(t, pr, rawReader(pr), "a pipe")
	br := bytes.NewReader(nil)
	assert.Same(t, br, rawReader(br), "not a file")
}

// TestReadAheadRaw: a capture file is read ahead with the raw call, by
// the goroutine or by the caller.
func TestReadAheadRaw(t *testing.T) {
	procs(t, func(t *testing.T) {
		path, want := aheadFile(t, false)
		s, err := OpenFile(path)
		require.NoError(t, err)
		defer s.Close()
		a := s.(*fileSource).ahead
		assert.IsType(t, &rawFile{}, a.r)
		if !a.sync {
			assert.NotNil(t, a.vr, "two chunks a call")
			assert.Len(t, a.chunks, aheadChunksVec)
		}
		assert.Len(t, readAll(t, s), len(want))
	})
}
