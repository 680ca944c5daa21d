package collector

import (
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/nfgo/nftools/expire"
	"github.com/nfgo/nftools/netflow"
)

// exporterIdle is how long an exporter may stay silent before it is
// forgotten: its templates, samplers and sequence state are freed, and
// the files written afterwards no longer list it. Routers resend their
// templates every few minutes at the most, so an exporter that comes back
// later costs the records of its first datagrams at the worst.
const exporterIdle = time.Hour

// Snapshot is the collector's running totals, safe to read from any
// goroutine while it runs: the receive loop counts its own atomically, the
// worker publishes the decoder's once a second and the closer its files
// as it puts them in place, so a metrics layer reads them without
// touching the hot path. The worker's part may be up to a second old.
type Snapshot struct {
	Datagrams     uint64 // read from the socket
	QueueOverflow uint64 // dropped because the worker's queue was full
	KernelDrops   uint64 // dropped by the kernel at the full socket (SO_MEMINFO)
	// LostFlows counts the flows decoded but not stored: the flow
	// directory took no more (a full disk).
	LostFlows uint64
	// Exporters is the number known now; EvictedExporters counts those
	// forgotten to make room for new ones, ExpiredExporters those
	// forgotten after exporterIdle of silence.
	Exporters        uint64
	EvictedExporters uint64
	ExpiredExporters uint64
	// TemplateMemory is the bytes the stored templates are charged,
	// RefusedTemplates the templates refused because it was all taken.
	TemplateMemory   uint64
	RefusedTemplates uint64

	// Flows counts the flows decoded, SequenceFailures the sequence
	// numbers out of order, UnknownSource the datagrams from an exporter
	// no flow source takes; DecodeErrors counts the datagrams (or parts
	// of them) refused, by reason.
	Flows            uint64
	SequenceFailures uint64
	UnknownSource    uint64
	DecodeErrors     map[string]uint64

	// PerExporter holds each exporter known, in SysID order; PerSource
	// each flow source, by directory.
	PerExporter []ExporterSnapshot
	PerSource   []SourceSnapshot
}

// ExporterSnapshot is one exporter's running totals since it became known
// (an exporter forgotten and back starts from zero).
type ExporterSnapshot struct {
	Ident   string // of the flow source its flows go to
	Addr    netip.Addr
	Version uint32 // 1, 5, 7, 9 or 10 (IPFIX)
	// Domain is what the exporter calls itself: engine type<<8 | engine
	// id for v5/v7, the source id for v9, the observation domain for
	// IPFIX.
	Domain           uint32
	Datagrams        uint64
	Flows            uint64
	SequenceFailures uint64
	Templates        int // known now
	// ByProto counts its flows by protocol class (ProtoClasses).
	ByProto [NumProtoClasses]ProtoCounters
}

// SourceSnapshot is what a flow source wrote.
type SourceSnapshot struct {
	Ident string
	Dir   string
	// Files counts the files put in place since the start. LastRotation
	// is when the latest was, and RotationTook how long it took from the
	// rotation that ended it (last block, appendix, sync, rename).
	Files        uint64
	LastRotation time.Time
	RotationTook time.Duration
	// DiskKnown says whether DiskBytes and DiskFiles were counted:
	// with Config.TrackDiskUsage, at the start and after each file put
	// in place. They are the size of the flow files under Dir in 512-byte
	// blocks and their number, as nfexpire counts them.
	DiskKnown bool
	DiskBytes uint64
	DiskFiles uint64
}

// published holds the worker's part of Snapshot.
type published struct {
	mu sync.Mutex
	// exporters, ... refused: the decoder's counters, taken with the
	// exporter list under mu, so that a snapshot shows them consistent.
	exporters, evicted, expired, templateMemory, refused uint64
	flows, seq                                           uint64
	unknown                                              uint64
	errors                                               map[string]uint64
	perExporter                                          []ExporterSnapshot
	counters                                             []netflow.ExporterCounters // the worker's buffer
}

// publish copies the decoder's counters for Snapshot (worker goroutine).
func (c *Collector) publish() {
	dc := c.dec.Counters()
	c.pub.counters = c.dec.AppendExporterCounters(c.pub.counters[:0])
	p := &c.pub
	// The counters are stored under the lock the exporter list takes, and
	// Snapshot reads them under it too: as atomics stored before the list,
	// a snapshot could count an eviction while it still listed the evicted
	// exporter (TestSnapshotPerExporterAndSource failed so under load).
	p.mu.Lock()
	defer p.mu.Unlock()
	p.exporters = uint64(c.dec.Known())
	p.evicted = dc.EvictedExporters
	p.expired = dc.ExpiredExporters
	p.templateMemory = uint64(c.dec.TemplateMemory())
	p.refused = dc.TemplatesRefused
	p.flows, p.seq, p.unknown = dc.Flows, dc.SequenceFailures, c.unknownN
	if p.errors == nil {
		p.errors = map[string]uint64{}
	}
	clear(p.errors)
	for r, n := range dc.Errors {
		p.errors[r] += n
	}
	for _, k := range c.sinks {
		for r, n := range k.errs {
			p.errors[r] += n
		}
	}
	p.perExporter = p.perExporter[:0]
	for _, e := range p.counters {
		x := &e.Exporter
		ident := ""
		if k := c.owner(x.Addr); k != nil {
			ident = k.src.Ident
		}
		p.perExporter = append(p.perExporter, ExporterSnapshot{
			Ident: ident, Addr: x.Addr, Version: x.Version, Domain: x.ID,
			Datagrams: e.Datagrams, Flows: e.Flows, SequenceFailures: e.SequenceFailures,
			Templates: e.Templates, ByProto: c.protos.of(x.SysID),
		})
	}
}

// owner returns the sink that takes the flows of the exporter at addr, or
// nil.
func (c *Collector) owner(addr netip.Addr) *sink {
	if k := c.bySrc[addr]; k != nil {
		return k
	}
	return c.any
}

// Snapshot returns the running totals; see Snapshot.
func (c *Collector) Snapshot() Snapshot {
	s := Snapshot{
		Datagrams:     c.datagrams.Load(),
		QueueOverflow: c.overflow.Load(),
		KernelDrops:   c.kdrops.Load(),
		LostFlows:     c.lost.Load(),
	}
	p := &c.pub
	p.mu.Lock()
	s.Exporters, s.EvictedExporters, s.ExpiredExporters = p.exporters, p.evicted, p.expired
	s.TemplateMemory, s.RefusedTemplates = p.templateMemory, p.refused
	s.Flows, s.SequenceFailures, s.UnknownSource = p.flows, p.seq, p.unknown
	s.DecodeErrors = make(map[string]uint64, len(p.errors))
	for r, n := range p.errors {
		s.DecodeErrors[r] = n
	}
	s.PerExporter = append([]ExporterSnapshot(nil), p.perExporter...)
	p.mu.Unlock()
	s.PerSource = c.srcStats.all()
	return s
}

// sourceStats keeps a SourceSnapshot for each flow source, by directory:
// the closer updates it as it puts files in place, the worker adds the
// sources of -M and removes those it drops.
type sourceStats struct {
	mu sync.Mutex
	m  map[string]*sourceStat
}

type sourceStat struct {
	SourceSnapshot
	scanned time.Time // when the disk usage was counted (started)
}

// add makes the entry of a source, if it has none.
func (st *sourceStats) add(src Source) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.m == nil {
		st.m = map[string]*sourceStat{}
	}
	if st.m[src.Dir] == nil {
		st.m[src.Dir] = &sourceStat{SourceSnapshot: SourceSnapshot{Ident: src.Ident, Dir: src.Dir}}
	}
}

// remove forgets a source.
func (st *sourceStats) remove(dir string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.m, dir)
}

// rotated counts a file of dir put in place at done, for a rotation that
// started at start.
func (st *sourceStats) rotated(dir string, start, done time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if s := st.m[dir]; s != nil {
		s.Files++
		s.LastRotation, s.RotationTook = done, done.Sub(start)
	}
}

// disk sets the disk usage of dir counted from scanned on, unless a later
// count is known already.
func (st *sourceStats) disk(dir string, es expire.Stat, scanned time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if s := st.m[dir]; s != nil && !scanned.Before(s.scanned) {
		s.scanned = scanned
		s.DiskKnown, s.DiskBytes, s.DiskFiles = true, es.Size, es.NumFiles
	}
}

// all returns the snapshots, by directory.
func (st *sourceStats) all() []SourceSnapshot {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]SourceSnapshot, 0, len(st.m))
	for _, s := range st.m {
		out = append(out, s.SourceSnapshot)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Dir < out[j].Dir })
	return out
}

// scanDisk counts the flow files under dir for Snapshot.
func (c *Collector) scanDisk(dir string) {
	start := time.Now()
	var es expire.Stat
	expire.Rescan(dir, &es, start, c.cfg.Location)
	c.srcStats.disk(dir, es, start)
}
