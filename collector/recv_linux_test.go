//go:build linux

package collector

import (
	"context"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/nfgo/nftools/flow"
)

// TestReadDrainsAfterClose: what the socket holds when the collector is
// told to stop (the last datagrams of an exporter that stopped just
// before, which may have come while the receive loop slept) is still
// read, without waiting for more; then read says the reader is closed.
func TestReadDrainsAfterClose(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	require.NoError(t, conn.SetReadBuffer(1<<20))
	addr := conn.LocalAddr().(*net.UDPAddr)
	r, err := newBatchReader(conn)
	require.NoError(t, err)
	defer r.release()
	out, err := net.DialUDP("udp4", nil, addr)
	require.NoError(t, err)
	defer out.Close()

	const sent = recvBatch + 8
	for i := 0; i < sent; i++ {
		_, err := out.Write([]byte{byte(i), 1, 2, 3})
		require.NoError(t, err)
	}
	r.close()
	got := 0
	for range 3 {
		n, err := r.read(time.Second)
		if err != nil {
			assert.ErrorIs(t, err, net.ErrClosed)
			break
		}
		for i := 0; i < n; i++ {
			b, _ := r.datagram(i)
			assert.Equal(t, []byte{byte(got), 1, 2, 3}, b, "datagram %d", got)
			got++
		}
	}
	assert.Equal(t, sent, got, "every datagram queued before close was read")
	_, err = r.read(-1)
	assert.ErrorIs(t, err, net.ErrClosed, "and then the reader is closed, without waiting")
}

// smallSocket returns a loopback socket with a receive buffer of a few
// datagrams of 1.2 KB, and a socket that sends to it, closed with t.
func smallSocket(t *testing.T) (conn, out *net.UDPConn) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	require.NoError(t, conn.SetReadBuffer(8192))
	out, err = net.DialUDP("udp4", nil, conn.LocalAddr().(*net.UDPAddr))
	require.NoError(t, err)
	t.Cleanup(func() { out.Close() })
	return conn, out
}

// sendAll sends each of data through out.
func sendAll(t *testing.T, out *net.UDPConn, data [][]byte) {
	for _, d := range data {
		_, err := out.Write(d)
		require.NoError(t, err)
	}
}

// TestKernelDropsCounted: datagrams the kernel drops at a full socket
// buffer (sent before the collector reads) are counted as Socket Drops:
// with those read, every datagram sent.
func TestKernelDropsCounted(t *testing.T) {
	conn, out := smallSocket(t)
	_, data := benchDatagrams(5, 200, 24)
	sendAll(t, out, data)
	c, err := New(Config{Sources: []Source{{Ident: "drops", Dir: t.TempDir()}}, Interval: time.Hour}, conn)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for c.datagrams.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	require.NoError(t, <-done)
	cn := c.counters()
	assert.Greater(t, cn.KernelDrops, uint64(0), "the full socket dropped some")
	assert.Greater(t, cn.Datagrams, uint64(0), "and held some")
	assert.Equal(t, uint64(len(data)), cn.Datagrams+cn.KernelDrops, "read or dropped: every datagram sent")
}

// TestKernelDropsCountedWhenQuiet sends a burst into a small socket
// while the collector reads it: the drops of the burst's end are
// counted once the socket goes quiet, while gocapd runs (SIGUSR1 and
// --metrics show them), not only when the next datagram comes or at the
// exit.
func TestKernelDropsCountedWhenQuiet(t *testing.T) {
	conn, out := smallSocket(t)
	c, err := New(Config{Sources: []Source{{Ident: "drops", Dir: t.TempDir()}}, Interval: time.Hour}, conn)
	require.NoError(t, err)
	runWhileTest(t, c)
	_, data := benchDatagrams(5, 2000, 24)
	sendAll(t, out, data)
	// The receive loop's counters, which are atomic (counters() reads
	// the decoder's too, the worker's until Run returns: a data race).
	var read, dropped uint64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if read, dropped = c.datagrams.Load(), c.kdrops.Load(); read+dropped == uint64(len(data)) {
			break
		}
	}
	assert.Equal(t, uint64(len(data)), read+dropped, "read or dropped, counted while running: every datagram sent")
	assert.Greater(t, dropped, uint64(0), "the small socket dropped some of the burst")
}

// socketBytes returns what c's socket holds (SO_MEMINFO's rmem_alloc),
// read here and not through the receive loop's reader, whose buffer is
// the loop's. Call it once c read a datagram (the reader is Run's until
// then).
func socketBytes(c *Collector) (queued int, ok bool) {
	var mi [skMeminfoVars]uint32
	l := uint32(unsafe.Sizeof(mi))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(c.reader.fd), unix.SOL_SOCKET, unix.SO_MEMINFO,
		uintptr(unsafe.Pointer(&mi[0])), uintptr(unsafe.Pointer(&l)), 0)
	return int(mi[skMeminfoRmemAlloc]), e == 0
}

// backlogSocket is a loopback socket whose buffer (the kernel doubles what
// is asked) reaches awaitBuffer, as the backlog tests lower it to 8 MiB;
// it skips the test where the buffer cannot be had.
func backlogSocket(t *testing.T) *net.UDPConn {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	require.NoError(t, conn.SetReadBuffer(4<<20))
	if ReadBuffer(conn) < awaitBuffer {
		// Above net.core.rmem_max: SO_RCVBUFFORCE, for root.
		rc, err := conn.SyscallConn()
		require.NoError(t, err)
		rc.Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 4<<20) })
	}
	if ReadBuffer(conn) < awaitBuffer {
		t.Skipf("a socket buffer of 8 MiB needs net.core.rmem_max >= 4 MiB or root; got %d", ReadBuffer(conn))
	}
	return conn
}

// TestBacklogWaitsInTheSocket stalls the worker and sends more than
// readAheadBehind chunks hold: the receive loop hands the worker
// readAheadBehind chunks (the socket still holds a backlog) and leaves the
// rest in the socket, whose buffer has room for them, instead of copying
// them into chunks ahead of the worker; once the
// worker goes on, every flow reaches the file, none overflowed or was
// dropped. (awaitBuffer lowered to the 8 MiB the test asks for: a
// socket of 32 MiB needs net.core.rmem_max raised.)
func TestBacklogWaitsInTheSocket(t *testing.T) {
	was := awaitBuffer
	awaitBuffer = 8 << 20
	t.Cleanup(func() { awaitBuffer = was })
	conn := backlogSocket(t)
	release := make(chan struct{})
	var once sync.Once
	c, err := New(Config{
		Sources:  []Source{{Ident: "backlog", Dir: t.TempDir()}},
		Interval: time.Hour,
		// The first flow blocks the worker until the test lets it go.
		OnFlow: func(*flow.Record) { once.Do(func() { <-release }) },
	}, conn)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			require.NoError(t, <-done)
		}
	}
	defer stop()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	// 2 800 datagrams of 24 v9 flows, some 2.4 MB: more than eight
	// chunks of 256 KiB hold (some 2 400 datagrams), and the rest (some
	// 0.7 MB with the kernel's overhead) still a backlog (over the
	// sixteenth of the 4 MiB the loop leaves in the socket) and under
	// that half of the socket's buffer.
	tmpl, data := benchDatagrams(9, 2800, 24)
	out, err := net.DialUDP("udp4", nil, conn.LocalAddr().(*net.UDPAddr))
	require.NoError(t, err)
	defer out.Close()
	sendAll(t, out, append([][]byte{tmpl}, data...))

	require.Eventually(t, func() bool {
		if c.handed.Load() < readAheadBehind {
			return false
		}
		q, ok := socketBytes(c)
		return ok && q > 0
	}, 10*time.Second, time.Millisecond, "the worker has readAheadBehind chunks and the socket the rest")
	read := c.datagrams.Load()
	assert.Less(t, read, uint64(len(data)+1), "the receive loop left datagrams in the socket")
	assert.Equal(t, int64(readAheadBehind), c.handed.Load())
	// The loop reaches its wait on its own time: released before it got
	// there (under load), the worker would give chunks back before the
	// loop needed one, and it would never have waited.
	require.Eventually(t, func() bool { return c.awaited.Load() > 0 }, 10*time.Second, time.Millisecond,
		"the loop waits for the stalled worker")

	close(release)
	require.Eventually(t, func() bool { return c.datagrams.Load() == uint64(len(data)+1) }, 10*time.Second, time.Millisecond)
	stop()
	cn := c.counters()
	assert.Equal(t, uint64(len(data)*24), cn.Flows)
	assert.Zero(t, cn.QueueOverflow)
	assert.Zero(t, c.kdrops.Load())
}

// TestBacklogGoesToTheWorker fills a socket before the collector runs:
// while it holds a backlog older than behindAfter (0 here: a drain, a
// load past one processor), the receive loop hands every chunk to the
// worker, so that receiving and decoding run side by side, and decodes
// none itself; every flow reaches the file.
func TestBacklogGoesToTheWorker(t *testing.T) {
	inlined, flows := receiveBacklog(t, 0)
	assert.Equal(t, uint64(1500*24), flows)
	// Only the last 256 KiB or so, some 110 datagrams, four batches, may
	// be decoded by the loop; without the backlog rule it decodes nearly
	// all 47 batches itself.
	assert.LessOrEqual(t, inlined, uint64(8), "chunks and batches the receive loop decoded itself")
}

// TestYoungBacklogStaysInTheLoop fills the socket as before, with a
// backlog the loop clears within behindAfter (an hour here: the one a
// park leaves under a steady load): the receive loop decodes every batch
// itself, none goes to the worker through a chunk.
func TestYoungBacklogStaysInTheLoop(t *testing.T) {
	inlined, flows := receiveBacklog(t, time.Hour)
	assert.Equal(t, uint64(1500*24), flows)
	assert.GreaterOrEqual(t, inlined, uint64(47), "every batch of 32 of the 1 501 datagrams decoded in the loop")
}

// receiveBacklog runs a collector, with behindAfter set to after, on a
// socket that holds 1 500 datagrams of 24 v9 flows (and their template)
// before it starts, and returns the batches and chunks its receive loop
// processed itself and the flows it stored.
func receiveBacklog(t *testing.T, after time.Duration) (uint64, uint64) {
	was, wasAfter := awaitBuffer, behindAfter
	awaitBuffer, behindAfter = 8<<20, after
	t.Cleanup(func() { awaitBuffer, behindAfter = was, wasAfter })
	conn := backlogSocket(t)
	// 1 500 datagrams of 24 v9 flows: some 3.5 MB with the kernel's
	// overhead, under the 8 MiB the socket may hold, far over the 256
	// KiB of a backlog.
	tmpl, data := benchDatagrams(9, 1500, 24)
	out, err := net.DialUDP("udp4", nil, conn.LocalAddr().(*net.UDPAddr))
	require.NoError(t, err)
	defer out.Close()
	sendAll(t, out, append([][]byte{tmpl}, data...))

	c, err := New(Config{Sources: []Source{{Ident: "backlog", Dir: t.TempDir()}}, Interval: time.Hour}, conn)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	require.Eventually(t, func() bool { return c.datagrams.Load() == uint64(len(data)+1) }, 10*time.Second, time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	cn := c.counters()
	assert.Zero(t, cn.QueueOverflow)
	assert.Zero(t, c.kdrops.Load())
	return c.inlined, cn.Flows
}

// TestTimerSlack: a reader, once made, has the thread that made it fire
// its timers up to timerSlack late, and, where the process may change
// other threads' (CAP_SYS_NICE; the tests run as root here), every other
// thread of the process as well, the runtime's monitor among them.
func TestTimerSlack(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	slack := func(tid string) int64 {
		b, err := os.ReadFile("/proc/" + tid + "/timerslack_ns")
		require.NoError(t, err)
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		require.NoError(t, err)
		return v
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	r, err := newBatchReader(conn)
	require.NoError(t, err)
	defer r.release()
	assert.Equal(t, int64(timerSlack), slack(strconv.Itoa(unix.Gettid())), "the thread that made the reader")
	if os.Geteuid() != 0 {
		t.Skip("the other threads' slack takes CAP_SYS_NICE")
	}
	ents, err := os.ReadDir("/proc/self/task")
	require.NoError(t, err)
	for _, e := range ents {
		assert.Equal(t, int64(timerSlack), slack(e.Name()), "thread %s", e.Name())
	}
}

// TestAwaitWorkerWaitsForAReturn: while the worker has readAhead chunks
// to process, awaitWorker waits for it to give one back, also when free
// chunks it gave back earlier wait in c.free and the receive loop holds a
// spare. The wait took those old chunks for returns, put them back and
// went round again without blocking: pinned to one processor, where the
// worker ran only when the runtime preempted the loop, gocapd spun most
// of a core (issue #11).
func TestAwaitWorkerWaitsForAReturn(t *testing.T) {
	was := awaitRecheck
	awaitRecheck = time.Hour // only the worker's return ends a wait
	t.Cleanup(func() { awaitRecheck = was })
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	c, err := New(Config{Sources: []Source{{Ident: "await", Dir: t.TempDir()}}, Interval: time.Hour}, nil)
	require.NoError(t, err)
	r, err := newBatchReader(conn)
	require.NoError(t, err)
	defer r.release()

	c.spare = newChunk()
	c.free <- newChunk()
	c.free <- newChunk()
	c.handed.Store(readAhead)
	wake := time.NewTimer(time.Hour)
	wake.Stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.awaitWorker(r, 1<<30, wake) // the empty socket is far under leave
	}()
	for c.awaited.Load() == 0 {
		select {
		case <-done:
			t.Fatal("awaitWorker returned without waiting for the worker")
		default:
			runtime.Gosched()
		}
	}
	// A thousand turns of the scheduler: a wait that does not block goes
	// round many times meanwhile.
	for range 1000 {
		runtime.Gosched()
	}
	assert.Equal(t, uint64(1), c.awaited.Load(), "awaitWorker went round without the worker giving a chunk back")

	// The worker gives a chunk back, as runWorker does.
	c.handed.Add(-1)
	c.free <- newChunk()
	c.gaveBack()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("awaitWorker did not return once the worker gave a chunk back")
	}
	assert.Equal(t, uint64(1), c.awaited.Load())
}

// TestLowRate: the receive loop parks for lowHold instead of sleeping
// maxHold while fewer than a batch of datagrams come in a maxHold.
func TestLowRate(t *testing.T) {
	assert.True(t, lowRate(recvBatch-1, maxHold))
	assert.False(t, lowRate(recvBatch, maxHold))
	assert.True(t, lowRate(recvBatch*int(lowHold/maxHold)-1, lowHold))
	assert.False(t, lowRate(1, 0), "a rate over no time says nothing")
}

// parkedInPoller reports whether a goroutine waits in batchReader.park
// in Go's network poller (IO wait), its processor left to the runtime.
func parkedInPoller() bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "[IO wait") && strings.Contains(g, "(*batchReader).park(") {
			return true
		}
	}
	return false
}

// TestParkEndsAtItsTimeOrClose: park waits in Go's network poller, not
// in a system call that holds the goroutine's processor, until its time
// is up or close is called; after close it does not wait.
func TestParkEndsAtItsTimeOrClose(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	r, err := newBatchReader(conn)
	require.NoError(t, err)
	defer r.release()
	require.NotNil(t, r.timer, "a timerfd")

	r.park(time.Millisecond)
	assert.Equal(t, uint64(1), r.parks.Load())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.park(time.Hour)
	}()
	require.Eventually(t, func() bool { return r.parks.Load() == 2 && parkedInPoller() }, 10*time.Second, time.Millisecond,
		"park waits in the network poller")
	r.close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("park did not end at close")
	}
	r.park(time.Hour)
	assert.Equal(t, uint64(2), r.parks.Load(), "no park after close")
}

// TestReceiveParksAtALowRate feeds the collector a datagram every
// millisecond, fewer than a batch a maxHold, and
// TestReceiveParksUnderASteadyLoad fifty, more than a batch a maxHold: the
// receive loop parks (lowHold, maxHold) between its reads, its processor
// left idle, and every flow is stored all the same. They fail when the
// loop sleeps holding its processor (batchReader.sleep).
func TestReceiveParksAtALowRate(t *testing.T) { receiveParks(t, 1) }

func TestReceiveParksUnderASteadyLoad(t *testing.T) { receiveParks(t, 50) }

// receiveParks sends burst datagrams a millisecond until the receive
// loop parked twice.
func receiveParks(t *testing.T, burst int) {
	c, conn, flows := countingCollector(t, "parks")
	runWhileTest(t, c)
	out, err := net.DialUDP("udp4", nil, conn.LocalAddr().(*net.UDPAddr))
	require.NoError(t, err)
	defer out.Close()

	_, data := benchDatagrams(5, 3000, 8)
	sent := 0
	var parks uint64
	for _, d := range data {
		_, err := out.Write(d)
		require.NoError(t, err)
		sent++
		if sent%burst != 0 {
			continue
		}
		// c.reader is Run's until the loop read a datagram.
		if c.datagrams.Load() > 0 {
			if parks = c.reader.parks.Load(); parks >= 2 {
				break
			}
		}
		time.Sleep(time.Millisecond)
	}
	assert.GreaterOrEqual(t, parks, uint64(2), "the loop parked")
	require.Eventually(t, func() bool { return flows.Load() == int64(sent*8) }, 10*time.Second, time.Millisecond,
		"every flow stored: %d of %d", flows.Load(), sent*8)
}
