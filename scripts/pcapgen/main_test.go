package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/capture"
	"github.com/nfgo/nftools/flow"
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

// flowsIn returns how many flows a capture holds: those a flow cache that
// expires nothing makes of it.
func flowsIn(t *testing.T, path string) uint64 {
	src, err := capture.OpenFile(path)
	require.NoError(t, err)
	defer src.Close()
	c := capture.NewCache(capture.CacheConfig{Idle: time.Hour, Active: time.Hour}, func(*flow.Record, capture.ExpiryReason) {})
	var d capture.Decoder
	var f capture.Frame
	var p capture.Packet
	for src.Next(&f) == nil {
		if d.Decode(f.Link, &f, &p) == nil {
			c.Add(&p, f.Time)
		}
	}
	return c.Stats().Created
}

// TestFlowsShapesTheCapture: -length makes the same packets in fewer,
// longer flows; -flows keeps more open at a time; -4 keeps to both.
func TestFlowsShapesTheCapture(t *testing.T) {
	dir := t.TempDir()
	count := func(args ...string) uint64 {
		out := filepath.Join(dir, "x.pcap")
		require.NoError(t, run(append([]string{"-n", "20000", "-o", out}, args...)))
		return flowsIn(t, out)
	}
	assert.InDelta(t, 20000/15, count("-flows", "16"), 20000/15/2, "about 15 packets a flow")
	usual := count()
	assert.Less(t, count("-flows", "16", "-length", "50"), usual/20)
	assert.Less(t, usual+usual/2, count("-flows", "16384"), "a flow open for longer sees fewer packets in the capture")
	assert.Less(t, count("-4", "-flows", "16", "-length", "50"), usual/20)
}
