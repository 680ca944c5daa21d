// Package probe is goprobe's machinery: the capture loop that feeds the
// flow cache, the scan that expires flows every -s seconds, the export
// queue (-q) and the senders that encode the flows and send them to the
// collectors, mirrored or round-robin, from a local address (-a), paced as
// -t says. It counts what it does (packets, flows, kernel drops, datagrams,
// send errors) and logs in fprobe's words.
//
// Two goroutines share the work, so that the capture never waits for the
// network: Run reads packets into the cache and expires flows, and an
// exporter goroutine encodes and sends what the queue carries to it. The
// packet side is reached through Meter (capture's source, decoder and
// cache behind one interface) and the encoding through Encoder (netflow's
// encoders), so the machinery is tested with fakes of both.
package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nfgo/nftools/capture"
	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/daemon"
	"github.com/nfgo/nftools/internal/inet"
)

// ErrIdle is what a live Meter's Read returns (or wraps) when its read
// timeout passed without a packet: the loop then reads the clock, so that
// flows expire on a quiet link too.
var ErrIdle = errors.New("no packet within the read timeout")

// Meter is the capture side: it reads packets, decodes them and keeps the
// flow cache, which hands every flow it expires to Probe.Export. All its
// methods are called from Run's goroutine only.
type Meter interface {
	// Read reads one packet into the flow cache and returns the time the
	// cache saw (ns since the epoch): the packet's capture time. At the end
	// of a file it returns io.EOF; a live capture that waited in vain
	// returns ErrIdle.
	Read() (now int64, err error)
	// Expire exports the flows that are idle or active for too long at now.
	Expire(now int64)
	// Flush exports every flow.
	Flush()
	// Stats returns the meter's counters.
	Stats() MeterStats
}

// BatchMeter is a Meter that can count several packets in one call
// (CaptureMeter reading a capture file). ReadUntil counts one packet at
// least, and more up to the first whose time is at or after until, the
// time of Run's next scan; it returns the latest time among them, and
// its errors are Read's. Run calls it instead of Read: its own work for
// a packet is then done once a batch.
type BatchMeter interface {
	Meter
	ReadUntil(until int64) (now int64, err error)
}

// Interrupter is a Meter whose Read may block for long (a capture read
// from a pipe that has gone quiet): Run calls Interrupt from another
// goroutine when its context ends, and Read must then return soon, with
// any error.
type Interrupter interface {
	Interrupt()
}

// MeterStats are the capture side's counters.
type MeterStats struct {
	Packets     uint64 // packets read
	Ignored     uint64 // packets not counted into flows: filtered out, not IP, undecodable
	Dropped     uint64 // packets the kernel dropped (pcap_stats)
	IfDropped   uint64 // packets the interface dropped
	ActiveFlows uint64 // flows in the cache
	// Expired counts the flows the cache exported, by reason.
	Expired [capture.NumExpiryReasons]uint64
}

// Config is a probe's setting; cmd/goprobe fills it from fprobe's options.
type Config struct {
	Collectors []Collector
	// Source is -a: the address the datagrams leave from, for the
	// collectors that name no local address of their own.
	Source netip.Addr
	// NewEncoder makes an encoder: one for all the mirror collectors,
	// which are sent the same datagrams, and one for every round-robin
	// collector, so that its sequence numbers count what it was sent and
	// it gets the templates for its own data.
	NewEncoder func() (Encoder, error)
	// QueueLen is -q: the flows the export queue holds before a live
	// capture drops what it cannot hand over.
	QueueLen int
	// Scan is -s: how often the cache is scanned for expired flows.
	Scan time.Duration
	// PaceBytes and PaceDelay are -t B:N: a pause of N after every B
	// bytes sent.
	PaceBytes int
	PaceDelay time.Duration
	// Live says the packets come from an interface: the capture then never
	// waits for the exporter (a full queue drops flows). Reading a file,
	// the capture waits instead and nothing is dropped.
	Live bool
	// RealtimePriority is -r: the capture loop's SCHED_FIFO priority; 0
	// leaves the scheduling alone.
	RealtimePriority int
	// Started, when set, is called by Run once the capture loop is set up
	// (its real-time priority in force), before the first read: a daemon
	// reports that it runs there.
	Started func()
	// Logf receives the log lines; nil logs nothing.
	Logf func(level daemon.Level, format string, args ...any)
	// Clock and Sleep default to the time package's; tests replace them.
	Clock func() time.Time
	Sleep func(time.Duration)
}

// drainTime bounds the reading of a live capture after the context ended.
const drainTime = time.Second

// handoffBatch is how many flows ended by packets (TCP FIN or RST, counter
// splits, evictions) a live capture gathers before it hands them to the
// exporter; a scan or an idle read hands over whatever is gathered.
const handoffBatch = 64

// fileBatch is how many flows a capture read hands over at a time: each
// hand-over wakes the exporter, which on a busy machine costs more than
// the flows' encoding, and a file comes as fast as it is read.
const fileBatch = 256

// Probe runs one probe: New opens the collectors' sockets, Run captures
// until the context ends or the input does, exports everything and
// returns.
type Probe struct {
	cfg Config
	q   *queue
	exp *exporter

	pending []queued      // flows exported by the cache, not yet queued
	batch   int           // hand pending over at this many flows
	flows   atomic.Uint64 // flows exported by the cache
	last    int64         // the latest time Run has seen (ns)

	statsReq atomic.Bool

	mu          sync.Mutex
	meter       MeterStats
	dropLogged  uint64
	dropLogTime time.Time
}

// New checks cfg and opens a connected socket for every collector, in
// order; the first one that fails stops it with fprobe's message for the
// fault (see CollectorError).
func New(cfg Config) (*Probe, error) {
	if len(cfg.Collectors) == 0 {
		return nil, errors.New("no collector")
	}
	if cfg.NewEncoder == nil {
		return nil, errors.New("no encoder")
	}
	if cfg.Scan <= 0 {
		cfg.Scan = 5 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = time.Sleep
	}
	if cfg.Logf == nil {
		cfg.Logf = func(daemon.Level, string, ...any) {}
	}
	p := &Probe{cfg: cfg, batch: handoffBatch}
	limit := cfg.QueueLen
	if !cfg.Live {
		// A batch never larger than half the queue: the exporter can take
		// one while the next is gathered. Nothing is dropped reading a
		// capture, so the queue need hold no more than one batch: the
		// exporter sends one, the queue holds the next and the capture
		// gathers a third, or waits (a queue of -q's 1024 flows held 900
		// KB of records at the end of a read, for no speed). A limit of
		// one flow makes a push wait until the queue is empty, so that
		// it never holds a batch and part of the next and every buffer
		// need be one batch long: three of 256 flows, 270 KB, where a
		// limit of a batch made them two batches long, 540 KB, whose
		// second halves were allocated and seldom written.
		p.batch = max(1, min(fileBatch, cfg.QueueLen/2))
		limit = 1
	}
	p.q = newQueue(limit, p.batch)
	// The pending flows' buffer is the queue's size: the queue and the
	// exporter swap theirs with it (see queue.push).
	p.pending = make([]queued, 0, p.q.size)
	p.exp = &exporter{paceBytes: cfg.PaceBytes, paceDelay: cfg.PaceDelay,
		sleep: cfg.Sleep, clock: cfg.Clock, logf: cfg.Logf, keep: 2 * p.q.size}
	for i, c := range cfg.Collectors {
		conn, bound, err := dial(i+1, c, cfg.Source)
		if err != nil {
			p.exp.close()
			return nil, err
		}
		s := &sender{index: i + 1, c: c, conn: conn, bound: bound, batch: newBatchConn(conn)}
		p.exp.senders = append(p.exp.senders, s)
		if c.Mode == RoundRobin {
			if s.enc, err = cfg.NewEncoder(); err != nil {
				p.exp.close()
				return nil, err
			}
			p.exp.rr = append(p.exp.rr, s)
		} else {
			p.exp.mirrors = append(p.exp.mirrors, s)
		}
	}
	if len(p.exp.mirrors) > 0 {
		var err error
		if p.exp.mirrorEnc, err = cfg.NewEncoder(); err != nil {
			p.exp.close()
			return nil, err
		}
	}
	p.exp.setWindow()
	return p, nil
}

// BindAddr returns the address the socket of collector number i (0-based)
// was bound to: its /local address, or -a's, or the unspecified address
// (the system picks the source), as fprobe logs it.
func (p *Probe) BindAddr(i int) netip.Addr { return p.exp.senders[i].bound }

// LocalAddr returns the address collector number i (0-based) sends from.
func (p *Probe) LocalAddr(i int) netip.AddrPort {
	return inet.LocalAddr(p.exp.senders[i].conn)
}

// RemoteAddr returns the address of collector number i (0-based).
func (p *Probe) RemoteAddr(i int) netip.AddrPort {
	return inet.RemoteAddr(p.exp.senders[i].conn)
}

// Export takes one flow from the cache. The meter calls it (through the
// cache's export callback) during Read, Expire and Flush, on Run's
// goroutine; it keeps a copy of the fields a flow cache fills (see
// queued), so r may be reused.
//
// Reading a capture, the flows go to the queue a batch at a time, waiting
// for room, so that the end of a file (every flow at once) never holds
// more than a batch here. A live capture keeps a scan's flows together:
// the queue takes them whole or, when the exporter is behind, drops them.
func (p *Probe) Export(r *flow.Record) {
	n := len(p.pending)
	if n < cap(p.pending) {
		p.pending = p.pending[:n+1]
	} else {
		p.pending = append(p.pending, queued{})
	}
	p.pending[n].pack(r)
	p.flows.Add(1)
	if !p.cfg.Live && len(p.pending) >= p.batch {
		p.handoff(p.last, true)
	}
}

// RequestStats asks Run to log the counters at its next turn (SIGUSR1).
// A capture that waits for packets (a quiet pipe) may not turn for long:
// then the counters are logged after a second anyway, the meter's as of
// its last scan.
func (p *Probe) RequestStats() {
	p.statsReq.Store(true)
	time.AfterFunc(statsWait, func() {
		if p.statsReq.Swap(false) {
			p.LogStats()
		}
	})
}

// statsWait is how long RequestStats waits for the capture loop.
const statsWait = time.Second

// Close closes the sockets of a probe that will not Run.
func (p *Probe) Close() { p.exp.close() }

// Run captures from m until ctx ends, m's input ends (io.EOF) or m fails,
// then exports every flow of the cache, waits until the exporter has sent
// them and closes the sockets. It returns m's error, if any, or a
// *SetupError when the loop could not start (Config.Started not called).
func (p *Probe) Run(ctx context.Context, m Meter) error {
	if p.cfg.RealtimePriority > 0 {
		// The priority belongs to the thread: keep the loop on it, and
		// give the thread back with the normal policy.
		runtime.LockOSThread()
		if err := setRealtime(p.cfg.RealtimePriority); err != nil {
			runtime.UnlockOSThread()
			p.exp.close()
			return &SetupError{fmt.Errorf("realtime priority %d: %w", p.cfg.RealtimePriority, err)}
		}
		defer func() {
			if setRealtime(0) == nil {
				runtime.UnlockOSThread()
			}
		}()
	}
	if p.cfg.Started != nil {
		p.cfg.Started()
	}
	exported := make(chan struct{})
	go p.exportLoop(exported)
	if in, ok := m.(Interrupter); ok {
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			select {
			case <-ctx.Done():
				in.Interrupt()
			case <-stop:
			}
		}()
	}

	var (
		scan     = int64(p.cfg.Scan)
		started  bool
		nextScan int64
		err      error
	)
	// draining: the context has ended and a live capture reads what the
	// kernel holds for it already, until a read waits in vain or
	// drainTime has passed, so that the packets of the last moments
	// before SIGTERM count too (libpcap hands them over in blocks).
	var draining bool
	var drainEnd time.Time
	// A live capture reads packet by packet: its drain, hand-overs and
	// counters follow the packets as they come.
	var bm BatchMeter
	if !p.cfg.Live {
		bm, _ = m.(BatchMeter)
	}
loop:
	for {
		if !draining {
			// ctx.Err is an atomic load, where a select on ctx.Done()
			// cost a tenth of the loop's time on a capture file of few
			// flows.
			if ctx.Err() != nil {
				if !p.cfg.Live {
					break loop
				}
				draining, drainEnd = true, p.cfg.Clock().Add(drainTime)
			}
		} else if p.cfg.Clock().After(drainEnd) {
			break loop
		}
		var now int64
		var rerr error
		if bm != nil {
			until := int64(math.MinInt64) // the first packet sets the scans' times
			if started {
				until = nextScan
			}
			now, rerr = bm.ReadUntil(until)
		} else {
			now, rerr = m.Read()
		}
		handoff := false
		switch {
		case rerr == nil:
		case errors.Is(rerr, ErrIdle):
			if draining {
				break loop
			}
			now, handoff = p.cfg.Clock().UnixNano(), true
		case errors.Is(rerr, io.EOF):
			break loop
		case ctx.Err() != nil:
			// The read was interrupted: the end asked for, not a failure.
			break loop
		default:
			err = rerr
			break loop
		}
		if !started {
			started = true
			nextScan = now + scan
		}
		p.last = max(p.last, now)
		if now >= nextScan {
			m.Expire(now)
			nextScan = now + scan
			handoff = true
			p.noteMeter(m)
		}
		if p.statsReq.Load() && p.statsReq.Swap(false) {
			p.noteMeter(m)
			p.LogStats()
		}
		if handoff || len(p.pending) >= p.batch {
			p.handoff(now, !p.cfg.Live)
		}
	}
	if !started {
		p.last = p.cfg.Clock().UnixNano()
	}
	m.Flush()
	p.handoff(p.last, true)
	p.q.close()
	<-exported
	p.exp.close()
	p.noteMeter(m)
	return err
}

// SetupError is a capture loop that could not start: nothing was read.
type SetupError struct{ Err error }

func (e *SetupError) Error() string { return e.Err.Error() }
func (e *SetupError) Unwrap() error { return e.Err }

// handoff queues the pending flows; a live capture drops them, counted,
// when the queue is full rather than wait.
func (p *Probe) handoff(now int64, wait bool) {
	if len(p.pending) == 0 {
		return
	}
	lost, next := p.q.push(p.pending, now, wait)
	if lost > 0 {
		p.cfg.Logf(daemon.LevelErr, "export queue full: %d flows lost", lost)
	}
	p.pending = p.trim(next)
}

// trim returns b, or a buffer of the queue's size in its place when a
// live scan's flows made b more than twice that: the buffers go round
// between the capture, the queue and the exporter, and each would keep
// the largest scan's size for good (a scan of 20 000 flows left goprobe
// -i 2.5 to 5 MB larger). The large one is left to Go's collector, which
// runs every two minutes at least, and its memory to the runtime's
// scavenger, which gives it back to the system.
func (p *Probe) trim(b []queued) []queued {
	if cap(b) > p.exp.keep {
		return make([]queued, 0, p.q.size)
	}
	return b
}

// exportLoop sends what the queue carries until it is closed and empty.
func (p *Probe) exportLoop(exported chan<- struct{}) {
	defer close(exported)
	// A buffer the size of the queue's, which it changes places with.
	buf := make([]queued, 0, p.q.size)
	for {
		recs, now, ok := p.q.take(buf)
		if !ok {
			return
		}
		p.exp.send(recs, uint64(now/1e6))
		p.exp.noteSkipped()
		buf = p.trim(recs)
	}
}

// noteMeter keeps a copy of the meter's counters for Stats, which may be
// called from any goroutine, and logs new kernel drops, at most once a
// minute.
func (p *Probe) noteMeter(m Meter) {
	st := m.Stats()
	p.mu.Lock()
	p.meter = st
	now := p.cfg.Clock()
	logDrops := st.Dropped > p.dropLogged && now.Sub(p.dropLogTime) >= time.Minute
	prev := p.dropLogged
	if logDrops {
		p.dropLogged, p.dropLogTime = st.Dropped, now
	}
	p.mu.Unlock()
	if logDrops {
		p.cfg.Logf(daemon.LevelWarning, "kernel dropped %d packets (%d in all)", st.Dropped-prev, st.Dropped)
	}
}

// Stats are the probe's counters.
type Stats struct {
	MeterStats
	Flows      uint64 // flows the cache exported
	Queued     int    // flows waiting in the export queue
	FlowsLost  uint64 // flows dropped because the export queue was full
	Skipped    uint64 // flows the NetFlow version cannot carry (IPv6 in v1, v5, v7)
	Datagrams  uint64 // datagrams sent, over all collectors
	SendErrors uint64 // failed sends, over all collectors
	Collectors []CollectorStats
}

// CollectorStats are one collector's counters.
type CollectorStats struct {
	Collector  Collector
	Datagrams  uint64 // datagrams sent
	Flows      uint64 // flows in them
	SendErrors uint64 // failed sends
}

// Stats returns the counters. The meter's are as of the last scan (or
// the end of Run).
func (p *Probe) Stats() Stats {
	p.mu.Lock()
	st := Stats{MeterStats: p.meter}
	p.mu.Unlock()
	st.Flows = p.flows.Load()
	st.Queued, st.FlowsLost = p.q.stats()
	st.Skipped = p.exp.skipped.Load()
	for _, s := range p.exp.senders {
		cs := CollectorStats{Collector: s.c, Datagrams: s.datagrams.Load(), Flows: s.flows.Load(), SendErrors: s.errors.Load()}
		st.Datagrams += cs.Datagrams
		st.SendErrors += cs.SendErrors
		st.Collectors = append(st.Collectors, cs)
	}
	return st
}

// LogStats logs the counters at level info: a line for the probe and one
// for every collector.
func (p *Probe) LogStats() {
	st := p.Stats()
	p.cfg.Logf(daemon.LevelInfo, "packets: %d (%d not counted), dropped by kernel: %d, by interface: %d; flows: %d active, %d exported, %d queued, %d lost, %d not exportable in this version; datagrams sent: %d, send errors: %d",
		st.Packets, st.Ignored, st.Dropped, st.IfDropped, st.ActiveFlows, st.Flows, st.Queued, st.FlowsLost, st.Skipped, st.Datagrams, st.SendErrors)
	for i, c := range st.Collectors {
		p.cfg.Logf(daemon.LevelInfo, "collector #%d: %s: datagrams sent: %d, flows: %d, send errors: %d",
			i+1, c.Collector, c.Datagrams, c.Flows, c.SendErrors)
	}
}
