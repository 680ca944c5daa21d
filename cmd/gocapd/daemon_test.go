//go:build linux

package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/internal/testutil"
)

// These tests build gocapd and run it on 127.0.0.1 with a free port. Every
// wait is bounded, so a broken daemon fails a test instead of hanging it.

func gocapdBin(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("GOCAPD_BIN"); bin != "" {
		// A test re-run in a network namespace uses its parent's build.
		return bin
	}
	return testutil.BuildCommand(t, ".")
}

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.RemoveBuilds()
	os.Exit(code)
}

// freePort returns a UDP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int { return testutil.FreeUDPPort(t) }

type daemonProc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	log  *testutil.SyncBuffer // stderr, and stdout unless out is set
	out  *testutil.SyncBuffer // stdout, when kept apart
	port int
	done chan struct{} // closed when the process has exited
}

func (p *daemonProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// daemonSpec says how to start a collector in the foreground.
type daemonSpec struct {
	bin    string
	name   string   // "gocapd" or "nfcapd": its startup line is "Startup <name>."
	env    []string // added to the environment
	args   []string // the whole command line after the program
	port   int      // the port in args, for send
	stdout bool     // keep stdout apart from the log (in out)
}

// startDaemon starts a collector and waits for its startup line; the
// process is killed at the end of the test if it still runs.
func startDaemon(t *testing.T, s daemonSpec) *daemonProc {
	t.Helper()
	cmd := exec.Command(s.bin, s.args...)
	cmd.Env = append(os.Environ(), s.env...)
	p := &daemonProc{t: t, name: s.name, cmd: cmd, log: &testutil.SyncBuffer{}, port: s.port, done: make(chan struct{})}
	cmd.Stderr, cmd.Stdout = p.log, p.log
	if s.stdout {
		p.out = &testutil.SyncBuffer{}
		cmd.Stdout = p.out
	}
	require.NoError(t, cmd.Start())
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		if !p.exited() {
			cmd.Process.Kill()
			<-p.done
		}
	})
	p.waitLog("Startup "+s.name+".", 10*time.Second)
	return p
}

// startGocapd runs gocapd in the foreground on 127.0.0.1:port and waits for
// its startup line.
func startGocapd(t *testing.T, env []string, args ...string) *daemonProc {
	t.Helper()
	return startGocapdSpec(t, daemonSpec{env: env, args: args})
}

// startGocapdSpec is startGocapd with s.args after -b 127.0.0.1 -p port.
func startGocapdSpec(t *testing.T, s daemonSpec) *daemonProc {
	t.Helper()
	s.bin, s.name, s.port = gocapdBin(t), "gocapd", freePort(t)
	s.args = append([]string{"-b", "127.0.0.1", "-p", strconv.Itoa(s.port)}, s.args...)
	return startDaemon(t, s)
}

func (p *daemonProc) waitLog(s string, d time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(p.log.String(), s) {
		if time.Now().After(deadline) {
			p.t.Fatalf("waiting for %q in the log:\n%s", s, p.log.String())
		}
		if p.exited() {
			p.t.Fatalf("%s exited while waiting for %q; log:\n%s", p.name, s, p.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *daemonProc) send(b []byte) {
	p.t.Helper()
	c, err := net.Dial("udp4", "127.0.0.1:"+strconv.Itoa(p.port))
	require.NoError(p.t, err)
	defer c.Close()
	_, err = c.Write(b)
	require.NoError(p.t, err)
}

// stop sends sig and waits for the exit status. The real nfcapd loses the
// datagrams it has not read when it is stopped, so it is stopped only once
// its socket holds none (a fixed sleep is outrun by a busy machine); gocapd
// reads its socket empty itself.
func (p *daemonProc) stop(sig syscall.Signal) int {
	p.t.Helper()
	if p.name == "nfcapd" && p.port > 0 && sig == syscall.SIGTERM && !p.exited() {
		testutil.WaitUDPRead(p.t, p.port)
	}
	require.NoError(p.t, p.cmd.Process.Signal(sig))
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		p.t.Fatalf("%s did not stop on %v; log:\n%s", p.name, sig, p.log.String())
	}
	return p.cmd.ProcessState.ExitCode()
}

// flowFiles lists the files under dir, relative, sorted.
func flowFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return nil
	})
	return files
}

// nfdumpIdent checks with the real nfdump that a file is a valid flow file
// and returns its ident and flow count.
func nfdumpInfo(t *testing.T, file string) string {
	t.Helper()
	nfdump := testutil.RequireTool(t, "nfdump")
	out, err := exec.Command(nfdump, "-r", file, "-I").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return string(out)
}

var slotName = regexp.MustCompile(`^nfcapd\.(\d{14})$`)

func TestRotationAndSIGTERM(t *testing.T) {
	dir := t.TempDir()
	// -t 2 is the shortest interval nfcapd 1.7.1 takes.
	p := startGocapd(t, []string{"TZ=UTC"}, "-w", dir, "-t", "2", "-S1", "-I", "rot_test", "-z=lz4")
	assert.FileExists(t, filepath.Join(dir, fmt.Sprintf("nfcapd.current.%d", p.cmd.Process.Pid)))
	p.waitLog("Ident: 'rot_test' Flows: 0", 8*time.Second)
	p.waitLog("Ident: 'rot_test' Flows: 0, Packets: 0, Bytes: 0, Sequence Errors: 0, Bad Packets: 0\nTotals", 8*time.Second)
	assert.Equal(t, 0, p.stop(syscall.SIGTERM))
	log := p.log.String()
	assert.Contains(t, log, "Terminating gocapd.")
	files := flowFiles(t, dir)
	require.GreaterOrEqual(t, len(files), 2, log)
	var prev int64
	for _, f := range files {
		// -S1 in UTC: YYYY/MM/DD/nfcapd.YYYYMMDDhhmmss, slots 2 s apart.
		m := slotName.FindStringSubmatch(filepath.Base(f))
		require.NotNil(t, m, f)
		start, err := time.ParseInLocation("20060102150405", m[1], time.UTC)
		require.NoError(t, err)
		assert.Equal(t, start.Format("2006/01/02"), filepath.Dir(f))
		assert.Zero(t, start.Unix()%2, f)
		if prev != 0 {
			assert.Equal(t, int64(2), start.Unix()-prev, "consecutive slots")
		}
		prev = start.Unix()
		info := nfdumpInfo(t, filepath.Join(dir, f))
		assert.Contains(t, info, "Ident: rot_test")
		assert.Contains(t, info, "Flows: 0")
		// An empty file's stat covers its slot, as nfcapd's do.
		assert.Contains(t, info, "First: "+strconv.FormatInt(start.Unix(), 10))
	}
}

func TestSIGHUPRotatesAndContinues(t *testing.T) {
	dir := t.TempDir()
	clock := startClock(300 * time.Second)
	p := startGocapd(t, []string{"TZ=UTC"}, "-w", dir, "-I", "hup")
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGHUP))
	p.waitLog("Ident: 'hup'", 5*time.Second)
	require.Eventually(t, func() bool { return len(flowFiles(t, dir)) == 2 }, 5*time.Second, 20*time.Millisecond)
	// A second SIGHUP in the same 5-minute slot appends to the same file.
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGHUP))
	require.Eventually(t, func() bool { return strings.Count(p.log.String(), "Ident: 'hup'") == 2 }, 5*time.Second, 20*time.Millisecond)
	assert.False(t, p.exited(), "still running")
	p.send([]byte("still alive?"))
	assert.Equal(t, 0, p.stop(syscall.SIGTERM))
	// One file for the slot, unless a boundary passed meanwhile.
	files := flowFiles(t, dir)
	clock.requireFiles(t, files, p.log.String())
	for _, f := range files {
		assert.Regexp(t, `^nfcapd\.\d{12}$`, f)
		assert.Contains(t, nfdumpInfo(t, filepath.Join(dir, f)), "Ident: hup")
	}
}

func TestSIGINTFlushes(t *testing.T) {
	dir := t.TempDir()
	clock := startClock(60 * time.Second)
	p := startGocapd(t, nil, "-w", dir, "-t", "60")
	assert.Equal(t, 0, p.stop(syscall.SIGINT))
	files := flowFiles(t, dir)
	clock.requireFiles(t, files)
	for _, f := range files {
		assert.Regexp(t, `^nfcapd\.\d{12}$`, f)
	}
}

func TestCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	p := startGocapd(t, []string{"TZ=UTC"}, "-w", dir, "-I", "crash")
	current := fmt.Sprintf("nfcapd.current.%d", p.cmd.Process.Pid)
	require.FileExists(t, filepath.Join(dir, current))
	p.stop(syscall.SIGKILL)
	require.Equal(t, []string{current}, flowFiles(t, dir))

	p = startGocapd(t, []string{"TZ=UTC"}, "-w", dir, "-I", "crash")
	p.waitLog("Recovered "+filepath.Join(dir, current), 5*time.Second)
	assert.Equal(t, 0, p.stop(syscall.SIGTERM))
	files := flowFiles(t, dir)
	// The recovered file and the new run's file share the slot (unless a
	// 5-minute boundary passed in between): one or two files.
	require.NotEmpty(t, files)
	for _, f := range files {
		assert.Regexp(t, `^nfcapd\.\d{12}$`, f)
		nfdumpInfo(t, filepath.Join(dir, f))
	}
}

// TestKill9AtALowRate: at a low rate the block that holds flows goes to
// the disk once its oldest flow is 10 seconds old (nfcapd 1.7.1 writes a
// block only when its 1 MiB is full), so a kill -9 loses only the flows of
// the last seconds; the next start recovers the rest.
func TestKill9AtALowRate(t *testing.T) {
	// It waits 10 seconds for the block: beside the other slow tests.
	t.Parallel()
	v5 := captureSoftflowd(t, "-v", "5") // 20 flows
	dir := t.TempDir()
	p := startGocapd(t, []string{"TZ=UTC"}, "-w", dir, "-I", "crash")
	current := filepath.Join(dir, fmt.Sprintf("nfcapd.current.%d", p.cmd.Process.Pid))
	sent := time.Now()
	sendFrom(t, "127.0.0.1", "127.0.0.1", v5, p.port)
	// The new file holds its header alone until the first block.
	require.Eventually(t, func() bool {
		fi, err := os.Stat(current)
		return err == nil && fi.Size() > flowfile.HeaderSize
	}, 30*time.Second, 100*time.Millisecond, "no block written")
	t.Logf("the block went to the disk %v after the flows", time.Since(sent).Round(100*time.Millisecond))
	// These the kill takes before their block is written.
	sendFrom(t, "127.0.0.1", "127.0.0.1", v5, p.port)
	time.Sleep(100 * time.Millisecond)
	p.stop(syscall.SIGKILL)

	p = startGocapd(t, []string{"TZ=UTC"}, "-w", dir, "-I", "crash")
	p.waitLog("Recovered "+current, 5*time.Second)
	assert.Equal(t, 0, p.stop(syscall.SIGTERM))
	flows := csvFlows(t, dir)
	assert.GreaterOrEqual(t, len(flows), 20, "the flows of the written block")
	assert.LessOrEqual(t, len(flows), 40)
}

func TestMalformedDatagrams(t *testing.T) {
	dir := t.TempDir()
	clock := startClock(60 * time.Second)
	p := startGocapd(t, nil, "-w", dir, "-t", "60")
	for i, b := range [][]byte{
		{},                               // empty
		{0},                              // one byte
		{0, 5},                           // v5 header cut after the version
		{0, 5, 0, 30, 0, 0, 0, 0},        // v5 claiming 30 records
		{0, 9, 0, 1, 0, 0, 0, 0},         // v9 cut short
		{0, 10, 0, 4, 0, 0},              // IPFIX with a length below its header
		bytes.Repeat([]byte{0xff}, 1400), // noise
		append([]byte{0, 10, 0xff, 0xff}, make([]byte, 2000)...), // IPFIX longer than sent
	} {
		_ = i
		p.send(b)
	}
	time.Sleep(300 * time.Millisecond)
	assert.False(t, p.exited(), "still running")
	assert.Equal(t, 0, p.stop(syscall.SIGTERM))
	assert.Regexp(t, `Totals: Datagrams: [1-9]`, p.log.String())
	clock.requireFiles(t, flowFiles(t, dir))
}

func TestZoneInNames(t *testing.T) {
	dir := t.TempDir()
	clock := startClock(300 * time.Second)
	p := startGocapd(t, []string{"TZ=UTC"}, "-w", dir, "-Z")
	assert.Equal(t, 0, p.stop(syscall.SIGTERM))
	files := flowFiles(t, dir)
	clock.requireFiles(t, files)
	for _, f := range files {
		assert.Regexp(t, `^nfcapd\.\d{12}\+0000$`, f)
	}
}

// xlog.sh of nfcapd-tests: it records its arguments.
const xlogScript = "#!/bin/sh\necho \"argc=$# args=[$*]\" >> \"$XLOG\"\n"

func TestCommandAfterRotation(t *testing.T) {
	dir := t.TempDir()
	flows := filepath.Join(dir, "flows")
	require.NoError(t, os.Mkdir(flows, 0o755))
	script := filepath.Join(dir, "xlog.sh")
	require.NoError(t, os.WriteFile(script, []byte(xlogScript), 0o755))
	xlog := filepath.Join(dir, "xlog.txt")
	// An ident with a shell metacharacter and a space stays one argument.
	p := startGocapd(t, []string{"TZ=UTC", "XLOG=" + xlog}, "-w", flows, "-S", "1", "-t", "5",
		"-I", "x;ident", "-x", script+" %d %f %t %u %i %q")
	p.waitLog("Unknown format token '%q'", 5*time.Second)
	require.Eventually(t, func() bool { b, _ := os.ReadFile(xlog); return len(b) > 0 }, 10*time.Second, 50*time.Millisecond)
	assert.Equal(t, 0, p.stop(syscall.SIGTERM))
	b, err := os.ReadFile(xlog)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.GreaterOrEqual(t, len(lines), 2, "one per rotation and one at the end")
	// The form of nfcapd-tests/xlog.txt:
	// argc=6 args=[DIR 2026/11/24/nfcapd.20261124214435 20261124214435 1795556675 xident %q]
	re := regexp.MustCompile(`^argc=6 args=\[` + regexp.QuoteMeta(flows) + ` (\d{4}/\d\d/\d\d)/nfcapd\.(\d{14}) (\d{14}) (\d+) x;ident %q\]$`)
	for _, l := range lines {
		m := re.FindStringSubmatch(l)
		require.NotNil(t, m, l)
		assert.Equal(t, m[2], m[3])
		start, err := time.ParseInLocation("20060102150405", m[3], time.UTC)
		require.NoError(t, err)
		assert.Equal(t, strconv.FormatInt(start.Unix(), 10), m[4])
		assert.Equal(t, start.Format("2006/01/02"), m[1])
		assert.FileExists(t, filepath.Join(flows, m[1], "nfcapd."+m[2]))
	}
}

func TestExpire(t *testing.T) {
	dir := t.TempDir()
	// An old file beyond a lifetime of one hour, which -e must remove.
	old := filepath.Join(dir, "nfcapd.202001010000")
	require.NoError(t, os.WriteFile(old, []byte("old"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".nfstat"), []byte("first=0\nlast=0\nsize=0\nmaxsize=0\nnumfiles=0\nlifetime=3600\nwatermark=95\nstatus=0\n"), 0o644))
	p := startGocapd(t, []string{"TZ=UTC"}, "-w", dir, "-t", "3", "-e")
	p.waitLog("expire completed", 8*time.Second)
	assert.Equal(t, 0, p.stop(syscall.SIGTERM))
	assert.NoFileExists(t, old)
	b, err := os.ReadFile(filepath.Join(dir, ".nfstat"))
	require.NoError(t, err)
	assert.Regexp(t, `^first=\d+\nlast=\d+\nsize=\d+\nmaxsize=0\nnumfiles=\d+\nlifetime=3600\nwatermark=95\nstatus=0\n$`, string(b))
	assert.Contains(t, p.log.String(), "Run expire on '"+dir+"'")
}

func TestDaemonAndPidFile(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(t.TempDir(), "gocapd.pid")
	port := freePort(t)
	clock := startClock(300 * time.Second)
	// The lab's command line, on a free port and a temporary directory.
	cmd := exec.Command(gocapdBin(t), "-I", "Exporter_#1", "-D", "-p", strconv.Itoa(port), "-w", dir, "-S1", "-P", pidFile)
	out, err := runTimeout(cmd, 15*time.Second)
	require.NoError(t, err, "%s", out)
	assert.Empty(t, out)
	b, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	require.NoError(t, syscall.Kill(pid, 0), "daemon alive")
	assert.FileExists(t, filepath.Join(dir, fmt.Sprintf("nfcapd.current.%d", pid)))

	// A second instance with the same pid file refuses to start.
	cmd = exec.Command(gocapdBin(t), "-D", "-p", strconv.Itoa(freePort(t)), "-w", dir, "-P", pidFile)
	out, err = runTimeout(cmd, 15*time.Second)
	assert.Error(t, err, "%s", out)

	require.NoError(t, syscall.Kill(pid, syscall.SIGTERM))
	require.Eventually(t, func() bool { return syscall.Kill(pid, 0) != nil }, 10*time.Second, 20*time.Millisecond)
	assert.NoFileExists(t, pidFile)
	files := flowFiles(t, dir)
	clock.requireFiles(t, files)
	for _, f := range files {
		assert.Regexp(t, `^\d{4}/\d\d/\d\d/nfcapd\.\d{12}$`, f)
		assert.Contains(t, nfdumpInfo(t, filepath.Join(dir, f)), "Ident: Exporter_#1")
	}
}

func runTimeout(cmd *exec.Cmd, d time.Duration) ([]byte, error) {
	var out testutil.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return []byte(out.String()), err
	case <-time.After(d):
		cmd.Process.Kill()
		return []byte(out.String()), fmt.Errorf("timeout after %v", d)
	}
}

func TestPrivilegeDrop(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to drop privileges")
	}
	// nobody must reach the flow directory: t.TempDir's parent is 0700.
	dir, err := os.MkdirTemp("", "gocapd-nobody")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o777))
	clock := startClock(300 * time.Second)
	p := startGocapd(t, nil, "-w", dir, "-u", "nobody")
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^Uid:\s+(\d+)\s+(\d+)\s+(\d+)`).FindStringSubmatch(string(status))
	require.NotNil(t, m)
	assert.Equal(t, "65534", m[1])
	assert.Equal(t, "65534", m[2])
	assert.Equal(t, "65534", m[3])
	p.send([]byte("x"))
	assert.Equal(t, 0, p.stop(syscall.SIGTERM))
	files := flowFiles(t, dir)
	clock.requireFiles(t, files)
	for _, f := range files {
		fi, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.Equal(t, uint32(65534), fi.Sys().(*syscall.Stat_t).Uid, "written as nobody")
	}
}

func TestPortInUse(t *testing.T) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer c.Close()
	port := c.LocalAddr().(*net.UDPAddr).Port
	out, err := runTimeout(exec.Command(gocapdBin(t), "-b", "127.0.0.1", "-p", strconv.Itoa(port), "-w", t.TempDir()), 10*time.Second)
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "%s", out)
	assert.Equal(t, 1, ee.ExitCode())
	assert.Contains(t, string(out), "Receive socket error: could not open the requested socket: address already in use")
	assert.Contains(t, string(out), "Terminated due to errors")
}
