package netflow

import (
	"bytes"
	"encoding/binary"
	"net/netip"

	"github.com/nfgo/nftools/flow"
)

// NetFlow v9 (RFC 3954).
//
// header:   version(2) count(2) sysUptime(4) unixSecs(4) sequence(4) sourceID(4)
// flowset:  id(2) length(2) content
//
//	id 0:   templates:        { templateID(2) fieldCount(2) { type(2) length(2) }... }...
//	id 1:   options template: templateID(2) scopeLen(2) optionLen(2) { type(2) length(2) }...
//	id>255: data records of that template, padded to 4 bytes
const v9HeaderLen = 20

func (d *Decoder) decodeV9(pkt []byte, from netip.Addr, msecReceived uint64, h Handler) error {
	be := binary.BigEndian
	if len(pkt) < v9HeaderLen {
		return d.fail(nil, from, 9, ReasonShort, "%d bytes, header needs %d", len(pkt), v9HeaderLen)
	}
	e, err := d.templatedDatagram(exporterKey{version: 9, addr: from, id: be.Uint32(pkt[16:])}, h)
	if err != nil {
		return err
	}
	e.bootTime = 1000*uint64(be.Uint32(pkt[8:])) - uint64(be.Uint32(pkt[4:]))
	d.checkSequence(e, be.Uint32(pkt[12:]), 1)

	var first error
	note := func(err error) {
		if first == nil {
			first = err
		}
	}
	for p := pkt[v9HeaderLen:]; len(p) > 0; {
		if len(p) < 4 {
			break
		}
		id, length := be.Uint16(p), int(be.Uint16(p[2:]))
		if length == 0 {
			note(d.fail(e, from, 9, ReasonFlowsetLength, "flowset %d of zero length", id))
			break
		}
		if length <= 4 {
			break // padding: nfcapd stops here
		}
		if length > len(p) {
			note(d.fail(e, from, 9, ReasonFlowsetLength, "flowset %d of %d bytes, %d left", id, length, len(p)))
			break
		}
		set := p[4:length]
		p = p[length:]
		switch {
		case id == 0:
			if err := d.v9Templates(e, set); err != nil {
				note(err)
			}
		case id == 1:
			if err := d.v9OptionTemplate(e, set); err != nil {
				note(err)
			}
		case id < 256:
			note(d.fail(e, from, 9, ReasonFlowsetID, "flowset id %d", id))
		default:
			t := e.template(id)
			switch {
			case t == nil:
				note(d.fail(e, from, 9, ReasonUnknownTemplate, "data flowset for template %d", id))
			case t.data:
				if err := d.v9Data(e, t, set, msecReceived, h); err != nil {
					note(err)
				}
			default:
				d.optionData(e, t, set, h)
			}
		}
	}
	return first
}

func (d *Decoder) v9Templates(e *exporter, b []byte) error {
	be := binary.BigEndian
	for len(b) > 0 {
		if len(b) < 4 {
			return d.fail(e, e.key.addr, 9, ReasonTemplate, "%d bytes left in template flowset", len(b))
		}
		id, count := be.Uint16(b), int(be.Uint16(b[2:]))
		need := 4 + 4*count
		if len(b) < need {
			return d.fail(e, e.key.addr, 9, ReasonTemplate, "template %d: %d fields need %d bytes, have %d", id, count, need, len(b))
		}
		if e.sameTemplate(id, b[4:need]) {
			b = b[need:]
			if len(b) < 4 {
				return nil
			}
			continue
		}
		cost := templateCost(count, need-4)
		if err := d.admit(e, id, cost); err != nil {
			return err
		}
		t := &template{id: id, data: true, cost: cost, fields: make([]field, 0, count), spec: bytes.Clone(b[4:need])}
		common := 0
		for i := 0; i < count; i++ {
			f, ok := compileField(v9Fields, be.Uint16(b[4+4*i:]), be.Uint16(b[6+4*i:]))
			if ok {
				common++
			}
			t.fields = append(t.fields, f)
		}
		b = b[need:]
		if common == 0 {
			continue // nfcapd ignores a template with nothing it knows
		}
		t.finishTemplate()
		// nfcapd adds the receive time to every v9 data template, so every
		// record has EXgenericFlow.
		t.elems = t.elems.With(flow.ElemGeneric)
		if t.minLen == 0 {
			return d.fail(e, e.key.addr, 9, ReasonZeroLength, "template %d has only zero-length fields", id)
		}
		if err := d.putTemplate(e, t); err != nil {
			return err
		}
		if len(b) < 4 {
			return nil
		}
	}
	return nil
}

func (d *Decoder) v9OptionTemplate(e *exporter, b []byte) error {
	be := binary.BigEndian
	if len(b) < 6 {
		return d.fail(e, e.key.addr, 9, ReasonOptionTemplate, "%d bytes", len(b))
	}
	id, scopeLen, optLen := be.Uint16(b), int(be.Uint16(b[2:])), int(be.Uint16(b[4:]))
	if scopeLen&3 != 0 || optLen&3 != 0 {
		return d.fail(e, e.key.addr, 9, ReasonOptionTemplate, "template %d: scope length %d or option length %d not a multiple of 4", id, scopeLen, optLen)
	}
	if 6+scopeLen+optLen > len(b) {
		return d.fail(e, e.key.addr, 9, ReasonOptionTemplate, "template %d: %d bytes of fields, %d left", id, scopeLen+optLen, len(b)-6)
	}
	d.dropTemplate(e, id)
	t := &template{id: id, cost: templateCost(0, 0)}
	var off uint16
	p := b[6:]
	for i := 0; i < scopeLen/4; i++ {
		off += be.Uint16(p[4*i+2:])
	}
	p = p[scopeLen:]
	for i := 0; i < optLen/4; i++ {
		typ, l := be.Uint16(p[4*i:]), be.Uint16(p[4*i+2:])
		t.opt.setOption(typ, optTag{off, l})
		off += l
	}
	if t.opt.flags == 0 {
		return nil
	}
	t.opt.finish()
	return d.putTemplate(e, t)
}

func (d *Decoder) v9Data(e *exporter, t *template, b []byte, msecReceived uint64, h Handler) error {
	r := &d.rec
	event := t.hasEvent
	vh := d.v3Handler(h)
	var bh V3BatchHandler
	if vh != nil {
		bh = d.batchFor(vh, t, e, 9)
	}
	// The stack is the start of what a plan decodes into. A plan stores
	// the same values at every record and leaves the others zero, so they
	// are zeroed once; the general run, per record (callgrind: the
	// zeroing was 30 instructions a record).
	var vals [planVals]uint64
	stack := (*[numStack]uint64)(vals[:numStack])
	planned := vh != nil && t.planFor(e, 9)
	if bh != nil {
		// A plan's records into batches, in a loop of their own; the
		// rest, if bh's room cannot take a batch, one by one.
		var err error
		if b, err = d.planBatch(e, t, b, msecReceived, bh, 9); err != nil {
			return err
		}
	}
	for len(b) >= 4 { // fewer than 4 bytes: padding
		var out []byte
		if bh != nil {
			out = d.batchOut(bh)
		}
		inBatch := out != nil
		if !inBatch {
			out = d.space(vh, t, e, 9)
		}
		var n int
		var err error
		if planned {
			n, err = t.runPlan(b, r, &vals, e, msecReceived, out)
		} else {
			vals = [planVals]uint64{}
			n, err = d.record(e, t, b, 9, out, msecReceived, &vals)
		}
		if err != nil {
			// The records before go on as they would have one by one.
			d.batchDone(bh)
			return d.fail(e, e.key.addr, 9, ReasonRecord, "template %d: %v", t.id, err)
		}
		b = b[n:]
		r.EngineType, r.EngineID = uint8(e.key.id>>8), uint8(e.key.id)
		if stack[sEngineType] != 0 {
			r.EngineType = uint8(stack[sEngineType])
		}
		if stack[sEngineID] != 0 {
			r.EngineID = uint8(stack[sEngineID])
		}
		pi, si, sampled := uint64(1), uint64(0), false
		if len(e.samplers) > 0 { // most exporters have none: no call a flow
			pi, si, sampled = samplingFor(e, int64(uint32(stack[sSampler])))
		}
		if sampled {
			r.Flags |= flow.FlagSampled
		}
		if stack[sLastUp] != 0 {
			first, last := stack[sFirstUp], stack[sLastUp]
			if first > last {
				r.First = e.bootTime - 0x100000000 + first
			} else {
				r.First = e.bootTime + first
			}
			r.Last = e.bootTime + last
		}
		if si > 0 {
			r.InPackets = scale(r.InPackets, pi, si)
			r.InBytes = scale(r.InBytes, pi, si)
		}
		if r.Proto == flow.ProtoICMP || r.Proto == flow.ProtoICMPv6 {
			r.SrcPort = 0
			switch {
			case stack[sICMP] != 0:
				r.DstPort = uint16(stack[sICMP])
			case stack[sICMPType] != 0 || stack[sICMPCode] != 0:
				r.DstPort = uint16(256*stack[sICMPType] + stack[sICMPCode])
			default:
				r.DstPort = 0
			}
		}
		if r.Elements.Has(flow.ElemCounters) {
			if si > 0 {
				r.OutPackets = scale(r.OutPackets, pi, si)
				r.OutBytes = scale(r.OutBytes, pi, si)
			}
			if r.Flows == 0 {
				r.Flows = 1
			}
		}
		if event {
			r.Flags |= flow.FlagEvent
		}
		if r.Elements.Has(flow.ElemLatency) {
			r.ClientNwDelay += 1000000 * stack[sClientSec]
			r.ServerNwDelay += 1000000 * stack[sServerSec]
			r.ApplLatency += 1000000 * stack[sApplSec]
		}
		e.flows++
		d.counters.Flows++
		switch {
		case inBatch:
			d.batchAdd(bh, t, r, out)
		case out != nil:
			d.flowV3(vh, t, r, out)
		default:
			h.Flow(r)
		}
	}
	if bh != nil {
		d.batchDone(bh)
	}
	return nil
}

// scale multiplies a counter by the sampling rate as nfcapd does.
func scale(v, pi, si uint64) uint64 {
	if pi == 0 {
		pi = 1
	}
	return v * (pi + si) / pi
}
