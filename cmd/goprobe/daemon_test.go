package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/testutil"
)

// These tests build goprobe and run it as a user would, for what only a
// process of its own shows: going to the background.

// goprobeBin builds goprobe once for the tests that run it.
func goprobeBin(t *testing.T) string { return testutil.BuildCommand(t, ".") }

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.RemoveBuilds()
	os.Exit(code)
}

// runBin runs the built goprobe with a deadline.
func runBin(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(goprobeBin(t), args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("goprobe %v did not return", args)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// TestBackgroundStartFailure: without stdout logging goprobe goes to the
// background, and the command waits until the background process has
// opened its capture: one that cannot start reports its error on stderr
// and the command exits 1 (fprobe exits 0 and logs the error to syslog).
func TestBackgroundStartFailure(t *testing.T) {
	sink := newUDPSink(t)
	id := "test" + strconv.Itoa(os.Getpid())
	code, stdout, stderr := runBin(t, "-l", "0:"+id, "-i", "nosuch0", sink.addr())
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.True(t, strings.HasPrefix(stderr, "goprobe: "), stderr)
	assert.Contains(t, stderr, "nosuch0")
	_, err := os.Stat("/var/run/goprobe[" + id + "].pid")
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// TestChrootPidFile: with -c the pid file is written after the chroot,
// into the new root's /var/run as fprobe writes it, and removed from there
// at the end.
func TestChrootPidFile(t *testing.T) {
	requireRoot(t)
	sink := newUDPSink(t)
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "var/run"), 0o755))
	id := "test" + strconv.Itoa(os.Getpid())
	pidFile := "/var/run/goprobe[" + id + "].pid"
	pcap, err := os.ReadFile(filepath.Join(testutil.NfcapdSamples(t), "lo.pcap"))
	require.NoError(t, err)
	cmd := exec.Command(goprobeBin(t), "-l", "2:"+id, "-c", root, "-i", "-", sink.addr())
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	p := startProc(t, cmd)
	// The capture, but the pipe stays open: goprobe runs until it closes.
	_, err = stdin.Write(pcap)
	require.NoError(t, err)
	p.waitLog("collector #1:")
	b, err := os.ReadFile(filepath.Join(root, pidFile))
	require.NoError(t, err, "%s", p.log)
	assert.Equal(t, strconv.Itoa(cmd.Process.Pid)+"\n", string(b))
	assert.NoFileExists(t, pidFile, "not in the real root")
	require.NoError(t, stdin.Close())
	<-p.done
	assert.Equal(t, 0, cmd.ProcessState.ExitCode(), "%s", p.log)
	assert.NotContains(t, p.log.String(), "pid file")
	assert.NoFileExists(t, filepath.Join(root, pidFile), "removed at the end")
}
