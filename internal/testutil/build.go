package testutil

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Commands are built once per test process, each into its own
// directory under one temporary directory that RemoveBuilds deletes.
var (
	buildMu   sync.Mutex
	buildDir  string
	buildErr  = map[string]error{}
	buildPath = map[string]string{}
)

// BuildCommand builds the command whose package is in dir (relative to the
// test's package: "." for the command under test, "../gocapd" for a
// sibling) once per test process, as go build builds it by default, and
// returns the binary's path. A test binary whose tests build commands
// calls RemoveBuilds from its TestMain.
func BuildCommand(t testing.TB, dir string) string {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if path, ok := buildPath[abs]; ok {
		if err := buildErr[abs]; err != nil {
			t.Fatal(err)
		}
		return path
	}
	if buildDir == "" {
		if buildDir, err = os.MkdirTemp("", "nftools-bin"); err != nil {
			t.Fatal(err)
		}
		// Tests may run a command as another user (a service's).
		if err := os.Chmod(buildDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(buildDir, fmt.Sprint(len(buildPath)), filepath.Base(abs))
	buildPath[abs] = out
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = abs
	if msg, err := cmd.CombinedOutput(); err != nil {
		buildErr[abs] = fmt.Errorf("go build %s: %v\n%s", dir, err, msg)
		t.Fatal(buildErr[abs])
	}
	return out
}

// RemoveBuilds deletes what BuildCommand built.
func RemoveBuilds() {
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir != "" {
		os.RemoveAll(buildDir)
		buildDir = ""
		clear(buildPath)
		clear(buildErr)
	}
}

// SyncBuffer is a bytes.Buffer that a process started by a test (or a
// goroutine) writes to while the test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
