// Package netflow holds the wire codecs: it decodes NetFlow v1, v5, v7, v9
// and IPFIX datagrams into flow.Records, keeping template state per
// exporter and observation domain, and encodes records into datagrams for
// goprobe (Encoder; v1, v5 and v7 as fprobe 1.1 writes them).
//
// The decoders reproduce what nfcapd 1.7.1 stores for a datagram: the same
// values, the same set of V3 elements per record, the same sampling and
// sequence bookkeeping, so that nfdump prints the same for our files as for
// nfcapd's. Where nfcapd has a quirk that changes stored values (for
// example IPFIX flowEndSysUpTime landing in the first-seen time), the
// quirk is reproduced and marked in a comment.
//
// A collector that only stores what it decodes may take the flows of the
// common templates (and of v5 and v7) as nfdump V3 records instead, which
// the decoder encodes itself byte for byte as flowfile would (Options.V3,
// V3Handler; v3plan.go says how and when).
package netflow

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/nfgo/nftools/flow"
)

// Handler receives what a Decoder finds in a datagram. The records and
// exporters passed in are reused by the decoder: copy what you keep.
type Handler interface {
	// Flow is called for every flow record, with counters already scaled
	// by the exporter's sampling rate and Received, Exporter, ExporterID,
	// NFVersion and Elements set.
	Flow(r *flow.Record)
	// NewExporter is called when an exporter is seen for the first time
	// (it then has its SysID), before any of its flows.
	NewExporter(e *flow.Exporter)
	// Sampler is called when an exporter announces or changes a sampler.
	Sampler(s *flow.Sampler)
}

// Options configure a Decoder. The zero value decodes unsampled traffic
// with the default limits.
type Options struct {
	// DefaultSampling is nfcapd's -s: N > 0 is the rate for exporters that
	// announce none, N < 0 overrides what exporters announce with -N.
	DefaultSampling int64
	// MaxExporters bounds the exporters tracked (0: a default of 1024);
	// beyond it the exporter silent for the longest time is forgotten.
	MaxExporters int
	// MaxTemplates bounds the templates kept per exporter and domain (0: a
	// default of 256).
	MaxTemplates int
	// TemplateMemory bounds the memory of all exporters' templates, in
	// bytes (0: DefaultTemplateMemory); beyond it new templates are
	// refused.
	TemplateMemory int64
	// Logf receives log lines in nfcapd's style; nil discards them.
	Logf func(format string, args ...any)
	// V3 hands the records of the templates the decoder has a V3 plan
	// for to a handler that is a V3Handler as V3 records (FlowV3), not
	// as Records (v3plan.go).
	V3 bool
}

// Default limits.
const (
	DefaultMaxExporters = 1024
	DefaultMaxTemplates = 256
)

// Decoder decodes datagrams from any number of exporters. It is not safe
// for concurrent use. A collector runs one for all its flow sources, so
// that exporters are numbered across sources, as nfcapd numbers them.
type Decoder struct {
	opts Options

	exporters map[exporterKey]*exporter
	// bySys holds the exporters by SysID-1, retired ones included until
	// TakeStats frees their SysIDs (nil: free, in freeIDs).
	bySys   []*exporter
	freeIDs []uint16
	retired []*exporter
	// lru links the known exporters: lru.newer is the one seen last,
	// lru.older the one silent longest.
	lru exporter
	now uint64 // receive time of the datagram being decoded, msec

	counters      Counters
	logged        map[logKey]struct{}
	templateBytes int64 // charged to the template memory

	// rec is the one record every flow is decoded into: the hot path
	// allocates nothing per flow.
	rec flow.Record
	// v3f is what FlowV3 gets, v3b what FlowsV3 gets.
	v3f V3Flow
	v3b V3Batch
	// v5Room holds a v5 block's records for a handler that takes them
	// one by one (v5V3Records).
	v5Room []byte
	// The room of the batch of v9 or IPFIX records being encoded
	// (batchOut), nil between batches, and the bytes encoded into it.
	batchRoom []byte
	batchOff  int
	// batchRec holds the values the batch's records share (V3Batch.Flow),
	// batchHead their header's engine type, engine id and flags.
	batchRec  flow.Record
	batchHead uint32
}

// NewDecoder returns a decoder.
func NewDecoder(opts Options) *Decoder {
	if opts.MaxExporters <= 0 {
		opts.MaxExporters = DefaultMaxExporters
	}
	if opts.MaxTemplates <= 0 {
		opts.MaxTemplates = DefaultMaxTemplates
	}
	if opts.TemplateMemory <= 0 {
		opts.TemplateMemory = DefaultTemplateMemory
	}
	d := &Decoder{
		opts:      opts,
		exporters: make(map[exporterKey]*exporter),
		logged:    make(map[logKey]struct{}),
		counters:  Counters{Errors: make(map[string]uint64)},
	}
	d.lru.newer, d.lru.older = &d.lru, &d.lru
	return d
}

// Decode decodes one datagram received from the exporter at from at the
// given time, and passes its content to h. A malformed datagram returns an
// error saying what is wrong (an *Error); records decoded before the damage
// have been delivered.
func (d *Decoder) Decode(pkt []byte, from netip.Addr, received time.Time, h Handler) error {
	from = from.Unmap()
	if len(pkt) < 4 {
		return d.fail(nil, from, 0, ReasonShort, "datagram of %d bytes", len(pkt))
	}
	msec := uint64(received.UnixMilli())
	d.now = msec
	version := binary.BigEndian.Uint16(pkt)
	switch version {
	case 1:
		return d.decodeV1(pkt, from, msec, h)
	case 5, 7:
		return d.decodeV5(pkt, from, msec, h)
	case 9, 10:
		return d.decodeTemplated(pkt, from, msec, h, version)
	default:
		return d.fail(nil, from, version, ReasonVersion, "unexpected netflow version %d", version)
	}
}

// Exporters returns every exporter known, in SysID order: a collector
// writes them at the start of every file.
func (d *Decoder) Exporters() []flow.Exporter {
	out := make([]flow.Exporter, 0, len(d.exporters))
	for _, e := range d.bySys {
		if e != nil && e.newer != nil {
			out = append(out, e.info)
		}
	}
	return out
}

// Known returns the number of exporters known now.
func (d *Decoder) Known() int { return len(d.exporters) }

// Samplers returns every sampler known, by exporter SysID and then in the
// order the exporter announced them.
func (d *Decoder) Samplers() []flow.Sampler {
	var out []flow.Sampler
	for _, e := range d.bySys {
		if e != nil {
			out = append(out, e.samplers...)
		}
	}
	return out
}

// TakeStats returns the per-exporter counters (datagrams, flows, sequence
// failures) since the last call and resets them: one file's worth, for the
// exporter stat record. Every exporter of the file is listed, also those
// that sent nothing since the last call, as nfcapd lists them, and those
// forgotten since (Expire, or evicted to make room), whose SysIDs are free
// from now on.
func (d *Decoder) TakeStats() []flow.ExporterStat {
	out := make([]flow.ExporterStat, 0, len(d.exporters)+len(d.retired))
	for _, e := range d.bySys {
		if e == nil {
			continue
		}
		out = append(out, flow.ExporterStat{
			SysID:            uint32(e.info.SysID),
			SequenceFailures: uint32(e.seqFailures - e.takenSeq),
			Packets:          e.packets - e.takenPackets,
			Flows:            e.flows - e.takenFlows,
		})
		e.takenSeq, e.takenPackets, e.takenFlows = e.seqFailures, e.packets, e.flows
	}
	for _, e := range d.retired {
		d.bySys[e.info.SysID-1] = nil
		d.freeIDs = append(d.freeIDs, e.info.SysID)
	}
	clear(d.retired)
	d.retired = d.retired[:0]
	return out
}

// ExporterCounters are one exporter's running totals since it became known.
type ExporterCounters struct {
	Exporter         flow.Exporter
	Datagrams        uint64
	Flows            uint64
	SequenceFailures uint64
	// Templates is the number of templates (data and option templates)
	// it has now.
	Templates int
}

// AppendExporterCounters appends the running totals of every exporter
// known to dst, in SysID order, and returns the extended slice. Exporters
// forgotten (Expire, or evicted) are no longer listed; one that comes back
// starts from zero.
func (d *Decoder) AppendExporterCounters(dst []ExporterCounters) []ExporterCounters {
	for _, e := range d.bySys {
		if e == nil || e.newer == nil {
			continue
		}
		dst = append(dst, ExporterCounters{
			Exporter:         e.info,
			Datagrams:        e.packets,
			Flows:            e.flows,
			SequenceFailures: e.seqFailures,
			Templates:        len(e.templates),
		})
	}
	return dst
}

// Counters are a decoder's running totals, for the collector's log lines.
type Counters struct {
	Datagrams        uint64
	Flows            uint64
	SequenceFailures uint64
	// EvictedExporters counts the exporters forgotten to make room for a
	// new one (MaxExporters), ExpiredExporters those forgotten by Expire.
	EvictedExporters uint64
	ExpiredExporters uint64
	// TemplatesRefused counts the templates refused because the template
	// memory was taken.
	TemplatesRefused uint64
	// Errors counts malformed datagrams per reason ("short datagram",
	// "unknown template", ...).
	Errors map[string]uint64
}

// Counters returns the totals since the decoder was made.
func (d *Decoder) Counters() Counters {
	c := d.counters
	c.Errors = make(map[string]uint64, len(d.counters.Errors))
	for k, v := range d.counters.Errors {
		c.Errors[k] = v
	}
	return c
}
