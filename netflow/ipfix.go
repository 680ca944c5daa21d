package netflow

import (
	"bytes"
	"encoding/binary"
	"net/netip"

	"github.com/nfgo/nftools/flow"
)

// IPFIX (RFC 7011).
//
// header:  version(2)=10 length(2) exportTime(4) sequence(4) observationDomain(4)
// set:     id(2) length(2) content
//
//	id 2:  templates:         { templateID(2) fieldCount(2) { ie(2) length(2) [enterprise(4)] }... }...
//	       withdrawals:       { templateID(2) 0(2) }...
//	id 3:  options template:  templateID(2) fieldCount(2) scopeFieldCount(2) { ie(2) length(2) [enterprise(4)] }...
//	id>255 data records, variable-length fields with a 1 or 3 byte length
const ipfixHeaderLen = 16

func (d *Decoder) decodeIPFIX(pkt []byte, from netip.Addr, msecReceived uint64, h Handler) error {
	be := binary.BigEndian
	if len(pkt) < ipfixHeaderLen {
		return d.fail(nil, from, 10, ReasonShort, "%d bytes, header needs %d", len(pkt), ipfixHeaderLen)
	}
	e, err := d.templatedDatagram(exporterKey{version: 10, addr: from, id: be.Uint32(pkt[12:])}, h)
	if err != nil {
		return err
	}
	// IPFIX counts data records: a datagram must start where the previous
	// one's records ended. Like nfcapd, no failure before the first data.
	if seq := be.Uint32(pkt[8:]); seq != e.ipfixSeq {
		if e.dataFlowsets != 0 {
			e.seqFailures++
			d.counters.SequenceFailures++
		}
		e.ipfixSeq = seq
	}

	var first error
	note := func(err error) {
		if first == nil {
			first = err
		}
	}
	// Like nfcapd, the datagram's size counts, not the header's length.
	for p := pkt[ipfixHeaderLen:]; len(p) > 0; {
		if len(p) < 4 {
			break
		}
		id, length := be.Uint16(p), int(be.Uint16(p[2:]))
		if length == 0 {
			note(d.fail(e, from, 10, ReasonFlowsetLength, "set %d of zero length", id))
			break
		}
		if length <= 4 {
			break
		}
		if length > len(p) {
			note(d.fail(e, from, 10, ReasonFlowsetLength, "set %d of %d bytes, %d left", id, length, len(p)))
			break
		}
		set := p[4:length]
		p = p[length:]
		switch {
		case id == 2:
			if err := d.ipfixTemplates(e, set); err != nil {
				note(err)
			}
		case id == 3:
			if err := d.ipfixOptionTemplate(e, set); err != nil {
				note(err)
			}
		case id < 256:
			note(d.fail(e, from, 10, ReasonFlowsetID, "set id %d", id))
		default:
			t := e.template(id)
			switch {
			case t == nil:
				note(d.fail(e, from, 10, ReasonUnknownTemplate, "data set for template %d", id))
			case t.data:
				if err := d.ipfixData(e, t, set, msecReceived, h); err != nil {
					note(err)
				}
				e.dataFlowsets++
			default:
				d.optionData(e, t, set, h)
			}
		}
	}
	return first
}

// ipfixLookup is nfcapd's LookupElement for IPFIX. nfcapd passes the
// enterprise number on as 16 bits, so only its low half counts.
func ipfixLookup(typ uint16, enterprise uint16) (ie, bool) {
	switch enterprise {
	case 0:
	case 6871: // CERT (YAF) payloads
		switch typ {
		case 18:
			typ = localInPayload
		case 16402:
			typ = localOutPayload
		default:
			return ie{}, false
		}
	case reverseEnterpriseNo:
		if r, ok := ipfixReverse[typ]; ok {
			typ = r
		}
	default:
		return ie{}, false
	}
	x, ok := ipfixFields[typ]
	return x, ok
}

// ipfixSpecLen returns the length of the count field specifiers at the
// start of p, enterprise numbers included, or 0 when they run past its end.
func ipfixSpecLen(p []byte, count int) int {
	n := 0
	for range count {
		if len(p)-n < 4 {
			return 0
		}
		l := 4
		if p[n]&0x80 != 0 {
			l = 8
		}
		if len(p)-n < l {
			return 0
		}
		n += l
	}
	return n
}

func (d *Decoder) ipfixTemplates(e *exporter, b []byte) error {
	be := binary.BigEndian
	if len(b) >= 4 && be.Uint16(b[2:]) == 0 {
		// withdrawal: ids with a field count of 0; id 2 withdraws all
		for ; len(b) >= 4; b = b[4:] {
			if id := be.Uint16(b); id == 2 {
				d.dropTemplates(e)
			} else {
				d.dropTemplate(e, id)
			}
		}
		return nil
	}
	for len(b) > 0 {
		if len(b) < 4 {
			return d.fail(e, e.key.addr, 10, ReasonTemplate, "%d bytes left in template set", len(b))
		}
		id, count := be.Uint16(b), int(be.Uint16(b[2:]))
		p := b[4:]
		if n := ipfixSpecLen(p, count); n > 0 && e.sameTemplate(id, p[:n]) {
			b = p[n:]
			if len(b) < 4 {
				return nil
			}
			continue
		}
		// A count larger than the set holds fails below; what is
		// allocated and charged is bounded by the fields that fit.
		n, fit := ipfixSpecLen(p, count), min(count, len(p)/4)
		cost := templateCost(fit, n)
		if err := d.admit(e, id, cost); err != nil {
			return err
		}
		t := &template{id: id, data: true, cost: cost, fields: make([]field, 0, fit)}
		if n > 0 {
			t.spec = bytes.Clone(p[:n])
		}
		common := 0
		for i := 0; i < count; i++ {
			if len(p) < 4 {
				return d.fail(e, e.key.addr, 10, ReasonTemplate, "template %d: field %d of %d past the end", id, i, count)
			}
			raw, length := be.Uint16(p), be.Uint16(p[2:])
			p = p[4:]
			var ent uint16
			if raw&0x8000 != 0 {
				if len(p) < 4 {
					return d.fail(e, e.key.addr, 10, ReasonTemplate, "template %d: enterprise number past the end", id)
				}
				ent = uint16(be.Uint32(p))
				p = p[4:]
			}
			typ := raw & 0x7fff
			f := field{inLen: length}
			if x, ok := ipfixLookup(typ, ent); ok {
				f.ie = x
				common++
			} else {
				f.skip = true
				if ent == 0 && (typ == ieSubTemplateList || typ == ieSubTemplateMultiList) {
					f.sub = typ
					common++
				}
			}
			t.fields = append(t.fields, f)
		}
		b = p
		if common > 0 {
			t.finishTemplate()
			if t.minLen == 0 {
				return d.fail(e, e.key.addr, 10, ReasonZeroLength, "template %d has only zero-length fields", id)
			}
			if err := d.putTemplate(e, t); err != nil {
				return err
			}
		}
		if len(b) < 4 {
			return nil
		}
	}
	return nil
}

func (d *Decoder) ipfixOptionTemplate(e *exporter, b []byte) error {
	be := binary.BigEndian
	if len(b) < 6 {
		return d.fail(e, e.key.addr, 10, ReasonOptionTemplate, "%d bytes", len(b))
	}
	id, count, scopes := be.Uint16(b), int(be.Uint16(b[2:])), int(be.Uint16(b[4:]))
	if scopes == 0 {
		return d.fail(e, e.key.addr, 10, ReasonOptionTemplate, "template %d: no scope field", id)
	}
	p := b[6:]
	if len(p) < 4*count {
		return d.fail(e, e.key.addr, 10, ReasonOptionTemplate, "template %d: %d fields need %d bytes, have %d", id, count, 4*count, len(p))
	}
	t := &template{id: id, cost: templateCost(0, 0)}
	var off uint16
	for i := 0; i < count; i++ {
		if len(p) < 4 {
			return d.fail(e, e.key.addr, 10, ReasonOptionTemplate, "template %d: field %d past the end", id, i)
		}
		typ, l := be.Uint16(p), be.Uint16(p[2:])
		p = p[4:]
		if typ&0x8000 != 0 {
			if len(p) < 4 {
				return d.fail(e, e.key.addr, 10, ReasonOptionTemplate, "template %d: enterprise number past the end", id)
			}
			p = p[4:]
		}
		if i >= scopes {
			// nfcapd matches the type with its enterprise bit still set,
			// so enterprise options never count
			t.opt.setOption(typ, optTag{off, l})
		}
		off += l
	}
	d.dropTemplate(e, id)
	if t.opt.flags == 0 {
		return nil
	}
	t.opt.finish()
	return d.putTemplate(e, t)
}

func (d *Decoder) ipfixData(e *exporter, t *template, b []byte, msecReceived uint64, h Handler) error {
	r := &d.rec
	vh := d.v3Handler(h)
	var bh V3BatchHandler
	if vh != nil {
		bh = d.batchFor(vh, t, e, 10)
	}
	// The stack is the start of what a plan decodes into. A plan stores
	// the same values at every record and leaves the others zero, so they
	// are zeroed once; the general run, per record (callgrind: the
	// zeroing was 30 instructions a record).
	var vals [planVals]uint64
	stack := (*[numStack]uint64)(vals[:numStack])
	planned := vh != nil && t.planFor(e, 10)
	if bh != nil {
		// A plan's records into batches, in a loop of their own; the
		// rest, if bh's room cannot take a batch, one by one.
		var err error
		if b, err = d.planBatch(e, t, b, msecReceived, bh, 10); err != nil {
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
			out = d.space(vh, t, e, 10)
		}
		var n int
		var err error
		if planned {
			n, err = t.runPlan(b, r, &vals, e, msecReceived, out)
		} else {
			vals = [planVals]uint64{}
			n, err = d.record(e, t, b, 10, out, msecReceived, &vals)
		}
		if err != nil {
			// The records before go on as they would have one by one.
			d.batchDone(bh)
			return d.fail(e, e.key.addr, 10, ReasonRecord, "template %d: %v", t.id, err)
		}
		b = b[n:]
		e.ipfixSeq++
		r.EngineType, r.EngineID = uint8(stack[sEngineType]), uint8(stack[sEngineID])
		pi, si, sampled := uint64(1), uint64(0), false
		if len(e.samplers) > 0 { // most exporters have none: no call a flow
			pi, si, sampled = samplingFor(e, int64(uint32(stack[sSampler])))
		}
		if sampled {
			r.Flags |= flow.FlagSampled
		}
		if r.Elements.Has(flow.ElemGeneric) {
			if r.First != 0 && r.Last == 0 && stack[sDuration] != 0 {
				r.Last = r.First + stack[sDuration]
			}
			// sic: nfcapd 1.7.1 puts flowEndSysUpTime (#21) into first
			// and flowStartSysUpTime (#22) into last.
			switch {
			case stack[sSysInit] != 0 && stack[sFirstUp] != 0:
				r.First = stack[sSysInit] + stack[sFirstUp]
				r.Last = stack[sSysInit] + stack[sLastUp]
			case e.sysUpTime != 0 && stack[sFirstUp] != 0:
				r.First = e.sysUpTime + stack[sFirstUp]
				r.Last = e.sysUpTime + stack[sLastUp]
			}
			if si > 0 {
				r.InPackets = scale(r.InPackets, pi, si)
				r.InBytes = scale(r.InBytes, pi, si)
			}
			switch r.Proto {
			case flow.ProtoICMP, flow.ProtoICMPv6:
				if r.SrcPort != 0 {
					r.DstPort = r.SrcPort>>8 | r.SrcPort<<8
					r.SrcPort = 0
				}
				if stack[sICMP] != 0 {
					r.DstPort = uint16(stack[sICMP])
				}
			case flow.ProtoTCP, flow.ProtoUDP:
				// an ICMP type/code element may have overwritten it
				r.DstPort = uint16(stack[sDstPort])
			}
			e.flows++
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
