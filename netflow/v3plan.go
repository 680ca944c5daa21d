package netflow

import (
	"encoding/binary"
	"math/bits"
	"unsafe"

	"github.com/nfgo/nftools/flow"
)

// Encoding straight into nfdump V3 records. A collector that stores what
// it decodes spends as much time turning a flow.Record into a V3 record as
// it spends decoding the datagram into the Record. For the templates
// routers send (fixed-length fields whose every value has one place in
// one V3 element), the decoder instead compiles a plan at the template's
// first record: the V3 record's frame (header and element headers, the
// exporter's address, zeros elsewhere) and, for each field, where its
// value goes. Every step is the same: load eight bytes big-endian, shift
// them to the field's length, store the number. The steps come in lists
// by where they store: the values post-processing reads or writes (the
// stack, and times, counters, ports and protocol: the core) as numbers,
// the others little-endian into the frame in the width of their V3
// field, which cuts them as nfcapd does. So a record costs a few loops
// without a branch on a field's kind (a switch on it per field, as the
// fast path of run has, mispredicts much of the time), v9 and IPFIX keep
// their one post-processing each, on the Record's core fields, and the
// core values go into the frame after it.
//
// The bytes equal what flowfile's V3 encoder writes for the Record the
// general path decodes from the same datagram (the collector's tests
// compare both for every sample datagram and for every field at every
// length), so a plan is made only where that holds: no element whose
// presence depends on a value (a counter element nfdump adds for a
// counter the template does not carry, say), no address family chosen by
// the order of the fields, no latency element (nfcapd adds seconds and
// microseconds in post-processing).

// V3Flow is a flow the decoder encoded itself as a V3 record.
type V3Flow struct {
	// Record is the V3 record, header included, exactly as flowfile's
	// encoder writes the Record the general path decodes. It is valid
	// until the handler returns.
	Record []byte
	// Flow holds the values a collector counts: the header's (exporter,
	// engine type and id, flags, version), Received, First, Last, the in
	// and out counters, Flows, ports and Proto, as in the record; its
	// other fields hold nothing of this flow.
	Flow *flow.Record
}

// V3Handler is a Handler that stores records as V3 records. With
// Options.V3 set, the decoder calls FlowV3 instead of Flow for the
// records of the templates it has a plan for (see above), and Flow for
// all others. It encodes each such record into the room V3Space returns,
// which must hold at least V3Room bytes, and then hands it to FlowV3 (no
// other call comes between): a handler that writes files returns the room
// after its block's records, so a record's bytes are written once.
type V3Handler interface {
	Handler
	V3Space() []byte
	FlowV3(f *V3Flow)
}

// V3Batch is the flows of one v5 or v7 datagram block, encoded as V3
// records back to back into the room V3Space returned, for a
// V3BatchHandler.
type V3Batch struct {
	// Records holds the N records, record i ending at Ends[i]; it is
	// valid until the handler returns.
	Records []byte
	N       int
	Ends    [v5MaxRecords]uint32
	// Sums are the counts (Count) of all N records summed as nfcapd
	// counts them for a file's stat record: a collector that counts the
	// whole batch at once takes them and reads no record again.
	Sums V3Sums
	// Flow holds the values the records share: the header's (exporter,
	// engine type and id, flags, version) and Received; its other
	// fields hold nothing of these flows.
	Flow *flow.Record
}

// V3Counts are the values of a flow that a collector counts: its times,
// in counters and protocol, as in its record.
type V3Counts struct {
	First, Last, Packets, Bytes uint64
	Proto                       uint8
}

// Count returns the counts of record i of b, read back from the record:
// for a collector that counts records one by one (a hook that sees each
// flow, a batch split over two blocks), which is rare, so the decoder
// does not store them for every record besides the record and Sums.
func (b *V3Batch) Count(i int) V3Counts {
	start := 0
	if i > 0 {
		start = int(b.Ends[i-1])
	}
	g := b.Records[start+genericAt : int(b.Ends[i])]
	return V3Counts{
		First:   le.Uint64(g[0:]),
		Last:    le.Uint64(g[8:]),
		Packets: le.Uint64(g[24:]),
		Bytes:   le.Uint64(g[32:]),
		Proto:   g[44],
	}
}

// V3Sums sums flows without out counters by protocol class, with the
// fields of flowfile.NfcapdSums (a collector converts one into the
// other): N flows, the smallest first time (zero included) and the
// largest last one, and flows, packets and bytes by class (TCP, UDP,
// ICMP, ICMPv6, the others; V3SumClass).
type V3Sums struct {
	N, First, Last        uint64
	Flows, Packets, Bytes [5]uint64
}

// V3SumClass maps an IP protocol to its class in V3Sums: 0 TCP, 1 UDP,
// 2 ICMP, 3 ICMPv6, 4 the others, flowfile's SumTCP to SumOther.
var V3SumClass = func() (t [256]uint8) {
	for p := range t {
		t[p] = 4
	}
	t[flow.ProtoTCP], t[flow.ProtoUDP], t[flow.ProtoICMP], t[flow.ProtoICMPv6] = 0, 1, 2, 3
	return t
}()

// V3BatchHandler is a V3Handler that takes the flows of a v5 or v7
// datagram block, or up to 30 of a v9 or IPFIX data set, at once: one
// call for up to 30 records instead of two for each. When its V3Space
// holds at least V3BatchRoom bytes the decoder encodes the records into
// it back to back and hands them to FlowsV3 (no other call comes
// between); else it calls FlowV3 for each. A v9 or IPFIX template's
// records go in batches when they have no out counters (which the stat
// record counts, and V3Sums do not sum).
type V3BatchHandler interface {
	V3Handler
	FlowsV3(b *V3Batch)
}

// V3BatchRoom is the room a V3BatchHandler's V3Space holds for FlowsV3:
// a block's largest records, and the room one more needs.
const V3BatchRoom = v5MaxRecords*v5FrameMax + V3Room

// V3BatchMax is the most records a V3Batch holds.
const V3BatchMax = v5MaxRecords

// maxV3Size bounds a V3 record of the modeled elements 1 to 17 (their
// sizes add up to 388 bytes with the header); the slack after it takes the
// 8-byte stores of the plan's steps.
const (
	maxV3Size = flow.MaxV3Size
	v3Slack   = 8
)

// V3Room is the room a V3Handler's V3Space must hold: the largest record
// and the slack the encoding writes past its end.
const V3Room = maxV3Size + v3Slack

// v3Slot is where a target's value sits in a V3 record: its element, the
// offset in the element's payload and its width in bytes (16 for an IPv6
// address, stored as two halves, each the big-endian number of its eight
// bytes written little-endian), as flow.V3Places has it.
type v3Slot struct {
	elem  uint8
	off   uint8
	width uint8
}

// slotFields names the field (and for an address, the family) of every
// target that is not core (see isCore) and that a plan stores. The
// latency targets have none: nfcapd adds seconds and microseconds in
// post-processing, so no plan is made for them.
var slotFields = [...]struct {
	field flow.Field
	fam   uint8
}{
	tTCPFlags:  {flow.FieldTCPFlags, 0},
	tFwdStatus: {flow.FieldFwdStatus, 0},
	tSrcTos:    {flow.FieldSrcTos, 0},
	tSrc4:      {flow.FieldSrcAddr, 4},
	tDst4:      {flow.FieldDstAddr, 4},
	tSrc6:      {flow.FieldSrcAddr, 6},
	tDst6:      {flow.FieldDstAddr, 6},
	tInput:     {flow.FieldInIf, 0},
	tOutput:    {flow.FieldOutIf, 0},
	tSrcMask:   {flow.FieldSrcMask, 0},
	tDstMask:   {flow.FieldDstMask, 0},
	tDir:       {flow.FieldDir, 0},
	tDstTos:    {flow.FieldDstTos, 0},
	tBiDir:     {flow.FieldBiFlowDir, 0},
	tEndReason: {flow.FieldEndReason, 0},
	tSrcVLAN:   {flow.FieldSrcVLAN, 0},
	tDstVLAN:   {flow.FieldDstVLAN, 0},
	tSrcAS:     {flow.FieldSrcAS, 0},
	tDstAS:     {flow.FieldDstAS, 0},
	tBGP4:      {flow.FieldBGPNextHop, 4},
	tBGP6:      {flow.FieldBGPNextHop, 6},
	tNextHop4:  {flow.FieldIPNextHop, 4},
	tNextHop6:  {flow.FieldIPNextHop, 6},
	tInSrcMAC:  {flow.FieldInSrcMAC, 0},
	tOutDstMAC: {flow.FieldOutDstMAC, 0},
	tInDstMAC:  {flow.FieldInDstMAC, 0},
	tOutSrcMAC: {flow.FieldOutSrcMAC, 0},
	tNextAS:    {flow.FieldNextAS, 0},
	tPrevAS:    {flow.FieldPrevAS, 0},
	tMPLS1:     {flow.FieldMPLS1, 0},
	tMPLS1 + 1: {flow.FieldMPLS2, 0},
	tMPLS1 + 2: {flow.FieldMPLS3, 0},
	tMPLS1 + 3: {flow.FieldMPLS4, 0},
	tMPLS1 + 4: {flow.FieldMPLS5, 0},
	tMPLS1 + 5: {flow.FieldMPLS6, 0},
	tMPLS1 + 6: {flow.FieldMPLS7, 0},
	tMPLS1 + 7: {flow.FieldMPLS8, 0},
	tMPLS1 + 8: {flow.FieldMPLS9, 0},
	tMPLS1 + 9: {flow.FieldMPLS10, 0},
}

// v3Slots holds the slot of every target of slotFields, from
// flow.V3Places; a target without one has width 0 and gets no plan.
var v3Slots = func() (s [len(slotFields)]v3Slot) {
	for t, f := range slotFields {
		if p, ok := flow.V3PlaceOf(f.field, f.fam); ok && p.Elem != 0 {
			s[t] = v3Slot{p.Elem, p.Off, p.Width}
		}
	}
	return s
}()

// The core values, after the stack in the values a plan decodes: first
// those post-processing reads (postProcess), then the out counters.
const (
	cFirst = numStack + iota
	cLast
	cInPackets
	cInBytes
	cSrcPort
	cDstPort
	cProto
	cOutPackets
	cOutBytes
	cFlows
	// planVals holds the stack and the core values; a power of two, so
	// that a step's index needs no bounds check.
	planVals = 32
)

// The stack and the core values fit planVals (the array's length would be
// negative otherwise).
var _ [planVals - cFlows - 1]struct{}

// coreOf returns the place of a core target among a plan's values, or -1
// for a target that is not core.
func coreOf(t target) int {
	if c := coreSlots[t]; c != 0 {
		return int(c)
	}
	return -1
}

// coreSlots holds the place of every core target among a plan's values
// (the places after the stack's, so 0 is none), by target: the general
// run stores the values post-processing reads there too (setValue).
var coreSlots = [256]uint8{
	tFirst: cFirst, tLast: cLast, tInPackets: cInPackets, tInBytes: cInBytes, tOutPackets: cOutPackets,
	tOutBytes: cOutBytes, tFlows: cFlows, tSrcPort: cSrcPort, tDstPort: cDstPort, tProto: cProto,
}

// coreMasks cuts a core value to the size of its field in nfdump's
// element (as setTarget does), by its place.
var coreMasks = func() (m [planVals]uint64) {
	for c := range m {
		m[c] = ^uint64(0)
	}
	m[cSrcPort], m[cDstPort], m[cProto] = 1<<16-1, 1<<16-1, 1<<8-1
	return m
}()

// planOp is a step of a plan: the eight bytes that end at end in the
// record (the field's last byte, or the eighth of a longer field) loaded
// big-endian and cut to the field's n bytes (planMasks[n&7]), stored at
// dst (an index of the plan's values, or an offset in the V3 record).
//
// A load that ends at the field's end, rather than one that starts at
// its start and shifts the value down, needs no room after the record
// (the last record of a datagram needed a copy into the decoder's pad
// for the loads past its end) and no shift: x86's shift by a variable
// count takes CX, which runPlan's loops then spilled to the stack and
// loaded back at every step (16 instructions a step, now 10). The bytes
// it reads before a field at the record's start belong to the record
// before or to the headers: a data set's records lie 20 bytes or more
// into their datagram (the message and set headers), so they are the
// datagram's.
//
// The steps into the values have dst times 8, the offset of the value,
// and all carry their mask itself: so a step is a load of its end and
// its place, the load and byte swap of the field, the mask (an operand)
// and the store, and the loop's own three (callgrind: 9 instructions,
// with the mask's offset in planMasks 12, as its address was computed
// again at every step).
type planOp struct {
	mask uint64
	end  uint16
	dst  uint16
}

// planMasks cuts an 8-byte load that ends at a field of n bytes to the
// field, by n&7 (8 bytes and more: all of it).
var planMasks = [8]uint64{^uint64(0), 1<<8 - 1, 1<<16 - 1, 1<<24 - 1, 1<<32 - 1, 1<<40 - 1, 1<<48 - 1, 1<<56 - 1}

// newPlanOp returns the step for the field of n bytes (8 at most) that
// ends at end into dst (a value's index, vals set, or a frame offset).
func newPlanOp(end, dst uint16, n uint8, vals bool) planOp {
	if vals {
		dst *= 8
	}
	return planOp{end: end, dst: dst, mask: planMasks[n&7]}
}

// planBefore is how many bytes before a record a plan's loads may read
// (see planOp).
const planBefore = 8

// v3Plan is a template's plan: the frame of its records and the steps
// that fill it, by where they store.
type v3Plan struct {
	vals           []planOp // onto the stack and into the core values
	w1, w2, w4, w8 []planOp // into the frame, 1, 2, 4 or 8 bytes wide
	size           int      // bytes of a record
	counters       int      // offset of the counter element's payload, 0: none
	elems          flow.Elements
	version        uint8
	frame          [maxV3Size]byte
}

// smallFrame covers the frames of the common templates (an IPv4 flow
// with interfaces and counters is some 100 bytes), which runPlan copies
// whole, with what follows them, at a fixed size.
const smallFrame = 128

// The V3 room holds a small frame and the largest v5 frame.
var _ [V3Room - max(smallFrame, v5FrameMax)]struct{}

// The generic element is the first of every record (it has the lowest
// number and is always present): its payload starts after the record
// header and its own.
const genericAt = flow.V3HeaderSize + flow.V3ElemHeaderSize

// Plan states of a template.
const (
	planUnknown = iota
	planNo
	planYes
)

// planSize is what a plan adds to a template's memory, besides its steps.
var planSize = int64(unsafe.Sizeof(v3Plan{}))

// compilePlan makes t's plan for the records of exporter e in protocol
// version, if t has one (see above).
func (t *template) compilePlan(e *exporter, version uint8) {
	t.planState = planNo
	if t.fastState == fastUnknown {
		t.compileFast()
	}
	if t.fastState != fastYes {
		return
	}
	if !t.protoReady {
		t.buildProto(e, version)
	}
	el := t.elems
	for _, pair := range [][2]int{{flow.ElemIPv4, flow.ElemIPv6}, {flow.ElemBGPNextHopV4, flow.ElemBGPNextHopV6},
		{flow.ElemIPNextHopV4, flow.ElemIPNextHopV6}} {
		if el.Has(pair[0]) && el.Has(pair[1]) {
			return // the family would depend on the order of the fields
		}
	}
	set := t.proto.NeededElements() & (1<<(flow.MaxModeledElement+1) - 2)
	if set.Has(flow.ElemLatency) {
		return
	}
	p := &v3Plan{elems: t.proto.Elements, version: t.proto.NFVersion}
	var elemAt [flow.MaxModeledElement + 1]int
	p.size = buildFrame(p.frame[:], &elemAt, set, t.proto.NFVersion, e)
	if o := elemAt[flow.ElemCounters]; o > 0 {
		p.counters = o + flow.V3ElemHeaderSize
	}
	for _, op := range t.fast {
		// A value of 16 bytes is its first eight as a number (the upper
		// half of an address), shorter ones are their n bytes.
		n := min(op.n, 8)
		end := op.off + uint16(n)
		if op.stack != sNone {
			p.vals = append(p.vals, newPlanOp(end, uint16(op.stack), n, true))
		}
		if op.target == tNone {
			continue
		}
		if c := coreOf(op.target); c >= 0 {
			p.vals = append(p.vals, newPlanOp(end, uint16(c), n, true))
			if c == cFlows || c == cOutPackets || c == cOutBytes {
				if p.counters == 0 {
					return // nfdump would add the counter element for a value
				}
			}
			continue
		}
		s := v3Slots[op.target]
		if s.width == 0 || elemAt[s.elem] == 0 {
			return // no slot (latency), or an element only a value would add
		}
		dst := uint16(elemAt[s.elem] + flow.V3ElemHeaderSize + int(s.off))
		step := newPlanOp(end, dst, n, false)
		switch s.width {
		case 1:
			p.w1 = append(p.w1, step)
		case 2:
			p.w2 = append(p.w2, step)
		case 4:
			p.w4 = append(p.w4, step)
		default:
			p.w8 = append(p.w8, step)
			if s.width == 16 && op.n == 16 {
				p.w8 = append(p.w8, newPlanOp(end+8, dst+8, 8, false))
			}
		}
	}
	t.plan, t.planState = p, planYes
}

// buildFrame writes into b the frame of a V3 record of the elements in
// set (modeled ones only): the record header with version, the element
// headers in ascending order, the exporter's address in its element and
// zeros elsewhere. It notes where each element starts in elemAt and
// returns the record's size.
func buildFrame(b []byte, elemAt *[flow.MaxModeledElement + 1]int, set flow.Elements, version uint8, e *exporter) int {
	off, count := flow.V3HeaderSize, 0
	for m := set; m != 0; m &= m - 1 {
		id := bits.TrailingZeros64(uint64(m))
		elemAt[id] = off
		le.PutUint16(b[off:], uint16(id))
		le.PutUint16(b[off+2:], flow.ElemSize[id])
		off += int(flow.ElemSize[id])
		count++
	}
	le.PutUint16(b[0:], flow.V3RecordType)
	le.PutUint16(b[2:], uint16(off))
	le.PutUint16(b[4:], uint16(count))
	b[11] = version
	if o := elemAt[flow.ElemExporterIPv4]; o > 0 {
		a := e.key.addr.As4()
		le.PutUint32(b[o+flow.V3ElemHeaderSize:], binary.BigEndian.Uint32(a[:]))
	}
	if o := elemAt[flow.ElemExporterIPv6]; o > 0 {
		a := e.key.addr.As16()
		le.PutUint64(b[o+flow.V3ElemHeaderSize:], binary.BigEndian.Uint64(a[:]))
		le.PutUint64(b[o+flow.V3ElemHeaderSize+8:], binary.BigEndian.Uint64(a[8:]))
	}
	return off
}

// runPlan decodes one record of t, which has a plan, from b: the stack
// and the core values into vals, what else post-processing and a
// collector read into r (elements, version, exporter, receive time, out
// counters), and the other values into out (at least maxV3Size+v3Slack
// bytes), which starts as the plan's frame. b lies planBefore bytes or
// more into its datagram (see planOp).
func (t *template) runPlan(b []byte, r *flow.Record, vals *[planVals]uint64, e *exporter, msecReceived uint64,
	out []byte) (int, error) {
	if len(b) < t.fastLen {
		return 0, errShortRecord
	}
	p := t.plan
	dp := unsafe.Pointer(unsafe.SliceData(out[:V3Room]))
	if p.size <= smallFrame {
		copySmallFrame(dp, unsafe.Pointer(&p.frame))
	} else {
		copy(out, p.frame[:p.size])
	}
	p.fill(unsafe.Pointer(unsafe.SliceData(b)), dp, vals)
	// What prepare and setValue would leave in r.
	r.Elements, r.NFVersion = p.elems, p.version
	r.ExporterID, r.Received = e.info.SysID, msecReceived
	r.OutPackets, r.OutBytes, r.Flows = vals[cOutPackets], vals[cOutBytes], vals[cFlows]
	return t.fastLen, nil
}

// copySmallFrame copies a small frame (smallFrame bytes) from src to dst
// in 16-byte moves. An assignment of the whole array called memmove (the
// compiler cannot tell that the two do not overlap): 42 instructions a
// record against 16 (callgrind).
func copySmallFrame(dst, src unsafe.Pointer) {
	type chunk = [16]byte
	*(*chunk)(dst) = *(*chunk)(src)
	*(*chunk)(unsafe.Add(dst, 16)) = *(*chunk)(unsafe.Add(src, 16))
	*(*chunk)(unsafe.Add(dst, 32)) = *(*chunk)(unsafe.Add(src, 32))
	*(*chunk)(unsafe.Add(dst, 48)) = *(*chunk)(unsafe.Add(src, 48))
	*(*chunk)(unsafe.Add(dst, 64)) = *(*chunk)(unsafe.Add(src, 64))
	*(*chunk)(unsafe.Add(dst, 80)) = *(*chunk)(unsafe.Add(src, 80))
	*(*chunk)(unsafe.Add(dst, 96)) = *(*chunk)(unsafe.Add(src, 96))
	*(*chunk)(unsafe.Add(dst, 112)) = *(*chunk)(unsafe.Add(src, 112))
}

// The small frame's copy is eight moves of 16 bytes.
var _ [smallFrame - 8*16]struct{}
var _ [8*16 - smallFrame]struct{}

// fill runs p's steps on the record at sp into the values and the frame
// at dp. Every load reads the eight bytes that end at a field's end (or
// its eighth byte), within the record and the planBefore bytes before
// it; every store writes at most eight bytes at an offset within the
// record, which out has room for (V3Room). compilePlan made the steps
// so, and the tests run every field at every length through them;
// without the bounds checks of the slices a step is a load, a byte swap,
// a mask and a store. A function of its own, with few values live: in
// runPlan the loops' counters went to the stack.
func (p *v3Plan) fill(sp, dp unsafe.Pointer, vals *[planVals]uint64) {
	sp = unsafe.Add(sp, -planBefore)
	load := func(op planOp) uint64 {
		return binary.BigEndian.Uint64((*[8]byte)(unsafe.Add(sp, op.end))[:]) & op.mask
	}
	vp := unsafe.Pointer(vals)
	ops := p.vals
	for _, op := range ops {
		*(*uint64)(unsafe.Add(vp, op.dst)) = load(op)
	}
	ops = p.w1
	for _, op := range ops {
		// The field's last byte, the one a byte keeps: no mask.
		*(*byte)(unsafe.Add(dp, op.dst)) = *(*byte)(unsafe.Add(sp, int(op.end)+7))
	}
	// The stores as the processor's where it is little-endian: binary's
	// calls left two NOPs a step.
	ops = p.w2
	for _, op := range ops {
		if hostLE {
			*(*uint16)(unsafe.Add(dp, op.dst)) = uint16(load(op))
		} else {
			le.PutUint16((*[2]byte)(unsafe.Add(dp, op.dst))[:], uint16(load(op)))
		}
	}
	ops = p.w4
	for _, op := range ops {
		if hostLE {
			*(*uint32)(unsafe.Add(dp, op.dst)) = uint32(load(op))
		} else {
			le.PutUint32((*[4]byte)(unsafe.Add(dp, op.dst))[:], uint32(load(op)))
		}
	}
	ops = p.w8
	for _, op := range ops {
		put64(unsafe.Add(dp, op.dst), load(op))
	}
}

// finishV3 writes the core values of r, post-processed, into the record
// its plan filled.
func (p *v3Plan) finishV3(out []byte, r *flow.Record) []byte {
	writeCore(out, r, p.counters)
	return out[:p.size]
}

// writeCore writes the core values of r into the V3 record out: the
// header's, the generic element's but for TCP flags, forwarding status and
// ToS, and those of the counter element at counters (0: none).
func writeCore(out []byte, r *flow.Record, counters int) {
	// One bounds check for all (out holds V3Room bytes), and the
	// neighbours stored together: the engine and the exporter, the two
	// ports (9 stores a record, 12 before; callgrind: 59 -> 30
	// instructions).
	o := (*[V3Room]byte)(out)
	le.PutUint32(o[6:], uint32(r.EngineType)|uint32(r.EngineID)<<8|uint32(r.ExporterID)<<16)
	o[10] = r.Flags
	le.PutUint64(o[genericAt:], r.First)
	le.PutUint64(o[genericAt+8:], r.Last)
	le.PutUint64(o[genericAt+16:], r.Received)
	le.PutUint64(o[genericAt+24:], r.InPackets)
	le.PutUint64(o[genericAt+32:], r.InBytes)
	le.PutUint32(o[genericAt+40:], uint32(r.SrcPort)|uint32(r.DstPort)<<16)
	o[genericAt+44] = r.Proto
	if c := counters; c > 0 {
		cnt := (*[24]byte)(out[c:])
		le.PutUint64(cnt[0:], r.Flows)
		le.PutUint64(cnt[8:], r.OutPackets)
		le.PutUint64(cnt[16:], r.OutBytes)
	}
}

// NetFlow v5 and v7 records have one layout, but three of their elements
// depend on the values: EXflowMisc for interfaces, EXasRouting for AS
// numbers and EXipNextHopV4 for a next hop, each when not zero. An
// exporter keeps the frames of the eight combinations (built when first
// needed), and a record is written straight into the one of its values.

// v5Frame is the frame of a v5 record with some of the optional elements,
// and where their payloads start (0: absent).
//
// A record is written word by word, each byte once: the frame's first
// two words with the header's values, the generic and IPv4 elements'
// five words of values and the word of ports, protocol, flags and ToS,
// the words that hold the source and destination addresses with the
// frame's element headers around them (head), then the rest of the
// frame (tail) and the optional elements' values in it. Copying the whole
// frame first and then storing the values over it wrote some 60 bytes
// twice (25 stores a record, now 17).
type v5Frame struct {
	size              int
	misc, as, nextHop int
	frame             [v5FrameMax]byte
	// head is the frame's words at 0, 8, 64 and 72; tail its bytes from
	// v5TailAt on.
	head [4]uint64
	tail [v5FrameMax - v5TailAt]byte
}

// Where a v5 record's parts lie: the generic element's payload at 16
// (after the record header of 12 bytes and its own of 4), the IPv4
// element's (source, destination) at 68, the optional elements and the
// exporter's address from v5TailAt on.
const (
	v5AddrWord = 64
	v5TailAt   = 80
)

// The tail is copied in three moves of 16 bytes and one of 8.
var _ [v5FrameMax - v5TailAt - 56]struct{}
var _ [56 - (v5FrameMax - v5TailAt)]struct{}

// v5FrameMax is the size of a v5 record with every element it may have
// (an IPv6 exporter's included).
const v5FrameMax = 12 + 52 + 12 + 20 + 12 + 8 + 20

// v5Optional are the optional elements of v5 records, by bit of a frame's
// number.
var v5Optional = [3]int{flow.ElemMisc, flow.ElemAS, flow.ElemIPNextHopV4}

// buildV5Frames builds e's eight frames, frame k having v5Optional[i]
// where bit i of k is set, once, for all its v5 or v7 records.
func (e *exporter) buildV5Frames() {
	for k := range e.v5Frames {
		e.v5Frames[k] = newV5Frame(e, k)
	}
}

// newV5Frame builds e's frame number k.
func newV5Frame(e *exporter, k int) *v5Frame {
	f := &v5Frame{}
	set := flow.Elements(0).With(flow.ElemGeneric).With(flow.ElemIPv4).With(receivedElement(e.key.addr))
	for i, id := range v5Optional {
		if k&(1<<i) != 0 {
			set = set.With(id)
		}
	}
	var elemAt [flow.MaxModeledElement + 1]int
	f.size = buildFrame(f.frame[:], &elemAt, set, 5, e)
	at := func(id int) int {
		if elemAt[id] == 0 {
			return 0
		}
		return elemAt[id] + flow.V3ElemHeaderSize
	}
	f.misc, f.as, f.nextHop = at(flow.ElemMisc), at(flow.ElemAS), at(flow.ElemIPNextHopV4)
	for i, o := range [4]int{0, 8, v5AddrWord, v5AddrWord + 8} {
		f.head[i] = le.Uint64(f.frame[o:])
	}
	copy(f.tail[:], f.frame[v5TailAt:])
	return f
}

// v5V3Records encodes the count records at recs of a v5 or v7 datagram
// block (recLen bytes each, of an exporter whose header said tag) as V3
// records and hands them to vh, all at once when it is a V3BatchHandler
// with the room (d.v3b), else each with the values post-processing and a
// collector need in d.rec, as decodeV5 and v5Finish decode them. What is
// the same for the whole block (the header's values, the sampling scale)
// is set once; a record is then a few loads and stores straight into its
// frame, without a pass through the Record and back.
func (d *Decoder) v5V3Records(vh V3Handler, e *exporter, recs []byte, count, recLen int, tag uint16, msecReceived, boot, sysUp uint64) {
	r := &d.rec
	r.NFVersion = 5
	r.EngineType, r.EngineID = uint8(tag>>8), uint8(tag)
	r.ExporterID, r.Received, r.Flags = e.info.SysID, msecReceived, 0
	r.OutPackets, r.OutBytes, r.Flows = 0, 0, 0
	scale := uint64(1)
	if s := e.v5Sampler; s != nil && s.SpaceInterval > 1 {
		// nfcapd scales only from a space interval of 2 (1:3) on.
		scale = uint64(s.SpaceInterval) + 1
		r.Flags = flow.FlagSampled
	}
	d.v3f.Flow = r
	// The records go into the batch's room when the handler takes them at
	// once, else into the decoder's, from which each is copied into the
	// room V3Space returns and handed to FlowV3 after the loop: one loop
	// for both, with fewer values live than when it chose at every record
	// where the record goes (which kept some twenty values on the stack).
	bh, _ := vh.(V3BatchHandler)
	var room []byte // the batch's, when it goes at once
	if bh != nil {
		if room = bh.V3Space(); len(room) < V3BatchRoom {
			room = nil
		}
	}
	batched := room != nil
	if !batched {
		if d.v5Room == nil {
			d.v5Room = make([]byte, V3BatchRoom)
		}
		room = d.v5Room
	}
	b := &d.v3b
	if e.v5Frames[0] == nil {
		e.buildV5Frames()
	}
	// decodeV5 checked that recs holds count records of recLen bytes,
	// and the batch's room holds count records of at most v5FrameMax
	// bytes and V3Room after the last (V3BatchRoom).
	recs = recs[:count*recLen]
	blk := &v5Block{
		frames: e.v5Frames,
		// The header's bytes 6 and 7 (engine type and id), in its first
		// word, and 8 to 10 (exporter, flags), in its second.
		head0:    uint64(r.EngineType)<<48 | uint64(r.EngineID)<<56,
		head1:    uint64(r.ExporterID) | uint64(r.Flags)<<16,
		received: msecReceived,
		boot:     boot,
		upTol:    sysUp + 100000,
		recLen:   recLen,
		size:     count * recLen,
		ends:     unsafe.Pointer(&b.Ends),
		// The ends' offsets are the differences of the addresses'
		// lower 32 bits, modulo 2^32.
		start: uint32(uintptr(unsafe.Pointer(unsafe.SliceData(room)))),
	}
	n, first, last := v5Encode(blk, unsafe.Pointer(unsafe.SliceData(recs)), unsafe.Pointer(unsafe.SliceData(room)))
	off := int(n)
	if batched {
		// The next batch's records go after these: their lines are asked
		// for now, owned, so that its stores find them in the cache. The
		// writer's block memory was last touched a block or two ago
		// (1 MiB each, 13 ms at 800 000 flows/s), and the disk read it
		// since: perf of gocapd at 800 000 v5 flows/s had most of
		// v5Encode's samples (a fifth of gocapd's) on its first stores
		// into a record's room. Paired 5 s runs against the build
		// before (5 pairs each, load 2): CPU a flow 0.88 at 800 000
		// flows/s, 0.94 at 200 000. Zeroing those lines instead (REP
		// STOSB, whose fast-string stores may skip reading a line
		// before owning it) cost 1.08 and 1.11 of this (800 000 and
		// 200 000, 5 pairs each).
		prefetchStores(uintptr(unsafe.Pointer(unsafe.SliceData(room)))+uintptr(off), off)
	}
	sums := &b.Sums
	sums.N, sums.First, sums.Last = uint64(count), first, last
	sums.Flows = [5]uint64(blk.flows[:5])
	sums.Packets = [5]uint64(blk.packets[:5])
	sums.Bytes = [5]uint64(blk.byteSums[:5])
	if scale != 1 {
		// Sampled (rare): the counters scaled in the records and their
		// sums, after the loop, which so keeps one value fewer live.
		// Sums of products are products of sums, also where they wrap.
		start := 0
		for i := range count {
			g := (*[48]byte)(room[start+genericAt:])
			le.PutUint64(g[24:], le.Uint64(g[24:])*scale)
			le.PutUint64(g[32:], le.Uint64(g[32:])*scale)
			start = int(b.Ends[i])
		}
		for c := range b.Sums.Packets {
			b.Sums.Packets[c] *= scale
			b.Sums.Bytes[c] *= scale
		}
	}
	if count > 0 {
		b.Records, b.N, b.Flow = room[:off], count, r
	}
	switch {
	case count == 0:
	case batched:
		bh.FlowsV3(b)
	default:
		for i := range count {
			c := b.Count(i)
			start := 0
			if i > 0 {
				start = int(b.Ends[i-1])
			}
			rec := b.Records[start:b.Ends[i]]
			r.First, r.Last, r.InPackets, r.InBytes, r.Proto = c.First, c.Last, c.Packets, c.Bytes, c.Proto
			r.SrcPort, r.DstPort = le.Uint16(rec[genericAt+40:]), le.Uint16(rec[genericAt+42:])
			out := vh.V3Space()[:len(rec)]
			copy(out, rec)
			d.v3f.Record = out
			vh.FlowV3(&d.v3f)
		}
	}
	e.flows += uint64(count)
	d.counters.Flows += uint64(count)
}

// v5Block is what every record of a v5 or v7 block shares, for
// v5Encode: in memory, which the loop reads where it needs a value (one
// instruction, an operand), rather than in registers, of which the loop
// had too few: with these values, the sums and the loop's own in
// locals, the compiler spilled and reloaded some twenty of them at every
// record.
type v5Block struct {
	frames   [8]*v5Frame
	head0    uint64 // the header's first word's values
	head1    uint64 // and its second's
	received uint64
	boot     uint64 // msec since epoch at sysUpTime 0
	upTol    uint64 // the header's sysUpTime and the slack of a wrap
	recLen   int
	size     int // of the records, count times recLen
	// Where the first record's end goes (the batch's Ends), and the
	// room's address (lower 32 bits).
	ends  unsafe.Pointer
	start uint32
	// The sums by class, indexed without bounds checks.
	flows, packets, byteSums [8]uint64
}

// v5Encode encodes the records of a v5 or v7 block at recs (blk.size
// bytes of blk.recLen each) as V3 records back to back into the room at
// out, unscaled, notes where each ends (blk.ends) and their sums by
// class (blk), and returns the bytes encoded and the smallest first and
// largest last time. A record is a few loads and stores straight into
// its frame, without a pass through a Record and back.
//
// A record's bytes and its room are found by pointer arithmetic, without
// the bounds checks of slicing (a quarter of the loop's instructions):
// the caller checked that recs holds the records and the room as many
// of at most v5FrameMax bytes and V3Room after the last. Its loads and
// stores are the processor's, of a little-endian one (hostLE; decodeV5
// calls it only there), not binary's: an inlined call whose instructions
// the compiler merged into others' left a NOP for its place (12 a
// record, of 150).
func v5Encode(blk *v5Block, recs, out unsafe.Pointer) (n uint32, sumFirst, sumLast uint64) {
	// The smallest first and largest last time in registers, the other
	// sums in blk.
	sumFirst, sumLast = ^uint64(0), 0
	// The record's room is a pointer of its own: a 16-byte move's
	// address has no index register, so with the room's start and an
	// offset the compiler computed the tail's three addresses apart and
	// kept them on the stack. So is where the record's end goes in
	// b.Ends, which after the last record may point just past them,
	// into b.Sums.
	end := blk.ends
	for o := 0; o < blk.size; o += blk.recLen {
		rec := (*[v5RecordLen]byte)(unsafe.Add(recs, o))
		// The record's parts in the order of their values' loads: the
		// compiler keeps a load from rec after a store before it (out
		// might be rec), so each value is live from its load to its
		// store, not all of them across the record (loaded first, they
		// did not fit in the registers).
		//
		// Interfaces, AS numbers and next hop as they lie (big-endian),
		// for the choice of the frame; each is taken apart only when
		// set, and stored over the frame's zeros after its tail is
		// copied: the optional elements' payloads lie within it
		// (v5FrameMax bytes, within out), so no bounds check either.
		// (Loaded by beAt, these three left a NOP each.)
		ifs := bits.ReverseBytes32(*(*uint32)(unsafe.Pointer(&rec[12])))
		ases := bits.ReverseBytes32(*(*uint32)(unsafe.Pointer(&rec[40])))
		nh := bits.ReverseBytes32(*(*uint32)(unsafe.Pointer(&rec[8])))
		f := blk.frames[(b2i(ifs != 0)+2*b2i(ases != 0)+4*b2i(nh != 0))&7]
		copyV5Tail(unsafe.Add(out, v5TailAt), unsafe.Pointer(&f.tail))
		if o := f.misc; o > 0 {
			// Each pair as one word.
			*(*uint64)(unsafe.Add(out, o)) = pairWord(ifs)
		}
		if o := f.as; o > 0 {
			*(*uint64)(unsafe.Add(out, o)) = pairWord(ases)
		}
		if o := f.nextHop; o > 0 {
			*(*uint32)(unsafe.Add(out, o)) = nh
		}
		*(*uint64)(out) = f.head[0] | blk.head0
		*(*uint64)(unsafe.Add(out, 8)) = f.head[1] | blk.head1
		// EXipv4Flow's header, source and destination, the next
		// element's header.
		// Two numbers of 32 bits that lie side by side are loaded as one
		// of 64 (the first in its upper half): one load and one byte
		// swap for both. Written out here, not by a function: its
		// inlined call left a NOP at each of the three (callgrind,
		// BenchmarkDecodeV3 v5/24: v5Encode 130.2 -> 127.2
		// instructions a flow).
		addrs := bits.ReverseBytes64(*(*uint64)(unsafe.Pointer(&rec[0])))
		*(*uint64)(unsafe.Add(out, v5AddrWord)) = f.head[2] | addrs&^(1<<32-1)
		*(*uint64)(unsafe.Add(out, v5AddrWord+8)) = f.head[3] | uint64(uint32(addrs))
		size := f.size

		// Times as sysUpTimes has them, with a tolerance of 100 000 ms:
		// upTol is the header's sysUpTime plus that.
		times := bits.ReverseBytes64(*(*uint64)(unsafe.Pointer(&rec[24])))
		firstUp, lastUp := times>>32, uint64(uint32(times))
		base := blk.boot
		if lastUp > blk.upTol {
			base -= 0x100000000
		}
		first, last := base+firstUp, base+lastUp
		if firstUp > lastUp {
			first -= 0x100000000
		}
		*(*uint64)(unsafe.Add(out, genericAt)) = first
		*(*uint64)(unsafe.Add(out, genericAt+8)) = last
		*(*uint64)(unsafe.Add(out, genericAt+16)) = blk.received
		// Summed here, while the values are in registers, rather than by
		// the collector from Counts (NfcapdSums.Add).
		sumFirst = min(sumFirst, first)
		sumLast = max(sumLast, last)

		// The pad, TCP flags, protocol and ToS as they lie; the ports as
		// they go into the record (source in the lower half).
		misc := *(*uint32)(unsafe.Pointer(&rec[36]))
		proto := uint8(misc >> 16)
		cl := V3SumClass[proto] & 7
		counts := bits.ReverseBytes64(*(*uint64)(unsafe.Pointer(&rec[16])))
		packets, bytes := counts>>32, uint64(uint32(counts))
		*(*uint64)(unsafe.Add(out, genericAt+24)) = packets
		blk.packets[cl] += packets
		*(*uint64)(unsafe.Add(out, genericAt+32)) = bytes
		blk.byteSums[cl] += bytes
		blk.flows[cl]++
		ports := bits.RotateLeft32(beAt(rec, 32), 16)
		if proto == flow.ProtoICMP && uint16(ports) != 0 {
			// ICMP type and code from the source port into the
			// destination port, byte-swapped (fixICMPPort).
			ports = uint32(bits.ReverseBytes16(uint16(ports))) << 16
		}
		// Ports, protocol, TCP flags, forwarding status (0) and ToS: the
		// flags and ToS stay where they lie, the protocol goes down a
		// byte over the pad.
		*(*uint64)(unsafe.Add(out, genericAt+40)) = uint64(ports) | uint64(misc&0xff00ff00|uint32(proto))<<32

		// The next record's room lies within the batch's (V3BatchRoom).
		out = unsafe.Add(out, size)
		*(*uint32)(end) = uint32(uintptr(out)) - blk.start
		end = unsafe.Add(end, 4)
	}
	return uint32(uintptr(out)) - blk.start, sumFirst, sumLast
}

// beAt returns the big-endian number at rec[o:o+4] (of a little-endian
// processor, see v5Encode).
func beAt(rec *[v5RecordLen]byte, o int) uint32 {
	return bits.ReverseBytes32(*(*uint32)(unsafe.Pointer(&rec[o])))
}

// put64 stores v little-endian at p: as one store where the processor
// is little-endian. binary's PutUint64 of a number whose upper bytes the
// compiler knows to be zero (a 32-bit one widened) it wrote as a store of
// four bytes and four of a zero byte.
func put64(p unsafe.Pointer, v uint64) {
	if hostLE {
		*(*uint64)(p) = v
	} else {
		le.PutUint64((*[8]byte)(p)[:], v)
	}
}

var le = binary.LittleEndian

// copyV5Tail copies a v5 frame's tail (v5FrameMax-v5TailAt bytes) from
// src to dst in four moves (an assignment of the array may call memmove,
// see copySmallFrame).
func copyV5Tail(dst, src unsafe.Pointer) {
	type chunk = [16]byte
	*(*chunk)(dst) = *(*chunk)(src)
	*(*chunk)(unsafe.Add(dst, 16)) = *(*chunk)(unsafe.Add(src, 16))
	*(*chunk)(unsafe.Add(dst, 32)) = *(*chunk)(unsafe.Add(src, 32))
	*(*[8]byte)(unsafe.Add(dst, 48)) = *(*[8]byte)(unsafe.Add(src, 48))
}

// pairWord returns the two 16-bit numbers of x (big-endian, as they
// lie in a v5 record) as two little-endian 32-bit ones, the first in
// the lower half.
func pairWord(x uint32) uint64 {
	return uint64(x>>16) | uint64(x&0xffff)<<32
}

// b2i is 1 for true, 0 for false (a SETcc, no branch).
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// The records of a v9 or IPFIX data set go to a V3BatchHandler in
// batches, as a v5 block's do: the handler's two calls and its counting
// of each flow (the writer's commit, the stat record's and the protocol
// counts' additions) once for up to V3BatchMax records. perf of gocapd
// at 800 000 v9 flows/s: FlowV3 and what it calls, V3Space and flowV3
// took some 17% of its CPU time.

// batchFor returns vh as a V3BatchHandler when the records of template t
// of e go to it in batches, else nil.
func (d *Decoder) batchFor(vh V3Handler, t *template, e *exporter, version uint8) V3BatchHandler {
	bh, _ := vh.(V3BatchHandler)
	if bh == nil || !t.planFor(e, version) || t.plan.counters != 0 {
		return nil
	}
	return bh
}

// batchOut returns the room for the next record of the batch, beginning
// one, or nil when bh's room is too small for a batch: then the record
// goes on its own (space, flowV3).
func (d *Decoder) batchOut(bh V3BatchHandler) []byte {
	if d.batchRoom == nil {
		room := bh.V3Space()
		if len(room) < V3BatchRoom {
			return nil
		}
		d.batchRoom, d.batchOff = room, 0
		d.v3b.N, d.v3b.Sums = 0, V3Sums{}
	}
	// batchAdd hands the batch over once its room holds less than
	// V3Room bytes more: the record's room lies within, unchecked.
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(d.batchRoom)), d.batchOff)), V3Room)
}

// batchAdd completes the record r that t's plan encoded into out, the
// room batchOut returned, sums its counts, and hands the batch to bh
// once it is full or its room holds no more.
func (d *Decoder) batchAdd(bh V3BatchHandler, t *template, r *flow.Record, out []byte) {
	n := len(t.plan.finishV3(out, r))
	b := &d.v3b
	head := uint32(r.EngineType) | uint32(r.EngineID)<<8 | uint32(r.Flags)<<16
	if b.N > 0 && head != d.batchHead {
		// The batch's records share their header's values (a template
		// with engine fields, a sampler a record): it goes before this
		// record, which begins the next (rare: a copy).
		var tmp [V3Room]byte
		copy(tmp[:], out[:n])
		d.batchDone(bh)
		if out = d.batchOut(bh); out == nil {
			out = bh.V3Space()[:V3Room]
			copy(out, tmp[:n])
			d.v3f.Record, d.v3f.Flow = out[:n], r
			bh.FlowV3(&d.v3f)
			return
		}
		copy(out, tmp[:n])
	}
	if b.N == 0 {
		d.batchHead = head
		s := &d.batchRec
		s.Elements, s.NFVersion, s.ExporterID, s.Received = r.Elements, r.NFVersion, r.ExporterID, r.Received
		s.EngineType, s.EngineID, s.Flags = r.EngineType, r.EngineID, r.Flags
	}
	d.batchOff += n
	b.Ends[b.N] = uint32(d.batchOff)
	s := &b.Sums
	if b.N == 0 || r.First < s.First {
		s.First = r.First
	}
	s.Last = max(s.Last, r.Last)
	cl := V3SumClass[r.Proto]
	s.Flows[cl]++
	s.Packets[cl] += r.InPackets
	s.Bytes[cl] += r.InBytes
	b.N++
	if b.N == len(b.Ends) || len(d.batchRoom)-d.batchOff < V3Room {
		d.batchDone(bh)
	}
}

// batchDone hands the batch being encoded, if any, to bh.
func (d *Decoder) batchDone(bh V3BatchHandler) {
	room := d.batchRoom
	if room == nil {
		return
	}
	d.batchRoom = nil
	b := &d.v3b
	if b.N == 0 {
		return
	}
	b.Sums.N = uint64(b.N)
	b.Records, b.Flow = room[:d.batchOff], &d.batchRec
	bh.FlowsV3(b)
}

// v3Handler returns h as a V3Handler when the decoder hands V3 records
// to it, else nil.
func (d *Decoder) v3Handler(h Handler) V3Handler {
	if !d.opts.V3 {
		return nil
	}
	vh, _ := h.(V3Handler)
	return vh
}

// planFor reports whether t has a plan for the records of e in protocol
// version, compiling it at the first record.
func (t *template) planFor(e *exporter, version uint8) bool {
	if t.planState == planUnknown {
		t.compilePlan(e, version)
	}
	return t.planState == planYes
}

// space returns vh's room for the next record when t has a plan for the
// records of e in protocol version (compiling it at the first record), else nil.
func (d *Decoder) space(vh V3Handler, t *template, e *exporter, version uint8) []byte {
	if vh == nil || !t.planFor(e, version) {
		return nil
	}
	return vh.V3Space()[:V3Room]
}

// flowV3 completes the record t's plan encoded into out with the
// post-processed core values of r and hands it to vh.
func (d *Decoder) flowV3(vh V3Handler, t *template, r *flow.Record, out []byte) {
	d.v3f.Record = t.plan.finishV3(out, r)
	d.v3f.Flow = r
	vh.FlowV3(&d.v3f)
}

// planBatch encodes the records of data set b of template t (of
// exporter e, protocol version 9 or 10), which has a plan and no counter
// element (batchFor), into bh's batches: what dataSet does for each
// record through runPlan and batchAdd, in a loop of its own
// (planRecords), with the core values that postProcess returns stored
// straight into the record rather than into a Record read back (callgrind:
// runPlan, batchAdd, batchOut and writeCore took some 220 instructions a
// record besides the post-processing's 150). It returns what is left of
// b when bh's room cannot take a batch (nil else), and the error of a
// record that runs past the set's end, after the records before it went
// to bh.
func (d *Decoder) planBatch(e *exporter, t *template, b []byte, msecReceived uint64, bh V3BatchHandler, version uint8) ([]byte, error) {
	recLen := t.fastLen
	if recLen < 4 {
		return b, nil // the set's padding would be records: one by one
	}
	// The records that the set holds whole; after them, 4 bytes or more
	// are a record cut short, fewer the set's padding.
	k := len(b) / recLen
	short := len(b)-k*recLen >= 4
	pr := &planRun{
		p:            t.plan,
		recLen:       recLen,
		received:     msecReceived,
		exporterWord: uint32(e.info.SysID) << 16,
	}
	pr.forSet(e, t, version)
	pr.generic = t.plan.elems.Has(flow.ElemGeneric)
	src := unsafe.Pointer(unsafe.SliceData(b))
	done := 0
	for done < k {
		room := bh.V3Space()
		if len(room) < V3BatchRoom {
			break
		}
		done += d.planRecords(pr, bh, unsafe.Add(src, done*recLen), k-done, room)
	}
	d.countRecords(e, version, pr.generic, done)
	switch {
	case done < k:
		return b[done*recLen:], nil
	case short:
		return nil, d.fail(e, e.key.addr, uint16(version), ReasonRecord, "template %d: %v", t.id, errShortRecord)
	}
	return nil, nil
}

// planRun is what the records planRecords encodes share, in memory, where
// its loop reads each value where it needs it (one instruction): in
// registers, with the loop's own, they were spilled and reloaded at every
// record.
type planRun struct {
	postIn       // the plan's values, the stack first, and what the records share
	p            *v3Plan
	recLen       int
	received     uint64
	exporterWord uint32 // the header's word at 6, its exporter
	// planRecords' loop: the room's start, the records' start, the
	// record's offset in the room, the records encoded and to encode,
	// the batch's header values.
	start, src unsafe.Pointer
	off, n, m  int
	head0      uint32
}

// planRecords encodes up to k records at src (pr.recLen bytes each, and
// a data set's headers or records before them, see planOp) into room,
// which holds V3BatchRoom bytes or more, as one batch that it hands to
// bh, and returns the number of records encoded. A batch ends after
// V3BatchMax records, where the room holds less than V3Room more, and
// before a record whose header's values (engine fields, flags) are not
// those of the batch's first, which the next batch begins.
func (d *Decoder) planRecords(pr *planRun, bh V3BatchHandler, src unsafe.Pointer, k int, room []byte) int {
	p, e := pr.p, pr.e
	bt := &d.v3b
	// The loop's own values in pr too: the call of fill saved and loaded
	// them around it (Go's calls keep no register), in memory they are
	// loaded where needed. The batch takes a record while the room after
	// the one before holds V3Room bytes.
	pr.start, pr.src, pr.off = unsafe.Pointer(unsafe.SliceData(room)), src, 0
	pr.n, pr.m = 0, min(k, V3BatchMax, (len(room)-V3Room)/p.size+1)
	sums := &bt.Sums
	*sums = V3Sums{}
	sums.First = ^uint64(0)
	for pr.n < pr.m {
		if p.size <= smallFrame {
			copySmallFrame(unsafe.Add(pr.start, pr.off), unsafe.Pointer(&p.frame))
		} else {
			copy(unsafe.Slice((*byte)(unsafe.Add(pr.start, pr.off)), V3Room), p.frame[:p.size])
		}
		p.fill(unsafe.Add(pr.src, pr.n*pr.recLen), unsafe.Add(pr.start, pr.off), &pr.vals)

		// The post-processing on the values the plan decoded, as
		// dataSet's on a Record's.
		pr.sample()
		first, last, packets, bytes, ports, head := postProcess(&pr.postIn)
		proto := uint8(pr.vals[cProto])

		// The core values into the record, as writeCore writes them.
		if pr.n == 0 {
			pr.head0 = head
			br := &d.batchRec
			br.Elements, br.NFVersion, br.ExporterID, br.Received = p.elems, p.version, e.info.SysID, pr.received
			br.EngineType, br.EngineID, br.Flags = uint8(head), uint8(head>>8), uint8(head>>16)
		} else if head != pr.head0 {
			break // the batch's records share their header's values
		}
		o := (*[V3Room]byte)(unsafe.Add(pr.start, pr.off))
		le.PutUint32(o[6:], head&0xffff|pr.exporterWord)
		o[10] = uint8(head >> 16)
		put64(unsafe.Pointer(&o[genericAt]), first)
		put64(unsafe.Pointer(&o[genericAt+8]), last)
		put64(unsafe.Pointer(&o[genericAt+16]), pr.received)
		put64(unsafe.Pointer(&o[genericAt+24]), packets)
		put64(unsafe.Pointer(&o[genericAt+32]), bytes)
		le.PutUint32(o[genericAt+40:], ports)
		o[genericAt+44] = proto

		sums.First = min(sums.First, first)
		sums.Last = max(sums.Last, last)
		cl := V3SumClass[proto]
		sums.Flows[cl]++
		sums.Packets[cl] += packets
		sums.Bytes[cl] += bytes
		// The room's offset, not its address: a pointer stored into pr
		// took the write barrier's check.
		pr.off += p.size
		bt.Ends[pr.n] = uint32(pr.off)
		pr.n++
	}
	n := pr.n
	sums.N = uint64(n)
	bt.N = n
	bt.Records, bt.Flow = room[:pr.off], &d.batchRec
	// Nothing of this batch stays reachable from pr.
	pr.start, pr.src = nil, nil
	bh.FlowsV3(bt)
	return n
}
