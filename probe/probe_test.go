package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/capture"
	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/pktgen"
	"github.com/nfgo/nftools/internal/testutil"
	"github.com/nfgo/nftools/netflow"
)

var t0 = time.Date(2026, 11, 24, 21, 45, 0, 0, time.UTC)

// packets makes n packets of n different flows, one every step seconds
// from first, with source ports from port on and destination port 80.
func packets(n int, first, step float64, port uint16) []fakePacket {
	var ps []fakePacket
	for i := range n {
		ps = append(ps, fakePacket{at: first + float64(i)*step, src: port + uint16(i), dst: 80})
	}
	return ps
}

func wantFlows(ps []fakePacket) []string {
	count := map[fakeFlow]uint32{}
	var order []fakeFlow
	for _, p := range ps {
		k := fakeFlow{src: p.src, dst: p.dst}
		if count[k] == 0 {
			order = append(order, k)
		}
		count[k]++
	}
	var ds []fakeDatagram
	for _, k := range order {
		ds = append(ds, fakeDatagram{flows: []fakeFlow{{k.src, k.dst, count[k]}}})
	}
	return flowsOf(ds)
}

func newProbe(t *testing.T, cfg Config) (*Probe, *logBuffer) {
	t.Helper()
	log := &logBuffer{}
	if cfg.Logf == nil {
		cfg.Logf = log.logf
	}
	if cfg.NewEncoder == nil {
		cfg.NewEncoder = newFakeEncoder(10)
	}
	if cfg.QueueLen == 0 {
		cfg.QueueLen = 100
	}
	p, err := New(cfg)
	require.NoError(t, err)
	return p, log
}

// TestMirrorAndRoundRobin: every mirror collector gets every flow; the
// round-robin collectors take the datagrams in turn, so that together they
// get every flow once. Each collector counts its own sequence.
func TestMirrorAndRoundRobin(t *testing.T) {
	m1, m2 := newSink(t, "udp4", "127.0.0.1:0"), newSink(t, "udp4", "127.0.0.1:0")
	r1, r2, r3 := newSink(t, "udp4", "127.0.0.1:0"), newSink(t, "udp4", "127.0.0.1:0"), newSink(t, "udp6", "[::1]:0")
	p, _ := newProbe(t, Config{Collectors: []Collector{
		m1.collector(""), r1.collector("//r"), m2.collector("//m"), r2.collector("//r"), r3.collector("/::1/r"),
	}})
	ps := packets(95, 0, 0.001, 1000)
	m := newFakeMeter(p, t0, time.Minute, ps...)
	require.NoError(t, p.Run(context.Background(), m))
	want := wantFlows(ps)
	require.Len(t, want, 95)
	for _, s := range []*sink{m1, m2} {
		got := s.wait(95)
		assert.Equal(t, want, flowsOf(got))
		assert.Len(t, got, 10, "95 flows in datagrams of 10")
		for i, d := range got {
			assert.Equal(t, uint32(10*i), d.seq, "mirror sequence counts that collector's flows")
		}
	}
	// The cache exports the 95 flows at the end (Flush), in one batch: 10
	// datagrams among 3 round-robin collectors, 4 (the last one of 5
	// flows), 3 and 3.
	g1, g2, g3 := r1.wait(35), r2.wait(30), r3.wait(30)
	assert.Len(t, g1, 4)
	assert.Len(t, g2, 3)
	assert.Len(t, g3, 3)
	assert.Equal(t, want, flowsOf(append(append(g1, g2...), g3...)))
	for _, g := range [][]fakeDatagram{g1, g2, g3} {
		assert.Equal(t, uint32(0), g[0].seq)
		assert.Equal(t, uint32(10), g[1].seq, "round-robin sequence counts the flows that collector got")
	}
	assert.Equal(t, netip.MustParseAddr("::1"), g3[0].from.Addr())

	st := p.Stats()
	assert.Equal(t, uint64(95), st.Flows)
	assert.Equal(t, uint64(95), st.Packets)
	assert.Equal(t, uint64(30), st.Datagrams)
	assert.Zero(t, st.SendErrors)
	assert.Zero(t, st.FlowsLost)
	require.Len(t, st.Collectors, 5)
	assert.Equal(t, CollectorStats{Collector: r1.collector("//r"), Datagrams: 4, Flows: 35}, st.Collectors[1])
}

// TestLocalBind: datagrams leave from the collector's /local address, or
// else from -a.
func TestLocalBind(t *testing.T) {
	s1, s2 := newSink(t, "udp4", "127.0.0.1:0"), newSink(t, "udp4", "127.0.0.1:0")
	c2 := s2.collector("")
	c2.Local = "127.0.0.7"
	p, _ := newProbe(t, Config{Collectors: []Collector{s1.collector(""), c2}, Source: netip.MustParseAddr("127.0.0.6")})
	assert.Equal(t, "127.0.0.6", p.LocalAddr(0).Addr().String())
	assert.Equal(t, "127.0.0.7", p.LocalAddr(1).Addr().String())
	require.NoError(t, p.Run(context.Background(), newFakeMeter(p, t0, time.Minute, packets(3, 0, 1, 1)...)))
	assert.Equal(t, "127.0.0.6", s1.wait(3)[0].from.Addr().String())
	assert.Equal(t, "127.0.0.7", s2.wait(3)[0].from.Addr().String())
}

// TestCollectorDown: a collector with nothing listening makes the sends to
// it fail (the kernel reports the ICMP port unreachable at the next send);
// the errors are counted and logged once, and the other collector gets
// everything.
func TestCollectorDown(t *testing.T) {
	up := newSink(t, "udp4", "127.0.0.1:0")
	down := Collector{Host: "127.0.0.1", Port: fmt.Sprint(testutil.FreeUDPPort(t))}
	clock := &fakeClock{now: t0}
	p, log := newProbe(t, Config{Collectors: []Collector{down, up.collector("")}, NewEncoder: newFakeEncoder(1),
		Clock: clock.Now, Scan: time.Millisecond})
	// Flows of one packet each, ended by it (FIN), 10 ms apart: a scan
	// between any two hands each flow over alone, and the pause lets the
	// ICMP error come back before the next datagram.
	ps := packets(50, 0, 0.01, 1)
	for i := range ps {
		ps[i].fin = true
	}
	m := newFakeMeter(p, t0, time.Second, ps...)
	m.onRead = func(*fakeMeter) { time.Sleep(time.Millisecond) }
	require.NoError(t, p.Run(context.Background(), m))
	assert.Equal(t, wantFlows(ps), flowsOf(up.wait(50)))
	st := p.Stats()
	down0 := st.Collectors[0]
	assert.Positive(t, down0.SendErrors)
	assert.Equal(t, uint64(50), down0.SendErrors+down0.Datagrams)
	assert.Equal(t, CollectorStats{Collector: up.collector(""), Datagrams: 50, Flows: 50}, st.Collectors[1])
	assert.Equal(t, down0.SendErrors, st.SendErrors)
	assert.Contains(t, log.String(), "[ERR]: send(to #1, flows 1, size 26): Connection refused")
	assert.Equal(t, 1, countLines(log.String(), "send(to #1"), "the same error is logged once a minute")

	// A new error is logged at once with the count of the failures not
	// logged; the same error again a minute later.
	p.exp.logSendError(p.exp.senders[0], 26, 1, errors.New("boom"))
	p.exp.logSendError(p.exp.senders[0], 26, 1, errors.New("boom"))
	clock.Set(t0.Add(time.Minute))
	p.exp.logSendError(p.exp.senders[0], 26, 1, errors.New("boom"))
	lines := strings.Split(log.String(), "\n")
	require.Len(t, lines, 3)
	assert.Equal(t, fmt.Sprintf("[ERR]: send(to #1, flows 1, size 26): boom (and %d more since the last report)", down0.SendErrors-1), lines[1])
	assert.Equal(t, "[ERR]: send(to #1, flows 1, size 26): boom (and 1 more since the last report)", lines[2])
}

// TestCollectorDownBatch: datagrams handed to a collector's socket
// together (the flows of one batch, here the 60 flows Flush exports) are
// each sent or counted as a failure when nothing listens, never both and
// never neither, and the other collector gets them all, in order.
func TestCollectorDownBatch(t *testing.T) {
	up := newSink(t, "udp4", "127.0.0.1:0")
	down := Collector{Host: "127.0.0.1", Port: fmt.Sprint(testutil.FreeUDPPort(t))}
	p, log := newProbe(t, Config{Collectors: []Collector{down, up.collector("")}, NewEncoder: newFakeEncoder(1)})
	ps := packets(60, 0, 0.001, 1)
	require.NoError(t, p.Run(context.Background(), newFakeMeter(p, t0, time.Minute, ps...)))
	got := up.wait(60)
	assert.Equal(t, wantFlows(ps), flowsOf(got))
	for i, d := range got {
		require.Equal(t, uint32(i), d.seq, "datagram %d in order", i)
	}
	st := p.Stats()
	down0 := st.Collectors[0]
	assert.Positive(t, down0.SendErrors, "the kernel refused some")
	assert.Equal(t, uint64(60), down0.SendErrors+down0.Datagrams)
	assert.Equal(t, down0.Datagrams, down0.Flows)
	assert.Equal(t, CollectorStats{Collector: up.collector(""), Datagrams: 60, Flows: 60}, st.Collectors[1])
	assert.Equal(t, 1, countLines(log.String(), "send(to #1, flows 1, size 26): Connection refused"))
}

// TestSendAllocatesNothing: once its buffers have grown, the exporter
// encodes and sends a batch of flows, to mirror and round-robin
// collectors, without an allocation.
func TestSendAllocatesNothing(t *testing.T) {
	m, r := newSink(t, "udp4", "127.0.0.1:0"), newSink(t, "udp4", "127.0.0.1:0")
	p, _ := newProbe(t, Config{Collectors: []Collector{m.collector(""), r.collector("//r")}})
	recs := make([]queued, 95)
	for i := range recs {
		recs[i].pack(&flow.Record{SrcAddr: netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), DstAddr: netip.MustParseAddr("10.1.1.1"),
			SrcPort: uint16(i), DstPort: 53, Proto: 17, InPackets: 1, InBytes: 100})
	}
	p.exp.send(recs, 1)
	assert.Zero(t, testing.AllocsPerRun(20, func() { p.exp.send(recs, 1) }))
	// Once before, and AllocsPerRun's warm-up run and its 20.
	m.wait(22 * 95)
	assert.Equal(t, uint64(22*10), p.exp.senders[0].datagrams.Load(), "95 flows in datagrams of 10, 22 times")
}

func countLines(s, sub string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			n++
		}
	}
	return n
}

// TestPacing: -t B:N pauses N ns after every B bytes, carrying the rest of
// B over, as fprobe does.
func TestPacing(t *testing.T) {
	s := newSink(t, "udp4", "127.0.0.1:0")
	var sleeps []time.Duration
	// The 75 flows leave at the end (Flush), in datagrams of 10 flows
	// (18+80 = 98 bytes) and one of 5 (58 bytes).
	p, _ := newProbe(t, Config{Collectors: []Collector{s.collector("")}, PaceBytes: 230, PaceDelay: 3 * time.Millisecond,
		Sleep: func(d time.Duration) { sleeps = append(sleeps, d) }})
	require.NoError(t, p.Run(context.Background(), newFakeMeter(p, t0, time.Minute, packets(75, 0, 0.001, 1)...)))
	s.wait(75)
	// After the 3rd datagram (294 bytes) a pause, 64 carried; after the 5th
	// (260) a pause, 30 carried; after the 7th (226) none; after the 8th
	// (284) a pause.
	assert.Equal(t, []time.Duration{3 * time.Millisecond, 3 * time.Millisecond, 3 * time.Millisecond}, sleeps)

	// A datagram larger than B pauses once for every B in it.
	sleeps = nil
	s2 := newSink(t, "udp4", "127.0.0.1:0")
	p, _ = newProbe(t, Config{Collectors: []Collector{s2.collector("")}, PaceBytes: 45, PaceDelay: time.Microsecond,
		Sleep: func(d time.Duration) { sleeps = append(sleeps, d) }})
	require.NoError(t, p.Run(context.Background(), newFakeMeter(p, t0, time.Minute, packets(10, 0, 0.001, 1)...)))
	s2.wait(10)
	assert.Equal(t, []time.Duration{2 * time.Microsecond}, sleeps)
}

// TestPacingSleeps: the real pause is taken, in the exporter: 10 datagrams
// of 98 bytes with a pause of 20 ms after every 196 bytes take at least
// 100 ms to send. (A lower bound only: no test depends on speed.)
func TestPacingSleeps(t *testing.T) {
	s := newSink(t, "udp4", "127.0.0.1:0")
	p, _ := newProbe(t, Config{Collectors: []Collector{s.collector("")}, PaceBytes: 196, PaceDelay: 20 * time.Millisecond})
	start := time.Now()
	require.NoError(t, p.Run(context.Background(), newFakeMeter(p, t0, time.Minute, packets(100, 0, 0.001, 1)...)))
	s.wait(100)
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
}

// TestScanOnPacketTime: reading a file, the scan runs every -s seconds of
// packet time, so the same capture expires the same flows at the same
// points on every run.
func TestScanOnPacketTime(t *testing.T) {
	s := newSink(t, "udp4", "127.0.0.1:0")
	p, _ := newProbe(t, Config{Collectors: []Collector{s.collector("")}, Scan: 5 * time.Second, NewEncoder: newFakeEncoder(100)})
	// Flows idle for 2 s expire at the scans, every 5 s from the first
	// packet.
	ps := []fakePacket{
		{at: 0, src: 1, dst: 80}, {at: 1, src: 2, dst: 80}, {at: 4.9, src: 1, dst: 80},
		{at: 5, src: 3, dst: 80}, // scan at 5 s: flow 2 (last seen at 1 s)
		{at: 9, src: 3, dst: 80},
		{at: 10.5, src: 4, dst: 80},          // scan at 10.5 s: flow 1 (4.9 s), not flow 3 (9 s)
		{at: 11, src: 4, dst: 80, fin: true}, // FIN: flow 4 ends, handed over with the next scan
		{at: 30, src: 5, dst: 80},            // scan at 30 s: flow 3
	}
	m := newFakeMeter(p, t0, 2*time.Second, ps...)
	// One datagram per hand-over: the next packet waits until the exporter
	// has taken what the last scan queued.
	m.onRead = func(*fakeMeter) { waitQueueEmpty(t, p) }
	require.NoError(t, p.Run(context.Background(), m))
	assert.Equal(t, []int64{m.at(5), m.at(10.5), m.at(30)}, m.expired)
	got := s.wait(5)
	var order [][]string
	for _, d := range got {
		order = append(order, flowsOf([]fakeDatagram{d}))
	}
	assert.Equal(t, [][]string{{"2>80:1"}, {"1>80:2"}, {"3>80:2", "4>80:2"}, {"5>80:1"}}, order,
		"scan at 5 s, scan at 10.5 s, the FIN flow with the scan at 30 s, the flush at the end")
	assert.Equal(t, uint64(m.at(5)/1e6), got[0].now, "export time is the packet time of the scan")
	assert.Equal(t, uint64(m.at(10.5)/1e6), got[1].now)
	assert.Equal(t, uint64(m.at(30)/1e6), got[3].now, "the flush at the end has the last packet's time")
}

// TestFileReadWaits: reading a file, a full queue makes the capture wait,
// so nothing is lost however slow the collector.
func TestFileReadWaits(t *testing.T) {
	s := newSink(t, "udp4", "127.0.0.1:0")
	p, _ := newProbe(t, Config{Collectors: []Collector{s.collector("")}, QueueLen: 5, NewEncoder: newFakeEncoder(2),
		PaceBytes: 1, PaceDelay: 10 * time.Microsecond})
	ps := make([]fakePacket, 0, 400)
	for i := range 400 {
		ps = append(ps, fakePacket{at: float64(i) * 0.01, src: uint16(i), dst: 1, fin: true})
	}
	require.NoError(t, p.Run(context.Background(), newFakeMeter(p, t0, time.Minute, ps...)))
	assert.Equal(t, wantFlows(ps), flowsOf(s.wait(400)))
	assert.Zero(t, p.Stats().FlowsLost)
}

// blockingEncoder stands for a network that does not take datagrams: it
// waits until released.
type blockingEncoder struct {
	fakeEncoder
	release chan struct{}
}

func (e *blockingEncoder) Encode(dst []byte, recs []flow.Record, now uint64) ([]byte, int) {
	<-e.release
	return e.fakeEncoder.Encode(dst, recs, now)
}

// TestLiveCaptureNeverWaits: on a live interface, an exporter that cannot
// send does not stop the capture: the capture keeps reading, the queue
// takes flows until it holds QueueLen, and what does not fit is dropped,
// counted and logged. Once the network moves again, what the queue holds
// is sent.
func TestLiveCaptureNeverWaits(t *testing.T) {
	s := newSink(t, "udp4", "127.0.0.1:0")
	release := make(chan struct{})
	p, log := newProbe(t, Config{Collectors: []Collector{s.collector("")}, QueueLen: 100, Live: true,
		NewEncoder: func() (Encoder, error) {
			return &blockingEncoder{fakeEncoder{perDatagram: 1000}, release}, nil
		}})
	// 10 000 packets, each ending its own flow: handed over 64 at a time.
	ps := make([]fakePacket, 0, 10000)
	for i := range 10000 {
		ps = append(ps, fakePacket{at: float64(i) * 1e-4, src: uint16(i), dst: 1, fin: true})
	}
	m := newFakeMeter(p, t0, time.Minute, ps...)
	m.live = true
	m.onRead = func(m *fakeMeter) {
		switch {
		case m.next == 64:
			// The exporter takes the first batch and gets stuck in it.
			waitQueueEmpty(t, p)
		case m.next >= len(m.script):
			time.Sleep(time.Millisecond)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		assert.NoError(t, p.Run(ctx, m))
	}()
	// The capture reads all 10 000 packets while the exporter is stuck.
	// The queue takes batches of 64 until it holds 100 or more (two
	// batches); the rest is dropped, the last 16 flows at an idle read.
	require.Eventually(t, func() bool { _, lost := p.q.stats(); return lost == 10000-64-128 }, 10*time.Second, time.Millisecond)
	st := p.Stats()
	assert.Equal(t, uint64(10000), st.Flows)
	assert.Equal(t, 128, st.Queued)
	assert.Equal(t, uint64(10000-64-128), st.FlowsLost)
	assert.Contains(t, log.String(), "[ERR]: export queue full: 64 flows lost")
	assert.Contains(t, log.String(), "[ERR]: export queue full: 16 flows lost")
	close(release)
	cancel()
	wg.Wait()
	got := s.wait(64 + 128)
	assert.Len(t, flowsOf(got), 64+128)
	assert.Len(t, got, 2, "the stuck batch, then the two the queue held")
	assert.Equal(t, uint64(2), p.Stats().Datagrams)
}

// TestIdleScans: on a quiet live link, reads time out and the clock drives
// the scan; flows idle for -d leave without a packet to push them.
func TestIdleScans(t *testing.T) {
	s := newSink(t, "udp4", "127.0.0.1:0")
	clock := &fakeClock{now: t0}
	p, _ := newProbe(t, Config{Collectors: []Collector{s.collector("")}, Live: true, Scan: 5 * time.Second, Clock: clock.Now})
	m := newFakeMeter(p, t0, 10*time.Second, packets(3, 0, 1, 1)...)
	m.live = true
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var idle int
	m.onRead = func(m *fakeMeter) {
		waitQueueEmpty(t, p)
		if m.next >= len(m.script) {
			// Every idle read, one second passes.
			idle++
			clock.Set(t0.Add(time.Duration(2+idle) * time.Second))
			if idle == 30 {
				cancel()
			}
		}
	}
	done := make(chan error)
	go func() { done <- p.Run(ctx, m) }()
	got := s.wait(3)
	require.NoError(t, <-done)
	assert.Equal(t, []string{"1>80:1", "2>80:1", "3>80:1"}, flowsOf(got))
	// Scans every 5 s from the first packet, on the clock once the reads
	// time out: at 10 s the flow last seen at 0 s has been idle for 10 s,
	// at 15 s those of 1 and 2 s.
	require.GreaterOrEqual(t, len(m.expired), 6)
	assert.Equal(t, []int64{m.at(5), m.at(10), m.at(15), m.at(20), m.at(25), m.at(30)}, m.expired[:6])
	require.Len(t, got, 2)
	assert.Equal(t, []string{"1>80:1"}, flowsOf(got[:1]))
	assert.Equal(t, uint64(m.at(10)/1e6), got[0].now)
	assert.Equal(t, []string{"2>80:1", "3>80:1"}, flowsOf(got[1:]))
	assert.Equal(t, uint64(m.at(15)/1e6), got[1].now)
}

// TestCancelFlushes: when the context ends (SIGTERM), every flow in the
// cache is exported and sent before Run returns.
func TestCancelFlushes(t *testing.T) {
	s := newSink(t, "udp4", "127.0.0.1:0")
	p, _ := newProbe(t, Config{Collectors: []Collector{s.collector("")}, Live: true})
	ps := packets(25, 0, 0.1, 1)
	m := newFakeMeter(p, t0, time.Hour, ps...)
	m.live = true
	ctx, cancel := context.WithCancel(context.Background())
	m.onRead = func(m *fakeMeter) {
		if m.next == len(m.script) {
			cancel()
		}
	}
	require.NoError(t, p.Run(ctx, m))
	// Run has waited for the exporter: the datagrams are on their way.
	st := p.Stats()
	assert.Equal(t, uint64(25), st.Flows)
	assert.Equal(t, uint64(3), st.Datagrams)
	assert.Equal(t, wantFlows(ps), flowsOf(s.wait(25)))
}

// TestMeterError: a capture that fails ends Run with its error, after the
// flows already in the cache are sent.
func TestMeterError(t *testing.T) {
	s := newSink(t, "udp4", "127.0.0.1:0")
	p, _ := newProbe(t, Config{Collectors: []Collector{s.collector("")}})
	m := newFakeMeter(p, t0, time.Hour, packets(5, 0, 0.1, 1)...)
	broken := errors.New("interface went away")
	err := p.Run(context.Background(), errMeter{m, broken})
	assert.ErrorIs(t, err, broken)
	assert.Len(t, flowsOf(s.wait(5)), 5)
}

// errMeter fails once its script has run out.
type errMeter struct {
	*fakeMeter
	err error
}

func (m errMeter) Read() (int64, error) {
	if m.next >= len(m.script) {
		return 0, m.err
	}
	return m.fakeMeter.Read()
}

// TestStatsRequest: SIGUSR1 asks for the counters; the loop logs them at
// its next turn, with the meter's counters as of that moment.
func TestStatsRequest(t *testing.T) {
	s := newSink(t, "udp4", "127.0.0.1:0")
	p, log := newProbe(t, Config{Collectors: []Collector{s.collector("")}})
	m := newFakeMeter(p, t0, time.Hour, packets(20, 0, 0.1, 1)...)
	m.stats.Dropped, m.stats.IfDropped = 7, 2
	m.onRead = func(m *fakeMeter) {
		if m.next == 10 {
			p.RequestStats()
		}
	}
	require.NoError(t, p.Run(context.Background(), m))
	s.wait(20)
	assert.Contains(t, log.String(), "[INFO]: packets: 11 (0 not counted), dropped by kernel: 7, by interface: 2; flows: 11 active, 0 exported, 0 queued, 0 lost, 0 not exportable in this version; datagrams sent: 0, send errors: 0\n"+
		"[INFO]: collector #1: "+s.collector("").String()+": datagrams sent: 0, flows: 0, send errors: 0")
	p.LogStats()
	assert.Contains(t, log.String(), "[INFO]: packets: 20 (0 not counted), dropped by kernel: 7, by interface: 2; flows: 0 active, 20 exported, 0 queued, 0 lost, 0 not exportable in this version; datagrams sent: 2, send errors: 0\n")
}

// TestKernelDropsLogged: new kernel drops are logged at a scan, at most
// once a minute.
func TestKernelDropsLogged(t *testing.T) {
	s := newSink(t, "udp4", "127.0.0.1:0")
	clock := &fakeClock{now: t0}
	p, log := newProbe(t, Config{Collectors: []Collector{s.collector("")}, Scan: time.Second, Clock: clock.Now})
	m := newFakeMeter(p, t0, time.Hour, packets(10, 0, 1, 1)...)
	m.onRead = func(m *fakeMeter) {
		m.stats.Dropped += 5
		clock.Set(t0.Add(time.Duration(m.next) * 20 * time.Second))
	}
	require.NoError(t, p.Run(context.Background(), m))
	// Before the read of packet k the clock is at 20k s and the kernel has
	// dropped 5(k+1) packets. Scans at packets 1 to 9 and the end of Run
	// (k = 10) log new drops once a minute: at k = 1, 4, 7 and 10.
	assert.Equal(t, 4, countLines(log.String(), "[WARNING]: kernel dropped"), log.String())
	assert.Contains(t, log.String(), "[WARNING]: kernel dropped 10 packets (10 in all)")
	assert.Contains(t, log.String(), "[WARNING]: kernel dropped 15 packets (25 in all)")
}

func TestNewErrors(t *testing.T) {
	_, err := New(Config{NewEncoder: newFakeEncoder(1)})
	assert.EqualError(t, err, "no collector")
	bad := errors.New("bad version")
	_, err = New(Config{Collectors: []Collector{{Host: "127.0.0.1", Port: "9"}}, NewEncoder: func() (Encoder, error) { return nil, bad }})
	assert.ErrorIs(t, err, bad)
	_, err = New(Config{Collectors: []Collector{{Host: "127.0.0.1", Port: "9"}, {Host: "bad..name", Port: "9"}}, NewEncoder: newFakeEncoder(1)})
	assert.EqualError(t, err, "Error in collector #2 parameters")
}

// TestNoPacketsAtAll: an empty input still ends cleanly, with nothing sent.
func TestNoPacketsAtAll(t *testing.T) {
	s := newSink(t, "udp4", "127.0.0.1:0")
	p, _ := newProbe(t, Config{Collectors: []Collector{s.collector("")}})
	require.NoError(t, p.Run(context.Background(), newFakeMeter(p, t0, time.Hour)))
	assert.Zero(t, p.Stats().Datagrams)
}

// waitQueueEmpty waits until the exporter has taken everything queued.
func waitQueueEmpty(t *testing.T, p *Probe) {
	t.Helper()
	require.Eventually(t, func() bool { n, _ := p.q.stats(); return n == 0 }, 10*time.Second, 100*time.Microsecond)
}

// skippingEncoder cannot carry flows with an even source port (as v5
// cannot carry IPv6): it takes them and returns an empty datagram.
type skippingEncoder struct{ fakeEncoder }

func (e *skippingEncoder) Encode(dst []byte, recs []flow.Record, now uint64) ([]byte, int) {
	if len(recs) > 0 && recs[0].SrcPort%2 == 0 {
		return dst[:0], 1
	}
	n := 0
	for n < len(recs) && recs[n].SrcPort%2 == 1 {
		n++
	}
	return e.fakeEncoder.Encode(dst, recs[:n], now)
}

// TestSkippedFlows: flows the encoder takes without encoding them are not
// sent, and the export goes on with the next ones, for mirror and
// round-robin collectors alike.
func TestSkippedFlows(t *testing.T) {
	m, r := newSink(t, "udp4", "127.0.0.1:0"), newSink(t, "udp4", "127.0.0.1:0")
	p, _ := newProbe(t, Config{Collectors: []Collector{m.collector(""), r.collector("//r")},
		NewEncoder: func() (Encoder, error) { return &skippingEncoder{fakeEncoder{perDatagram: 4}}, nil }})
	ps := packets(20, 0, 0.001, 1) // ports 1..20: 10 odd
	require.NoError(t, p.Run(context.Background(), newFakeMeter(p, t0, time.Hour, ps...)))
	var odd []fakePacket
	for _, pk := range ps {
		if pk.src%2 == 1 {
			odd = append(odd, pk)
		}
	}
	for _, s := range []*sink{m, r} {
		got := s.wait(10)
		assert.Equal(t, wantFlows(odd), flowsOf(got))
		assert.Len(t, got, 10, "runs of one odd flow between even ones")
	}
	assert.Equal(t, uint64(20), p.Stats().Datagrams)
}

// blockingMeter blocks in Read once its script has run out, as a pipe
// that has gone quiet does, until interrupted.
type blockingMeter struct {
	*fakeMeter
	blocked     chan struct{}
	interrupted chan struct{}
	once        sync.Once
}

func (m *blockingMeter) Read() (int64, error) {
	if m.next >= len(m.script) {
		close(m.blocked)
		<-m.interrupted
		return 0, errors.New("read interrupted")
	}
	return m.fakeMeter.Read()
}

func (m *blockingMeter) Interrupt() { m.once.Do(func() { close(m.interrupted) }) }

// TestInterrupt: a meter that blocks in Read is interrupted when the
// context ends, and Run exports the cache and returns without an error.
func TestInterrupt(t *testing.T) {
	s := newSink(t, "udp4", "127.0.0.1:0")
	p, _ := newProbe(t, Config{Collectors: []Collector{s.collector("")}})
	m := &blockingMeter{fakeMeter: newFakeMeter(p, t0, time.Hour, packets(4, 0, 0.1, 1)...),
		blocked: make(chan struct{}), interrupted: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx, m) }()
	<-m.blocked
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	assert.Len(t, flowsOf(s.wait(4)), 4)
}

// TestNotExportable: NetFlow v5 cannot carry IPv6 flows; netflow's encoder
// skips them and the probe counts them, and sends the others.
func TestNotExportable(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer conn.Close()
	port := fmt.Sprint(conn.LocalAddr().(*net.UDPAddr).Port)
	// A mirror and a round-robin collector on the same socket: each flow
	// is counted once however many encoders skip it.
	p, log := newProbe(t, Config{Collectors: []Collector{{Host: "127.0.0.1", Port: port}, {Host: "127.0.0.1", Port: port, Mode: RoundRobin}},
		NewEncoder: func() (Encoder, error) { return netflow.NewEncoder(netflow.EncoderConfig{Version: 5}) }})
	ps := packets(10, 0, 0.01, 1)
	for i := range ps {
		ps[i].v6 = i%2 == 1
	}
	require.NoError(t, p.Run(context.Background(), newFakeMeter(p, t0, time.Hour, ps...)))
	st := p.Stats()
	assert.Equal(t, uint64(5), st.Skipped)
	assert.Equal(t, uint64(10), st.Flows)
	assert.Equal(t, uint64(5), st.Collectors[0].Flows)
	assert.Equal(t, uint64(5), st.Collectors[1].Flows)
	p.LogStats()
	assert.Contains(t, log.String(), "10 exported, 0 queued, 0 lost, 5 not exportable in this version;")

	// The datagrams hold the five IPv4 flows, as the v5 decoder reads them.
	dec := netflow.NewDecoder(netflow.Options{})
	var got []uint16
	buf := make([]byte, 2048)
	for range st.Datagrams {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := conn.Read(buf)
		require.NoError(t, err)
		require.NoError(t, dec.Decode(buf[:n], netip.MustParseAddr("127.0.0.1"), time.Now(), portsHandler{&got}))
	}
	assert.Equal(t, []uint16{1, 3, 5, 7, 9, 1, 3, 5, 7, 9}, got)
}

// portsHandler keeps the source ports of the flows decoded.
type portsHandler struct{ ports *[]uint16 }

func (h portsHandler) Flow(r *flow.Record)        { *h.ports = append(*h.ports, r.SrcPort) }
func (h portsHandler) NewExporter(*flow.Exporter) {}
func (h portsHandler) Sampler(*flow.Sampler)      {}

// TestDrainOnStop: when the context ends, a live capture still reads what
// the kernel holds for it, up to the first read that waits in vain, and
// those packets count.
func TestDrainOnStop(t *testing.T) {
	s := newSink(t, "udp4", "127.0.0.1:0")
	p, _ := newProbe(t, Config{Collectors: []Collector{s.collector("")}, Live: true})
	ps := packets(10, 0, 0.001, 1)
	m := newFakeMeter(p, t0, time.Hour, ps...)
	m.live = true
	ctx, cancel := context.WithCancel(context.Background())
	m.onRead = func(m *fakeMeter) {
		if m.next == 5 {
			cancel()
		}
	}
	require.NoError(t, p.Run(ctx, m))
	assert.Equal(t, 11, m.reads, "the 10 packets, and the idle read that ends the drain")
	assert.Equal(t, wantFlows(ps), flowsOf(s.wait(10)))
}

// TestDrainBounded: a live capture that keeps delivering after the context
// ended is read for a second at most.
func TestDrainBounded(t *testing.T) {
	s := newSink(t, "udp4", "127.0.0.1:0")
	clock := &fakeClock{now: t0}
	p, _ := newProbe(t, Config{Collectors: []Collector{s.collector("")}, Live: true, Clock: clock.Now})
	m := newFakeMeter(p, t0, time.Hour, packets(1000, 0, 0.001, 1)...)
	m.live = true
	ctx, cancel := context.WithCancel(context.Background())
	m.onRead = func(m *fakeMeter) {
		// Every read takes 10 ms of the clock; the context ends at read 10.
		clock.Set(t0.Add(time.Duration(m.reads) * 10 * time.Millisecond))
		if m.reads == 10 {
			cancel()
		}
	}
	require.NoError(t, p.Run(ctx, m))
	assert.InDelta(t, 10+100, m.reads, 2, "a second of 10 ms reads after the end")
	s.wait(m.reads)
}

// TestStatsWhileBlocked: a counters request that the capture loop cannot
// take up (it waits in Read) is answered after a second anyway.
func TestStatsWhileBlocked(t *testing.T) {
	s := newSink(t, "udp4", "127.0.0.1:0")
	p, log := newProbe(t, Config{Collectors: []Collector{s.collector("")}})
	m := &blockingMeter{fakeMeter: newFakeMeter(p, t0, time.Hour, packets(4, 0, 0.1, 1)...),
		blocked: make(chan struct{}), interrupted: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx, m) }()
	<-m.blocked
	p.RequestStats()
	assert.Eventually(t, func() bool { return strings.Contains(log.String(), "[INFO]: packets: ") }, 10*time.Second, 10*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
}

// TestSendWindow: with netflow's encoders the exporter turns the queue's
// flows back into records a window at a time (fewer than any datagram
// takes), and sends, to a mirror and to round-robin collectors, the
// datagrams an encoder given all the records makes; v5, whose datagrams
// take any number of the IPv6 flows they skip, is given all at once.
func TestSendWindow(t *testing.T) {
	g := pktgen.NewTraffic(7, pktgen.Start)
	var buf bytes.Buffer
	w := pktgen.NewPcap(&buf, 1, pktgen.PcapOptions{SnapLen: 128})
	for range 4000 {
		w.Write(g.Next())
	}
	require.NoError(t, w.Err())
	src, err := capture.NewFileSource(&buf, "test")
	require.NoError(t, err)
	var recs []flow.Record
	m := newCaptureMeter(src, MeterConfig{Cache: capture.CacheConfig{Idle: time.Minute, Active: 5 * time.Minute,
		Fragment: 30 * time.Second}}, func(r *flow.Record, _ capture.ExpiryReason) { recs = append(recs, *r) })
	for {
		if _, err := m.Read(); err != nil {
			break
		}
	}
	m.Flush()
	require.Greater(t, len(recs), 300)
	require.Less(t, len(recs), 3000, "few enough datagrams for a socket's buffer")
	qs := make([]queued, len(recs))
	for i := range recs {
		qs[i].pack(&recs[i])
	}
	for _, v := range []int{5, 9, 10} {
		newEnc := func() (Encoder, error) { return netflow.NewEncoder(netflow.EncoderConfig{Version: v}) }
		mirror, rr := newSink(t, "udp4", "127.0.0.1:0"), newSink(t, "udp4", "127.0.0.1:0")
		p, _ := newProbe(t, Config{Collectors: []Collector{mirror.collector(""), rr.collector("//r")}, NewEncoder: newEnc})
		if v == 5 {
			assert.Zero(t, p.exp.window, "v5: all at once")
		} else {
			assert.Positive(t, p.exp.window)
			assert.Less(t, p.exp.window, 100)
		}
		ref, err := newEnc()
		require.NoError(t, err)
		var want [][]byte
		// A batch of the queue's at a time, each let through the sinks'
		// sockets before the next.
		for b := 0; b < len(recs); b += fileBatch {
			end := min(b+fileBatch, len(recs))
			p.exp.send(qs[b:end], 1)
			for rest := recs[b:end]; len(rest) > 0; {
				dg, n := ref.Encode(nil, rest, 1)
				if len(dg) > 0 {
					want = append(want, dg)
				}
				rest = rest[n:]
			}
			for _, s := range []*sink{mirror, rr} {
				deadline := time.Now().Add(10 * time.Second)
				for s.count() < len(want) && time.Now().Before(deadline) {
					time.Sleep(time.Millisecond)
				}
			}
		}
		for _, s := range []*sink{mirror, rr} {
			require.Equal(t, want, s.datagrams(), "v%d", v)
		}
		p.Close()
	}
}

// count returns how many datagrams the sink holds.
func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ends)
}

// datagrams returns the datagrams the sink holds, each whole.
func (s *sink) datagrams() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var dgs [][]byte
	for i, end := range s.ends {
		start := 0
		if i > 0 {
			start = s.ends[i-1]
		}
		dgs = append(dgs, append([]byte(nil), s.raw[start:end]...))
	}
	return dgs
}
