package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/daemon"
	"github.com/nfgo/nftools/internal/testutil"
)

// parse runs parseOptions on a command line.
func parse(t *testing.T, args ...string) (*options, error) {
	t.Helper()
	res, err := spec.Parse(args)
	require.NoError(t, err)
	return parseOptions(res)
}

// fprobeStartLog runs the real fprobe on the loopback interface until it
// has logged its start, stops it with SIGTERM and returns its log. args
// must keep it in the foreground (-l 2 or 3). It captures, so it needs
// root.
func fprobeStartLog(t *testing.T, args ...string) []string {
	t.Helper()
	bin := testutil.RequireTool(t, "fprobe")
	if os.Geteuid() != 0 {
		testutil.Missing(t, "root (fprobe captures on lo)")
	}
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	timer := time.AfterFunc(10*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	var lines []string
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if strings.HasPrefix(sc.Text(), "[INFO]: collector #") {
				cmd.Process.Signal(syscall.SIGTERM)
			}
		}
	}()
	<-done
	cmd.Wait()
	return lines
}

// TestOptionsLine: the "options:" log line shows the values fprobe shows
// for the same command line: its defaults, atoi's reading of numbers and
// sscanf's of -x and -t. (K is the link header size of the interface, 14
// on lo's Ethernet framing, given here.)
func TestOptionsLine(t *testing.T) {
	for _, cmdline := range []string{
		"-l2",
		"-l2 -p -s 1 -g 2 -d 3 -e 4",
		"-l2 -n 7 -x 5 -t 100",
		"-l2 -n 1 -x 5:7 -t 100:5",
		"-l2 -x foo -t :5 -v 7",
		"-l2 -x 3: -t 7:x -v 6",
		"-l2 -b 50 -m 1000 -q 10 -B 64 -S 100",
		"-l2 -K 0 -k",
		"-l2 -K 18 -s 2s -d 60x",
		"-a 127.0.0.1 -r 5 -l 2:abc",
		"-l 3",
	} {
		args := append(strings.Fields(cmdline), "-i", "lo", "127.0.0.1:9")
		var want string
		for _, l := range fprobeStartLog(t, args...) {
			if s, ok := strings.CutPrefix(l, "[INFO]: options: "); ok {
				want = "options: " + s
			}
		}
		require.NotEmpty(t, want, cmdline)
		o, err := parse(t, args...)
		require.NoError(t, err, cmdline)
		k := 14
		if o.linkSize >= 0 {
			k = o.linkSize
		}
		assert.Equal(t, want, optionsLine(o, k), cmdline)
	}
}

func TestParseDefaults(t *testing.T) {
	o, err := parse(t, "-i", "eth0", "127.0.0.1:2055")
	require.NoError(t, err)
	assert.Equal(t, "eth0", o.iface)
	assert.True(t, o.promisc)
	assert.Equal(t, 5*time.Second, o.scan)
	assert.Equal(t, 30*time.Second, o.frag)
	assert.Equal(t, 60*time.Second, o.idle)
	assert.Equal(t, 300*time.Second, o.active)
	assert.Equal(t, 5, o.version)
	assert.Equal(t, 100, o.queue)
	assert.Equal(t, 256, o.snaplen)
	assert.Equal(t, -1, o.linkSize)
	assert.Equal(t, daemon.LevelInfo, o.level)
	assert.Equal(t, logSyslog, o.logDest)
	assert.False(t, o.foreground(), "fprobe forks when it does not log to stdout")
	assert.Equal(t, "/var/run/goprobe.pid", o.pidFile())
	assert.Equal(t, "goprobe", o.ident())
	require.Len(t, o.collectors, 1)
	assert.Equal(t, "127.0.0.1:2055", o.collectors[0].String())
}

func TestParseValues(t *testing.T) {
	for _, tc := range []struct {
		cmdline string
		check   func(t *testing.T, o *options)
	}{
		{"-n 9", func(t *testing.T, o *options) { assert.Equal(t, 9, o.version) }},
		{"-n 10", func(t *testing.T, o *options) { assert.Equal(t, 10, o.version) }},
		{"-s 0", func(t *testing.T, o *options) { assert.Equal(t, time.Second, o.scan, "a scan at most every second") }},
		{"-d -5", func(t *testing.T, o *options) { assert.Zero(t, o.idle) }},
		{"-v 3", func(t *testing.T, o *options) { assert.Equal(t, daemon.LevelErr, o.level) }},
		{"-v 9", func(t *testing.T, o *options) { assert.Equal(t, daemon.LevelDebug, o.level) }},
		{"-v -1", func(t *testing.T, o *options) { assert.Equal(t, daemon.LevelDebug, o.level) }},
		{"-l 0:test1", func(t *testing.T, o *options) {
			assert.Equal(t, 0, o.logDest)
			assert.Equal(t, "/var/run/goprobe[test1].pid", o.pidFile())
			assert.Equal(t, "goprobe[test1]", o.ident())
			assert.False(t, o.foreground())
		}},
		{"-l :test1 --pidfile=/run/goprobe/goprobe.pid", func(t *testing.T, o *options) {
			assert.Equal(t, "/run/goprobe/goprobe.pid", o.pidFile(), "--pidfile wins over -l's id")
			assert.Equal(t, "goprobe[test1]", o.ident())
		}},
		{"--pidfile=", func(t *testing.T, o *options) { assert.Empty(t, o.pidFile(), "no pid file") }},
		{"--read x.pcap", func(t *testing.T, o *options) { assert.Empty(t, o.pidFile(), "a file read writes no pid file") }},
		{"--read x.pcap -l :r --pidfile=/tmp/r.pid", func(t *testing.T, o *options) {
			assert.Equal(t, "/tmp/r.pid", o.pidFile(), "unless --pidfile names one")
		}},
		{"-l 2", func(t *testing.T, o *options) { assert.True(t, o.foreground()) }},
		{"-l 3", func(t *testing.T, o *options) { assert.True(t, o.foreground()) }},
		{"-i -", func(t *testing.T, o *options) {
			assert.True(t, o.stream())
			assert.True(t, o.foreground())
			assert.Equal(t, logStdout, o.logDest, "stdin logs to stdout, as fprobe")
		}},
		{"-i - -l 1", func(t *testing.T, o *options) {
			assert.True(t, o.foreground(), "reading stdin stays in the foreground whatever -l says")
			assert.Equal(t, logSyslog, o.logDest)
		}},
		{"--read x.pcap", func(t *testing.T, o *options) {
			assert.Equal(t, "x.pcap", o.readFile)
			assert.True(t, o.stream())
			assert.True(t, o.foreground())
		}},
		{"-q -1", func(t *testing.T, o *options) { assert.Equal(t, 1<<32-1, o.queue, "fprobe's length is unsigned") }},
		{"-b -1", func(t *testing.T, o *options) { assert.Equal(t, uint32(1<<32-1), o.bulk) }},
		{"-S 0", func(t *testing.T, o *options) { assert.Zero(t, o.snaplen) }},
		{"-K -3", func(t *testing.T, o *options) { assert.Equal(t, -1, o.linkSize) }},
		{"-a ::1", func(t *testing.T, o *options) { assert.Equal(t, "::1", o.source.String()) }},
		{"-u root", func(t *testing.T, o *options) { assert.Equal(t, "root", o.user) }},
		{"-u 0", func(t *testing.T, o *options) { assert.Equal(t, "0", o.user) }},
		{"-t 10000:10000000", func(t *testing.T, o *options) {
			assert.Equal(t, 10000, o.paceB)
			assert.Equal(t, 10000000, o.paceN)
		}},
	} {
		o, err := parse(t, append(strings.Fields(tc.cmdline), "127.0.0.1:2055")...)
		require.NoError(t, err, tc.cmdline)
		t.Run(tc.cmdline, func(t *testing.T) { tc.check(t, o) })
	}
}

func TestParseCollectors(t *testing.T) {
	o, err := parse(t, "10.1.1.1:2055", "10.1.1.2:2055//r", "[2001:db8::3]:2055/2001:db8::1/r")
	require.NoError(t, err)
	var got []string
	for _, c := range o.collectors {
		got = append(got, fmt.Sprintf("%s %s %s %s", c.Host, c.Port, c.Local, c.Mode))
	}
	assert.Equal(t, []string{"10.1.1.1 2055  m", "10.1.1.2 2055  r", "2001:db8::3 2055 2001:db8::1 r"}, got)
}

// TestQueueLength: the export queue holds -q flows, at least 1024 (fprobe's
// default of 100 counted packets).
func TestQueueLength(t *testing.T) {
	for q, want := range map[string]int{"100": 1024, "5000": 5000} {
		o, err := parse(t, "-q", q, "127.0.0.1:2055")
		require.NoError(t, err)
		assert.Equal(t, want, probeConfig(o, nil).QueueLen, "-q %s", q)
	}
}
