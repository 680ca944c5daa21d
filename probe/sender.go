package probe

import (
	"fmt"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/daemon"
	"github.com/nfgo/nftools/netflow"
)

// Encoder turns flows into datagrams; netflow's encoders satisfy it. It
// keeps the sequence numbers and the template state of the collectors it
// encodes for.
type Encoder interface {
	// Encode appends one datagram holding records from recs (as many as
	// fit, at least one unless recs is empty) to dst[:0] and returns it
	// and how many records it took. now is the export time in ms since the
	// epoch.
	Encode(dst []byte, recs []flow.Record, now uint64) (datagram []byte, n int)
}

// errorLogEvery is how often a collector that keeps failing is logged
// again; a change of error is logged at once.
const errorLogEvery = time.Minute

// sender is one collector's socket and, for a round-robin collector, its
// encoder, used by the exporter goroutine only (the counters are read by
// Stats from anywhere).
type sender struct {
	index int // 1-based, as fprobe numbers collectors
	c     Collector
	conn  *os.File
	bound netip.Addr // the address asked for at bind time
	enc   Encoder    // round-robin collectors only
	buf   []byte
	batch *batchConn // the socket's sendmmsg, where there is one

	datagrams atomic.Uint64
	flows     atomic.Uint64
	errors    atomic.Uint64

	lastErr    string
	lastLogged time.Time
	unlogged   uint64
}

// exporter sends the queue's flows to the collectors: all of them to every
// mirror collector and, datagram by datagram, to the round-robin ones in
// turn.
type exporter struct {
	senders   []*sender
	mirrors   []*sender
	mirrorEnc Encoder // one encoder for all mirrors: they get the same datagrams
	// The datagrams of one send for the mirrors, each in a buffer of its
	// own kept from one send to the next, and the flows each carries.
	mirrorDgs   [][]byte
	mirrorFlows []int
	rr          []*sender
	rrNext      int

	paceBytes int           // -t B: pause after every B bytes sent...
	paceDelay time.Duration // ... for N nanoseconds
	paced     int           // bytes sent since the last pause

	sleep func(time.Duration)
	clock func() time.Time
	logf  func(level daemon.Level, format string, args ...any)

	skipped atomic.Uint64 // flows the encoders took and could not carry

	// full holds flows of the queue as records again, for the encoders:
	// window of them at a time from where a datagram begins (see
	// maxRecords), or, without a bound, all of a batch.
	full   []flow.Record
	window int
	// keep is the most flows a buffer keeps room for once a batch has
	// gone: twice the queue's size (see Probe.trim).
	keep int
}

// maxRecords is an encoder that says how many records a datagram takes
// at most, as netflow's do (Encoder.MaxRecords): fewer than MaxRecords.
type maxRecords interface {
	MaxRecords() int
}

// setWindow sets how many flows send turns back into records at a time:
// the largest bound of the encoders, 0 (all) when one has none. With v9
// and IPFIX that is 43 records of 352 bytes, 15 KiB, where a batch's
// records took 88 KiB reading a capture and up to the largest scan's
// flows live (a scan that expires 10 000 flows, 3.4 MB, kept resident
// afterwards).
func (e *exporter) setWindow() {
	encs := []Encoder{e.mirrorEnc}
	for _, s := range e.rr {
		encs = append(encs, s.enc)
	}
	e.window = 0
	for _, enc := range encs {
		if enc == nil {
			continue
		}
		m, ok := enc.(maxRecords)
		if !ok || m.MaxRecords() <= 0 {
			e.window = 0
			return
		}
		e.window = max(e.window, m.MaxRecords())
	}
	if e.window > 0 {
		e.full = make([]flow.Record, e.window)
	}
}

// records returns the flows of recs from i on as records: window of
// them, or all. The encoders take fewer than window, so that a datagram
// is what it would be given all: those it does not take are turned
// into records again for the next.
func (e *exporter) records(recs []queued, i int) []flow.Record {
	k := len(recs) - i
	if e.window > 0 {
		k = min(k, e.window)
	}
	if cap(e.full) < k {
		e.full = make([]flow.Record, k)
	}
	full := e.full[:k]
	for j := range full {
		recs[i+j].unpack(&full[j])
	}
	return full
}

// trim lets go of the records a batch larger than keep made room for
// (see Probe.trim): a window stays.
func (e *exporter) trim() {
	if cap(e.full) > max(e.keep, e.window) {
		e.full = nil
	}
}

// skipper is an encoder that counts the flows its version cannot carry,
// as netflow's encoders do (IPv6 flows in v1, v5 and v7).
type skipper interface {
	Stats() netflow.EncoderStats
}

// noteSkipped counts the flows the encoders skipped, for Stats: the
// mirrors' encoder sees every flow, and so do the round-robin encoders
// together.
func (e *exporter) noteSkipped() {
	var n uint64
	if e.mirrorEnc != nil {
		n = skippedBy(e.mirrorEnc)
	} else {
		for _, s := range e.rr {
			n += skippedBy(s.enc)
		}
	}
	e.skipped.Store(n)
}

// send encodes recs for every collector and sends the datagrams; now is
// the export time in ms since the epoch. The mirrors' datagrams are all
// encoded first and then handed to each mirror's socket together (see
// writeAll).
func (e *exporter) send(recs []queued, now uint64) {
	dgs, flows := e.mirrorDgs[:0], e.mirrorFlows[:0]
	for i := 0; i < len(recs) && len(e.mirrors) > 0; {
		// The buffer the last send left in this place, if any.
		var buf []byte
		if len(dgs) < cap(dgs) {
			buf = dgs[:len(dgs)+1][len(dgs)][:0]
		}
		skipped := skippedBy(e.mirrorEnc)
		dg, n := e.mirrorEnc.Encode(buf, e.records(recs, i), now)
		if n == 0 {
			break // the contract says an encoder takes at least one record
		}
		i += n
		if len(dg) == 0 {
			continue // every record taken was one the version cannot carry
		}
		dgs = append(dgs, dg)
		flows = append(flows, n-int(skippedBy(e.mirrorEnc)-skipped))
	}
	for _, s := range e.mirrors {
		e.writeAll(s, dgs, flows)
	}
	e.mirrorDgs, e.mirrorFlows = dgs, flows
	for i := 0; i < len(recs) && len(e.rr) > 0; {
		s := e.rr[e.rrNext]
		skipped := skippedBy(s.enc)
		dg, n := s.enc.Encode(s.buf[:0], e.records(recs, i), now)
		s.buf = dg[:0]
		if n == 0 {
			break
		}
		i += n
		if len(dg) == 0 {
			continue
		}
		e.rrNext = (e.rrNext + 1) % len(e.rr)
		e.write(s, dg, n-int(skippedBy(s.enc)-skipped))
	}
	e.trim()
}

// skippedBy returns how many flows enc has skipped so far, 0 for an
// encoder that does not say.
func skippedBy(enc Encoder) uint64 {
	if s, ok := enc.(skipper); ok {
		return s.Stats().Skipped
	}
	return 0
}

// writeAll sends the datagrams dgs, carrying flows[i] flows each, to s in
// as few system calls as the socket takes them (sendmmsg(2)): a datagram
// sent on loopback costs its system call and the wake-up of the
// collector, which on a virtual machine were a fifth of goprobe --read's
// processor time on a capture of many flows (3 554 datagrams for 66 709
// flows). Every datagram is counted, or its error, as write counts it; a
// datagram the socket refuses is not sent again. Pacing (-t) sends them
// one by one.
func (e *exporter) writeAll(s *sender, dgs [][]byte, flows []int) {
	if e.paceBytes > 0 || s.batch == nil {
		for i, dg := range dgs {
			e.write(s, dg, flows[i])
		}
		return
	}
	for i := 0; i < len(dgs); {
		n, err := s.batch.send(dgs[i:])
		sent := 0
		for _, f := range flows[i : i+n] {
			sent += f
		}
		s.datagrams.Add(uint64(n))
		s.flows.Add(uint64(sent))
		i += n
		if n == 0 {
			s.errors.Add(1)
			e.logSendError(s, len(dgs[i]), flows[i], err)
			i++
		}
	}
}

// write sends one datagram, counts it or its error, and paces as -t says.
func (e *exporter) write(s *sender, dg []byte, flows int) {
	if _, err := s.conn.Write(dg); err != nil {
		s.errors.Add(1)
		e.logSendError(s, len(dg), flows, err)
	} else {
		s.datagrams.Add(1)
		s.flows.Add(uint64(flows))
	}
	if e.paceBytes > 0 {
		e.paced += len(dg)
		if d := e.paced / e.paceBytes; d > 0 {
			e.paced %= e.paceBytes
			e.sleep(time.Duration(d) * e.paceDelay)
		}
	}
}

// logSendError logs a failed send in fprobe's words, but a collector that
// keeps failing the same way only once a minute, with the count of the
// failures not logged.
func (e *exporter) logSendError(s *sender, size, flows int, err error) {
	msg := daemon.Strerror(err)
	now := e.clock()
	if msg == s.lastErr && now.Sub(s.lastLogged) < errorLogEvery {
		s.unlogged++
		return
	}
	more := ""
	if s.unlogged > 0 {
		more = fmt.Sprintf(" (and %d more since the last report)", s.unlogged)
	}
	e.logf(daemon.LevelErr, "send(to #%d, flows %d, size %d): %s%s", s.index, flows, size, msg, more)
	s.lastErr, s.lastLogged, s.unlogged = msg, now, 0
}

func (e *exporter) close() {
	for _, s := range e.senders {
		s.conn.Close()
	}
}
