package collector

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flowfile"
)

// TestCrashLeftFileOfTheSamePid: a crash left an empty nfcapd.current
// file under the pid the new run has too (a container's pid 1, say). It
// holds nothing to recover: it is moved out of the way, kept for a look,
// and the new run starts and writes its own file.
func TestCrashLeftFileOfTheSamePid(t *testing.T) {
	dir := t.TempDir()
	const pid = 1
	left := filepath.Join(dir, flowfile.CurrentName(pid))
	require.NoError(t, os.WriteFile(left, nil, 0o644))
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	var mu sync.Mutex
	var log []string
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		log = append(log, format)
	}
	started := make(chan struct{})
	c, err := New(Config{Sources: []Source{{Ident: "pid", Dir: dir}}, Interval: time.Hour, Pid: pid,
		Infof: logf, Started: func() { close(started) }}, conn)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	fi, err := os.Stat(left)
	require.NoError(t, err, "the new run's file")
	assert.Equal(t, int64(flowfile.HeaderSize), fi.Size())
	assert.FileExists(t, left+unreadable)
	cancel()
	require.NoError(t, <-done)
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, strings.Join(log, "\n"), "ERROR: can not recover %s: %v; it stays as %s")
}
