//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sinkEnv makes the test binary a tiny collector (TestMain): it listens
// on 127.0.0.1, prints its port, counts the datagrams it reads and prints
// the count when SIGTERM comes.
const sinkEnv = "NFSEND_TEST_SINK"

func TestMain(m *testing.M) {
	if os.Getenv(sinkEnv) != "" {
		os.Exit(sink())
	}
	os.Exit(m.Run())
}

func sink() int {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	conn.SetReadBuffer(4 << 20)
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	fmt.Println(conn.LocalAddr().(*net.UDPAddr).Port)
	counted := make(chan int)
	go func() {
		n := 0
		buf := make([]byte, 65536)
		for {
			if _, err := conn.Read(buf); err != nil {
				counted <- n
				return
			}
			n++
		}
	}()
	<-term
	// what is still in the socket counts too: read until it is quiet
	conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	fmt.Println(<-counted)
	return 0
}

// startSink runs the test binary as a sink and returns its process and
// port, and a function that stops it and returns what it counted.
func startSink(t *testing.T) (*exec.Cmd, int, func() int) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), sinkEnv+"=1")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(out)
	require.True(t, lines.Scan(), "the sink's port")
	port, err := strconv.Atoi(lines.Text())
	require.NoError(t, err, lines.Text())
	return cmd, port, func() int {
		syscall.Kill(cmd.Process.Pid, syscall.SIGCONT) // were it still stopped
		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		require.True(t, lines.Scan(), "the sink's count")
		n, err := strconv.Atoi(lines.Text())
		require.NoError(t, err, lines.Text())
		return n
	}
}

// TestDrain stops a sink, sends into its socket, and lets it drain: the
// report counts the bytes that waited (the datagrams' payload and the
// kernel's overhead, so more than the payload), no drop, some CPU time of
// the sink, and the sink read every datagram sent.
func TestDrain(t *testing.T) {
	cmd, port, stop := startSink(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	d, err := newDrain(cmd.Process.Pid, addr, time.Millisecond, 50*time.Millisecond)
	require.NoError(t, err)
	require.NoError(t, d.stop())
	assert.True(t, allStopped(cmd.Process.Pid))
	rep, err := send(context.Background(), config{
		Addr: addr, Version: 9, PerDatagram: 10, Count: 2000, Streams: 2,
		TemplateEvery: 20, Ring: 64, Batch: 16, Seed: 1, Base: time.Now(),
	})
	require.NoError(t, err)
	q, _, err := readUDPSocket(netip.MustParseAddrPort(addr))
	require.NoError(t, err)
	assert.Greater(t, q, rep.Bytes, "the stopped sink's socket holds the load")

	dr, err := d.run()
	require.NoError(t, err)
	assert.False(t, allStopped(cmd.Process.Pid))
	assert.Equal(t, q, dr.Queued)
	assert.Zero(t, dr.SockDrops)
	assert.Zero(t, dr.QueuedAtEnd)
	assert.Positive(t, dr.CPU)
	assert.Positive(t, dr.PollsIdle, "it ends on idle polls")
	assert.Equal(t, int(rep.Datagrams), stop())

	line := dr.line(rep.Flows, true)
	assert.Contains(t, line, fmt.Sprintf(" queued_bytes=%d socket_drops=0 ", q))
}

// TestDrainErrors: a process that is not the collector listening there
// is refused before anything is stopped or sent, or said to be the wrong
// one once nothing waits in the socket.
func TestDrainErrors(t *testing.T) {
	_, err := newDrain(os.Getpid(), "localhost:9995", time.Millisecond, time.Second)
	assert.ErrorContains(t, err, "numeric host")
	_, err = newDrain(0, "127.0.0.1:9995", time.Millisecond, time.Second)
	assert.Error(t, err)

	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer conn.Close()
	unused, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	free := unused.LocalAddr().String()
	unused.Close()
	d, err := newDrain(os.Getpid(), free, time.Millisecond, time.Second)
	require.NoError(t, err)
	assert.ErrorContains(t, d.stop(), "no UDP socket")

	// the socket exists but nobody sent to it: run refuses, and would
	// have let the process go on
	cmd, port, stop := startSink(t)
	d, err = newDrain(cmd.Process.Pid, fmt.Sprintf("127.0.0.1:%d", port), time.Millisecond, time.Second)
	require.NoError(t, err)
	require.NoError(t, d.stop())
	_, err = d.run()
	assert.ErrorContains(t, err, "nothing waits")
	assert.False(t, allStopped(cmd.Process.Pid))
	assert.Zero(t, stop())
}

// TestParseProcAddr reads /proc/net/udp's addresses: IPv4 as one word and
// IPv6 as four, each in the machine's byte order (little-endian here).
func TestParseProcAddr(t *testing.T) {
	for in, want := range map[string]string{
		"0100007F:7373":                         "127.0.0.1:29555",
		"00000000:0035":                         "0.0.0.0:53",
		"00000000000000000000000001000000:1F90": "[::1]:8080",
		"0000000000000000FFFF00000100007F:0050": "127.0.0.1:80", // v4-mapped
	} {
		got, err := parseProcAddr(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got.String(), in)
	}
	for _, bad := range []string{"0100007F", "zz00007F:0035", "0100007F:xyz", "01007F:0035"} {
		_, err := parseProcAddr(bad)
		assert.Error(t, err, bad)
	}
}

// TestReadUDPSocketV6 finds a socket on ::1 in /proc/net/udp6 and the
// bytes waiting in it.
func TestReadUDPSocketV6(t *testing.T) {
	conn, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skip("no IPv6 loopback:", err)
	}
	defer conn.Close()
	ap := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	q, _, err := readUDPSocket(ap)
	require.NoError(t, err)
	assert.Zero(t, q)
	out, err := net.DialUDP("udp6", nil, net.UDPAddrFromAddrPort(ap))
	require.NoError(t, err)
	defer out.Close()
	_, err = out.Write(bytes.Repeat([]byte("x"), 1000))
	require.NoError(t, err)
	q, _, err = readUDPSocket(ap)
	require.NoError(t, err)
	assert.Greater(t, q, int64(1000))
}

// TestRcvbufErrors finds the counter under its name in /proc/net/snmp.
func TestRcvbufErrors(t *testing.T) {
	n, err := rcvbufErrors()
	require.NoError(t, err)
	b, err := os.ReadFile("/proc/net/snmp")
	require.NoError(t, err)
	var names, vals []string
	for _, l := range strings.Split(string(b), "\n") {
		if f, ok := strings.CutPrefix(l, "Udp: "); ok {
			if names == nil {
				names = strings.Fields(f)
			} else {
				vals = strings.Fields(f)
			}
		}
	}
	for i, name := range names {
		if name == "RcvbufErrors" {
			// it only grows, and it was read first
			v, err := strconv.ParseUint(vals[i], 10, 64)
			require.NoError(t, err)
			assert.GreaterOrEqual(t, v, n)
			assert.Less(t, v-n, uint64(1)<<20)
		}
	}
}

// TestCPUTime: the process's CPU clock counts what its threads ran, the
// same count as their schedstat files, and grows while the process works.
func TestCPUTime(t *testing.T) {
	sum := func() time.Duration {
		b, err := exec.Command("sh", "-c", fmt.Sprintf("cat /proc/%d/task/*/schedstat", os.Getpid())).Output()
		require.NoError(t, err)
		var s int64
		for line := range strings.Lines(string(b)) {
			f, _, _ := strings.Cut(line, " ")
			n, err := strconv.ParseInt(f, 10, 64)
			require.NoError(t, err, line)
			s += n
		}
		return time.Duration(s)
	}
	before := sum()
	c, err := cpuTime(os.Getpid())
	require.NoError(t, err)
	after := sum()
	// threads that ended count in the clock, not in the files
	assert.GreaterOrEqual(t, c, before)
	x := 0
	for i := range 20_000_000 {
		x ^= i * i
	}
	c2, err := cpuTime(os.Getpid())
	require.NoError(t, err)
	assert.Greater(t, c2, max(c, after), "spun %d", x)
	_, err = cpuTime(1<<22 + 1) // above the kernel's PID_MAX_LIMIT
	assert.Error(t, err, "no such process")
}
