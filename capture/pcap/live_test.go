package pcap

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/nfgo/nftools/capture"
	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/testutil"
)

// Live capture is tested in two network namespaces the test makes, joined
// by a veth pair: a side "a" with 10.231.0.1 where the capture runs, and a
// side "b" with 10.231.0.2 that sends. Nothing leaves them.

var nsCount atomic.Int32

// nsPrefix starts the names of the test's namespaces, followed by the
// test process's pid.
const nsPrefix = "capturetest"

// removeStale deletes the namespaces of test processes that died before
// their cleanup (a timeout's panic skips it).
func removeStale(ip string) {
	names, _ := filepath.Glob("/var/run/netns/" + nsPrefix + "*")
	for _, path := range names {
		name := filepath.Base(path)
		var pid, n int
		if _, err := fmt.Sscanf(strings.TrimPrefix(name, nsPrefix), "%d-%d-", &pid, &n); err != nil {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); errors.Is(err, os.ErrNotExist) {
			exec.Command(ip, "netns", "del", name).Run()
		}
	}
}

// lab is a pair of namespaces.
type lab struct {
	a, b string // namespace names
	ip   string // the ip command
}

const (
	addrA = "10.231.0.1"
	addrB = "10.231.0.2"
	veth  = "veth-a"
)

func newLab(t *testing.T) *lab {
	t.Helper()
	if os.Geteuid() != 0 {
		testutil.Missing(t, "root, for network namespaces")
	}
	ip := testutil.RequireTool(t, "ip")
	n := nsCount.Add(1)
	removeStale(ip)
	l := &lab{a: fmt.Sprintf("%s%d-%d-a", nsPrefix, os.Getpid(), n), b: fmt.Sprintf("%s%d-%d-b", nsPrefix, os.Getpid(), n), ip: ip}
	l.run(t, "netns", "add", l.a)
	t.Cleanup(func() { exec.Command(ip, "netns", "del", l.a).Run() })
	l.run(t, "netns", "add", l.b)
	t.Cleanup(func() { exec.Command(ip, "netns", "del", l.b).Run() })
	l.run(t, "link", "add", veth, "netns", l.a, "type", "veth", "peer", "name", "veth-b", "netns", l.b)
	l.run(t, "-n", l.a, "addr", "add", addrA+"/24", "dev", veth)
	l.run(t, "-n", l.b, "addr", "add", addrB+"/24", "dev", "veth-b")
	l.run(t, "-n", l.a, "link", "set", veth, "up")
	l.run(t, "-n", l.b, "link", "set", "veth-b", "up")
	return l
}

func (l *lab) run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(l.ip, args...).CombinedOutput()
	require.NoError(t, err, "ip %s: %s", strings.Join(args, " "), out)
	return string(out)
}

// in runs fn in namespace ns, on a thread of its own that is given back
// only if it returns to the test's namespace. fn must not stop its
// goroutine (no require): in reports that as an error.
func in(t *testing.T, ns string, fn func()) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		err := errors.New("the function ended its goroutine")
		defer func() { done <- err }()
		orig, e := os.Open("/proc/thread-self/ns/net")
		if e != nil {
			err = e
			return
		}
		defer orig.Close()
		target, e := os.Open("/var/run/netns/" + ns)
		if e != nil {
			err = e
			return
		}
		defer target.Close()
		if e := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); e != nil {
			err = e
			return
		}
		defer func() {
			if e := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); e != nil {
				err = e // the thread stays locked and ends with the goroutine
				return
			}
			runtime.UnlockOSThread()
		}()
		fn()
		err = nil
	}()
	require.NoError(t, <-done)
}

// openIn opens a live capture in namespace a.
func (l *lab) open(t *testing.T, cfg LiveConfig) *Handle {
	var h *Handle
	var err error
	in(t, l.a, func() { h, err = OpenLive(cfg) })
	require.NoError(t, err)
	t.Cleanup(func() { h.Close() })
	return h
}

// read reads frames until n of them pass keep or the time is up.
func read(t *testing.T, h *Handle, n int, keep func(*capture.Packet) bool) []capture.Packet {
	var d capture.Decoder
	var out []capture.Packet
	var f capture.Frame
	var p capture.Packet
	deadline := time.Now().Add(10 * time.Second)
	for len(out) < n && time.Now().Before(deadline) {
		err := h.Next(&f)
		if errors.Is(err, capture.ErrTimeout) {
			continue
		}
		require.NoError(t, err)
		if d.Decode(f.Link, &f, &p) == nil && keep(&p) {
			out = append(out, p)
		}
	}
	return out
}

func TestLiveCapture(t *testing.T) {
	l := newLab(t)
	h := l.open(t, LiveConfig{Interface: veth, Snaplen: 96, Promisc: true, Filter: "udp or tcp", Timeout: 50 * time.Millisecond})
	assert.Equal(t, capture.LinkEthernet, h.LinkType())

	// Listeners in a, and from b: three UDP datagrams, a ping the filter
	// must drop, and a TCP connection.
	var ln net.Listener
	var lu net.PacketConn
	var err error
	in(t, l.a, func() {
		if ln, err = net.Listen("tcp4", addrA+":6000"); err == nil {
			lu, err = net.ListenPacket("udp4", addrA+":5000")
		}
	})
	require.NoError(t, err)
	defer ln.Close()
	defer lu.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			buf := make([]byte, 100)
			c.Read(buf)
			c.Close()
		}
	}()
	in(t, l.b, func() { err = sendFromB() })
	require.NoError(t, err)

	var d capture.Decoder
	var f capture.Frame
	var p capture.Packet
	var flows []flow.Record
	cache := capture.NewCache(capture.CacheConfig{Idle: time.Minute, Active: time.Minute, Fragment: time.Minute},
		func(r *flow.Record, _ capture.ExpiryReason) { flows = append(flows, *r) })
	var udp, tcp, other int
	deadline := time.Now().Add(10 * time.Second)
	for (udp < 3 || tcp < 4) && time.Now().Before(deadline) {
		err := h.Next(&f)
		if errors.Is(err, capture.ErrTimeout) {
			continue
		}
		require.NoError(t, err)
		assert.LessOrEqual(t, len(f.Data), 96, "the snap length")
		require.NoError(t, d.Decode(f.Link, &f, &p))
		cache.Add(&p, f.Time)
		switch {
		case p.Proto == flow.ProtoUDP && p.DstPort == 5000:
			udp++
			assert.Equal(t, 14+28+200, f.WireLen)
			assert.Equal(t, addrB, p.SrcAddr().String())
		case p.Proto == flow.ProtoTCP && (p.DstPort == 6000 || p.SrcPort == 6000):
			tcp++
		default:
			other++
		}
	}
	assert.Equal(t, 3, udp)
	assert.GreaterOrEqual(t, tcp, 4, "SYN, SYN-ACK, ACK, data")
	assert.Zero(t, other, "the filter passes UDP and TCP only: no ping")
	assert.GreaterOrEqual(t, h.Stats().Received, uint64(udp+tcp))
	assert.Zero(t, h.Stats().Dropped)

	cache.Flush()
	var udpFlow *flow.Record
	for i := range flows {
		if flows[i].DstPort == 5000 {
			udpFlow = &flows[i]
		}
	}
	require.NotNil(t, udpFlow, "%v", flows)
	assert.Equal(t, uint64(3), udpFlow.InPackets)
	assert.Equal(t, uint64(3*228), udpFlow.InBytes)
	assert.Equal(t, addrB, udpFlow.SrcAddr.String())
}

// sendFromB sends the traffic of TestLiveCapture (in namespace b).
func sendFromB() error {
	u, err := net.Dial("udp4", addrA+":5000")
	if err != nil {
		return err
	}
	defer u.Close()
	for i := 0; i < 3; i++ {
		if _, err := u.Write(make([]byte, 200)); err != nil {
			return err
		}
	}
	icmp, err := net.ListenPacket("ip4:icmp", addrB)
	if err != nil {
		return err
	}
	defer icmp.Close()
	echo := []byte{8, 0, 0xf7, 0xfe, 0, 1, 0, 0} // echo request, id 1, sequence 0, checksum
	if _, err := icmp.WriteTo(echo, &net.IPAddr{IP: net.ParseIP(addrA)}); err != nil {
		return err
	}
	c, err := net.Dial("tcp4", addrA+":6000")
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte("hello"))
	return err
}

// TestLivePromisc: the interface is promiscuous while a capture that asked
// for it runs, and not with -p.
func TestLivePromisc(t *testing.T) {
	l := newLab(t)
	// libpcap asks the kernel for promiscuous mode by packet socket
	// membership, which ip's details count as promiscuity.
	promisc := func() bool {
		m := regexp.MustCompile(`promiscuity (\d+)`).FindStringSubmatch(l.run(t, "-d", "-n", l.a, "link", "show", veth))
		require.NotNil(t, m)
		return m[1] != "0"
	}
	require.False(t, promisc())
	h := l.open(t, LiveConfig{Interface: veth, Promisc: true})
	assert.True(t, promisc())
	h.Close()
	assert.False(t, promisc(), "closing the capture ends promiscuous mode")
	l.open(t, LiveConfig{Interface: veth, Promisc: false})
	assert.False(t, promisc())
}

// TestLiveTimeout: with nothing to capture, Next comes back with
// ErrTimeout, so that the capture loop can scan for expired flows.
func TestLiveTimeout(t *testing.T) {
	l := newLab(t)
	h := l.open(t, LiveConfig{Interface: veth, Filter: "udp port 9", Timeout: 20 * time.Millisecond})
	got := make(chan error, 1)
	go func() {
		var f capture.Frame
		got <- h.Next(&f)
	}()
	select {
	case err := <-got:
		assert.ErrorIs(t, err, capture.ErrTimeout)
	case <-time.After(20 * time.Second):
		t.Fatal("Next did not come back on an idle link")
	}
}

func TestOpenLiveErrors(t *testing.T) {
	l := newLab(t)
	var err error
	in(t, l.a, func() { _, err = OpenLive(LiveConfig{Interface: "nosuchif0"}) })
	assert.ErrorContains(t, err, "nosuchif0")
	in(t, l.a, func() { _, err = OpenLive(LiveConfig{Interface: veth, Filter: "tcp port"}) })
	assert.ErrorContains(t, err, veth)
	assert.ErrorContains(t, err, "syntax error")
}

// TestLiveKernelDrops: a capture that does not keep up loses packets in
// the kernel, and Stats says how many (pcap_stats).
func TestLiveKernelDrops(t *testing.T) {
	l := newLab(t)
	h := l.open(t, LiveConfig{Interface: veth, BufferKB: 64, Filter: "udp port 5001"})
	var err error
	send := func(n int) {
		var u net.Conn
		if u, err = net.Dial("udp4", addrA+":5001"); err != nil {
			return
		}
		defer u.Close()
		for i := 0; i < n && err == nil; i++ {
			_, err = u.Write(make([]byte, 1000))
			if errors.Is(err, unix.ECONNREFUSED) {
				err = nil // the port unreachable that the last datagram earned
			}
		}
	}
	// One datagram first, read, so that b knows a's MAC address before
	// the burst, which the neighbour queue would otherwise cut short.
	in(t, l.b, func() { send(1) })
	require.NoError(t, err)
	require.Len(t, read(t, h, 1, func(*capture.Packet) bool { return true }), 1)
	in(t, l.b, func() { send(5000) })
	require.NoError(t, err)
	st := h.Stats()
	assert.Positive(t, st.Dropped, "%+v", st)
	// What the kernel kept is all there: read up to the first timeout.
	got := 0
	var f capture.Frame
	for {
		err := h.Next(&f)
		if errors.Is(err, capture.ErrTimeout) {
			break
		}
		require.NoError(t, err)
		got++
	}
	assert.Positive(t, got)
	assert.Less(t, got, 5000)
	assert.Equal(t, uint64(got+1), h.Stats().Received-h.Stats().Dropped, "%+v", h.Stats())
}

// TestNextAllocatesNothing: reading a frame, or waiting in vain for one,
// costs no allocation.
func TestNextAllocatesNothing(t *testing.T) {
	l := newLab(t)
	h := l.open(t, LiveConfig{Interface: veth, Filter: "udp port 5002", Timeout: 10 * time.Millisecond})
	var err error
	in(t, l.b, func() {
		var u net.Conn
		if u, err = net.Dial("udp4", addrA+":5002"); err != nil {
			return
		}
		defer u.Close()
		for i := 0; i < 300 && err == nil; i++ {
			_, err = u.Write(make([]byte, 100))
			if errors.Is(err, unix.ECONNREFUSED) {
				err = nil
			}
		}
	})
	require.NoError(t, err)
	var f capture.Frame
	read, timeouts := 0, 0
	allocs := testing.AllocsPerRun(250, func() {
		switch err := h.Next(&f); {
		case err == nil:
			read++
		case errors.Is(err, capture.ErrTimeout):
			timeouts++
		}
	})
	assert.Zero(t, allocs)
	assert.Positive(t, read)
}
