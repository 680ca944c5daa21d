// Package testutil holds what the tests of several packages need: the
// shared reference data and the real nfdump tools used as oracles.
package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// InCI reports whether the tests run under CI, where a missing oracle or
// missing shared data is a failure, not a reason to skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing fails the test under CI and skips it elsewhere: CI must never pass
// by skipping, but a developer without the tools can still run the rest.
func Missing(t testing.TB, what string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s is missing (run make deps)", what)
	}
	t.Skipf("%s is missing; run make deps to enable this test", what)
}

// RequireTool returns the path of a real tool such as nfdump.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "tool "+name)
	}
	return p
}

// RepoRoot returns the repository's top directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// SharedDir returns the shared reference folder that lies beside the
// repository (../shared), with the notes and the sample files.
func SharedDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(), "..", "shared")
	if _, err := os.Stat(filepath.Join(dir, "testdata")); err != nil {
		Missing(t, "shared reference folder "+dir)
	}
	return dir
}

// NfcapdSamples returns the folder of files written by the real nfcapd 1.7.1.
func NfcapdSamples(t testing.TB) string {
	t.Helper()
	return filepath.Join(SharedDir(t), "testdata", "nfcapd-1.7.1")
}
