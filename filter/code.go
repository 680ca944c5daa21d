package filter

import (
	"encoding/binary"
	"runtime"
	"slices"
	"unsafe"

	"github.com/nfgo/nftools/flow"
)

// The blocks are nfdump's tree as -X prints it, and MatchLabel walks them
// as nfdump does. Match runs a lowered copy, the code: one op per block,
// whose links say where to go on false and on true, where the end of the
// walk is a jump to reject or accept (the block's inversion is settled
// when the code is made, not tested at run time). Making the code settles
// what compiling already knows: tests of constants (the any block, a
// value outside its mask) disappear, their predecessors jumping straight
// on; nfdump's flags-under-not quirk becomes the plain comparison it
// amounts to. Most ops then read a number field straight from the record
// at its byte offset, shift and mask it into nfdump's word, and compare,
// with no call and no switch on the field: a profile of godump with the
// bench filters showed the walk and flow.Field.Value's switch taking 30
// to 45 per cent of its time, most of it in branches it mispredicted.

// Jump targets of the code below the first op: the walk ends there.
const (
	reject uint32 = iota
	accept
	firstOp
)

// Op kinds, the common ones first.
const (
	kLoad     uint8 = iota // a number field at off, (x << shift) & mask compared with value
	kAddrLo                // the lower word of address slot addr
	kAddrHi                // its upper word
	kAddr                  // both words of address slot addr, masked, equal to Filter.addrs[aux]
	kIPList                // address slot addr in the address set aux
	kChain                 // the folded chain aux (chain.go)
	kLoadSet               // a number field at off in the value set aux
	kDuration              // Last - First (the duration field, not the function)
	kIPv6                  // 1 for an IPv6 flow
	kFunc                  // the flow function fn, compared with value
	kTest                  // anything else: the block's own test (Filter.test)
	kIPList4               // raw code only: the IPv4 address at off in the address set aux (raw.go)
)

// op is one block of the code.
type op struct {
	mask, value uint64
	next        [2]uint32 // where to go when the test is false, and when it is true
	off         uint32    // kLoad, kLoadSet: the field's byte offset in flow.Record
	aux         uint32    // kLoadSet, kIPList, kChain, kAddr: the set, chain or address; kTest: the block
	kind        uint8
	// pass has bit 0 set when the test passes on x == value, bit 1 on
	// x > value and bit 2 on x < value: five comparators, no branch.
	pass  uint8
	shift uint8
	addr  uint8 // address ops: the slot in walkState and in addrOffs
	fams  uint8 // address ops: bit n set when a flow of family n (1 none, 4, 6) may pass
	fn    fnCode
	field flow.Field // kLoad, kLoadSet: the field, which the raw code places (raw.go)
}

// passBits is each comparator's pass bits; 0 for the comparators that
// are no comparison of x with value.
var passBits = [...]uint8{cmpEQ: 1, cmpGT: 2, cmpLT: 4, cmpGE: 3, cmpLE: 5}

// fastLoads is whether kLoad's loads work here: the machine stores
// numbers low byte first, and reads eight bytes from any address at full
// speed. Elsewhere the fields are read with flow.Field.Value.
var fastLoads = binary.NativeEndian.Uint16([]byte{1, 0}) == 1 &&
	(runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64" || runtime.GOARCH == "386" || runtime.GOARCH == "ppc64le")

// loadable holds, for the fields kLoad can read, the byte offset in
// flow.Record and the width in bytes of the value flow.Field.Value
// returns: read as the eight bytes from there on, masked to that width,
// they are that value. The ICMP type and code are the upper and the lower
// byte of the destination port, and a VLAN id its lower 16 bits (all on a
// little-endian machine).
var loadable = func() (t [flow.NumFields]struct {
	off   uint16
	width uint8
}) {
	var r flow.Record
	set := func(f flow.Field, p unsafe.Pointer, width uint8) {
		t[f].off, t[f].width = uint16(uintptr(p)-uintptr(unsafe.Pointer(&r))), width
	}
	set(flow.FieldFirst, unsafe.Pointer(&r.First), 8)
	set(flow.FieldLast, unsafe.Pointer(&r.Last), 8)
	set(flow.FieldReceived, unsafe.Pointer(&r.Received), 8)
	set(flow.FieldInPackets, unsafe.Pointer(&r.InPackets), 8)
	set(flow.FieldInBytes, unsafe.Pointer(&r.InBytes), 8)
	set(flow.FieldOutPackets, unsafe.Pointer(&r.OutPackets), 8)
	set(flow.FieldOutBytes, unsafe.Pointer(&r.OutBytes), 8)
	set(flow.FieldSrcPort, unsafe.Pointer(&r.SrcPort), 2)
	set(flow.FieldDstPort, unsafe.Pointer(&r.DstPort), 2)
	set(flow.FieldICMPType, unsafe.Add(unsafe.Pointer(&r.DstPort), 1), 1)
	set(flow.FieldICMPCode, unsafe.Pointer(&r.DstPort), 1)
	set(flow.FieldProto, unsafe.Pointer(&r.Proto), 1)
	set(flow.FieldTCPFlags, unsafe.Pointer(&r.TCPFlags), 1)
	set(flow.FieldFwdStatus, unsafe.Pointer(&r.FwdStatus), 1)
	set(flow.FieldSrcTos, unsafe.Pointer(&r.SrcTos), 1)
	set(flow.FieldDstTos, unsafe.Pointer(&r.DstTos), 1)
	set(flow.FieldNFVersion, unsafe.Pointer(&r.NFVersion), 1)
	set(flow.FieldRecordFlags, unsafe.Pointer(&r.Flags), 1)
	set(flow.FieldEngineType, unsafe.Pointer(&r.EngineType), 1)
	set(flow.FieldEngineID, unsafe.Pointer(&r.EngineID), 1)
	set(flow.FieldExporterID, unsafe.Pointer(&r.ExporterID), 2)
	set(flow.FieldInIf, unsafe.Pointer(&r.Input), 4)
	set(flow.FieldOutIf, unsafe.Pointer(&r.Output), 4)
	set(flow.FieldSrcMask, unsafe.Pointer(&r.SrcMask), 1)
	set(flow.FieldDstMask, unsafe.Pointer(&r.DstMask), 1)
	set(flow.FieldDir, unsafe.Pointer(&r.Dir), 1)
	set(flow.FieldBiFlowDir, unsafe.Pointer(&r.BiFlowDir), 1)
	set(flow.FieldEndReason, unsafe.Pointer(&r.EndReason), 1)
	set(flow.FieldRevTCPFlags, unsafe.Pointer(&r.RevTCPFlags), 1)
	set(flow.FieldSrcVLAN, unsafe.Pointer(&r.SrcVLAN), 2)
	set(flow.FieldDstVLAN, unsafe.Pointer(&r.DstVLAN), 2)
	set(flow.FieldSrcAS, unsafe.Pointer(&r.SrcAS), 4)
	set(flow.FieldDstAS, unsafe.Pointer(&r.DstAS), 4)
	set(flow.FieldNextAS, unsafe.Pointer(&r.NextAS), 4)
	set(flow.FieldPrevAS, unsafe.Pointer(&r.PrevAS), 4)
	set(flow.FieldInSrcMAC, unsafe.Pointer(&r.InSrcMAC), 8)
	set(flow.FieldOutDstMAC, unsafe.Pointer(&r.OutDstMAC), 8)
	set(flow.FieldInDstMAC, unsafe.Pointer(&r.InDstMAC), 8)
	set(flow.FieldOutSrcMAC, unsafe.Pointer(&r.OutSrcMAC), 8)
	for i := range r.MPLS {
		set(flow.FieldMPLS1+flow.Field(i), unsafe.Pointer(&r.MPLS[i]), 4)
	}
	set(flow.FieldClientLatency, unsafe.Pointer(&r.ClientNwDelay), 8)
	set(flow.FieldServerLatency, unsafe.Pointer(&r.ServerNwDelay), 8)
	set(flow.FieldApplLatency, unsafe.Pointer(&r.ApplLatency), 8)
	// Every load reads eight bytes: the record must have them.
	for f := range t {
		if t[f].width > 0 && uintptr(t[f].off)+8 > unsafe.Sizeof(r) {
			panic("filter: field " + flow.Field(f).Name() + " too near the end of flow.Record")
		}
	}
	return t
}()

// addrOffs is the byte offset in flow.Record of each address slot
// (addrIndex).
var addrOffs = [5]uintptr{
	unsafe.Offsetof(flow.Record{}.SrcAddr),
	unsafe.Offsetof(flow.Record{}.DstAddr),
	unsafe.Offsetof(flow.Record{}.IPNextHop),
	unsafe.Offsetof(flow.Record{}.BGPNextHop),
	unsafe.Offsetof(flow.Record{}.Exporter),
}

// lower makes the code from the program (after chain folding).
func (f *Filter) lower() {
	f.code = make([]op, len(f.prog)+1)
	for i := 1; i < len(f.prog); i++ {
		f.code[i+1] = f.lowerInst(uint32(i))
	}
	// A walk through constant tests always goes the same way: send their
	// predecessors straight to where it ends up.
	settleConsts(f.code)
	f.entry = reject
	if f.start != 0 {
		f.entry = skipConst(f.code, f.start+1)
	}
	// Only the ops the walk reaches are fused: an or of 100 networks,
	// folded into one chain, left 200 of them behind, whose fused tests
	// took 21 KB for nothing.
	f.code, f.entry = compact(f.code, f.entry)
	f.fuseAddrs()
	f.code, f.entry = compact(f.code, f.entry)
}

// compact returns the ops of code the walk can reach from entry, in their
// order, and the entry among them. Folding chains and fusing address
// tests leave ops behind that nothing jumps to (an or of 100 networks
// keeps one op of 401), and RawMatcher copies the code for every record
// layout of every file each worker reads: copying the dead ops made
// godump's heap, and so its peak RSS, 3.4 MB larger with that filter.
func compact(code []op, entry uint32) ([]op, uint32) {
	var c compacter
	return c.compact(nil, code, entry)
}

// compacter holds compact's work space, for a caller that compacts code
// again and again (RawMatcher, for each record layout).
type compacter struct {
	at    []uint32 // an op's new index, 0 while unseen
	stack []uint32
}

// compact is compact writing the ops into out's memory when it has room.
func (c *compacter) compact(out, code []op, entry uint32) ([]op, uint32) {
	if entry < firstOp {
		return append(out[:0], code[:firstOp]...), entry
	}
	at := slices.Grow(c.at[:0], len(code))[:len(code)]
	clear(at)
	stack := append(c.stack[:0], entry)
	at[entry] = 1
	for len(stack) > 0 {
		o := &code[stack[len(stack)-1]]
		stack = stack[:len(stack)-1]
		for _, n := range o.next {
			if n >= firstOp && at[n] == 0 {
				at[n] = 1
				stack = append(stack, n)
			}
		}
	}
	c.at, c.stack = at, stack
	kept := uint32(firstOp)
	for i := firstOp; i < uint32(len(code)); i++ {
		if at[i] != 0 {
			at[i] = kept
			kept++
		}
	}
	out = slices.Grow(out[:0], int(kept))[:kept]
	clear(out[:firstOp])
	for i := firstOp; i < uint32(len(code)); i++ {
		if at[i] == 0 {
			continue
		}
		o := &out[at[i]]
		*o = code[i]
		for k, n := range o.next {
			if n >= firstOp {
				o.next[k] = at[n]
			}
		}
	}
	return out, at[entry]
}

// addrTest is the test of a kAddr op: an address's words, masked, equal
// to value, and its family one of fams (op.fams).
type addrTest struct {
	mask, value addr128
	fams        uint8
}

// fuseAddrs makes one op of each test of an address's lower word that
// goes on true to a test of its upper word (or the other way round) with
// the same way out on false: nfdump's pair of blocks for an address or a
// prefix, two branches where one will do.
func (f *Filter) fuseAddrs() {
	half := func(o *op) bool { return o.kind == kAddrLo || o.kind == kAddrHi }
	for i := firstOp; i < uint32(len(f.code)); i++ {
		a := &f.code[i]
		if !half(a) || a.next[1] < firstOp {
			continue
		}
		b := &f.code[a.next[1]]
		if !half(b) || b.kind == a.kind || b.addr != a.addr || b.next[0] != a.next[0] {
			continue
		}
		t := addrTest{fams: a.fams & b.fams}
		for _, h := range [2]*op{a, b} {
			if h.kind == kAddrLo {
				t.mask.lo, t.value.lo = h.mask, h.value
			} else {
				t.mask.hi, t.value.hi = h.mask, h.value
			}
		}
		a.kind, a.aux, a.next[1] = kAddr, uint32(len(f.addrs)), b.next[1]
		f.addrs = append(f.addrs, t)
	}
}

// settleConsts sends the ops of code whose next op has a constant test
// straight to where the walk ends up from there.
func settleConsts(code []op) {
	for i := firstOp; i < uint32(len(code)); i++ {
		o := &code[i]
		o.next[0], o.next[1] = skipConst(code, o.next[0]), skipConst(code, o.next[1])
	}
}

// skipConst follows target through the ops of code whose test is
// constant, as far as the walk always goes from there.
func skipConst(code []op, target uint32) uint32 {
	for n := 0; target >= firstOp && n < len(code); n++ {
		o := &code[target]
		if o.next[0] != o.next[1] {
			return target
		}
		target = o.next[0]
	}
	return target
}

// exit returns op's jump for a test that comes out ev: the next block's
// op, or the end of the walk with the block's result.
func (in *inst) exit(ev bool) uint32 {
	next := in.onFalse
	if ev {
		next = in.onTrue
	}
	switch {
	case next != 0:
		return next + 1
	case ev != in.invert:
		return accept
	}
	return reject
}

// lowerInst makes the op of block i.
func (f *Filter) lowerInst(i uint32) op {
	in := &f.prog[i]
	o := op{next: [2]uint32{in.exit(false), in.exit(true)}, mask: in.mask, value: in.value, kind: kTest, aux: i}
	comp := in.comp
	if comp == cmpFlags {
		// Under an odd number of nots nfdump's flags test is "any of the
		// flags" (see test): x > 0.
		comp = cmpEQ
		if in.invert {
			comp, o.value = cmpGT, 0
		}
	}
	if int(comp) < len(passBits) {
		o.pass = passBits[comp]
	}
	switch {
	case in.op == opConst && o.pass != 0:
		// x is 0.
		ev := o.pass>>cmpShift(0, in.value)&1 != 0
		o.next[0], o.next[1] = in.exit(ev), in.exit(ev)
	case (in.op == opAddrLo || in.op == opAddrHi) && comp == cmpEQ:
		o.kind, o.addr = kAddrLo, in.addr
		if in.op == opAddrHi {
			o.kind = kAddrHi
		}
		o.fams = 1<<1 | 1<<4 | 1<<6
		if in.fam != 0 {
			o.fams = 1<<1 | 1<<in.fam
		}
		if in.value&^in.mask != 0 {
			o.next[1] = o.next[0] // never equal
		}
	case in.op == opField && fastLoads && loadable[in.field].width > 0 && (o.pass != 0 || comp == cmpULList):
		l := loadable[in.field]
		o.off, o.shift, o.field = uint32(l.off), in.fshift, in.field
		// Masking the loaded word to the field's width and shifting it
		// into place is shifting it and masking it with both masks.
		o.mask &= (^uint64(0) >> (64 - 8*uint(l.width))) << in.fshift
		o.kind = kLoad
		if comp == cmpULList {
			o.kind, o.aux = kLoadSet, in.aux
		} else if comp == cmpEQ && o.value&^o.mask != 0 {
			o.next[1] = o.next[0] // never equal
		}
	case in.op == opField && o.pass != 0 && in.field == flow.FieldDuration:
		o.kind, o.shift = kDuration, in.fshift
	case in.op == opField && o.pass != 0 && in.field == flow.FieldIPv6:
		o.kind, o.shift = kIPv6, in.fshift
	case in.op == opFunc && o.pass != 0:
		o.kind, o.fn = kFunc, in.fn
	case in.op == opIPList:
		o.kind, o.addr, o.aux = kIPList, in.addr, in.aux
	case in.op == opAddrChain:
		o.kind, o.aux = kChain, in.aux
	}
	return o
}

// cmpShift is where the pass bit of the comparison of x with v sits in
// op.pass: 0 for equal, 1 for greater, 2 for less, without a branch,
// which matters: the comparison's outcome is the flow's and no predictor
// guesses it. The compiler makes each b2u a SETcc of one compare: with
// bits.Sub64's borrows instead, godump -o null with the bench's twenty
// terms over one of its files took 906 against 887 M instructions.
func cmpShift(x, v uint64) uint64 {
	return b2u(x > v) + 2*b2u(x < v)
}

// isZero is 1 when x is 0, else 0, without a branch.
func isZero(x uint64) uint64 { return 1 ^ (x|-x)>>63 }

// b2u is 1 for true.
func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// run walks the code from the entry until it jumps to accept or reject.
// Each op's test gives ev, 0 or 1, which picks the next op. The common
// kinds are tested first, with conditional branches that the predictor
// learns along a filter's walk; a switch of ten cases would compile into
// a jump table, one indirect branch for every op.
func (f *Filter) run(r *flow.Record, count uint64) bool {
	code := f.code
	idx := f.entry
	var st walkState
	p := unsafe.Pointer(r)
	for idx >= firstOp {
		o := &code[idx]
		var ev uint64
		if o.kind == kLoad {
			x := (*(*uint64)(unsafe.Add(p, o.off)) << (o.shift & 63)) & o.mask
			ev = uint64(o.pass) >> (cmpShift(x, o.value) & 63)
		} else if o.kind == kAddr {
			w := &st.addr[o.addr]
			if w.fam == 0 {
				w.load(addrAt(r, o.addr))
			}
			t := &f.addrs[o.aux]
			ev = isZero((w.lo&t.mask.lo^t.value.lo)|(w.hi&t.mask.hi^t.value.hi)) & uint64(t.fams>>w.fam)
		} else {
			ev = f.other(o, r, count, &st)
		}
		// A branch, not an index: the predictor then runs ahead along
		// the likely path instead of waiting for the test's data.
		if ev&1 != 0 {
			idx = o.next[1]
		} else {
			idx = o.next[0]
		}
	}
	return idx == accept
}

// other runs the tests of the kinds other than kLoad and kAddr.
func (f *Filter) other(o *op, r *flow.Record, count uint64, st *walkState) uint64 {
	switch o.kind {
	case kAddrLo, kAddrHi:
		w := &st.addr[o.addr]
		if w.fam == 0 {
			w.load(addrAt(r, o.addr))
		}
		x := w.lo
		if o.kind == kAddrHi {
			x = w.hi
		}
		return isZero(x&o.mask^o.value) & uint64(o.fams>>w.fam)
	case kIPList:
		w := &st.addr[o.addr]
		if w.fam == 0 {
			w.load(addrAt(r, o.addr))
		}
		return b2u(f.ips[o.aux].has(w))
	case kChain:
		return b2u(f.chains[o.aux].match(r, st))
	case kLoadSet:
		x := (*(*uint64)(unsafe.Add(unsafe.Pointer(r), o.off)) << (o.shift & 63)) & o.mask
		return b2u(f.vals[o.aux].contains(x))
	case kDuration:
		x := ((r.Last - r.First) << (o.shift & 63)) & o.mask
		return uint64(o.pass) >> (cmpShift(x, o.value) & 63)
	case kIPv6:
		x := (b2u(r.IsIPv6()) << (o.shift & 63)) & o.mask
		return uint64(o.pass) >> (cmpShift(x, o.value) & 63)
	case kFunc:
		return uint64(o.pass) >> (cmpShift(function(o.fn, r), o.value) & 63)
	}
	return b2u(f.test(&f.prog[o.aux], r, count, st))
}
