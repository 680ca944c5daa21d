//go:build linux

package main

// End-to-end tests of the options that need more than one exporter, a
// second run or a look at the socket: gocapd and the real nfcapd 1.7.1 run
// side by side and what nfdump reads from both directories must agree.
//
// Where the exporters' addresses matter (-n, -M, the vendor datagrams) the
// test sends every datagram to both collectors from the same address:
// gocapd's repeater (-R) sends from its own socket, so nfcapd would see
// every exporter as 127.0.0.1.

import (
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
	"golang.org/x/sys/unix"

	"github.com/nfgo/nftools/collector"
	"github.com/nfgo/nftools/internal/testutil"
)

// captureSoftflowd replays lo.pcap through the real softflowd into a UDP
// socket on loopback and returns the datagrams it sent, so that a test can
// send the very same bytes from any address.
func captureSoftflowd(t *testing.T, args ...string) [][]byte {
	t.Helper()
	sf := testutil.RequireTool(t, "softflowd")
	pcap := filepath.Join(testutil.NfcapdSamples(t), "lo.pcap")
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetReadBuffer(1<<20))
	port := conn.LocalAddr().(*net.UDPAddr).Port
	out, err := runTimeout(exec.Command(sf, append([]string{"-d", "-r", pcap, "-n", "127.0.0.1:" + strconv.Itoa(port)}, args...)...), 20*time.Second)
	require.NoError(t, err, "%s", out)
	var dgrams [][]byte
	buf := make([]byte, 65536)
	for {
		conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		n, _, err := conn.ReadFromUDP(buf)
		if err != nil {
			break
		}
		dgrams = append(dgrams, append([]byte(nil), buf[:n]...))
	}
	require.NotEmpty(t, dgrams)
	return dgrams
}

// sendFrom sends the datagrams in order from a socket bound to src (any
// 127.0.0.0/8 address works on Linux) to dst at each of the ports: every
// collector sees the same exporter and the same bytes in the same order.
func sendFrom(t *testing.T, src, dst string, dgrams [][]byte, ports ...int) {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(src)})
	require.NoError(t, err)
	defer c.Close()
	for _, d := range dgrams {
		for _, p := range ports {
			_, err := c.WriteToUDP(d, &net.UDPAddr{IP: net.ParseIP(dst), Port: p})
			require.NoError(t, err)
		}
		// Collectors read one datagram at a time; pacing keeps the
		// socket buffers from overflowing on a loaded machine.
		time.Sleep(time.Millisecond)
	}
}

// stopAll gives the collectors a moment to read what was sent, then stops
// them with SIGTERM; each must exit 0.
func stopAll(t *testing.T, procs ...*daemonProc) {
	t.Helper()
	time.Sleep(300 * time.Millisecond)
	for _, p := range procs {
		require.Equal(t, 0, p.stop(syscall.SIGTERM), "%s log:\n%s", p.name, p.log.String())
	}
}

// nfdumpStat returns nfdump -I of the files under dir as key: value.
func nfdumpStat(t *testing.T, dir string) map[string]string {
	t.Helper()
	out, err := exec.Command(testutil.RequireTool(t, "nfdump"), "-R", dir, "-I").CombinedOutput()
	require.NoError(t, err, "%s", out)
	m := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(l, ": "); ok {
			m[k] = v
		}
	}
	require.Contains(t, m, "Flows", "%s", out)
	return m
}

// recordBlocks splits what nfcapd -E prints on stdout into its record
// blocks, without the "received at" line (each collector stamps its own
// time) and without nfcapd's "File Block Header" line.
func recordBlocks(s string) []string {
	var blocks []string
	for _, b := range strings.Split(s, "\nFlow Record: \n")[1:] {
		var keep []string
		for _, l := range strings.Split(b, "\n") {
			if strings.HasPrefix(l, "  received at  =") || strings.HasPrefix(l, "File Block Header:") || l == "" {
				continue
			}
			keep = append(keep, l)
		}
		blocks = append(blocks, strings.Join(keep, "\n"))
	}
	return blocks
}

// TestPrintRecordsLikeNfcapd: -E prints every record on stdout as nfcapd
// 1.7.1 -E does, and -vvv does the same. The traffic is the one of
// nfcapd-tests/EE.log, repeated by gocapd to nfcapd and to a second gocapd.
func TestPrintRecordsLikeNfcapd(t *testing.T) {
	softflowd := testutil.RequireTool(t, "softflowd")
	pcap := filepath.Join(testutil.NfcapdSamples(t), "lo.pcap")
	ref := startNfcapdSpec(t, daemonSpec{args: []string{"-w", t.TempDir(), "-E"}, stdout: true})
	vvv := startGocapdSpec(t, daemonSpec{env: []string{"TZ=UTC"}, args: []string{"-w", t.TempDir(), "-vvv"}, stdout: true})
	ours := startGocapdSpec(t, daemonSpec{env: []string{"TZ=UTC"}, stdout: true, args: []string{"-w", t.TempDir(), "-E",
		"-R", "127.0.0.1/" + strconv.Itoa(ref.port), "-R", "127.0.0.1/" + strconv.Itoa(vvv.port)}})
	out, err := runTimeout(exec.Command(softflowd, "-d", "-r", pcap, "-v", "9", "-a", "-n", "127.0.0.1:"+strconv.Itoa(ours.port)), 20*time.Second)
	require.NoError(t, err, "%s", out)
	// gocapd prints as soon as it has caught up with the datagrams,
	// before any rotation.
	require.Eventually(t, func() bool { return strings.Count(ours.out.String(), "Flow Record:") == 30 }, 10*time.Second, 20*time.Millisecond,
		"gocapd -E printed:\n%s", ours.out.String())
	stopAll(t, ref, ours, vvv)

	// nfcapd flushes its stdout at exit.
	want := recordBlocks(ref.out.String())
	require.Len(t, want, 30, ref.out.String())
	assert.Equal(t, want, recordBlocks(ours.out.String()))
	assert.Equal(t, want, recordBlocks(vvv.out.String()))
	// The record of the echo request shows nfcapd's swapped ICMP bytes.
	assert.Contains(t, ours.out.String(), "  ICMP         =               0.8  type.code\n")
	assert.Contains(t, ours.log.String(), "Verbose log level: 3\n")
	assert.NotContains(t, ours.log.String(), "Flow Record", "records go to stdout only")
}

// TestPrintRecordsClosedStdout: when the reader of -E's output goes away,
// gocapd logs it once and keeps collecting.
func TestPrintRecordsClosedStdout(t *testing.T) {
	v9 := captureSoftflowd(t, "-v", "9", "-a")
	dir := t.TempDir()
	port := freePort(t)
	cmd := exec.Command(gocapdBin(t), "-b", "127.0.0.1", "-p", strconv.Itoa(port), "-w", dir, "-E")
	cmd.Env = append(os.Environ(), "TZ=UTC")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	p := &daemonProc{t: t, name: "gocapd", cmd: cmd, log: &testutil.SyncBuffer{}, port: port, done: make(chan struct{})}
	cmd.Stderr = p.log
	require.NoError(t, cmd.Start())
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		if !p.exited() {
			cmd.Process.Kill()
			<-p.done
		}
	})
	p.waitLog("Startup gocapd.", 10*time.Second)
	stdout.Close()
	sendFrom(t, "127.0.0.1", "127.0.0.1", v9, port)
	p.waitLog("ERROR: printing records stopped: ", 5*time.Second)
	sendFrom(t, "127.0.0.1", "127.0.0.1", v9, port)
	stopAll(t, p)
	assert.Equal(t, 1, strings.Count(p.log.String(), "printing records stopped"))
	assert.Equal(t, "60", nfdumpStat(t, dir)["Flows"])
}

// TestFlowSourcesByExporter: -n ident,IP,dir twice; each exporter's flows go
// to its directory with its ident, and an exporter no source takes is
// skipped, as with nfcapd.
func TestFlowSourcesByExporter(t *testing.T) {
	v5 := captureSoftflowd(t, "-v", "5")
	v9 := captureSoftflowd(t, "-v", "9", "-a")
	refRoot, ourRoot := t.TempDir(), t.TempDir()
	clock := startClock(300 * time.Second)
	args := func(root string) []string {
		for _, d := range []string{"r1", "r2"} {
			require.NoError(t, os.Mkdir(filepath.Join(root, d), 0o755))
		}
		return []string{"-n", "r1,127.0.1.1," + root + "/r1", "-n", "router_2,127.0.1.2," + root + "/r2"}
	}
	ref := startNfcapdSpec(t, daemonSpec{args: args(refRoot)})
	ours := startGocapdSpec(t, daemonSpec{env: []string{"TZ=UTC"}, args: args(ourRoot)})
	sendFrom(t, "127.0.1.1", "127.0.0.1", v5, ours.port, ref.port)
	sendFrom(t, "127.0.1.2", "127.0.0.1", v9, ours.port, ref.port)
	sendFrom(t, "127.0.1.3", "127.0.0.1", v5[:1], ours.port, ref.port)
	stopAll(t, ref, ours)

	for _, src := range []struct {
		ident, dir string
		flows      int
	}{{"r1", "r1", 20}, {"router_2", "r2", 30}} {
		refDir, ourDir := filepath.Join(refRoot, src.dir), filepath.Join(ourRoot, src.dir)
		want, got := csvFlows(t, refDir), csvFlows(t, ourDir)
		require.Len(t, want, src.flows, src.ident)
		assert.Equal(t, want, got, src.ident)
		clock.sameFiles(t, flowFiles(t, refDir), flowFiles(t, ourDir))
		assert.Equal(t, exporters(t, refDir), exporters(t, ourDir))
		assert.Equal(t, "Ident: "+src.ident, strings.SplitN(nfdumpInfo(t, filepath.Join(ourDir, flowFiles(t, ourDir)[0])), "\n", 2)[0])
		clock.sameStat(t, nfdumpStat(t, refDir), nfdumpStat(t, ourDir), src.ident)
		assert.Contains(t, ours.log.String(), fmt.Sprintf("Add flow source: ident: %s, IP: 127.0.1.%s, flowdir: %s\n", src.ident, src.dir[1:], ourDir))
		assert.Contains(t, loggedTotals(ours.log.String(), src.ident), fmt.Sprintf("Flows: %d,", src.flows))
	}
	assert.Contains(t, ours.log.String(), "Skip unknown flow source: '127.0.1.3'")
	assert.Contains(t, ref.log.String(), "Skip UDP packet")
}

// TestDynamicSources: -M dir makes a sub directory and a source per
// exporter, named after its address, the name also being the ident.
func TestDynamicSources(t *testing.T) {
	v5 := captureSoftflowd(t, "-v", "5")
	v9 := captureSoftflowd(t, "-v", "9", "-a")
	refRoot, ourRoot := t.TempDir(), t.TempDir()
	clock := startClock(300 * time.Second)
	ref := startNfcapdSpec(t, daemonSpec{args: []string{"-M", refRoot}})
	ours := startGocapdSpec(t, daemonSpec{env: []string{"TZ=UTC"}, args: []string{"-M", ourRoot}})
	sendFrom(t, "127.0.0.1", "127.0.0.1", v5, ours.port, ref.port)
	sendFrom(t, "127.0.1.2", "127.0.0.1", v9, ours.port, ref.port)
	stopAll(t, ref, ours)

	// nfcapd-tests/M: M/127-0-0-1/nfcapd.YYYYMMDDhhmm
	clock.sameFiles(t, flowFiles(t, refRoot), flowFiles(t, ourRoot))
	for _, src := range []struct {
		name  string
		flows int
	}{{"127-0-0-1", 20}, {"127-0-1-2", 30}} {
		refDir, ourDir := filepath.Join(refRoot, src.name), filepath.Join(ourRoot, src.name)
		want, got := csvFlows(t, refDir), csvFlows(t, ourDir)
		require.Len(t, want, src.flows, src.name)
		assert.Equal(t, want, got, src.name)
		wantE, gotE := exporters(t, refDir), exporters(t, ourDir)
		if src.name == "127-0-0-1" {
			// nfcapd 1.7.1 zeroes the exporter count of its first
			// source when it adds a dynamic one (AddDynamicSource sets
			// (*FlowSource)->exporter_count), so this file lost its
			// exporter stat record; gocapd keeps it.
			assert.Equal(t, "Exporters:\n\nSysID: 1, IP:        127.0.0.1, version: 5, ID:  0 - no flows sent\n", wantE)
			wantE = "Exporters:\n\nSysID: 1, IP:        127.0.0.1, version: 5, ID:  0, Sequence failures: 0, packets: 1, flows: 20\n"
		}
		assert.Equal(t, wantE, gotE)
		wantStat, gotStat := nfdumpStat(t, refDir), nfdumpStat(t, ourDir)
		assert.Equal(t, src.name, gotStat["Ident"])
		// nfcapd 1.7.1 leaves firstseen of a dynamic source at 0
		// (nfdump -I: "First: 0"); gocapd stores the first flow's time.
		assert.Equal(t, "0", wantStat["First"])
		assert.Equal(t, wantStat["First"]+"."+wantStat["msec_first"], "0.0")
		delete(wantStat, "First")
		delete(wantStat, "msec_first")
		assert.Equal(t, gotStat["First"], firstFlowTime(t, ourDir))
		delete(gotStat, "First")
		delete(gotStat, "msec_first")
		clock.sameStat(t, wantStat, gotStat, src.name)
		pid := ours.cmd.Process.Pid
		assert.Contains(t, ours.log.String(), fmt.Sprintf("Dynamically add source ident: %s in directory: %s/nfcapd.current.%d\n", src.name, ourDir, pid))
	}
	assert.Contains(t, ours.log.String(), "Unknown flow source: '127.0.0.1'")
}

// firstFlowTime returns the start of the earliest flow under dir in Unix
// seconds, from nfdump -o fmt:%ts in UTC.
func firstFlowTime(t *testing.T, dir string) string {
	t.Helper()
	cmd := exec.Command(testutil.RequireTool(t, "nfdump"), "-R", dir, "-q", "-O", "tstart", "-c", "1", "-o", "fmt:%ts")
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	ts, err := time.Parse("2006-01-02 15:04:05.000", strings.TrimSpace(string(out)))
	require.NoError(t, err, "%s", out)
	return strconv.FormatInt(ts.Unix(), 10)
}

// TestDefaultSamplingLikeNfcapd: -s rate scales the counters of exporters
// that announce no sampling (a negative rate also overrides what they
// announce) and stores the default sampler, as nfcapd -s does.
func TestDefaultSamplingLikeNfcapd(t *testing.T) {
	softflowd := testutil.RequireTool(t, "softflowd")
	pcap := filepath.Join(testutil.NfcapdSamples(t), "lo.pcap")
	for _, tc := range []struct {
		name, rate string
		args       []string
		packets    string // unsampled: 97 (v5, IPv4 only) or 131
		refBroken  bool
	}{
		{"v5", "10", []string{"-v", "5"}, "970", false},
		{"v9", "10", []string{"-v", "9", "-a"}, "1310", false},
		{"ipfix", "10", []string{"-v", "10", "-A", "milli"}, "1310", false},
		{"v9-override", "-10", []string{"-v", "9", "-a"}, "1310", false},
		// nfcapd 1.7.1 keeps the IPFIX default rate unsigned: -s -10
		// becomes 1:4294967286 and its counters overflow. gocapd
		// applies the override of 10, as for v5 and v9.
		{"ipfix-override", "-10", []string{"-v", "10", "-A", "milli"}, "1310", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refDir, ourDir := t.TempDir(), t.TempDir()
			clock := startClock(300 * time.Second)
			ref := startNfcapdSpec(t, daemonSpec{args: []string{"-w", refDir, "-I", "sampled", "-s", tc.rate}})
			ours := startGocapdSpec(t, daemonSpec{env: []string{"TZ=UTC"}, args: []string{"-w", ourDir, "-I", "sampled", "-s", tc.rate,
				"-R", "127.0.0.1/" + strconv.Itoa(ref.port)}})
			out, err := runTimeout(exec.Command(softflowd, append([]string{"-d", "-r", pcap, "-n", "127.0.0.1:" + strconv.Itoa(ours.port)}, tc.args...)...), 20*time.Second)
			require.NoError(t, err, "%s", out)
			stopAll(t, ref, ours)
			gotStat := nfdumpStat(t, ourDir)
			assert.Equal(t, tc.packets, gotStat["Packets"])
			gotE := exporters(t, ourDir)
			// The sampler record: nfdump -E shows it under its exporter.
			kind := "default"
			if strings.HasPrefix(tc.rate, "-") {
				kind = "overwrite"
			}
			assert.Contains(t, gotE, "    Sampler: Static "+kind+" Sampler: algorithm: 0, packet interval: 1, packet space: 9\n")
			if tc.refBroken {
				assert.Equal(t, strconv.Itoa(131*4294967286), nfdumpStat(t, refDir)["Packets"], "nfcapd's overflow")
				return
			}
			want, got := csvFlows(t, refDir), csvFlows(t, ourDir)
			require.NotEmpty(t, want)
			assert.Equal(t, want, got)
			assert.Equal(t, exporters(t, refDir), gotE)
			clock.sameStat(t, nfdumpStat(t, refDir), gotStat)
		})
	}
}

// socketBuffer returns SO_RCVBUF of the UDP socket a process listens on at
// port, taken from the process with pidfd_getfd.
func socketBuffer(t *testing.T, p *daemonProc) int {
	t.Helper()
	pid := p.cmd.Process.Pid
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Skipf("pidfd_open: %v: cannot look at another process's socket here", err)
	}
	defer unix.Close(pidfd)
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	require.NoError(t, err)
	for _, e := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name()))
		if err != nil || !strings.HasPrefix(link, "socket:") {
			continue
		}
		target, _ := strconv.Atoi(e.Name())
		fd, err := unix.PidfdGetfd(pidfd, target, 0)
		if err != nil {
			t.Skipf("pidfd_getfd: %v: cannot look at another process's socket here", err)
		}
		sa, _ := unix.Getsockname(fd)
		typ, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
		size, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
		unix.Close(fd)
		port := -1
		switch a := sa.(type) {
		case *unix.SockaddrInet4:
			port = a.Port
		case *unix.SockaddrInet6:
			port = a.Port
		}
		if typ == unix.SOCK_DGRAM && port == p.port {
			return size
		}
	}
	t.Fatalf("%s (pid %d) has no UDP socket on port %d", p.name, pid, p.port)
	return 0
}

var bufferLog = regexp.MustCompile(`(?m)^(I want at least|Standard setsockopt|System set setsockopt).*$`)

// TestSocketBuffer: -B sets the socket's receive buffer as nfcapd does (at
// least 64 KiB, which Linux doubles, up to net.core.rmem_max) and logs the
// same lines; without -B gocapd's default is far larger than nfcapd's.
func TestSocketBuffer(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/net/core/rmem_max")
	require.NoError(t, err)
	rmemMax, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	for _, req := range []int{1000, 300000} {
		t.Run(strconv.Itoa(req), func(t *testing.T) {
			ref := startNfcapdSpec(t, daemonSpec{args: []string{"-w", t.TempDir(), "-B", strconv.Itoa(req)}})
			ours := startGocapdSpec(t, daemonSpec{env: []string{"TZ=UTC"}, args: []string{"-w", t.TempDir(), "-B", strconv.Itoa(req)}})
			want := 2 * min(max(req, 65536), rmemMax)
			// Both log the size before and the size granted.
			assert.Equal(t, bufferLog.FindAllString(ref.log.String(), -1), bufferLog.FindAllString(ours.log.String(), -1))
			assert.Contains(t, ours.log.String(), fmt.Sprintf("System set setsockopt, SO_RCVBUF to %d bytes", want))
			// And the sockets have it.
			assert.Equal(t, want, socketBuffer(t, ref), "nfcapd")
			assert.Equal(t, want, socketBuffer(t, ours), "gocapd")
			stopAll(t, ref, ours)
		})
	}
	// Without -B gocapd asks for its own default (beyond rmem_max as
	// root), and logs nothing.
	ours := startGocapd(t, nil, "-w", t.TempDir())
	assert.NotRegexp(t, bufferLog, ours.log.String())
	want := 2 * min(collector.DefaultBuffer, rmemMax)
	if os.Geteuid() == 0 {
		want = 2 * collector.DefaultBuffer
	}
	assert.Equal(t, want, socketBuffer(t, ours))
	stopAll(t, ours)
}

// TestMulticastGroup: -J group receives what is sent to the group, like
// nfcapd -J. It runs in a network namespace of its own, where only lo
// exists and the multicast route points at it, so that nothing is joined
// or sent on a real interface; that needs CAP_SYS_ADMIN (root) and ip(8).
func TestMulticastGroup(t *testing.T) {
	const group = "239.255.12.34"
	if os.Getenv("GOCAPD_IN_NETNS") == "" {
		// Like the privilege, ip(8) is no oracle: without it the test
		// cannot set the namespace up, and says so.
		ip, err := exec.LookPath("ip")
		if err != nil {
			t.Skip("-J test needs ip(8) (iproute2) to set up its network namespace")
		}
		testutil.RequireTool(t, "nfcapd")
		testutil.RequireTool(t, "softflowd")
		cmd := exec.Command(os.Args[0], "-test.run=^TestMulticastGroup$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "GOCAPD_IN_NETNS=1", "GOCAPD_BIN="+gocapdBin(t), "GOCAPD_IP="+ip)
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
		out, err := runTimeout(cmd, 90*time.Second)
		if out == nil && err != nil {
			// The namespace could not be made: not root, or a
			// container without CAP_SYS_ADMIN.
			t.Skipf("-J test needs a private network namespace (CAP_SYS_ADMIN): %v", err)
		}
		require.NoError(t, err, "%s", out)
		t.Logf("in a private network namespace:\n%s", out)
		if strings.Contains(string(out), "--- SKIP") {
			t.Skip("skipped inside the namespace")
		}
		return
	}
	ip := os.Getenv("GOCAPD_IP")
	for _, a := range [][]string{{"link", "set", "lo", "up"}, {"route", "add", "224.0.0.0/4", "dev", "lo"}} {
		out, err := exec.Command(ip, a...).CombinedOutput()
		require.NoError(t, err, "ip %v: %s", a, out)
	}
	links, err := net.Interfaces()
	require.NoError(t, err)
	require.Len(t, links, 1, "only lo in the namespace")

	v9 := captureSoftflowd(t, "-v", "9", "-a")
	refDir, ourDir := t.TempDir(), t.TempDir()
	refPort, ourPort := freePort(t), freePort(t)
	ref := startDaemon(t, daemonSpec{bin: testutil.RequireTool(t, "nfcapd"), name: "nfcapd", env: []string{"TZ=UTC"}, port: refPort,
		args: []string{"-J", group, "-p", strconv.Itoa(refPort), "-w", refDir, "-I", "mcast"}})
	ours := startDaemon(t, daemonSpec{bin: gocapdBin(t), name: "gocapd", env: []string{"TZ=UTC"}, port: ourPort,
		args: []string{"-J", group, "-p", strconv.Itoa(ourPort), "-w", ourDir, "-I", "mcast"}})
	sendFrom(t, "127.0.0.1", group, v9, ourPort, refPort)
	stopAll(t, ref, ours)
	want, got := csvFlows(t, refDir), csvFlows(t, ourDir)
	require.Len(t, want, 30)
	assert.Equal(t, want, got)
	assert.Contains(t, ref.log.String(), fmt.Sprintf("Joined IPv4 multicast group: %s Port: %d\n", group, refPort))
	assert.Contains(t, ours.log.String(), fmt.Sprintf("Joined IPv4 multicast group: %s Port: %d\n", group, ourPort))
}

// waitForSlot waits, if needed, until the current slot of interval has at
// least d left, so that a test's runs fall into one slot.
func waitForSlot(t *testing.T, interval, d time.Duration) {
	t.Helper()
	now := time.Now()
	left := now.Truncate(interval).Add(interval).Sub(now)
	if left < d {
		t.Logf("waiting %v for the next slot", left)
		time.Sleep(left + 100*time.Millisecond)
	}
}

// TestRestartAppendsToSlotFile: a collector restarted within the same slot
// puts the new flows into the existing file: nfdump reads the flows of both
// runs and the stat record holds their sum, as with nfcapd.
func TestRestartAppendsToSlotFile(t *testing.T) {
	v9 := captureSoftflowd(t, "-v", "9", "-a")
	refDir, ourDir := t.TempDir(), t.TempDir()
	waitForSlot(t, time.Hour, 40*time.Second)
	for run := 1; run <= 2; run++ {
		ref := startNfcapdSpec(t, daemonSpec{args: []string{"-w", refDir, "-t", "3600", "-I", "restart"}})
		ours := startGocapdSpec(t, daemonSpec{env: []string{"TZ=UTC"}, args: []string{"-w", ourDir, "-t", "3600", "-I", "restart",
			"-R", "127.0.0.1/" + strconv.Itoa(ref.port)}})
		sendFrom(t, "127.0.0.1", "127.0.0.1", v9, ours.port)
		stopAll(t, ref, ours)
	}
	files := flowFiles(t, ourDir)
	require.Len(t, files, 1, "one slot, one file")
	assert.Equal(t, flowFiles(t, refDir), files)
	want, got := csvFlows(t, refDir), csvFlows(t, ourDir)
	require.Len(t, want, 60)
	assert.Equal(t, want, got)
	wantStat, gotStat := nfdumpStat(t, refDir), nfdumpStat(t, ourDir)
	assert.Equal(t, "60", wantStat["Flows"])
	assert.Equal(t, "262", wantStat["Packets"])
	assert.Equal(t, wantStat, gotStat)
}

// TestVendorDatagrams sends the 92 vendor datagrams, each vendor from its
// own address and templates first, to gocapd and to nfcapd, both with -E:
// gocapd logs the invalid ones, keeps running, stores exactly the flows,
// exporters and stat record nfcapd stores, and prints the same records.
// A second gocapd without -E, whose decoder encodes the flows of most
// templates straight into V3 records, stores the same too.
// (Sent through the repeater, all vendors would reach nfcapd from one
// address, where their templates collide and nfcapd 1.7.1 crashes.)
func TestVendorDatagrams(t *testing.T) {
	groups := testutil.VendorGroups(t)
	refDir, ourDir := t.TempDir(), t.TempDir()
	clock := startClock(300 * time.Second)
	ref := startNfcapdSpec(t, daemonSpec{args: []string{"-w", refDir, "-I", "vendors", "-E"}, stdout: true})
	ours := startGocapdSpec(t, daemonSpec{env: []string{"TZ=UTC"}, args: []string{"-w", ourDir, "-I", "vendors", "-E"}, stdout: true})
	plainDir := t.TempDir()
	plain := startGocapdSpec(t, daemonSpec{env: []string{"TZ=UTC"}, args: []string{"-w", plainDir, "-I", "vendors"}})
	source := map[string]string{}
	for i, g := range groups {
		src := fmt.Sprintf("127.0.1.%d", i+1)
		var dgrams [][]byte
		for _, f := range g.Files {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			dgrams = append(dgrams, b)
			source[filepath.Base(f)] = src
		}
		sendFrom(t, src, "127.0.0.1", dgrams, ours.port, plain.port, ref.port)
	}
	time.Sleep(300 * time.Millisecond)
	require.False(t, ours.exited(), "gocapd survives; log:\n%s", ours.log.String())
	require.False(t, plain.exited(), "gocapd without -E survives; log:\n%s", plain.log.String())
	require.False(t, ref.exited(), "nfcapd survives; log:\n%s", ref.log.String())
	stopAll(t, ref, ours, plain)

	want, got := csvFlows(t, refDir), csvFlows(t, ourDir)
	// nfcapd 1.7.1 stores 472 records from them (the vendor-netflow
	// README speaks of 471 clean flows).
	require.Len(t, want, 472)
	assert.Equal(t, want, got)
	assert.Equal(t, want, csvFlows(t, plainDir), "without -E")
	assert.Equal(t, exporters(t, refDir), exporters(t, ourDir))
	assert.Equal(t, exporters(t, refDir), exporters(t, plainDir), "without -E")
	clock.sameStat(t, nfdumpStat(t, refDir), nfdumpStat(t, ourDir))
	clock.sameStat(t, nfdumpStat(t, refDir), nfdumpStat(t, plainDir))
	// -E printed the same records, but for what flow.Record cannot hold.
	wantE, gotE := recordBlocks(ref.out.String()), recordBlocks(ours.out.String())
	require.Len(t, gotE, len(want))
	require.Len(t, wantE, len(want))
	limited := 0
	for i := range wantE {
		w, g := wantE[i], gotE[i]
		if w != g {
			w, g = withoutModelLimits(w), withoutModelLimits(g)
			limited++
		}
		require.Equal(t, w, g, "record %d", i)
	}
	t.Logf("-E: %d of %d records identical, %d differ only in elements gocapd does not model", len(wantE)-limited, len(wantE), limited)

	// The invalid datagrams are logged, once per exporter and reason.
	log := ours.log.String()
	for _, f := range []string{"netflow5_test_invalid01.dat", "netflow5_test_invalid02.dat"} {
		assert.Regexp(t, `(?m)^netflow v5 from `+regexp.QuoteMeta(source[f])+` domain \d+: bad record count: `, log, f)
	}
	// The rotation lines of each collector: same flows, packets, bytes
	// and sequence errors.
	assert.Equal(t, loggedTotals(ref.log.String(), "vendors"), loggedTotals(log, "vendors"))
	assert.Regexp(t, `Totals: Datagrams: 92, Flows: 472, Sequence Errors: \d+, Decode Errors: [1-9]`, log)
}

// withoutModelLimits removes from a record block printed by -E what differs
// because flow.Record models the V3 elements 1 to 17 with one address
// family: the Elements and size lines (nfcapd also stores elements such as
// NSEL, NBAR, VRF or observation ids), and the IPv4 addresses of a record
// that nfcapd stores with both EXipv4Flow and EXipv6Flow (a template with
// both families), where gocapd keeps the IPv6 ones, or of a record that
// nfcapd stores without addresses, which gocapd stores as 0.0.0.0.
func withoutModelLimits(block string) string {
	lines := strings.Split(block, "\n")
	var out []string
	both := false
	for _, l := range lines {
		if strings.HasPrefix(l, "  Elements     =") {
			both = strings.Contains(l, ": 1 2 3 ")
			continue
		}
		if strings.HasPrefix(l, "  size         =") {
			continue
		}
		addr := strings.HasPrefix(l, "  src addr     =") || strings.HasPrefix(l, "  dst addr     =")
		if addr && (both && !strings.Contains(l, ":") || strings.HasSuffix(l, " 0.0.0.0")) {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// TestFprobeAgainstNfcapd: fprobe 1.1 captures a TCP connect to a closed
// port and a UDP datagram on lo and exports them (NetFlow v5) to gocapd,
// which repeats them to nfcapd; nfdump reads the same flows from both.
func TestFprobeAgainstNfcapd(t *testing.T) {
	fprobe := testutil.RequireTool(t, "fprobe")
	if os.Geteuid() != 0 {
		t.Skip("fprobe needs root to capture on lo")
	}
	refDir, ourDir := t.TempDir(), t.TempDir()
	clock := startClock(300 * time.Second)
	ref := startNfcapdSpec(t, daemonSpec{args: []string{"-w", refDir, "-I", "fprobe"}})
	ours := startGocapdSpec(t, daemonSpec{env: []string{"TZ=UTC"}, stdout: true,
		args: []string{"-w", ourDir, "-I", "fprobe", "-E", "-R", "127.0.0.1/" + strconv.Itoa(ref.port)}})

	// Two closed ports on 127.0.0.1, one UDP and one TCP.
	udpPort := freePort(t)
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	tcpPort := l.Addr().(*net.TCPAddr).Port
	l.Close()

	// In the foreground (-l 2), scan every second, idle timeout 1 s,
	// active timeout 2 s: nfcapd-tests/FP's settings, with a filter that
	// sees only the test's packets (not the export, not the repeats).
	filter := fmt.Sprintf("udp port %d or tcp port %d", udpPort, tcpPort)
	cmd := exec.Command(fprobe, "-i", "lo", "-f", filter, "-s", "1", "-d", "1", "-e", "2", "-l", "2", "127.0.0.1:"+strconv.Itoa(ours.port))
	var flog testutil.SyncBuffer
	cmd.Stdout, cmd.Stderr = &flog, &flog
	require.NoError(t, cmd.Start())
	fdone := make(chan struct{})
	go func() { cmd.Wait(); close(fdone) }()
	t.Cleanup(func() {
		select {
		case <-fdone:
		default:
			cmd.Process.Kill()
			<-fdone
		}
	})
	// fprobe logs its collector once its capture is open and filtered and
	// its threads started (with -l 2 its stdout is unbuffered): the
	// packets sent after that line are captured. A second was too short
	// a wait on a loaded machine, whose fprobe then missed the packets.
	require.Eventually(t, func() bool { return strings.Contains(flog.String(), "collector #1") }, 20*time.Second, 20*time.Millisecond,
		"fprobe log:\n%s", &flog)
	time.Sleep(200 * time.Millisecond)

	c, err := net.DialTimeout("tcp4", "127.0.0.1:"+strconv.Itoa(tcpPort), 2*time.Second)
	if err == nil {
		c.Close()
		t.Fatalf("port %d is open", tcpPort)
	}
	u, err := net.Dial("udp4", "127.0.0.1:"+strconv.Itoa(udpPort))
	require.NoError(t, err)
	_, err = u.Write([]byte("hello"))
	require.NoError(t, err)
	u.Close()

	// SYN, RST+ACK and the UDP datagram: three flows, exported after the
	// idle timeout; gocapd -E shows them as they arrive.
	ok := assert.Eventually(t, func() bool { return strings.Count(ours.out.String(), "Flow Record:") >= 3 }, 15*time.Second, 50*time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-fdone:
	case <-time.After(10 * time.Second):
		t.Fatalf("fprobe did not stop; log:\n%s", flog.String())
	}
	stopAll(t, ref, ours)
	require.True(t, ok, "fprobe log:\n%s\ngocapd log:\n%s", flog.String(), ours.log.String())

	want, got := csvFlows(t, refDir), csvFlows(t, ourDir)
	require.Len(t, want, 3, "fprobe log:\n%s", flog.String())
	assert.Equal(t, want, got)
	assert.Equal(t, exporters(t, refDir), exporters(t, ourDir))
	clock.sameStat(t, nfdumpStat(t, refDir), nfdumpStat(t, ourDir))
}
