// Package testutil holds what the tests of several packages need: the
// shared reference data and the real nfdump tools used as oracles.
package testutil

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
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

// SampleFiles lists every file the real nfcapd 1.7.1 wrote in the shared
// samples: nfcapd.YYYYMMDDhhmm[ss] files and the sample-nfcapd-* files
// (not their .log, .hex or .txt companions).
func SampleFiles(t testing.TB) []string {
	t.Helper()
	root := NfcapdSamples(t)
	var files []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := d.Name()
		if strings.HasPrefix(name, "nfcapd.2") || (strings.HasPrefix(name, "sample-nfcapd-") && !strings.Contains(name, ".")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("found %d sample files in %s, expected the nfcapd 1.7.1 samples", len(files), root)
	}
	return files
}

// Result is what a command printed and how it ended.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// RunTool runs a real tool (nfdump, nfcapd, ...) found on PATH with TZ set
// to tz (UTC when empty), so that its local times are reproducible.
func RunTool(t testing.TB, tz, name string, args ...string) Result {
	t.Helper()
	bin := RequireTool(t, name)
	if tz == "" {
		tz = "UTC"
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "TZ="+tz)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return Result{stdout.String(), stderr.String(), code}
}

// VendorGroup is the datagrams of one exporter among the shared vendor
// NetFlow/IPFIX samples, templates first.
type VendorGroup struct {
	Name  string
	Files []string
}

// vendorGroupSuffix starts the part of a vendor file name that says what
// the datagram holds (templates, data, ...), after the exporter's name.
var vendorGroupSuffix = regexp.MustCompile(`_(tpl|tpls|data|opttpl|tpldata|tplopt)`)

// VendorGroups returns the 92 vendor datagrams of the shared samples
// grouped by exporter, in name order, each group's template datagrams
// first: an exporter's templates must arrive before its data.
func VendorGroups(t testing.TB) []VendorGroup {
	t.Helper()
	dir := filepath.Join(SharedDir(t), "testdata", "vendor-netflow")
	files, err := filepath.Glob(filepath.Join(dir, "*.dat"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 92 {
		t.Fatalf("found %d vendor datagrams in %s, expected 92", len(files), dir)
	}
	byName := map[string][]string{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".dat")
		if loc := vendorGroupSuffix.FindStringIndex(name); loc != nil {
			name = name[:loc[0]]
		}
		byName[name] = append(byName[name], f)
	}
	isTemplate := func(f string) bool {
		n := filepath.Base(f)
		return strings.Contains(n, "tpl") && !strings.Contains(n, "_data")
	}
	groups := make([]VendorGroup, 0, len(byName))
	for name, fs := range byName {
		sort.SliceStable(fs, func(i, j int) bool { return isTemplate(fs[i]) && !isTemplate(fs[j]) })
		groups = append(groups, VendorGroup{name, fs})
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].Name < groups[j].Name })
	return groups
}

// Ports that FreeUDPPort hands out: below the kernel's ephemeral range
// (32768-60999 on Linux), so no socket that binds port 0, such as a
// sender in a test running in parallel, can take a port between the
// moment a test picks it and the moment its daemon binds it.
const (
	portLow  = 20000
	portHigh = 32000
)

var (
	portMu   sync.Mutex
	portUsed = map[int]bool{}
)

// FreeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago
// and that no test process on this machine holds: each port handed out
// is held by a lock on a file (portLockDir) until the test that asked for
// it ends, so test binaries of different packages running at once (go
// test runs them in parallel) never pick the same port; picking at random
// alone let two of them meet, and a daemon then failed to bind.
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	portMu.Lock()
	defer portMu.Unlock()
	if err := os.MkdirAll(portLockDir, 0o777); err != nil {
		t.Fatalf("testutil: %v", err)
	}
	for range 1000 {
		p := portLow + rand.IntN(portHigh-portLow)
		if portUsed[p] {
			continue
		}
		lock, ok := lockPort(p)
		if !ok {
			continue
		}
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
		if err != nil {
			lock.Close()
			continue
		}
		c.Close()
		portUsed[p] = true
		t.Cleanup(func() { lock.Close() })
		return p
	}
	t.Fatal("testutil: no free UDP port found")
	return 0
}

// portLockDir holds the files whose locks say which ports test processes
// hold (see FreeUDPPort).
var portLockDir = filepath.Join(os.TempDir(), "nftools-test-ports")

// lockPort takes the lock of port p without waiting; the lock lasts until
// the file is closed or the process ends, so a test that dies leaves no
// port held.
func lockPort(p int) (*os.File, bool) {
	f, err := os.OpenFile(filepath.Join(portLockDir, strconv.Itoa(p)), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, false
	}
	return f, true
}
