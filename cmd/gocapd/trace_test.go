//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTraceFile: GOCAPD_TRACE makes gocapd write a Go execution trace of
// its run, ended before it exits; a file it cannot create stops it with
// an error naming the variable.
func TestTraceFile(t *testing.T) {
	dir := t.TempDir()
	// A capture of one datagram that is no flow (a v5 header claiming no
	// records): gocapd -f reads it and ends.
	pcap := filepath.Join(dir, "one.pcap")
	v5 := make([]byte, 24)
	v5[1] = 5
	writePcap(t, pcap, [][]byte{pcapFrame(v5, false)}, -1)

	trace := filepath.Join(dir, "gocapd.trace")
	cmd := exec.Command(gocapdBin(t), "-w", t.TempDir(), "-f", pcap)
	cmd.Env = append(os.Environ(), traceEnv+"="+trace)
	out, err := runTimeout(cmd, 20*time.Second)
	require.NoError(t, err, "%s", out)
	b, err := os.ReadFile(trace)
	require.NoError(t, err)
	// The tracer's own header, then the events.
	assert.True(t, bytes.HasPrefix(b, []byte("go 1.")), "%q", b[:min(len(b), 16)])
	assert.Greater(t, len(b), 1000)

	cmd = exec.Command(gocapdBin(t), "-w", t.TempDir(), "-f", pcap)
	cmd.Env = append(os.Environ(), traceEnv+"="+filepath.Join(dir, "no", "such", "dir"))
	out, err = runTimeout(cmd, 20*time.Second)
	require.Error(t, err)
	assert.Contains(t, string(out), traceEnv+": open "+filepath.Join(dir, "no", "such", "dir"))
}
