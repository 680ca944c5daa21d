package netflow

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"unsafe"

	"github.com/nfgo/nftools/flow"
)

// varLength marks a variable-length field (RFC 7011 section 7).
const varLength = 0xffff

// IPFIX sub-template lists: nfcapd keeps templates holding them.
const (
	ieSubTemplateList      = 292
	ieSubTemplateMultiList = 293
)

// field is one field of a data template, compiled against the element
// table.
type field struct {
	inLen uint16 // bytes in the record, varLength for variable
	skip  bool   // not mapped: only skipped over
	sub   uint16 // IPFIX subTemplateList or subTemplateMultiList, else 0
	ie    ie
}

// template is a data or options template of one exporter and domain.
type template struct {
	id   uint16
	data bool
	cost int64 // bytes charged to the template memory
	// spec is the template's field specifiers as they came in, so a
	// template that exporters re-send unchanged (every few seconds, or
	// every 20 datagrams as Cisco does) is recognised and kept, compiled
	// fast path included, instead of being built again.
	spec []byte

	// data templates
	fields []field
	elems  flow.Elements // the modelled V3 elements every record gets
	minLen int           // sum of the fixed lengths (var fields count 1)
	// hasEvent: the template has NSEL/NEL event elements, for which
	// nfcapd's v9 path flags the record as an event
	hasEvent bool

	// options templates
	opt optTemplate

	// The fast path of run, for templates of fixed-length fields only
	// (what routers export): the fields that store something, with their
	// offsets, compiled at the first record.
	fastState uint8 // fastUnknown, fastNo or fastYes
	fastLen   int   // bytes of a record
	fast      []fastOp

	// The plan that encodes its records straight into V3 records
	// (v3plan.go), compiled at the first record when the decoder's
	// handler takes them.
	planState uint8 // planUnknown, planNo or planYes
	plan      *v3Plan

	// proto is what prepare resets a record to, built at the first
	// record: a template belongs to one exporter and one protocol
	// version, so only the receive time changes between its records.
	proto      flow.Record
	protoReady bool
}

const (
	fastUnknown = iota
	fastNo
	fastYes
)

// fastOp is a fixed-length field of a record that stores a value.
type fastOp struct {
	off    uint16
	n      uint8
	stack  uint8
	target target
	kind   fastKind
}

// fastKind fuses a field's length and target for the fields routers send
// in every record, so that runFast loads and stores them with one branch
// instead of a branch on the length and another in setTarget; every other
// field takes the general way (fastAny).
type fastKind uint8

const (
	fastAny fastKind = iota
	fastSrc4
	fastDst4
	fastSrcPort
	fastDstPort
	fastProto
	fastTCPFlags
	fastSrcTos
	fastIn2
	fastOut2
	fastIn4
	fastOut4
	fastPackets4
	fastBytes4
	fastPackets8
	fastBytes8
	fastFirst8 // IPFIX's millisecond times
	fastLast8
	fastStack4 // a 4-byte value kept on the stack only (v9 times, sampler id)
	// IPFIX's destination port, which post-processing also reads from
	// the stack (an ICMP type/code element may overwrite the target)
	fastDstPortStack
)

// kindOf returns the fused kind of a fast field, or fastAny.
func kindOf(n uint8, stack uint8, t target) fastKind {
	if stack != sNone {
		switch {
		case n == 4 && t == tNone:
			return fastStack4
		case n == 2 && t == tDstPort && stack == sDstPort:
			return fastDstPortStack
		}
		return fastAny
	}
	switch {
	case n == 4 && t == tSrc4:
		return fastSrc4
	case n == 4 && t == tDst4:
		return fastDst4
	case n == 2 && t == tSrcPort:
		return fastSrcPort
	case n == 2 && t == tDstPort:
		return fastDstPort
	case n == 1 && t == tProto:
		return fastProto
	case n == 1 && t == tTCPFlags:
		return fastTCPFlags
	case n == 1 && t == tSrcTos:
		return fastSrcTos
	case n == 2 && t == tInput:
		return fastIn2
	case n == 2 && t == tOutput:
		return fastOut2
	case n == 4 && t == tInput:
		return fastIn4
	case n == 4 && t == tOutput:
		return fastOut4
	case n == 4 && t == tInPackets:
		return fastPackets4
	case n == 4 && t == tInBytes:
		return fastBytes4
	case n == 8 && t == tInPackets:
		return fastPackets8
	case n == 8 && t == tInBytes:
		return fastBytes8
	case n == 8 && t == tFirst:
		return fastFirst8
	case n == 8 && t == tLast:
		return fastLast8
	}
	return fastAny
}

// compileFast decides whether run may take the fast path for t: every
// field of fixed length, no sub-template list, and values of 1 to 8 or 16
// bytes. The fast path does exactly what the general loop does for such
// a template.
func (t *template) compileFast() {
	t.fastState = fastNo
	off := 0
	// At most one op a field, as the template's cost counts them: no
	// garbage from growing the slice.
	ops := make([]fastOp, 0, len(t.fields))
	for i := range t.fields {
		f := &t.fields[i]
		if f.inLen == varLength || f.sub != 0 {
			return
		}
		n := int(f.inLen)
		if !f.skip && n > 0 && !f.ie.varOut {
			if n > 8 && n != 16 {
				return
			}
			if f.ie.stack != sNone || f.ie.target != tNone {
				ops = append(ops, fastOp{off: uint16(off), n: uint8(n), stack: f.ie.stack, target: f.ie.target,
					kind: kindOf(uint8(n), f.ie.stack, f.ie.target)})
			}
		}
		off += n
		if off > 0xffff {
			return
		}
	}
	t.fast, t.fastLen, t.fastState = ops, off, fastYes
}

// runFast is run for a template that compileFast accepted.
func (t *template) runFast(b []byte, r *flow.Record, vals *[planVals]uint64) (int, error) {
	if len(b) < t.fastLen {
		return 0, errShortRecord
	}
	b = b[:t.fastLen]
	be := binary.BigEndian
	for i := range t.fast {
		op := &t.fast[i]
		v := b[op.off:]
		switch op.kind {
		case fastSrc4:
			r.SrcAddr = netip.AddrFrom4([4]byte(v[:4]))
			continue
		case fastDst4:
			r.DstAddr = netip.AddrFrom4([4]byte(v[:4]))
			continue
		case fastSrcPort:
			vals[cSrcPort] = uint64(be.Uint16(v))
			continue
		case fastDstPort:
			vals[cDstPort] = uint64(be.Uint16(v))
			continue
		case fastProto:
			vals[cProto] = uint64(v[0])
			continue
		case fastTCPFlags:
			r.TCPFlags = v[0]
			continue
		case fastSrcTos:
			r.SrcTos = v[0]
			continue
		case fastIn2:
			r.Input = uint32(be.Uint16(v))
			continue
		case fastOut2:
			r.Output = uint32(be.Uint16(v))
			continue
		case fastIn4:
			r.Input = be.Uint32(v)
			continue
		case fastOut4:
			r.Output = be.Uint32(v)
			continue
		case fastPackets4:
			vals[cInPackets] = uint64(be.Uint32(v))
			continue
		case fastBytes4:
			vals[cInBytes] = uint64(be.Uint32(v))
			continue
		case fastPackets8:
			vals[cInPackets] = be.Uint64(v)
			continue
		case fastBytes8:
			vals[cInBytes] = be.Uint64(v)
			continue
		case fastStack4:
			vals[op.stack] = uint64(be.Uint32(v))
			continue
		case fastDstPortStack:
			port := uint64(be.Uint16(v))
			vals[cDstPort], vals[sDstPort] = port, port
			continue
		case fastFirst8:
			vals[cFirst] = be.Uint64(v)
			continue
		case fastLast8:
			vals[cLast] = be.Uint64(v)
			continue
		}
		var lo, hi uint64
		switch op.n {
		case 1:
			lo = uint64(v[0])
		case 2:
			lo = uint64(binary.BigEndian.Uint16(v))
		case 4:
			lo = uint64(binary.BigEndian.Uint32(v))
		case 8:
			lo = binary.BigEndian.Uint64(v)
		case 16:
			lo = binary.BigEndian.Uint64(v)
			hi = binary.BigEndian.Uint64(v[8:])
		default:
			for _, c := range v[:op.n] {
				lo = lo<<8 | uint64(c)
			}
		}
		if op.stack != sNone {
			vals[op.stack] = lo
		}
		if op.target != tNone {
			setValue(r, vals, op.target, lo, hi)
		}
	}
	return t.fastLen, nil
}

// optTag locates a value in an options record.
type optTag struct{ off, len uint16 }

// valid is nfcapd's CHECK_OPTION_DATA: the tag is set and fits.
func (t optTag) valid(avail int) bool { return t.len > 0 && int(t.off)+int(t.len) <= avail }

// Options template flags, as nfcapd names them.
const (
	optStd34    = 1
	optStd35    = 2
	optStdMask  = 0x3
	opt302      = 4
	opt304      = 8
	opt305      = 16
	opt306      = 32
	optSampMask = 0x2c // sic: 302|304|306, 305 is not part of the mask
	optSysUp    = 512
	optOther    = 1024 // nbar, interface and VRF names: kept, not decoded
)

type optTemplate struct {
	flags      uint32
	sampler    bool // nfcapd's SAMPLER_TEMPLATE
	id         optTag
	algorithm  optTag
	pktInterv  optTag
	spaceInter optTag
	sysUp      optTag
}

// setOption records where an options template carries an element.
func (o *optTemplate) setOption(typ uint16, t optTag) {
	switch typ {
	case 34:
		o.spaceInter, o.flags = t, o.flags|optStd34
	case 35:
		o.algorithm, o.flags = t, o.flags|optStd35
	case 48, 302:
		o.id, o.flags = t, o.flags|opt302
	case 49, 304:
		o.algorithm, o.flags = t, o.flags|opt304
	case 305:
		o.pktInterv, o.flags = t, o.flags|opt305
	case 50, 306:
		o.spaceInter, o.flags = t, o.flags|opt306
	case 160:
		o.sysUp, o.flags = t, o.flags|optSysUp
	case 94, 95, 96, 10, 83, 234, 236:
		o.flags |= optOther
	}
}

// finish decides what the options template is for, as nfcapd does.
func (o *optTemplate) finish() {
	o.sampler = o.flags&optSampMask == opt306 || o.flags&optStdMask == optStd34
}

// sameTemplate reports whether e has data template id with exactly the
// field specifiers spec.
func (e *exporter) sameTemplate(id uint16, spec []byte) bool {
	t, ok := e.templates[id]
	return ok && t.data && t.spec != nil && bytes.Equal(t.spec, spec)
}

// Template memory. Every template an exporter defines costs memory: its
// compiled fields and fast-path operations, the specifiers kept to
// recognise a refresh, the record its records start from. One budget
// (Options.TemplateMemory) covers the templates of all exporters: a
// template is charged its size when stored and credited when it is
// replaced or withdrawn, or its exporter forgotten. A new template beyond
// the budget is refused and counted, before anything is allocated for it,
// so that a flood of large templates (up to 16 000 fields each, from any
// number of sources) cannot take the collector's memory; the templates
// already stored keep working.

// DefaultTemplateMemory is the template budget when Options leave it 0.
const DefaultTemplateMemory = 64 << 20

var (
	templateSize = int64(unsafe.Sizeof(template{}))
	// A field compiles to a step of the fast path and up to three of the
	// V3 plan (a stack value, and the two halves of an IPv6 address).
	fieldSize = int64(unsafe.Sizeof(field{}) + unsafe.Sizeof(fastOp{}) + 3*unsafe.Sizeof(planOp{}))
)

// templateCost is what a template of n fields with specifiers of specLen
// bytes is charged: its parts, its V3 plan, and some 64 bytes for its map
// entry.
func templateCost(n, specLen int) int64 {
	return templateSize + planSize + 64 + int64(n)*fieldSize + int64(specLen)
}

// admit reports whether a template of cost bytes may take the place of
// e's template id within the budget; when it may not, the refusal is
// counted and returned.
func (d *Decoder) admit(e *exporter, id uint16, cost int64) error {
	var old int64
	if t := e.templates[id]; t != nil {
		old = t.cost
	}
	if d.templateBytes-old+cost <= d.opts.TemplateMemory {
		return nil
	}
	d.counters.TemplatesRefused++
	return d.fail(e, e.key.addr, e.key.version, ReasonTemplateMemory, "template %d of %d bytes refused: %d of %d bytes of template memory taken",
		id, cost, d.templateBytes, d.opts.TemplateMemory)
}

// template returns e's template id, nil if it has none. The one found
// last is kept: most data sets are of the template of the set before,
// which is then found without hashing (callgrind: the map's look-up took
// some 60 instructions a set).
func (e *exporter) template(id uint16) *template {
	if t := e.lastTemplate; t != nil && t.id == id {
		return t
	}
	t := e.templates[id]
	if t != nil {
		e.lastTemplate = t
	}
	return t
}

// putTemplate stores t for e, replacing one with the same id, within the
// cap on templates per exporter and the template memory.
func (d *Decoder) putTemplate(e *exporter, t *template) error {
	if e.templates == nil {
		e.templates = make(map[uint16]*template)
	}
	old, ok := e.templates[t.id]
	if !ok && len(e.templates) >= d.opts.MaxTemplates {
		return d.fail(e, e.key.addr, e.key.version, ReasonTooManyTemplate, "template %d: limit of %d templates reached", t.id, d.opts.MaxTemplates)
	}
	if err := d.admit(e, t.id, t.cost); err != nil {
		return err
	}
	if ok {
		d.release(old)
	}
	d.templateBytes += t.cost
	e.templates[t.id] = t
	e.lastTemplate = nil
	return nil
}

// dropTemplate withdraws e's template id, if it has one.
func (d *Decoder) dropTemplate(e *exporter, id uint16) {
	if t := e.templates[id]; t != nil {
		d.release(t)
		delete(e.templates, id)
		e.lastTemplate = nil
	}
}

// dropTemplates withdraws all of e's templates.
func (d *Decoder) dropTemplates(e *exporter) {
	for _, t := range e.templates {
		d.release(t)
	}
	clear(e.templates)
	e.lastTemplate = nil
}

// release credits a template's cost back to the template memory.
func (d *Decoder) release(t *template) {
	d.templateBytes -= t.cost
}

// TemplateMemory returns the bytes the stored templates are charged.
func (d *Decoder) TemplateMemory() int64 { return d.templateBytes }

// compile builds a data template from (type, length, enterprise) triples;
// it reports false when no field maps to anything, in which case nfcapd
// ignores the template.
func compileField(tab map[uint16]ie, typ, length uint16) (field, bool) {
	f := field{inLen: length}
	x, ok := tab[typ]
	if !ok {
		f.skip = true
		return f, false
	}
	f.ie = x
	return f, true
}

// finishTemplate computes the element set and minimum record length.
func (t *template) finishTemplate() {
	for _, f := range t.fields {
		if f.inLen == varLength {
			t.minLen++
		} else {
			t.minLen += int(f.inLen)
		}
		if !f.skip && f.ie.elem != 0 && f.ie.elem <= flow.MaxModeledElement {
			t.elems = t.elems.With(int(f.ie.elem))
		}
		if !f.skip && (f.ie.elem == exNselCommon || f.ie.elem == exNelCommon) {
			t.hasEvent = true
		}
	}
}

var (
	errShortRecord = errors.New("record runs past the end of its set")
	errNested      = errors.New("sub-template lists nested too deeply")
	errSubList     = errors.New("bad sub-template list")
)

// subTemplates decodes an IPFIX subTemplateList or subTemplateMultiList
// (RFC 6313) into the same record, as nfcapd does: one record of each
// listed sub-template whose template is known, adding its elements.
func subTemplates(typ uint16, v []byte, r *flow.Record, vals *[planVals]uint64, e *exporter, depth int) error {
	if len(v) < 1 {
		return errSubList
	}
	v = v[1:] // semantic
	runSub := func(id uint16, data []byte) error {
		st := e.templates[id]
		if st == nil || !st.data || len(data) == 0 {
			return nil
		}
		r.Elements |= st.elems
		_, err := st.run(data, r, vals, e, depth+1)
		return err
	}
	if typ == ieSubTemplateList {
		if len(v) < 2 {
			return errSubList
		}
		return runSub(binary.BigEndian.Uint16(v), v[2:])
	}
	for len(v) > 4 {
		id, size := binary.BigEndian.Uint16(v), int(binary.BigEndian.Uint16(v[2:]))
		if size > len(v) {
			return errSubList
		}
		if size < 4 {
			return errSubList // nfcapd would loop; RFC 6313 needs the header
		}
		if err := runSub(id, v[4:size]); err != nil {
			return err
		}
		v = v[size:]
	}
	return nil
}

// run decodes one data record of t from b into r (prepared by the caller)
// and vals (zeroed by the caller: the stack, then the values
// post-processing reads, see setValue), the way nfcapd's sequencer
// copies values: numbers big-endian and truncated to the size of
// nfdump's field, lengths 9-15 and longer or variable fields copied as
// raw bytes. It returns the bytes consumed.
func (t *template) run(b []byte, r *flow.Record, vals *[planVals]uint64, e *exporter, depth int) (int, error) {
	if depth > 16 {
		return 0, errNested
	}
	switch t.fastState {
	case fastUnknown:
		t.compileFast()
		if t.fastState == fastYes {
			return t.runFast(b, r, vals)
		}
	case fastYes:
		return t.runFast(b, r, vals)
	}
	pos := 0
	for i := range t.fields {
		f := &t.fields[i]
		n := int(f.inLen)
		isVar := f.inLen == varLength
		if isVar {
			if pos >= len(b) {
				return 0, errShortRecord
			}
			n = int(b[pos])
			pos++
			if n == 255 {
				if pos+2 > len(b) {
					return 0, errShortRecord
				}
				n = int(binary.BigEndian.Uint16(b[pos:]))
				pos += 2
			}
		}
		if pos+n > len(b) {
			return 0, errShortRecord
		}
		v := b[pos : pos+n]
		pos += n
		if f.sub != 0 && e != nil {
			if err := subTemplates(f.sub, v, r, vals, e, depth); err != nil {
				return 0, err
			}
			continue
		}
		if f.skip || n == 0 {
			// skipped, or a zero-length placeholder: nfcapd creates the
			// element but copies no value
			continue
		}
		if f.ie.varOut {
			continue // payloads and NBAR ids: not modelled
		}
		if isVar || n > 16 {
			rawCopy(r, vals, f.ie.target, f.ie.outLen, v)
			continue
		}
		var lo, hi uint64
		switch n {
		case 1:
			lo = uint64(v[0])
		case 2:
			lo = uint64(binary.BigEndian.Uint16(v))
		case 4:
			lo = uint64(binary.BigEndian.Uint32(v))
		case 8:
			lo = binary.BigEndian.Uint64(v)
		case 3, 5, 6, 7:
			for _, c := range v {
				lo = lo<<8 | uint64(c)
			}
		case 16:
			lo = binary.BigEndian.Uint64(v)
			hi = binary.BigEndian.Uint64(v[8:])
		default:
			// lengths 9-15: nfcapd memcpy()s them into a host-order
			// 128-bit buffer
			var buf [16]byte
			copy(buf[:], v)
			lo = binary.LittleEndian.Uint64(buf[:])
			hi = binary.LittleEndian.Uint64(buf[8:])
		}
		if f.ie.stack != sNone {
			vals[f.ie.stack] = lo
		}
		if f.ie.target != tNone {
			setValue(r, vals, f.ie.target, lo, hi)
		}
	}
	return pos, nil
}

// rawCopy emulates nfcapd copying raw bytes over the start of a field held
// in host (little-endian) order.
func rawCopy(r *flow.Record, vals *[planVals]uint64, t target, outLen uint8, v []byte) {
	if t == tNone || outLen == 0 {
		return
	}
	lo, hi := getValue(r, vals, t)
	var mem [16]byte
	binary.LittleEndian.PutUint64(mem[:], lo)
	binary.LittleEndian.PutUint64(mem[8:], hi)
	if t == tSrc6 || t == tDst6 || t == tNextHop6 || t == tBGP6 {
		// the two halves of an IPv6 address are host-order uint64s
		binary.LittleEndian.PutUint64(mem[:], lo)
		binary.LittleEndian.PutUint64(mem[8:], hi)
	}
	copy(mem[:min(int(outLen), 16)], v)
	setValue(r, vals, t, binary.LittleEndian.Uint64(mem[:]), binary.LittleEndian.Uint64(mem[8:]))
}

func addr16(lo, hi uint64) netip.Addr {
	var a [16]byte
	binary.BigEndian.PutUint64(a[:], lo)
	binary.BigEndian.PutUint64(a[8:], hi)
	return netip.AddrFrom16(a)
}

func addr4u(v uint64) netip.Addr {
	u := uint32(v)
	return netip.AddrFrom4([4]byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)})
}

func addrVal(a netip.Addr) (uint64, uint64) {
	if !a.IsValid() {
		return 0, 0
	}
	if a.Is4() {
		b := a.As4()
		return uint64(binary.BigEndian.Uint32(b[:])), 0
	}
	b := a.As16()
	return binary.BigEndian.Uint64(b[:]), binary.BigEndian.Uint64(b[8:])
}

// setValue stores a value of a record being decoded: those that
// post-processing reads (times, in counters, ports, protocol) into vals,
// where postProcess takes them, the others into the Record's field
// (setTarget); each cut to the size the field has in nfdump's element.
func setValue(r *flow.Record, vals *[planVals]uint64, t target, lo, hi uint64) {
	// c is below planVals: the mask only spares the bounds checks.
	if c := coreSlots[t]; c != 0 && c < cOutPackets {
		vals[c&(planVals-1)] = lo & coreMasks[c&(planVals-1)]
		return
	}
	setTarget(r, t, lo, hi)
}

// getValue reads a value of a record being decoded back as setValue
// stores it.
func getValue(r *flow.Record, vals *[planVals]uint64, t target) (uint64, uint64) {
	if c := coreSlots[t]; c != 0 && c < cOutPackets {
		return vals[c&(planVals-1)], 0
	}
	return getTarget(r, t)
}

// setTarget stores a value into a Record field, truncated to the size the
// field has in nfdump's element.
func setTarget(r *flow.Record, t target, lo, hi uint64) {
	switch t {
	case tInBytes:
		r.InBytes = lo
	case tInPackets:
		r.InPackets = lo
	case tFlows:
		r.Flows = lo
	case tProto:
		r.Proto = uint8(lo)
	case tSrcTos:
		r.SrcTos = uint8(lo)
	case tFwdStatus:
		r.FwdStatus = uint8(lo)
	case tTCPFlags:
		r.TCPFlags = uint8(lo)
	case tSrcPort:
		r.SrcPort = uint16(lo)
	case tDstPort:
		r.DstPort = uint16(lo)
	case tSrc4:
		r.SrcAddr = addr4u(lo)
	case tDst4:
		r.DstAddr = addr4u(lo)
	case tSrc6:
		r.SrcAddr = addr16(lo, hi)
	case tDst6:
		r.DstAddr = addr16(lo, hi)
	case tSrcMask:
		r.SrcMask = uint8(lo)
	case tDstMask:
		r.DstMask = uint8(lo)
	case tInput:
		r.Input = uint32(lo)
	case tOutput:
		r.Output = uint32(lo)
	case tNextHop4:
		r.IPNextHop = addr4u(lo)
	case tNextHop6:
		r.IPNextHop = addr16(lo, hi)
	case tBGP4:
		r.BGPNextHop = addr4u(lo)
	case tBGP6:
		r.BGPNextHop = addr16(lo, hi)
	case tSrcAS:
		r.SrcAS = uint32(lo)
	case tDstAS:
		r.DstAS = uint32(lo)
	case tFirst:
		r.First = lo
	case tLast:
		r.Last = lo
	case tOutBytes:
		r.OutBytes = lo
	case tOutPackets:
		r.OutPackets = lo
	case tDstTos:
		r.DstTos = uint8(lo)
	case tInSrcMAC:
		r.InSrcMAC = lo
	case tOutDstMAC:
		r.OutDstMAC = lo
	case tInDstMAC:
		r.InDstMAC = lo
	case tOutSrcMAC:
		r.OutSrcMAC = lo
	case tSrcVLAN:
		r.SrcVLAN = uint32(lo)
	case tDstVLAN:
		r.DstVLAN = uint32(lo)
	case tDir:
		r.Dir = uint8(lo)
	case tBiDir:
		r.BiFlowDir = uint8(lo)
	case tEndReason:
		r.EndReason = uint8(lo)
	case tNextAS:
		r.NextAS = uint32(lo)
	case tPrevAS:
		r.PrevAS = uint32(lo)
	case tClientDelay:
		r.ClientNwDelay = lo
	case tServerDelay:
		r.ServerNwDelay = lo
	case tApplLatency:
		r.ApplLatency = lo
	default:
		if t >= tMPLS1 && t < tMPLS1+10 {
			r.MPLS[t-tMPLS1] = uint32(lo)
		}
	}
}

// getTarget reads a Record field back as setTarget stores it.
func getTarget(r *flow.Record, t target) (uint64, uint64) {
	switch t {
	case tInBytes:
		return r.InBytes, 0
	case tInPackets:
		return r.InPackets, 0
	case tFlows:
		return r.Flows, 0
	case tProto:
		return uint64(r.Proto), 0
	case tSrcTos:
		return uint64(r.SrcTos), 0
	case tFwdStatus:
		return uint64(r.FwdStatus), 0
	case tTCPFlags:
		return uint64(r.TCPFlags), 0
	case tSrcPort:
		return uint64(r.SrcPort), 0
	case tDstPort:
		return uint64(r.DstPort), 0
	case tSrc4, tSrc6:
		return addrVal(r.SrcAddr)
	case tDst4, tDst6:
		return addrVal(r.DstAddr)
	case tSrcMask:
		return uint64(r.SrcMask), 0
	case tDstMask:
		return uint64(r.DstMask), 0
	case tInput:
		return uint64(r.Input), 0
	case tOutput:
		return uint64(r.Output), 0
	case tNextHop4, tNextHop6:
		return addrVal(r.IPNextHop)
	case tBGP4, tBGP6:
		return addrVal(r.BGPNextHop)
	case tSrcAS:
		return uint64(r.SrcAS), 0
	case tDstAS:
		return uint64(r.DstAS), 0
	case tFirst:
		return r.First, 0
	case tLast:
		return r.Last, 0
	case tOutBytes:
		return r.OutBytes, 0
	case tOutPackets:
		return r.OutPackets, 0
	case tDstTos:
		return uint64(r.DstTos), 0
	case tInSrcMAC:
		return r.InSrcMAC, 0
	case tOutDstMAC:
		return r.OutDstMAC, 0
	case tInDstMAC:
		return r.InDstMAC, 0
	case tOutSrcMAC:
		return r.OutSrcMAC, 0
	case tSrcVLAN:
		return uint64(r.SrcVLAN), 0
	case tDstVLAN:
		return uint64(r.DstVLAN), 0
	case tDir:
		return uint64(r.Dir), 0
	case tBiDir:
		return uint64(r.BiFlowDir), 0
	case tEndReason:
		return uint64(r.EndReason), 0
	case tNextAS:
		return uint64(r.NextAS), 0
	case tPrevAS:
		return uint64(r.PrevAS), 0
	case tClientDelay:
		return r.ClientNwDelay, 0
	case tServerDelay:
		return r.ServerNwDelay, 0
	case tApplLatency:
		return r.ApplLatency, 0
	}
	if t >= tMPLS1 && t < tMPLS1+10 {
		return uint64(r.MPLS[t-tMPLS1]), 0
	}
	return 0, 0
}

// prepare resets r for a record of template t: the elements the template
// yields and zero addresses of the families its elements carry, so a
// record keeps an element even when its values stay zero.
func (t *template) prepare(r *flow.Record, e *exporter, version uint8, msecReceived uint64) {
	if !t.protoReady {
		t.buildProto(e, version)
	}
	// One copy of a ready record costs about half of zeroing r and
	// setting the fields again, and this runs for every flow.
	*r = t.proto
	r.ExporterID = e.info.SysID
	r.Received = msecReceived
}

func (t *template) buildProto(e *exporter, version uint8) {
	r := &t.proto
	*r = flow.Record{
		Elements:  t.elems.With(receivedElement(e.key.addr)),
		NFVersion: version,
		Exporter:  e.key.addr,
	}
	el := t.elems
	zero4 := netip.AddrFrom4([4]byte{})
	if el.Has(flow.ElemIPv4) {
		r.SrcAddr, r.DstAddr = zero4, zero4
	}
	if el.Has(flow.ElemIPv6) {
		r.SrcAddr, r.DstAddr = netip.IPv6Unspecified(), netip.IPv6Unspecified()
	}
	if el.Has(flow.ElemIPNextHopV4) {
		r.IPNextHop = zero4
	}
	if el.Has(flow.ElemIPNextHopV6) {
		r.IPNextHop = netip.IPv6Unspecified()
	}
	if el.Has(flow.ElemBGPNextHopV4) {
		r.BGPNextHop = zero4
	}
	if el.Has(flow.ElemBGPNextHopV6) {
		r.BGPNextHop = netip.IPv6Unspecified()
	}
	t.protoReady = true
}

// optionData processes an options data set of an options template: the
// first record's sampler or SysUpTime, as nfcapd does.
func (d *Decoder) optionData(e *exporter, t *template, b []byte, h Handler) {
	o := &t.opt
	if o.sampler {
		if o.flags&optSampMask != 0 {
			s := flow.Sampler{}
			if o.id.valid(len(b)) {
				s.ID = int64(getVal(b, o.id))
			}
			if o.algorithm.valid(len(b)) {
				s.Algorithm = uint16(getVal(b, o.algorithm))
			}
			if o.pktInterv.valid(len(b)) {
				s.PacketInterval = uint32(getVal(b, o.pktInterv))
			}
			if o.spaceInter.valid(len(b)) {
				s.SpaceInterval = uint32(getVal(b, o.spaceInter))
			}
			if s.PacketInterval == 0 {
				s.PacketInterval = 1
				if s.SpaceInterval > 0 {
					s.SpaceInterval--
				}
			}
			d.insertSampler(e, s, h)
		} else if o.flags&optStdMask != 0 {
			s := flow.Sampler{ID: flow.SamplerGeneric, PacketInterval: 1}
			if o.algorithm.valid(len(b)) {
				s.Algorithm = uint16(getVal(b, o.algorithm))
			}
			if o.spaceInter.valid(len(b)) {
				s.SpaceInterval = uint32(getVal(b, o.spaceInter))
				if s.SpaceInterval > 0 {
					s.SpaceInterval--
				}
			}
			d.insertSampler(e, s, h)
		}
	}
	if o.flags&optSysUp != 0 && o.sysUp.valid(len(b)) {
		e.sysUpTime = getVal(b, o.sysUp)
	}
}

// getVal is nfcapd's Get_val: a big-endian number of 1 to 8 bytes, 0 for
// other lengths.
func getVal(b []byte, t optTag) uint64 {
	if t.len < 1 || t.len > 8 {
		return 0
	}
	var v uint64
	for _, c := range b[t.off : t.off+t.len] {
		v = v<<8 | uint64(c)
	}
	return v
}
