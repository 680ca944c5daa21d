package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/testutil"
	"github.com/nfgo/nftools/internal/version"
	"github.com/nfgo/nftools/netflow"
	"github.com/nfgo/nftools/probe"
)

// These tests run the command in this process with a fake capture (flows
// already in its cache, exported when flushed), so they check the
// daemon's chores, not the capture. The flows go out as NetFlow v5 to a
// sink that decodes them. Signals are real: the test sends them to itself
// once goprobe has logged its start.

type fakeInput struct {
	export func(*flow.Record)
	flows  int
	live   bool
	mu     sync.Mutex
	closed bool
}

func (f *fakeInput) Read() (int64, error) {
	if f.live {
		time.Sleep(2 * time.Millisecond)
		return 0, probe.ErrIdle
	}
	return 0, io.EOF
}

func (f *fakeInput) Expire(int64) {}

func (f *fakeInput) Flush() {
	for i := range f.flows {
		a := netip.MustParseAddr("127.0.0.1")
		f.export(&flow.Record{SrcAddr: a, DstAddr: a, Proto: 17, SrcPort: uint16(1000 + i), DstPort: 53, InPackets: 1, InBytes: 100})
	}
	f.flows = 0
}

func (f *fakeInput) Stats() probe.MeterStats {
	return probe.MeterStats{Packets: 42, Dropped: 3, ActiveFlows: uint64(f.flows)}
}

func (f *fakeInput) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

// fakes puts the fake capture in place for one test.
func fakes(t *testing.T, flows int, openErr error) *fakeInput {
	t.Helper()
	in := &fakeInput{flows: flows}
	oldOpen := openInput
	openInput = func(o *options, _ io.Reader, p *probe.Probe) (input, inputInfo, error) {
		if openErr != nil {
			return nil, inputInfo{}, openErr
		}
		in.export, in.live = p.Export, !o.stream()
		name := o.iface
		if o.readFile != "" {
			name = o.readFile
		}
		return in, inputInfo{Name: name, LinkName: "EN10MB", Link: 1, LinkHeader: 14}, nil
	}
	t.Cleanup(func() { openInput = oldOpen })
	return in
}

// udpSink decodes the NetFlow datagrams sent to it on loopback and keeps
// their flows as "flow <source port>".
type udpSink struct {
	conn      *net.UDPConn
	mu        sync.Mutex
	got       []string
	datagrams int
}

func (s *udpSink) Flow(r *flow.Record) {
	s.got = append(s.got, fmt.Sprintf("flow %d", r.SrcPort))
}
func (s *udpSink) NewExporter(*flow.Exporter) {}
func (s *udpSink) Sampler(*flow.Sampler)      {}

func newUDPSink(t *testing.T) *udpSink {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	s := &udpSink{conn: conn}
	dec := netflow.NewDecoder(netflow.Options{})
	go func() {
		buf := make([]byte, 65536)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.datagrams++
			assert.NoError(t, dec.Decode(buf[:n], netip.MustParseAddr("127.0.0.1"), time.Now(), s))
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return s
}

func (s *udpSink) addr() string { return s.conn.LocalAddr().String() }

// counts returns the datagrams and the flows received so far.
func (s *udpSink) counts() (datagrams, flows int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.datagrams, len(s.got)
}

func (s *udpSink) flows() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// started runs goprobe with args in the background of the test and waits
// until it has logged its start; wait returns its exit status.
func started(t *testing.T, args ...string) (out *testutil.SyncBuffer, errOut *testutil.SyncBuffer, wait func() int) {
	t.Helper()
	out, errOut = &testutil.SyncBuffer{}, &testutil.SyncBuffer{}
	code := make(chan int, 1)
	go func() { code <- run(args, strings.NewReader(""), out, errOut) }()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "collector #1:") }, 10*time.Second, time.Millisecond,
		"goprobe did not start: %s%s", out, errOut)
	return out, errOut, func() int {
		select {
		case c := <-code:
			return c
		case <-time.After(10 * time.Second):
			t.Fatal("goprobe did not end")
			return -1
		}
	}
}

func requireRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		testutil.Missing(t, "root (the pid file goes to /var/run)")
	}
}

// TestSignals: in the foreground (-l 2), goprobe logs its start as fprobe
// does and writes its pid file; SIGUSR1 logs the counters; SIGTERM exports
// the whole cache, removes the pid file and exits 0.
func TestSignals(t *testing.T) {
	requireRoot(t)
	in := fakes(t, 5, nil)
	sink := newUDPSink(t)
	id := "test" + strconv.Itoa(os.Getpid())
	pidFile := "/var/run/goprobe[" + id + "].pid"
	out, errOut, wait := started(t, "-l", "2:"+id, "-i", "fake0", "-fip", sink.addr())

	b, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(os.Getpid())+"\n", string(b))

	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGUSR1))
	// SIGUSR1's counters end with the collector's line: SIGTERM's line,
	// logged by another goroutine, comes after it only if sent after it.
	usr1Done := "[INFO]: collector #1: " + sink.addr() + ": datagrams sent: 0"
	require.Eventually(t, func() bool { return strings.Contains(out.String(), usr1Done) }, 10*time.Second, time.Millisecond, "%s", out)
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	assert.Equal(t, 0, wait())
	assert.Empty(t, errOut.String())

	want := []string{
		"[INFO]: Starting " + version.Version + "...",
		"[INFO]: pid: " + strconv.Itoa(os.Getpid()),
		"[INFO]: interface: fake0, datalink: EN10MB (1)",
		`[INFO]: filter: "ip"`,
		"[INFO]: options: p=1 s=5 g=30 d=60 e=300 n=5 a=0.0.0.0 x=0:0 b=10000 m=0 q=100 B=0 r=0 t=0:0 S=256 K=14 k=0 c= u= v=6 l=2:" + id,
		"[INFO]: collector #1: " + sink.addr() + "/0.0.0.0/m",
		"[WARNING]: kernel dropped 3 packets (3 in all)",
		"[INFO]: packets: 42 (0 not counted), dropped by kernel: 3, by interface: 0; flows: 5 active, 0 exported, 0 queued, 0 lost, 0 not exportable in this version; datagrams sent: 0, send errors: 0",
		"[INFO]: collector #1: " + sink.addr() + ": datagrams sent: 0, flows: 0, send errors: 0",
		"[INFO]: SIGTERM received. Emitting flows cache...",
		"[INFO]: packets: 42 (0 not counted), dropped by kernel: 3, by interface: 0; flows: 0 active, 5 exported, 0 queued, 0 lost, 0 not exportable in this version; datagrams sent: 1, send errors: 0",
		"[INFO]: collector #1: " + sink.addr() + ": datagrams sent: 1, flows: 5, send errors: 0",
		"[INFO]: Done.",
	}
	assert.Equal(t, strings.Join(want, "\n")+"\n", out.String())
	require.Eventually(t, func() bool { return len(sink.flows()) == 5 }, 5*time.Second, time.Millisecond)
	assert.ElementsMatch(t, []string{"flow 1000", "flow 1001", "flow 1002", "flow 1003", "flow 1004"}, sink.flows())
	_, err = os.Stat(pidFile)
	assert.ErrorIs(t, err, os.ErrNotExist, "the pid file is removed at exit")
	assert.True(t, in.closed)
}

// TestPidFileOption: --pidfile puts the pid file where it says (the
// service's runtime directory) and removes it at exit; an empty one writes
// none, neither there nor in /var/run, and logs nothing about it.
func TestPidFileOption(t *testing.T) {
	fakes(t, 1, nil)
	sink := newUDPSink(t)
	id := "test" + strconv.Itoa(os.Getpid())
	pidFile := filepath.Join(t.TempDir(), "goprobe.pid")
	out, _, wait := started(t, "-l", "2:"+id, "--pidfile="+pidFile, "-i", "fake0", sink.addr())
	b, err := os.ReadFile(pidFile)
	require.NoError(t, err, "%s", out)
	assert.Equal(t, strconv.Itoa(os.Getpid())+"\n", string(b))
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	assert.Equal(t, 0, wait())
	_, err = os.Stat(pidFile)
	assert.ErrorIs(t, err, os.ErrNotExist, "the pid file is removed at exit")
	assert.NotContains(t, out.String(), "pid file")

	fakes(t, 1, nil)
	out, _, wait = started(t, "-l", "2:"+id, "--pidfile=", "-i", "fake0", sink.addr())
	_, err = os.Stat("/var/run/goprobe[" + id + "].pid")
	assert.ErrorIs(t, err, os.ErrNotExist, "no pid file in /var/run")
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	assert.Equal(t, 0, wait())
	assert.NotContains(t, out.String(), "pid file")
}

// TestSIGINT: SIGINT ends goprobe as SIGTERM does (it kills fprobe, which
// then loses its cache).
func TestSIGINT(t *testing.T) {
	requireRoot(t)
	fakes(t, 2, nil)
	sink := newUDPSink(t)
	out, _, wait := started(t, "-l", "2:test"+strconv.Itoa(os.Getpid()), "-i", "fake0", sink.addr())
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGINT))
	assert.Equal(t, 0, wait())
	assert.Contains(t, out.String(), "[INFO]: SIGINT received. Emitting flows cache...\n")
	require.Eventually(t, func() bool { return len(sink.flows()) == 2 }, 5*time.Second, time.Millisecond)
}

// TestEndOfInput: reading a capture, goprobe stops at its end, exports
// the cache and exits 0 by itself.
func TestEndOfInput(t *testing.T) {
	requireRoot(t)
	fakes(t, 3, nil)
	sink := newUDPSink(t)
	code, stdout, stderr := runArgs("--read", "x.pcap", "-l", "2:test"+strconv.Itoa(os.Getpid()), sink.addr())
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "[INFO]: interface: x.pcap, datalink: EN10MB (1)\n")
	assert.Contains(t, stdout, "[INFO]: capture terminated: end of input\n[INFO]: Emitting flows cache...\n")
	assert.True(t, strings.HasSuffix(stdout, "[INFO]: Done.\n"), stdout)
	require.Eventually(t, func() bool { return len(sink.flows()) == 3 }, 5*time.Second, time.Millisecond)
}

// TestLogLevelAndDestination: -v 3 logs errors only; -l 0 logs nothing;
// reading a capture logs to stdout unless -l says otherwise.
func TestLogLevelAndDestination(t *testing.T) {
	requireRoot(t)
	fakes(t, 1, nil)
	sink := newUDPSink(t)
	id := "test" + strconv.Itoa(os.Getpid())
	for _, args := range [][]string{
		{"-i", "-", "-v", "3", "-l", ":" + id},
		{"--read", "x.pcap", "-l", "0:" + id},
	} {
		code, stdout, stderr := runArgs(append(args, sink.addr())...)
		assert.Equal(t, 0, code, args)
		assert.Empty(t, stdout, args)
		assert.Empty(t, stderr, args)
	}
	code, stdout, _ := runArgs("-i", "-", "-l", ":"+id, sink.addr())
	assert.Equal(t, 0, code)
	assert.Contains(t, stdout, "[INFO]: interface: -, datalink: EN10MB (1)\n")
}

// TestStartFailures: what fails once the collectors are open is logged at
// CRIT, as fprobe does, and goprobe exits 1.
func TestStartFailures(t *testing.T) {
	sink := newUDPSink(t)
	fakes(t, 1, errors.New("pcap_open_live(): nosuch0: No such device exists"))
	code, stdout, _ := runArgs("-l", "2", "-i", "nosuch0", sink.addr())
	assert.Equal(t, 1, code)
	assert.Equal(t, "[INFO]: Starting "+version.Version+"...\n[CRIT]: pcap_open_live(): nosuch0: No such device exists\n", stdout)

	fakes(t, 1, nil)
	code, stdout, _ = runArgs("-l", "2", "-i", "fake0", "-c", "/nonexistent", sink.addr())
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout, "[CRIT]: could not chroot to /nonexistent: No such file or directory\n")
}
