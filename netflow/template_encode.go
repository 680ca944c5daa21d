package netflow

import (
	"github.com/nfgo/nftools/flow"
)

// The v9 and IPFIX encoders share one machinery: a record's shape picks
// its data template, templates are built from encFields on first use, sent
// before the first record that needs them, and re-sent every N datagrams
// and every T ms.
//
// A shape is the address family plus the optional field groups the record
// has values in, and whether its counters and interfaces need wide fields.
// Template ids are 256 + shape, the same on every run, so a collector that
// restarts gets the same ids back. The 64 shapes bound the templates an
// encoder ever makes.
//
// A record whose packet and byte counts fit 32 bits and whose interfaces
// fit 16 (nearly every flow a probe exports within -e's 300 s) goes with
// 4-byte counters and 2-byte interfaces, the lengths v9 gives them by
// default and IPFIX's reduced-size encoding (RFC 7011 section 6.2)
// allows: 12 bytes less a record, 49 instead of 61 for an IPv4 flow with
// its MACs, so that a datagram of the 1500-byte MTU carries a quarter
// more flows.
const (
	shapeV6         = 1 << iota // IPv6 addresses (else IPv4)
	shapeMAC                    // the frame's MACs: source and destination as the probe saw them
	shapePostMAC                // the MACs after forwarding (post source, post destination)
	shapeVLAN                   // source and destination VLAN ids
	shapeRouting                // prefix lengths, AS numbers, next hop
	shapeWide                   // 8-byte counters, 4-byte interfaces
	numShapes       = 1 << iota
	firstTemplateID = 256
)

// encSource says where an encoded field takes its value from.
type encSource uint8

const (
	fromTarget  encSource = iota // the Record field target names
	fromFirstUp                  // v9: First as a sysUpTime offset
	fromLastUp                   // v9: Last as a sysUpTime offset
	fromICMP                     // type<<8|code of an ICMP flow, else 0
	fromHop4                     // the IPv4 next hop, 0 for another family
	fromHop6                     // the IPv6 next hop, 0 for another family
	fromAddr6                    // an address of an IPv6 flow: IPv4 ones v4-mapped
	fromSrcPort                  // the source port, 0 for ICMP flows
)

// encField is one field of a data template: its element id and length in
// each version and where its value comes from. The ids are those the
// decoders map (v9Fields, ipfixFields) to the same target, which
// TestEncFieldsMatchDecoder checks.
type encField struct {
	v9, ipfix  uint16
	n9, nIPFIX uint8
	src        encSource
	target     target
}

func ef(id uint16, n uint8, t target) encField {
	return encField{v9: id, ipfix: id, n9: n, nIPFIX: n, target: t}
}

// Field groups in template order. ICMP type/code comes before the ports so
// that nfcapd's IPFIX decoder, which lets icmpTypeCode overwrite the
// destination port, keeps the port of a protocol that is neither ICMP nor
// TCP/UDP.
var (
	encAddr4 = []encField{ef(8, 4, tSrc4), ef(12, 4, tDst4),
		{v9: 32, ipfix: 32, n9: 2, nIPFIX: 2, src: fromICMP}} // ICMP_TYPE, icmpTypeCodeIPv4
	encAddr6 = []encField{
		{v9: 27, ipfix: 27, n9: 16, nIPFIX: 16, src: fromAddr6, target: tSrc6},
		{v9: 28, ipfix: 28, n9: 16, nIPFIX: 16, src: fromAddr6, target: tDst6},
		// v9 has no IPv6 ICMP type element of its own; nfcapd reads #32
		// for both families. IPFIX: icmpTypeCodeIPv6.
		{v9: 32, ipfix: 139, n9: 2, nIPFIX: 2, src: fromICMP}}
	encPorts = []encField{
		// An ICMP flow has no source port: nfcapd's IPFIX decoder would
		// take one for a type and code.
		{v9: 7, ipfix: 7, n9: 2, nIPFIX: 2, src: fromSrcPort, target: tSrcPort},
		ef(11, 2, tDstPort), ef(4, 1, tProto), ef(5, 1, tSrcTos),
		// tcpControlBits is 16 bits in IPFIX (RFC 7125), 8 in v9.
		{v9: 6, ipfix: 6, n9: 1, nIPFIX: 2, target: tTCPFlags},
	}
	// Interfaces and counters, narrow and wide (see shapeWide).
	encCounts     = []encField{ef(10, 2, tInput), ef(14, 2, tOutput), ef(2, 4, tInPackets), ef(1, 4, tInBytes)}
	encCountsWide = []encField{ef(10, 4, tInput), ef(14, 4, tOutput), ef(2, 8, tInPackets), ef(1, 8, tInBytes)}
	encTimes      = []encField{
		// v9 FIRST_SWITCHED/LAST_SWITCHED (sysUpTime), IPFIX
		// flowStartMilliseconds/flowEndMilliseconds.
		{v9: 22, ipfix: 152, n9: 4, nIPFIX: 8, src: fromFirstUp, target: tFirst},
		{v9: 21, ipfix: 153, n9: 4, nIPFIX: 8, src: fromLastUp, target: tLast},
	}
	// sourceMacAddress, destinationMacAddress (v9 IN_SRC_MAC, IN_DST_MAC);
	// postSourceMacAddress, postDestinationMacAddress (OUT_SRC_MAC,
	// OUT_DST_MAC). A probe sees the first pair; a record with those only
	// leaves the other pair out of its template.
	encMAC     = []encField{ef(56, 6, tInSrcMAC), ef(80, 6, tInDstMAC)}
	encPostMAC = []encField{ef(81, 6, tOutSrcMAC), ef(57, 6, tOutDstMAC)}
	// 802.1Q ids are 12 bits: vlanId and postVlanId are 16.
	encVLAN     = []encField{ef(58, 2, tSrcVLAN), ef(59, 2, tDstVLAN)}
	encRouting4 = []encField{ef(9, 1, tSrcMask), ef(13, 1, tDstMask), ef(16, 4, tSrcAS), ef(17, 4, tDstAS),
		{v9: 15, ipfix: 15, n9: 4, nIPFIX: 4, src: fromHop4, target: tNextHop4}}
	encRouting6 = []encField{ef(29, 1, tSrcMask), ef(30, 1, tDstMask), ef(16, 4, tSrcAS), ef(17, 4, tDstAS),
		{v9: 62, ipfix: 62, n9: 16, nIPFIX: 16, src: fromHop6, target: tNextHop6}}
)

// shapeFields returns the fields of a shape's template, in order.
func shapeFields(shape int) []encField {
	var fs []encField
	if shape&shapeV6 != 0 {
		fs = append(fs, encAddr6...)
	} else {
		fs = append(fs, encAddr4...)
	}
	fs = append(fs, encPorts...)
	if shape&shapeWide != 0 {
		fs = append(fs, encCountsWide...)
	} else {
		fs = append(fs, encCounts...)
	}
	fs = append(fs, encTimes...)
	if shape&shapeMAC != 0 {
		fs = append(fs, encMAC...)
	}
	if shape&shapePostMAC != 0 {
		fs = append(fs, encPostMAC...)
	}
	if shape&shapeVLAN != 0 {
		fs = append(fs, encVLAN...)
	}
	if shape&shapeRouting != 0 {
		if shape&shapeV6 != 0 {
			fs = append(fs, encRouting6...)
		} else {
			fs = append(fs, encRouting4...)
		}
	}
	return fs
}

// shapeOf returns the shape of r.
func shapeOf(r *flow.Record) int {
	s := 0
	if r.IsIPv6() {
		s |= shapeV6
	}
	if r.InSrcMAC|r.InDstMAC != 0 {
		s |= shapeMAC
	}
	if r.OutSrcMAC|r.OutDstMAC != 0 {
		s |= shapePostMAC
	}
	if r.SrcVLAN|r.DstVLAN != 0 {
		s |= shapeVLAN
	}
	if r.SrcMask|r.DstMask != 0 || r.SrcAS|r.DstAS != 0 || r.IPNextHop.IsValid() && !r.IPNextHop.IsUnspecified() {
		s |= shapeRouting
	}
	if (r.InPackets|r.InBytes)>>32 != 0 || (r.Input|r.Output)>>16 != 0 {
		s |= shapeWide
	}
	return s
}

// encOp is a compiled field: where it goes in the record and how fill
// gets its value.
type encOp struct {
	off    uint16
	n      uint8
	kind   encKind
	target target
}

// encKind fuses a field's source, length and target for the fields every
// record has, so that fill stores them with one branch and no call;
// every other field takes the general way through getTarget (encAny).
type encKind uint8

const (
	encAny encKind = iota
	encSrc4
	encDst4
	encSrc6
	encDst6
	encICMP
	encSrcPort
	encDstPort
	encProto
	encTos
	encFlags8
	encFlags16
	encIn2
	encOut2
	encIn4
	encOut4
	encPackets4
	encBytes4
	encPackets8
	encBytes8
	encFirstUp
	encLastUp
	encFirst8
	encLast8
	encHop4
	encHop6
)

// kindOfField returns the op kind of a field of n bytes.
func kindOfField(src encSource, n uint8, t target) encKind {
	switch src {
	case fromFirstUp:
		return encFirstUp
	case fromLastUp:
		return encLastUp
	case fromICMP:
		return encICMP
	case fromSrcPort:
		return encSrcPort
	case fromHop4:
		return encHop4
	case fromHop6:
		return encHop6
	case fromAddr6:
		if t == tSrc6 {
			return encSrc6
		}
		return encDst6
	}
	switch {
	case t == tSrc4 && n == 4:
		return encSrc4
	case t == tDst4 && n == 4:
		return encDst4
	case t == tDstPort && n == 2:
		return encDstPort
	case t == tProto && n == 1:
		return encProto
	case t == tSrcTos && n == 1:
		return encTos
	case t == tTCPFlags && n == 1:
		return encFlags8
	case t == tTCPFlags && n == 2:
		return encFlags16
	case t == tInput && n == 2:
		return encIn2
	case t == tOutput && n == 2:
		return encOut2
	case t == tInPackets && n == 4:
		return encPackets4
	case t == tInBytes && n == 4:
		return encBytes4
	case t == tInput && n == 4:
		return encIn4
	case t == tOutput && n == 4:
		return encOut4
	case t == tInPackets && n == 8:
		return encPackets8
	case t == tInBytes && n == 8:
		return encBytes8
	case t == tFirst && n == 8:
		return encFirst8
	case t == tLast && n == 8:
		return encLast8
	}
	return encAny
}

// encTemplate is a data template ready to send and to fill.
type encTemplate struct {
	spec   []byte // the template record: id, field count, (type, length)...
	ops    []encOp
	recLen int
}

func buildTemplate(shape int, ipfix bool) *encTemplate {
	fs := shapeFields(shape)
	t := &encTemplate{spec: make([]byte, 4+4*len(fs)), ops: make([]encOp, len(fs))}
	putU16(t.spec, uint16(firstTemplateID+shape))
	putU16(t.spec[2:], uint16(len(fs)))
	for i, f := range fs {
		id, n := f.v9, f.n9
		if ipfix {
			id, n = f.ipfix, f.nIPFIX
		}
		src := f.src
		if ipfix && (src == fromFirstUp || src == fromLastUp) {
			src = fromTarget // absolute milliseconds
		}
		putU16(t.spec[4+4*i:], id)
		putU16(t.spec[6+4*i:], uint16(n))
		t.ops[i] = encOp{off: uint16(t.recLen), n: n, kind: kindOfField(src, n, f.target), target: f.target}
		t.recLen += int(n)
	}
	return t
}

// fill writes r into rec (zeroed, recLen bytes); boot is the v9 boot time.
func (t *encTemplate) fill(rec []byte, r *flow.Record, boot uint64) {
	icmp := r.IsICMP()
	for i := range t.ops {
		op := &t.ops[i]
		v := rec[op.off:]
		switch op.kind {
		case encSrc4:
			if r.SrcAddr.Is4() { // else unset: 0.0.0.0
				a := r.SrcAddr.As4()
				copy(v[:4], a[:])
			}
		case encDst4:
			if r.DstAddr.Is4() {
				a := r.DstAddr.As4()
				copy(v[:4], a[:])
			}
		case encSrc6, encDst6:
			// A flow is IPv6 when either address is: the other one,
			// if IPv4, goes as ::ffff:a.b.c.d.
			a := r.SrcAddr
			if op.kind == encDst6 {
				a = r.DstAddr
			}
			if a.IsValid() {
				a16 := a.As16()
				copy(v[:16], a16[:])
			}
		case encICMP:
			if icmp {
				putU16(v, r.DstPort)
			}
		case encSrcPort:
			if !icmp {
				putU16(v, r.SrcPort)
			}
		case encDstPort:
			putU16(v, r.DstPort)
		case encProto:
			v[0] = r.Proto
		case encTos:
			v[0] = r.SrcTos
		case encFlags8:
			v[0] = r.TCPFlags
		case encFlags16:
			v[1] = r.TCPFlags
		case encIn2:
			putU16(v, uint16(r.Input))
		case encOut2:
			putU16(v, uint16(r.Output))
		case encPackets4:
			putU32(v, uint32(r.InPackets))
		case encBytes4:
			putU32(v, uint32(r.InBytes))
		case encIn4:
			putU32(v, r.Input)
		case encOut4:
			putU32(v, r.Output)
		case encPackets8:
			putU64(v, r.InPackets)
		case encBytes8:
			putU64(v, r.InBytes)
		case encFirstUp:
			putU32(v, uint32(r.First-boot))
		case encLastUp:
			putU32(v, uint32(r.Last-boot))
		case encFirst8:
			putU64(v, r.First)
		case encLast8:
			putU64(v, r.Last)
		case encHop4:
			if r.IPNextHop.Is4() {
				a := r.IPNextHop.As4()
				copy(v[:4], a[:])
			}
		case encHop6:
			if r.IPNextHop.Is6() {
				a := r.IPNextHop.As16()
				copy(v[:16], a[:])
			}
		default:
			lo, hi := getTarget(r, op.target)
			put(v, int(op.n), lo, hi)
		}
	}
}

// templateEncoder encodes v9 and IPFIX.
type templateEncoder struct {
	cfg    EncoderConfig
	ipfix  bool
	hdrLen int
	setID  uint16 // template set id: 0 (v9) or 2 (IPFIX)
	pad    int    // data sets are padded to a multiple of pad bytes

	tmpls   [numShapes]*encTemplate
	sent    [numShapes]bool
	known   []uint8 // shapes whose templates were sent, in order of first use
	pending []uint8 // templates of a refresh still to send

	// Encode's scratch: the shapes of a datagram in order, and each
	// record's shape.
	order    []uint8
	recShape []uint8

	datagrams    uint64 // datagrams returned so far
	sinceRefresh int    // datagrams since the last refresh began
	lastRefresh  uint64 // export time of the last refresh
	seq          uint32 // v9: datagrams sent; IPFIX: data records sent
	stats        EncoderStats
}

func newTemplateEncoder(cfg EncoderConfig) (*templateEncoder, error) {
	e := &templateEncoder{cfg: cfg, ipfix: cfg.Version == 10,
		known: make([]uint8, 0, numShapes), pending: make([]uint8, 0, numShapes), order: make([]uint8, 0, numShapes)}
	if e.ipfix {
		e.hdrLen, e.setID, e.pad = ipfixHeaderLen, 2, 1
	} else {
		e.hdrLen, e.setID, e.pad = v9HeaderLen, 0, 4
		// v9 carries whole seconds: count from the second of boot, so
		// that a collector recovers the flow times to the millisecond.
		e.cfg.BootTime -= e.cfg.BootTime % 1000
	}
	// The largest shape must fit a datagram with its template.
	big := e.template(numShapes - 1)
	if e.hdrLen+4+len(big.spec)+e.dataSetLen(big, 1) > cfg.MTU {
		return nil, errMTU
	}
	return e, nil
}

// dataSetLen returns the length of a data set of n records of t, padded.
func (e *templateEncoder) dataSetLen(t *encTemplate, n int) int {
	l := 4 + n*t.recLen
	return l + (e.pad-l%e.pad)%e.pad
}

func (e *templateEncoder) template(shape int) *encTemplate {
	if e.tmpls[shape] == nil {
		e.tmpls[shape] = buildTemplate(shape, e.ipfix)
	}
	return e.tmpls[shape]
}

func (e *templateEncoder) Stats() EncoderStats { return e.stats }

// MaxRecords is one more than the records of the smallest shape (IPv4,
// no MACs, VLANs or routing, narrow counters: every other shape adds
// fields to it) that fit a datagram after the header and one set header.
func (e *templateEncoder) MaxRecords() int {
	return (e.cfg.MTU-e.hdrLen-4)/e.template(0).recLen + 1
}

// setWriter builds the sets of one datagram.
type setWriter struct {
	b     []byte
	start int // offset of the open set's header, -1 for none
	id    uint16
	pad   int
}

func (w *setWriter) open(id uint16) {
	w.close()
	w.start, w.id = len(w.b), id
	w.b, _ = grow(w.b, 4)
}

func (w *setWriter) close() {
	if w.start < 0 {
		return
	}
	if p := (len(w.b) - w.start) % w.pad; p != 0 {
		w.b, _ = grow(w.b, w.pad-p)
	}
	putU16(w.b[w.start:], w.id)
	putU16(w.b[w.start+2:], uint16(len(w.b)-w.start))
	w.start = -1
}

func (e *templateEncoder) Encode(dst []byte, recs []flow.Record, now uint64) ([]byte, int) {
	if len(recs) == 0 {
		return dst[:0], 0
	}
	mtu := e.cfg.MTU
	b, _ := grow(room(dst, mtu)[:0], e.hdrLen)
	w := setWriter{b: b, start: -1, pad: e.pad}
	boot := e.boot(now)

	if e.datagrams == 0 {
		e.lastRefresh = now
	} else if e.sinceRefresh >= e.cfg.TemplateEvery || now-e.lastRefresh >= e.cfg.TemplateTimeout {
		// A refresh still going out over several datagrams goes on:
		// starting it over would never reach the templates at its end.
		if len(e.pending) == 0 {
			e.pending = append(e.pending, e.known...)
		}
		e.sinceRefresh, e.lastRefresh = 0, now
	}

	// The records go grouped by shape, a data set for each shape in the
	// order the shapes first come: a set's header and padding (4 to 7
	// bytes in v9) once a shape, not at every change of shape, which
	// came every other record of a probe's mix of IPv4 and IPv6, tagged
	// and untagged flows. A collector takes a datagram's records in any
	// order.
	//
	// The templates this datagram sends go first, in one set: those of
	// shapes it is the first to carry, and as much of a pending refresh
	// as leaves room for the first record.
	first := shapeOf(&recs[0])
	tmplLen := 0 // template records' bytes
	if !e.sent[first] {
		tmplLen += len(e.template(first).spec)
	}
	room := mtu - e.hdrLen - 4 - tmplLen - e.dataSetLen(e.template(first), 1)
	k := 0 // pending templates sent
	for ; k < len(e.pending); k++ {
		l := len(e.template(int(e.pending[k])).spec)
		if tmplLen+l > room {
			break
		}
		tmplLen += l
	}

	// Plan: how many records fit, and their shapes.
	var count [numShapes]int
	shapes := e.order[:0]
	recShape := e.recShape[:0]
	size := e.hdrLen
	if tmplLen > 0 {
		size += 4 + tmplLen
	}
	n := 0
	for ; n < len(recs); n++ {
		sh := shapeOf(&recs[n])
		t := e.template(sh)
		c := count[sh]
		add := e.dataSetLen(t, c+1)
		if c > 0 {
			add -= e.dataSetLen(t, c)
		} else if !e.sent[sh] && sh != first {
			add += len(t.spec)
			if tmplLen == 0 {
				add += 4
			}
		}
		if n > 0 && size+add > mtu {
			break
		}
		if c == 0 {
			shapes = append(shapes, uint8(sh))
			if !e.sent[sh] && sh != first {
				tmplLen += len(t.spec)
			}
		}
		size += add
		count[sh]++
		recShape = append(recShape, uint8(sh))
	}
	e.order, e.recShape = shapes, recShape

	records := 0 // template and data records: v9's count
	if tmplLen > 0 {
		w.open(e.setID)
		for _, sh := range shapes {
			if !e.sent[sh] {
				e.writeTemplate(&w, int(sh))
				records++
			}
		}
		for _, sh := range e.pending[:k] {
			w.b = append(w.b, e.template(int(sh)).spec...)
			records++
			e.stats.Templates++
		}
		e.pending = append(e.pending[:0], e.pending[k:]...)
	}
	for _, sh := range shapes {
		t := e.template(int(sh))
		w.open(uint16(firstTemplateID + int(sh)))
		for i, rs := range recShape {
			if rs != sh {
				continue
			}
			var rec []byte
			w.b, rec = grow(w.b, t.recLen)
			t.fill(rec, &recs[i], boot)
		}
	}
	data := len(recShape)
	records += data
	w.close()
	b = w.b

	if e.ipfix {
		e.ipfixHeader(b, now, data)
	} else {
		e.v9Header(b, now, boot, records)
	}
	e.datagrams++
	e.sinceRefresh++
	e.stats.Datagrams++
	e.stats.Records += uint64(data)
	return b, n
}

// boot returns the boot time v9 counts uptimes from for a datagram
// exported at now.
func (e *templateEncoder) boot(now uint64) uint64 {
	if e.cfg.BootTime != 0 {
		return e.cfg.BootTime
	}
	return now - now%1000 - FprobeUptime
}

// writeTemplate appends shape's template to the open template set and
// marks it sent.
func (e *templateEncoder) writeTemplate(w *setWriter, shape int) {
	w.b = append(w.b, e.template(shape).spec...)
	e.sent[shape] = true
	e.known = append(e.known, uint8(shape))
	e.stats.Templates++
}
