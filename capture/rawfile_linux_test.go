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
		path, _, want := aheadFile(t, false)
		s, err := OpenFile(path)
		require.NoError(t, err)
		defer s.Close()
		assert.IsType(t, &rawFile{}, s.(*fileSource).ahead.r)
		assert.Len(t, readAll(t, s), len(want))
	})
}
