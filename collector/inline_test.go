package collector

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
)

// TestReceiveLoopProcessesChunksItself runs a collector without hooks
// under a steady load: the receive loop processes chunks itself, in
// order (no sequence failure), and every flow reaches the file.
func TestReceiveLoopProcessesChunksItself(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	require.NoError(t, conn.SetReadBuffer(1<<20))
	dir := t.TempDir()
	c, err := New(Config{Sources: []Source{{Ident: "inline", Dir: dir}}, Interval: time.Hour}, conn)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()

	tmpl, data := benchDatagrams(9, 3000, 24)
	out, err := net.DialUDP("udp4", nil, conn.LocalAddr().(*net.UDPAddr))
	require.NoError(t, err)
	defer out.Close()
	_, err = out.Write(tmpl)
	require.NoError(t, err)
	// Some 20 datagrams a millisecond, paced by what the receive loop has
	// read so that a busy machine drops nothing.
	sent := 0
	deadline := time.Now().Add(30 * time.Second)
	for i, d := range data {
		for sent-int(c.datagrams.Load()) > 256 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Microsecond)
		}
		_, err := out.Write(d)
		require.NoError(t, err)
		sent++
		if i%20 == 19 {
			time.Sleep(time.Millisecond)
		}
	}
	for c.datagrams.Load() < uint64(sent+1) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	require.NoError(t, <-done)

	cn := c.counters()
	assert.Equal(t, uint64(len(data)+1), cn.Datagrams)
	assert.Equal(t, uint64(len(data)*24), cn.Flows)
	assert.Zero(t, cn.SeqFailures, "datagrams were processed in the order they came")
	assert.Positive(t, c.inlined, "the receive loop processed chunks itself")

	// One file, or two should the clock pass an hour (the slot's end)
	// while the test runs.
	files, err := filepath.Glob(filepath.Join(dir, "nfcapd.2*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	require.LessOrEqual(t, len(files), 2, "%v", files)
	var flows uint64
	for _, f := range files {
		r, err := flowfile.Open(f, flowfile.ReadOptions{})
		require.NoError(t, err)
		for r.Next() {
			if r.Kind() == flowfile.KindFlow {
				flows++
			}
		}
		require.NoError(t, r.Err())
		require.NoError(t, r.Close())
	}
	assert.Equal(t, uint64(len(data)*24), flows)
}

// stallingFile is a flow file whose block writes wait while it is
// stalled, as on a stalled disk; the header, written when the writer is
// made, passes.
type stallingFile struct {
	f     *os.File
	mu    sync.Mutex
	stall *sync.Cond
	stop  bool
}

func newStallingFile(f *os.File, stalled bool) *stallingFile {
	s := &stallingFile{f: f, stop: stalled}
	s.stall = sync.NewCond(&s.mu)
	return s
}

// stallingCollector returns a collector of one source whose flow file
// writes through a stallingFile (stalled or not to begin with), and that
// file.
func stallingCollector(t *testing.T, ident string, stalled bool) (*Collector, *stallingFile) {
	t.Helper()
	dir := t.TempDir()
	c, err := New(Config{Sources: []Source{{Ident: ident, Dir: dir}}, Interval: time.Hour}, nil)
	require.NoError(t, err)
	f, err := os.Create(filepath.Join(dir, ident))
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	dst := newStallingFile(f, stalled)
	w, err := flowfile.NewWriter(dst, f.Name(), flowfile.WriteOptions{Count: flowfile.CountNone})
	require.NoError(t, err)
	c.sinks[0].w = w
	return c, dst
}

func (s *stallingFile) set(stalled bool) {
	s.mu.Lock()
	s.stop = stalled
	s.mu.Unlock()
	s.stall.Broadcast()
}

func (s *stallingFile) WriteAt(p []byte, off int64) (int, error) {
	if off > 0 {
		s.mu.Lock()
		for s.stop {
			s.stall.Wait()
		}
		s.mu.Unlock()
	}
	return s.f.WriteAt(p, off)
}

// busyDisk fills w's pipeline while its disk stalls: it hands blocks of
// one flow to the disk until w is no longer Ready (the writer keeps a
// block more than it fills and writes).
func busyDisk(t *testing.T, w *flowfile.Writer) {
	t.Helper()
	r := flow.Record{SrcAddr: netip.MustParseAddr("10.0.0.1"), DstAddr: netip.MustParseAddr("10.0.0.2"), Proto: flow.ProtoTCP}
	for i := 0; w.Ready(); i++ {
		require.Less(t, i, 8, "the writer is ready however many blocks wait for the disk")
		require.NoError(t, w.WriteFlow(&r))
		require.NoError(t, w.Flush())
	}
}

// waitReady waits until w can take a block without waiting.
func waitReady(t *testing.T, w *flowfile.Writer) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !w.Ready() && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	require.True(t, w.Ready())
}

// TestDeliverWaitsForNoDisk: while a flow file cannot take another block
// without waiting for the disk, the receive loop hands its chunks to the
// worker, and once it has handed one over it goes on doing so until the
// worker has processed them all, so that datagrams keep their order.
func TestDeliverWaitsForNoDisk(t *testing.T) {
	c, dst := stallingCollector(t, "stall", true)
	k := c.sinks[0]
	w := k.w

	tmpl, data := benchDatagrams(9, 3, 24)
	from := netip.MustParseAddr("127.0.0.1")
	at := time.Now()
	chunkOf := func(b ...[]byte) *chunk {
		ch := newChunk()
		for _, d := range b {
			require.True(t, ch.add(d, from, at))
		}
		return ch
	}

	c.deliver(chunkOf(tmpl, data[0]))
	assert.Equal(t, uint64(1), c.inlined, "a ready file: processed in the receive loop")
	require.NoError(t, w.Flush()) // the block's write now waits for the disk
	busyDisk(t, w)

	c.deliver(chunkOf(data[1]))
	assert.Equal(t, uint64(1), c.inlined)
	assert.Len(t, c.full, 1, "handed to the worker while the disk is busy")

	dst.set(false)
	waitReady(t, w)
	c.deliver(chunkOf(data[2]))
	assert.Equal(t, uint64(1), c.inlined, "the worker has a chunk: this one goes after it")
	assert.Len(t, c.full, 2)

	for range 2 {
		c.processChunk(<-c.full)
		c.handed.Add(-1)
	}
	c.deliver(chunkOf(data[0]))
	assert.Equal(t, uint64(2), c.inlined, "the worker is done: processed in the receive loop again")
	assert.Equal(t, uint64(4*24), c.dec.Counters().Flows)
	assert.Equal(t, uint64(1), c.dec.Counters().SequenceFailures, "only the datagram sent again is out of sequence")
	require.NoError(t, w.Close())
}

// TestDeliverHandsOverTheRestOfAChunk: when a datagram processed in the
// receive loop fills a block and the disk stalls, the rest of the chunk
// goes to the worker, which processes it after what came before.
func TestDeliverHandsOverTheRestOfAChunk(t *testing.T) {
	c, dst := stallingCollector(t, "stall", true)
	w := c.sinks[0].w

	const per = 24
	tmpl, data := benchDatagrams(9, 1200, per)
	from := netip.MustParseAddr("127.0.0.1")
	at := time.Now()
	c.process(tmpl, from, at)
	// Fill a block, which then waits for the disk, to find how many of
	// these datagrams it takes, then fill the next one but for a
	// datagram: the writer has a block left.
	i := 0
	for ; w.Queued() == 0; i++ {
		c.process(data[i], from, at)
	}
	for n := i; i < 2*n-2; i++ {
		c.process(data[i], from, at)
	}
	require.Equal(t, uint64(1), w.Queued())
	require.True(t, w.Ready())

	ch := newChunk()
	for _, d := range data[i : i+3] {
		require.True(t, ch.add(d, from, at))
	}
	c.deliver(ch)
	require.Equal(t, uint64(2), w.Queued(), "a datagram filled the block")
	assert.Equal(t, uint64(1), c.inlined)
	require.Len(t, c.full, 1, "the rest went to the worker")
	assert.Less(t, ch.next, 3)

	dst.set(false)
	c.processChunk(<-c.full)
	c.handed.Add(-1)
	assert.Equal(t, uint64((i+3)*per), c.dec.Counters().Flows)
	assert.Zero(t, c.dec.Counters().SequenceFailures)
	require.NoError(t, w.Close())
}

// TestDirectProcessesTheBatch: with nothing in a chunk, the receive loop
// decodes a batch where the reader landed it, without a chunk; while the
// disk cannot take a block it processes none of it, and the caller queues
// the batch.
func TestDirectProcessesTheBatch(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	c, dst := stallingCollector(t, "direct", false)
	w := c.sinks[0].w
	r, err := newBatchReader(conn)
	require.NoError(t, err)
	defer r.release()
	out, err := net.DialUDP("udp4", nil, conn.LocalAddr().(*net.UDPAddr))
	require.NoError(t, err)
	defer out.Close()

	// readOne sends b and reads it back as a batch of one.
	readOne := func(b []byte) int {
		_, err := out.Write(b)
		require.NoError(t, err)
		n, err := r.read(5 * time.Second)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		return n
	}
	tmpl, data := benchDatagrams(9, 2, 24)
	for _, b := range [][]byte{tmpl, data[0]} {
		done, size := c.direct(r, readOne(b), time.Now())
		assert.Equal(t, 1, done)
		assert.Equal(t, len(b), size)
	}
	assert.Equal(t, uint64(24), c.dec.Counters().Flows)
	assert.Equal(t, uint64(2), c.inlined)
	assert.Zero(t, c.chunks, "no chunk made")

	dst.set(true)
	require.NoError(t, w.Flush()) // the block's write now waits for the disk
	busyDisk(t, w)
	done, size := c.direct(r, readOne(data[1]), time.Now())
	assert.Zero(t, done, "the disk is busy: the batch goes to a chunk")
	assert.Zero(t, size)
	assert.Equal(t, uint64(24), c.dec.Counters().Flows)
	dst.set(false)
	require.NoError(t, w.Close())
}
