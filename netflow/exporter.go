package netflow

import (
	"net/netip"
	"time"

	"github.com/nfgo/nftools/flow"
)

// exporterKey identifies an exporter as nfcapd does: protocol version,
// source address and the device's own id (engine tag for v5/v7, source id
// for v9, observation domain for IPFIX, 0 for v1).
type exporterKey struct {
	version uint16
	addr    netip.Addr
	id      uint32
}

// exporter is one exporter's state: its identity, its counters for the
// current file, sequence tracking, samplers and templates.
type exporter struct {
	key  exporterKey
	info flow.Exporter

	// Running totals since the exporter became known, and their values
	// at the last TakeStats: a file's counts are the difference, so the
	// hot path adds to one counter and a metrics layer reads the totals.
	packets, flows, seqFailures        uint64
	takenPackets, takenFlows, takenSeq uint64

	// v1/v5/v7 and v9 sequence tracking
	seqFirst  bool
	seqLast   int64
	seq       int64
	lastCount int64

	// IPFIX sequence tracking: the next expected sequence number and the
	// number of data sets processed so far (counted in v9 too, where
	// nothing reads it).
	ipfixSeq     uint32
	dataFlowsets uint64

	// v5Sampler is the v1/v5/v7 sampler, decided by the first header;
	// started is set once the exporter was set up (samplers decided)
	v5Sampler *flow.Sampler
	started   bool

	// samplers in the order nfcapd keeps them (overwrite/default first)
	samplers []flow.Sampler

	// v9 boot time (msec since epoch) from the latest header; SysUpTime
	// from an options record with IE 160 (IPFIX and v9)
	bootTime  uint64
	sysUpTime uint64

	templates map[uint16]*template
	// lastTemplate is the template found last (template), nil once the
	// templates change.
	lastTemplate *template
	// v5Frames are the frames of its v5 and v7 records as V3 records
	// (v3plan.go), built when first needed.
	v5Frames [8]*v5Frame

	// lastSeen is the receive time (msec) of its latest datagram; newer
	// and older link the exporters from the most recently to the least
	// recently seen.
	lastSeen     uint64
	newer, older *exporter
}

// getExporter finds or creates the exporter for key and marks it as seen
// now. A new exporter gets the next free SysID and is announced to h; when
// MaxExporters are known, the one that has been silent longest makes room
// (it is evicted), so a flood of sources that send once cannot lock out an
// exporter that keeps sending.
func (d *Decoder) getExporter(key exporterKey, h Handler) (*exporter, error) {
	// The exporter of the last datagram, most often the same one, is
	// found without hashing the key (the sentinel's key is zero, which no
	// datagram's is), and compared field by field: == on the keys called
	// the struct's generated equality (callgrind: 16 instructions, and
	// the call's).
	if e := d.lru.newer; e != nil && e.key.version == key.version && e.key.id == key.id && e.key.addr == key.addr {
		e.lastSeen = d.now
		return e, nil
	}
	return d.findExporter(key, h)
}

// findExporter is getExporter for an exporter other than the last one.
func (d *Decoder) findExporter(key exporterKey, h Handler) (*exporter, error) {
	if e, ok := d.exporters[key]; ok {
		d.touch(e)
		return e, nil
	}
	if len(d.exporters) >= d.opts.MaxExporters {
		d.retire(d.lru.older)
		d.counters.EvictedExporters++
	}
	id, ok := d.newSysID()
	if !ok {
		return nil, d.fail(nil, key.addr, key.version, ReasonTooManyExporter, "no SysID left: %d exporters in this file", len(d.bySys))
	}
	e := &exporter{
		key:      key,
		seqFirst: true,
		info: flow.Exporter{
			Version: uint32(key.version),
			Addr:    key.addr,
			SysID:   id,
			ID:      key.id,
		},
	}
	d.exporters[key] = e
	d.bySys[id-1] = e
	d.touch(e)
	if h != nil {
		h.NewExporter(&e.info)
	}
	if d.opts.Logf != nil {
		d.opts.Logf("Process_v%d: New exporter: SysID: %d, Domain: %d, IP: %s", key.version, e.info.SysID, key.id, key.addr)
	}
	return e, nil
}

// touch marks e as seen now: it moves to the front of the list.
func (d *Decoder) touch(e *exporter) {
	e.lastSeen = d.now
	if d.lru.newer == e {
		return
	}
	if e.newer != nil {
		e.newer.older, e.older.newer = e.older, e.newer
	}
	e.newer, e.older = &d.lru, d.lru.newer
	d.lru.newer.older = e
	d.lru.newer = e
}

// newSysID returns a free SysID: one freed at the last TakeStats, else the
// next never used. SysIDs are 16 bits.
func (d *Decoder) newSysID() (uint16, bool) {
	if n := len(d.freeIDs); n > 0 {
		id := d.freeIDs[n-1]
		d.freeIDs = d.freeIDs[:n-1]
		return id, true
	}
	if len(d.bySys) >= 0xffff {
		return 0, false
	}
	d.bySys = append(d.bySys, nil)
	return uint16(len(d.bySys)), true
}

// retire forgets an exporter: its templates, samplers and sequence state
// are freed, and a datagram from it makes it a new exporter. It keeps its
// SysID, and its counters go into the exporter stats, until the next
// TakeStats: the file being written holds its exporter record and may hold
// its flows.
func (d *Decoder) retire(e *exporter) {
	e.newer.older, e.older.newer = e.older, e.newer
	e.newer, e.older = nil, nil
	delete(d.exporters, e.key)
	d.dropTemplates(e)
	e.templates, e.samplers, e.v5Sampler, e.lastTemplate = nil, nil, nil, nil
	for _, r := range reasons {
		delete(d.logged, logKey{e.key, r})
	}
	d.retired = append(d.retired, e)
}

// Expire forgets the exporters that sent nothing for idle before now, as
// retire does, and returns how many.
func (d *Decoder) Expire(now time.Time, idle time.Duration) int {
	limit := uint64(now.Add(-idle).UnixMilli())
	n := 0
	for e := d.lru.older; e != &d.lru && e.lastSeen < limit; e = d.lru.older {
		d.retire(e)
		n++
	}
	d.counters.ExpiredExporters += uint64(n)
	return n
}

// checkSequence does nfcapd's v1/v5/v7/v9 sequence check: the distance to
// the previous sequence number must equal want(previous count).
func (d *Decoder) checkSequence(e *exporter, seq uint32, expected int64) {
	if e.seqFirst {
		e.seqLast = int64(seq)
		e.seq = e.seqLast
		e.seqFirst = false
		return
	}
	e.seqLast = e.seq
	e.seq = int64(seq)
	dist := e.seq - e.seqLast
	if dist < 0 {
		dist += 0x100000000
	}
	if dist != expected {
		e.seqFailures++
		d.counters.SequenceFailures++
	}
}

// receivedElement returns the element that carries the exporter address.
func receivedElement(a netip.Addr) int {
	if a.Is4() {
		return flow.ElemExporterIPv4
	}
	return flow.ElemExporterIPv6
}
