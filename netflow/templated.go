package netflow

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"net/netip"

	"github.com/nfgo/nftools/flow"
)

// NetFlow v9 and IPFIX share their datagrams' shape after the header: a
// sequence of sets, each of templates, of an options template or of data
// records of a template. What differs is said by the version (9 or 10):
// the header (v9Header, ipfixHeader), the set ids of templates (0 and 1
// against 2 and 3), the field specifiers (IPFIX's enterprise numbers and
// variable lengths), the options templates' layout, the post-processing
// of a record (postProcess) and the sequence accounting (v9 counts
// datagrams, IPFIX data records). One loop over the sets
// (decodeTemplated), one over a template set (templateSet) and one over
// a data set's records (dataSet, and planBatch for a batch handler)
// serve both.

// setIDs returns the set ids of the version's templates and options
// template, and the word its messages call a set.
func setIDs(version uint16) (templates, options uint16, word string) {
	if version == 9 {
		return 0, 1, "flowset"
	}
	return 2, 3, "set"
}

// decodeTemplated decodes a v9 or IPFIX datagram (version 9 or 10) from
// the exporter at from: its header, then its sets. Like nfcapd, it takes
// the datagram's size, not an IPFIX header's length, and stops at a set
// of 4 bytes or fewer (padding). A broken set fails the datagram but the
// sets before and, where its length allows, after it go on; the first
// failure is returned.
func (d *Decoder) decodeTemplated(pkt []byte, from netip.Addr, msecReceived uint64, h Handler, version uint16) error {
	be := binary.BigEndian
	hdr := ipfixHeaderLen
	if version == 9 {
		hdr = v9HeaderLen
	}
	if len(pkt) < hdr {
		return d.fail(nil, from, version, ReasonShort, "%d bytes, header needs %d", len(pkt), hdr)
	}
	// Both headers end with the exporter's id: v9's source id, IPFIX's
	// observation domain.
	e, err := d.templatedDatagram(exporterKey{version: version, addr: from, id: be.Uint32(pkt[hdr-4:])}, h)
	if err != nil {
		return err
	}
	if version == 9 {
		d.v9Header(e, pkt)
	} else {
		d.ipfixHeader(e, pkt)
	}
	p := pkt[hdr:]
	tmplID, optID, word := setIDs(version)
	var first error
	note := func(err error) {
		if first == nil {
			first = err
		}
	}
	for len(p) >= 4 {
		id, length := be.Uint16(p), int(be.Uint16(p[2:]))
		if length == 0 {
			note(d.fail(e, from, version, ReasonFlowsetLength, "%s %d of zero length", word, id))
			break
		}
		if length <= 4 {
			break // padding: nfcapd stops here
		}
		if length > len(p) {
			note(d.fail(e, from, version, ReasonFlowsetLength, "%s %d of %d bytes, %d left", word, id, length, len(p)))
			break
		}
		set := p[4:length]
		p = p[length:]
		switch {
		case id == tmplID:
			if err := d.templateSet(e, set, version); err != nil {
				note(err)
			}
		case id == optID:
			if err := d.optionTemplate(e, set, version); err != nil {
				note(err)
			}
		case id < 256:
			note(d.fail(e, from, version, ReasonFlowsetID, "%s id %d", word, id))
		default:
			t := e.template(id)
			switch {
			case t == nil:
				note(d.fail(e, from, version, ReasonUnknownTemplate, "data %s for template %d", word, id))
			case t.data:
				if err := d.dataSet(e, t, set, msecReceived, h, uint8(version)); err != nil {
					note(err)
				}
				// Read by IPFIX's sequence check only.
				e.dataFlowsets++
			default:
				d.optionData(e, t, set, h)
			}
		}
	}
	return first
}

// dataSet decodes the data records b of template t of exporter e (version
// 9 or 10) and hands them to h: through the template's V3 plan in batches
// (planBatch) or one by one, or into the decoder's Record.
func (d *Decoder) dataSet(e *exporter, t *template, b []byte, msecReceived uint64, h Handler, version uint8) error {
	r := &d.rec
	vh := d.v3Handler(h)
	var bh V3BatchHandler
	if vh != nil {
		bh = d.batchFor(vh, t, e, version)
	}
	// A record's values: the stack and the core values (setValue). A
	// plan stores the same values at every record and leaves the others
	// zero, so they are zeroed once; the general run, per record
	// (callgrind: the zeroing was 30 instructions a record).
	var in postIn
	in.forSet(e, t, version)
	vals := &in.vals
	planned := vh != nil && t.planFor(e, version)
	if bh != nil {
		// A plan's records into batches, in a loop of their own; the
		// rest, if bh's room cannot take a batch, one by one.
		var err error
		if b, err = d.planBatch(e, t, b, msecReceived, bh, version); err != nil {
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
			out = d.space(vh, t, e, version)
		}
		var n int
		var err error
		if planned {
			n, err = t.runPlan(b, r, vals, e, msecReceived, out)
		} else {
			*vals = [planVals]uint64{}
			t.prepare(r, e, version, msecReceived)
			n, err = t.run(b, r, vals, e, 0)
		}
		if err != nil {
			// The records before go on as they would have one by one.
			d.batchDone(bh)
			return d.fail(e, e.key.addr, uint16(version), ReasonRecord, "template %d: %v", t.id, err)
		}
		b = b[n:]
		in.generic = r.Elements.Has(flow.ElemGeneric)
		in.sample()
		first, last, packets, bytes, ports, head := postProcess(&in)
		r.First, r.Last, r.InPackets, r.InBytes = first, last, packets, bytes
		r.SrcPort, r.DstPort, r.Proto = uint16(ports), uint16(ports>>16), uint8(vals[cProto])
		r.EngineType, r.EngineID, r.Flags = uint8(head), uint8(head>>8), uint8(head>>16)
		if r.Elements.Has(flow.ElemCounters) {
			if in.si > 0 {
				r.OutPackets = scale(r.OutPackets, in.pi, in.si)
				r.OutBytes = scale(r.OutBytes, in.pi, in.si)
			}
			if r.Flows == 0 {
				r.Flows = 1
			}
		}
		if version == 9 && r.Elements.Has(flow.ElemLatency) {
			// nfcapd adds v9's seconds to the microseconds (a plan is
			// made for no latency element).
			r.ClientNwDelay += 1000000 * vals[sClientSec]
			r.ServerNwDelay += 1000000 * vals[sServerSec]
			r.ApplLatency += 1000000 * vals[sApplSec]
		}
		d.countRecords(e, version, in.generic, 1)
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

// eventFlag returns the flags every record of t starts with: nfcapd's v9
// path flags the records of a template with NSEL or NEL event elements as
// events, its IPFIX path does not.
func (t *template) eventFlag(version uint8) uint8 {
	if version == 9 && t.hasEvent {
		return flow.FlagEvent
	}
	return 0
}

// postIn is what postProcess reads of a record and its set.
type postIn struct {
	vals    [planVals]uint64 // the stack, then the core values
	e       *exporter
	version uint8 // 9 or 10
	generic bool  // the record has the generic element
	// flags0 are the flags the set's records start with (eventFlag),
	// flags a record's, with FlagSampled where its sampler says so,
	// and pi and si its sampler's packet and space interval (sample).
	flags0, flags uint8
	pi, si        uint64
}

// forSet sets in for the records of template t of exporter e, and a
// record without a sampler.
func (in *postIn) forSet(e *exporter, t *template, version uint8) {
	f := t.eventFlag(version)
	in.e, in.version, in.flags0, in.flags, in.pi, in.si = e, version, f, f, 1, 0
}

// sample sets the flags and sampling of the record in vals. Inlined:
// an exporter without samplers (most) keeps those of forSet, and
// postProcess makes no call.
func (in *postIn) sample() {
	if len(in.e.samplers) > 0 {
		in.sampleRecord()
	}
}

// sampleRecord is sample for an exporter with samplers.
func (in *postIn) sampleRecord() {
	var sampled bool
	in.pi, in.si, sampled = samplingFor(in.e, int64(uint32(in.vals[sSampler])))
	in.flags = in.flags0
	if sampled {
		in.flags |= flow.FlagSampled
	}
}

// countRecords counts n records of a data set of exporter e: the
// decoder's flows, the exporter's (nfcapd's IPFIX path counts only
// records with the generic element) and, for IPFIX, the sequence number
// the next datagram should have.
func (d *Decoder) countRecords(e *exporter, version uint8, generic bool, n int) {
	if version == 9 || generic {
		e.flows += uint64(n)
	}
	if version == 10 {
		e.ipfixSeq += uint32(n)
	}
	d.counters.Flows += uint64(n)
}

// postProcess is nfcapd's post-processing of a v9 or IPFIX record on the
// values its fields decoded and its sampling (in, which it only reads;
// IPFIX post-processes only records with the generic element). It
// returns the record's times, in counters, ports (the source in the
// lower half) and header word (engine type, engine id and flags from the
// lowest byte up).
//
// One function for the record's two ways, the Record's (dataSet) and
// the batch's (planRecords), called rather than inlined into either (it
// is too large to inline). So that the call costs little, it is a leaf
// without a frame: it calls nothing (sample decided the sampling,
// scale's division has no check), what it reads is in one struct, its
// six results come back in registers, and few values are live at once.
// Callgrind, BenchmarkWorker nodisk, instructions a flow in netflow
// against planRecords with its own copy of this code: v9 363 -> 348,
// IPFIX 358 -> 353. Taking the core values as a struct (of more than
// four fields: kept in memory) made it 420; a function value per
// version, 390 to 400; loading every value at the start, 360 and 363.
func postProcess(in *postIn) (first, last, packets, bytes uint64, ports, head uint32) {
	// Each value is loaded where it is first needed: loaded all at
	// once, they took more registers than there are, and the protocol
	// went to the stack and back.
	e, v := in.e, &in.vals
	first, last = v[cFirst], v[cLast]
	packets, bytes = v[cInPackets], v[cInBytes]
	head = uint32(in.flags) << 16
	if in.version == 9 {
		// The engine type and id of the header's source id (its upper
		// and lower byte), unless the record has its own.
		engine := uint32(bits.ReverseBytes16(uint16(e.key.id)))
		if t := v[sEngineType]; t != 0 {
			engine = engine&0xff00 | uint32(uint8(t))
		}
		if id := v[sEngineID]; id != 0 {
			engine = engine&0xff | uint32(uint8(id))<<8
		}
		head |= engine
		if lastUp := v[sLastUp]; lastUp != 0 {
			firstUp := v[sFirstUp]
			first = e.bootTime + firstUp
			if firstUp > lastUp {
				first -= 0x100000000
			}
			last = e.bootTime + lastUp
		}
		if si := in.si; si > 0 {
			packets, bytes = scale(packets, in.pi, si), scale(bytes, in.pi, si)
		}
		ports = uint32(uint16(v[cSrcPort])) | uint32(uint16(v[cDstPort]))<<16
		if proto := uint8(v[cProto]); proto == flow.ProtoICMP || proto == flow.ProtoICMPv6 {
			// No source port; the destination port is the type and code.
			var dstPort uint16
			switch {
			case v[sICMP] != 0:
				dstPort = uint16(v[sICMP])
			case v[sICMPType] != 0 || v[sICMPCode] != 0:
				dstPort = uint16(256*v[sICMPType] + v[sICMPCode])
			}
			ports = uint32(dstPort) << 16
		}
		return first, last, packets, bytes, ports, head
	}
	head |= uint32(uint8(v[sEngineType])) | uint32(uint8(v[sEngineID]))<<8
	if !in.generic {
		return first, last, packets, bytes, uint32(uint16(v[cSrcPort])) | uint32(uint16(v[cDstPort]))<<16, head
	}
	if first != 0 && last == 0 && v[sDuration] != 0 {
		last = first + v[sDuration]
	}
	// sic: nfcapd 1.7.1 puts flowEndSysUpTime (#21) into first and
	// flowStartSysUpTime (#22) into last. Their base is the record's
	// systemInitTimeMilliseconds, else the exporter's from an options
	// record.
	if up := v[sFirstUp]; up != 0 {
		base := v[sSysInit]
		if base == 0 {
			base = e.sysUpTime
		}
		if base != 0 {
			first, last = base+up, base+v[sLastUp]
		}
	}
	if si := in.si; si > 0 {
		packets, bytes = scale(packets, in.pi, si), scale(bytes, in.pi, si)
	}
	srcPort, dstPort := uint16(v[cSrcPort]), uint16(v[cDstPort])
	switch uint8(v[cProto]) {
	case flow.ProtoICMP, flow.ProtoICMPv6:
		if srcPort != 0 {
			// The type and code in the source port, byte-swapped.
			dstPort = srcPort>>8 | srcPort<<8
			srcPort = 0
		}
		if v[sICMP] != 0 {
			dstPort = uint16(v[sICMP])
		}
	case flow.ProtoTCP, flow.ProtoUDP:
		// an ICMP type/code element may have overwritten it
		dstPort = uint16(v[sDstPort])
	}
	return first, last, packets, bytes, uint32(srcPort) | uint32(dstPort)<<16, head
}

// scale multiplies a counter by the sampling rate as nfcapd does.
func scale(v, pi, si uint64) uint64 {
	if pi == 0 { // counts as 1
		return v * (1 + si)
	}
	return v * (pi + si) / pi
}

// templateSet decodes a set of templates of exporter e (or, in IPFIX,
// withdrawals). A template whose field specifiers are those of the one
// e has under its id is a refresh: kept, compiled plan and all.
func (d *Decoder) templateSet(e *exporter, b []byte, version uint16) error {
	be := binary.BigEndian
	_, _, word := setIDs(version)
	if version == 10 && len(b) >= 4 && be.Uint16(b[2:]) == 0 {
		d.ipfixWithdraw(e, b)
		return nil
	}
	for len(b) > 0 {
		if len(b) < 4 {
			return d.fail(e, e.key.addr, version, ReasonTemplate, "%d bytes left in template %s", len(b), word)
		}
		id, count := be.Uint16(b), int(be.Uint16(b[2:]))
		p := b[4:]
		if version == 9 && len(p) < 4*count {
			return d.fail(e, e.key.addr, version, ReasonTemplate, "template %d: %d fields need %d bytes, have %d", id, count, 4+4*count, len(b))
		}
		// The specifiers' length, 0 when they run past the set's end.
		n := 4 * count
		if version == 10 {
			n = ipfixSpecLen(p, count)
		}
		if n > 0 && e.sameTemplate(id, p[:n]) {
			b = p[n:]
			if len(b) < 4 {
				return nil
			}
			continue
		}
		// An IPFIX count larger than the set holds fails below; what is
		// allocated and charged is bounded by the fields that fit.
		fit := min(count, len(p)/4)
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
				return d.fail(e, e.key.addr, version, ReasonTemplate, "template %d: field %d of %d past the end", id, i, count)
			}
			typ, length := be.Uint16(p), be.Uint16(p[2:])
			p = p[4:]
			var f field
			var known bool
			if version == 9 {
				f, known = compileField(v9Fields, typ, length)
			} else {
				var ent uint16
				if typ&0x8000 != 0 {
					if len(p) < 4 {
						return d.fail(e, e.key.addr, version, ReasonTemplate, "template %d: enterprise number past the end", id)
					}
					ent = uint16(be.Uint32(p))
					p = p[4:]
				}
				f, known = ipfixField(typ&0x7fff, ent, length)
			}
			if known {
				common++
			}
			t.fields = append(t.fields, f)
		}
		b = p
		if common == 0 {
			// nfcapd ignores a template with nothing it knows. (v9 goes on
			// to the next template even where only padding follows, which
			// then fails.)
			if version == 9 {
				continue
			}
		} else {
			t.finishTemplate()
			if version == 9 {
				// nfcapd adds the receive time to every v9 data
				// template, so every record has EXgenericFlow.
				t.elems = t.elems.With(flow.ElemGeneric)
			}
			if t.minLen == 0 {
				return d.fail(e, e.key.addr, version, ReasonZeroLength, "template %d has only zero-length fields", id)
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

// optionFields reads the count field specifiers p of options template
// id of exporter e, the first scopes of them scope fields (whose values
// only take their place), and puts the template in the place of the one
// with its id, or only withdraws that one when it carries nothing nfcapd
// reads. v9 checked that p holds the specifiers; IPFIX's carry
// enterprise numbers, and its count is checked here.
func (d *Decoder) optionFields(e *exporter, id uint16, p []byte, count, scopes int, version uint16) error {
	be := binary.BigEndian
	t := &template{id: id, cost: templateCost(0, 0)}
	var off uint16
	for i := 0; i < count; i++ {
		if len(p) < 4 {
			return d.fail(e, e.key.addr, version, ReasonOptionTemplate, "template %d: field %d past the end", id, i)
		}
		typ, l := be.Uint16(p), be.Uint16(p[2:])
		p = p[4:]
		if version == 10 && typ&0x8000 != 0 {
			if len(p) < 4 {
				return d.fail(e, e.key.addr, version, ReasonOptionTemplate, "template %d: enterprise number past the end", id)
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

// optionTemplate decodes a set of an options template.
func (d *Decoder) optionTemplate(e *exporter, b []byte, version uint16) error {
	if version == 9 {
		return d.v9OptionTemplate(e, b)
	}
	return d.ipfixOptionTemplate(e, b)
}
