package probe

import (
	"errors"
	"fmt"

	"github.com/nfgo/nftools/capture"
	"github.com/nfgo/nftools/flow"
)

// CaptureMeter is the Meter of goprobe: frames from a capture.Source,
// taken apart by a capture.Decoder and counted into a capture.Cache, whose
// expired flows go to the probe. It allocates nothing per packet.
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
}

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
}

// NewCaptureMeter reads src into a new flow cache whose flows go to p.
func NewCaptureMeter(src capture.Source, cfg MeterConfig, p *Probe) *CaptureMeter {
	m := &CaptureMeter{src: src, dec: cfg.Decoder, filter: cfg.Filter, interrupt: cfg.Interrupt}
	m.cache = capture.NewCache(cfg.Cache, func(r *flow.Record, _ capture.ExpiryReason) { p.Export(r) })
	return m
}

// Read reads one frame and counts it into the cache.
func (m *CaptureMeter) Read() (int64, error) {
	switch err := m.src.Next(&m.frame); {
	case errors.Is(err, capture.ErrTimeout):
		return 0, fmt.Errorf("%w: %w", ErrIdle, err)
	case err != nil:
		return 0, err
	}
	m.packets++
	now := m.frame.Time
	if m.filter != nil && !m.filter(&m.frame) {
		m.ignored++
		return now, nil
	}
	if err := m.dec.Decode(m.frame.Link, &m.frame, &m.pkt); err != nil {
		m.ignored++
		return now, nil
	}
	m.cache.Add(&m.pkt, now)
	return now, nil
}

// Expire runs the cache's scan.
func (m *CaptureMeter) Expire(now int64) { m.cache.Expire(now) }

// Flush exports every flow of the cache.
func (m *CaptureMeter) Flush() { m.cache.Flush() }

// Stats returns the source's drop counts and the cache's flows.
func (m *CaptureMeter) Stats() MeterStats {
	ss := m.src.Stats()
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

// Close closes the source.
func (m *CaptureMeter) Close() error { return m.src.Close() }
