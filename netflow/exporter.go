package netflow

import (
	"net/netip"

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

	// per-file counters, reset by TakeStats
	packets     uint64
	flows       uint64
	seqFailures uint32

	// v1/v5/v7 and v9 sequence tracking
	seqFirst  bool
	seqLast   int64
	seq       int64
	lastCount int64

	// IPFIX sequence tracking: the next expected sequence number and the
	// number of data sets processed so far.
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
}

// getExporter finds or creates the exporter for key. A new exporter gets the
// next SysID and is announced to h. It returns nil when the cap on exporters
// is reached.
func (d *Decoder) getExporter(key exporterKey, h Handler) (*exporter, error) {
	if e, ok := d.exporters[key]; ok {
		return e, nil
	}
	if len(d.list) >= d.opts.MaxExporters || len(d.list) >= 0xffff {
		return nil, d.fail(nil, key.addr, key.version, ReasonTooManyExporter, "limit of %d exporters reached", d.opts.MaxExporters)
	}
	e := &exporter{
		key:      key,
		seqFirst: true,
		info: flow.Exporter{
			Version: uint32(key.version),
			Addr:    key.addr,
			SysID:   uint16(len(d.list) + 1),
			ID:      key.id,
		},
	}
	d.exporters[key] = e
	d.list = append(d.list, e)
	if h != nil {
		h.NewExporter(&e.info)
	}
	if d.opts.Logf != nil {
		d.opts.Logf("Process_v%d: New exporter: SysID: %d, Domain: %d, IP: %s", key.version, e.info.SysID, key.id, key.addr)
	}
	return e, nil
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
