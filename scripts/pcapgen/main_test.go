package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/capture"
)

func TestWritesTheCapture(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.pcap")
	require.NoError(t, run([]string{"-n", "1000", "-snaplen", "96", "-o", out}))
	src, err := capture.OpenFile(out)
	require.NoError(t, err)
	defer src.Close()
	var f capture.Frame
	n := 0
	for src.Next(&f) == nil {
		n++
		assert.LessOrEqual(t, len(f.Data), 96)
	}
	assert.Equal(t, 1000, n)
	assert.Error(t, run([]string{"-n", "10"}), "-o is required")
	assert.Error(t, run([]string{"-start", "yesterday", "-o", out}))
	_, err = os.Stat(out)
	assert.NoError(t, err)
}
