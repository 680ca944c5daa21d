package probe

import (
	"errors"
	"fmt"
	"math"

	"github.com/nfgo/nftools/capture"
	"github.com/nfgo/nftools/flow"
)

// CaptureMeter is the Meter of goprobe: frames from a capture.Source,
// taken apart by a capture.Decoder and counted into a capture.Cache, whose
// expired flows go to the probe. It allocates nothing per packet.
//
// Reading ahead (MeterConfig.ReadAhead), it decodes frames up to
// readAhead packets before it counts them (ReadUntil: batches of them,
// on a goroutine of its own, or on Run's when that is faster: see
// decoder.go), and has the cache prefetch
// the memory each will need on the way (capture.Cache.Prefetch), so that
// in a cache of many flows the trips to memory of several packets
// overlap instead of each packet waiting for its own. The packets
// are counted in the order they came, one per Read, and Flush counts
// those still waiting first, so the flows are the same either way.
type CaptureMeter struct {
	src       capture.Source
	dec       capture.Decoder
	cache     *capture.Cache
	filter    func(*capture.Frame) bool
	interrupt func()

	frame   capture.Frame
	pkt     capture.Packet
	packets uint64 // frames read
	ignored uint64 // frames not counted: filtered out, not IP, undecodable

	// Reading ahead: a ring of the packets read and not yet counted,
	// from head on, and the error that stopped the reading, returned once
	// they are counted.
	ahead  []aheadPacket
	head   int
	queued int
	srcErr error
	// latest is the latest time of the packets counted (read ahead), for
	// the flows exported while ReadUntil counts more.
	latest int64
	// decoding: ReadUntil's decoding goroutine, once it started.
	decoding *decodeAhead
	// soloHook, set by tests, chooses for every batch whether the
	// counting goroutine reads and decodes it alone (see pacer).
	soloHook func() bool
}

// aheadPacket is a frame read ahead: its packet, and whether it counts.
type aheadPacket struct {
	pkt capture.Packet
	now int64
	ok  bool
}

// readBatch is the most packets ReadUntil counts in one call: a decoded
// batch's.
const readBatch = decodeBatch

// readAhead is how many packets a meter reading ahead decodes before it
// counts them, a power of 2: the ring's index is masked, where a
// division by the ring's length cost a tenth of the meter's time;
// flowAhead how many before they are counted it prefetches their flows'
// entries (their index slots, fetched when they were read, have come by
// then).
const (
	readAhead = 16
	flowAhead = 8
)

// MeterConfig says how a CaptureMeter reads and counts.
type MeterConfig struct {
	Decoder capture.Decoder
	Cache   capture.CacheConfig
	// Filter, when set, drops the frames it does not pass before they are
	// decoded: -f on a capture file, which no kernel filters.
	Filter func(*capture.Frame) bool
	// Interrupt, when set, makes a blocked read of src return (Run calls
	// it when its context ends): for a pipe on stdin.
	Interrupt func()
	// ReadAhead decodes frames ahead of counting them, for a capture file
	// or stream: there the next frames are at hand, where a live capture
	// would have to wait for them.
	ReadAhead bool
}

// NewCaptureMeter reads src into a new flow cache whose flows go to p.
func NewCaptureMeter(src capture.Source, cfg MeterConfig, p *Probe) *CaptureMeter {
	var m *CaptureMeter
	m = newCaptureMeter(src, cfg, func(r *flow.Record, _ capture.ExpiryReason) {
		// Run learns the packets' times from ReadUntil a batch at a
		// time: a flow exported in the middle of one is handed over at
		// the time of the packets counted before it, as when Run read
		// them one by one.
		p.last = max(p.last, m.latest)
		p.Export(r)
	})
	return m
}

func newCaptureMeter(src capture.Source, cfg MeterConfig, export func(*flow.Record, capture.ExpiryReason)) *CaptureMeter {
	m := &CaptureMeter{src: src, dec: cfg.Decoder, filter: cfg.Filter, interrupt: cfg.Interrupt}
	m.cache = capture.NewCache(cfg.Cache, export)
	if cfg.ReadAhead {
		m.ahead = make([]aheadPacket, readAhead)
	}
	return m
}

// ReadUntil counts frames into the cache, a batch of them up to the
// first whose time is at or after until, and returns the latest time
// among them; without reading ahead (a pipe, which may stay quiet with
// frames in hand) it counts one. Run's work for a packet is then done
// once a batch, which on a capture file of few flows was a sixth of the
// loop's instructions. Reading ahead, the frames are read and decoded
// on a goroutine of its own (see decoder.go) from the first call on:
// call it from a capture read, whose next frames are at hand.
func (m *CaptureMeter) ReadUntil(until int64) (int64, error) {
	if m.ahead == nil || m.queued > 0 || m.srcErr != nil {
		return m.Read() // the packets Read read ahead first
	}
	if m.decoding == nil {
		m.startDecoding()
	}
	d := m.decoding
	latest := int64(math.MinInt64)
	// The packets are counted straight from their batch, as many as the
	// batch holds or readBatch allows before until: a packet costs the
	// loop's few instructions, where a call for each one cost a third of
	// the counting goroutine's.
	for left := readBatch; left > 0; {
		if !d.take(m) {
			if latest != math.MinInt64 {
				break // the error after the packets counted
			}
			return 0, d.err
		}
		b, i := d.cur, d.i
		end := min(b.n, i+left)
		ahead := m.cache.Prefetching()
		for i < end {
			a := &b.pkts[i]
			i++
			if ahead {
				d.prefetch(m, i)
			}
			m.countSlim(a)
			latest = max(latest, a.Time)
			if a.Time >= until {
				d.i = i
				return latest, nil
			}
		}
		left -= i - d.i
		d.i = i
	}
	return latest, nil
}

// Read counts one frame into the cache and returns its time.
func (m *CaptureMeter) Read() (int64, error) {
	if m.ahead == nil {
		if err := m.next(); err != nil {
			return 0, err
		}
		if m.decode(&m.pkt) {
			m.cache.Add(&m.pkt, m.frame.Time)
		} else {
			m.ignored++
		}
		return m.frame.Time, nil
	}
	for m.queued < len(m.ahead) && m.srcErr == nil {
		if m.srcErr = m.next(); m.srcErr != nil {
			break
		}
		a := m.at(m.queued)
		m.queued++
		a.now, a.ok = m.frame.Time, m.decode(&a.pkt)
		if a.ok {
			m.cache.Prefetch(&a.pkt)
		}
		if m.queued > flowAhead {
			if b := m.at(m.queued - 1 - flowAhead); b.ok {
				m.cache.PrefetchFlow(&b.pkt)
			}
		}
	}
	if m.queued == 0 {
		err := m.srcErr
		m.srcErr = nil
		return 0, err
	}
	return m.countAhead(), nil
}

// next reads the next frame into m.frame.
func (m *CaptureMeter) next() error {
	if err := m.src.Next(&m.frame); err != nil {
		return nextError(err)
	}
	m.packets++
	return nil
}

// nextError is the meter's error for the source's: a live read that
// timed out is ErrIdle.
func nextError(err error) error {
	if errors.Is(err, capture.ErrTimeout) {
		return fmt.Errorf("%w: %w", ErrIdle, err)
	}
	return err
}

// decode decodes m.frame into p, reporting whether it counts: it passes
// the filter and is IP.
func (m *CaptureMeter) decode(p *capture.Packet) bool {
	if m.filter != nil && !m.filter(&m.frame) {
		return false
	}
	return m.dec.Decode(m.frame.Link, &m.frame, p) == nil
}

// at returns the packet read ahead i places after the oldest.
func (m *CaptureMeter) at(i int) *aheadPacket { return &m.ahead[(m.head+i)&(readAhead-1)] }

// countAhead counts the oldest packet read ahead and returns its time.
func (m *CaptureMeter) countAhead() int64 {
	a := m.at(0)
	m.head = (m.head + 1) & (readAhead - 1)
	m.queued--
	m.count(a)
	return a.now
}

// count counts a packet read ahead, if it counts.
func (m *CaptureMeter) count(a *aheadPacket) {
	if a.ok {
		m.cache.Add(&a.pkt, a.now)
	} else {
		m.ignored++
	}
	m.latest = max(m.latest, a.now)
}

// countSlim counts a packet decoded ahead, if it counts.
func (m *CaptureMeter) countSlim(s *capture.Slim) {
	if s.Counts() {
		m.cache.AddSlim(s)
	} else {
		m.ignored++
	}
	m.latest = max(m.latest, s.Time)
}

// Expire runs the cache's scan.
func (m *CaptureMeter) Expire(now int64) { m.cache.Expire(now) }

// Flush counts the packets read ahead and exports every flow of the
// cache.
func (m *CaptureMeter) Flush() {
	for m.queued > 0 {
		m.countAhead()
	}
	if m.decoding != nil {
		m.decoding.stop(m, m.countSlim)
	}
	m.cache.Flush()
}

// Stats returns the source's drop counts and the cache's flows.
func (m *CaptureMeter) Stats() MeterStats {
	var ss capture.SourceStats
	if m.decoding != nil {
		ss = m.decoding.stats // the source is the decoding goroutine's
	} else {
		ss = m.src.Stats()
	}
	cs := m.cache.Stats()
	return MeterStats{Packets: m.packets, Ignored: m.ignored, Dropped: ss.Dropped, IfDropped: ss.IfDropped,
		ActiveFlows: uint64(cs.Flows), Expired: cs.Exported}
}

// Interrupt makes a blocked read return, when the meter was given a way.
func (m *CaptureMeter) Interrupt() {
	if m.interrupt != nil {
		m.interrupt()
	}
}

// CacheStats returns the cache's counters.
func (m *CaptureMeter) CacheStats() capture.CacheStats { return m.cache.Stats() }

// Close closes the source, after stopping the decoding goroutine if
// Flush has not.
func (m *CaptureMeter) Close() error {
	if m.decoding != nil {
		m.decoding.stop(m, func(*capture.Slim) {})
	}
	return m.src.Close()
}
