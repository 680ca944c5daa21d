package filter

import (
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/nfgo/nftools/flow"
)

// Match needs a decoded flow.Record, and decoding a record costs about
// what testing it does: a profile of godump -o null with 'proto tcp' on
// LZ4 files put a tenth of the run in decoding the records the filter
// then looked at. A file reader knows more: the records of one template
// share one layout, which fixes where every field sits in their bytes
// (flow.Layout). RawMatcher lowers the code once more for such a layout:
// each load reads its field at its offset in the record instead of in
// flow.Record, a field the layout lacks becomes the constant 0 (nfdump's
// meaning of a missing element) and its test is settled, as are the tests
// the layout alone decides (ipv6, ident). The reader then tests records
// before it decodes them, and decodes only those that pass.

// rawProg is the code of a filter lowered for records of one layout, or
// of several that lower it the same.
type rawProg struct {
	f *Filter
	// code is the lowered code, and entry where its walk starts: what
	// tells programs apart (rawTests). match is the test made of it.
	code  []op
	entry uint32
	match func(rec []byte) bool
	// cur is the code the walk runs: first the lowered code, which
	// counts its tests' outcomes on the first rawSamples records, then
	// that code reordered by the counts (reorder.go).
	cur     atomic.Pointer[rawCode]
	counts  [][2]atomic.Uint32 // each op's false and true outcomes while sampling
	sampled atomic.Int32       // records walked while sampling
	rawPlaces
}

// rawPlaces is where the lowered code reads what its ops do not place
// themselves.
type rawPlaces struct {
	// The address slots (addrIndex) the code reads: where each sits in
	// the record and its family as flow.Layout.Fam says (0 for none).
	used    uint8
	addrOff [5]uint16
	addrFam [5]uint8
	// The offset of the generic element's first field, and of the MPLS
	// label stack; 0 when the record has none.
	generic, mpls uint16
}

// addrFields is the address field of each address slot (addrIndex).
var addrFields = [5]flow.Field{flow.FieldSrcAddr, flow.FieldDstAddr, flow.FieldIPNextHop, flow.FieldBGPNextHop, flow.FieldRouter}

// RawMatcher returns Match for records stored as l says, tested on their
// bytes: match(rec) is Match of the record rec decodes into. rec must be
// followed by at least 8 more readable bytes (the loads read 8 bytes and
// mask), as it is inside a block of records with 8 bytes after it; the
// caller checks that, and the layout's offsets lie inside rec. RawMatcher
// returns nil for a filter that needs more than the record's fields
// (count, flow labels), and for one with tests it does not lower; the
// caller then decodes and calls Match; it does so for every layout when
// it does for the empty one. match is safe for concurrent use and does
// not allocate.
func (f *Filter) RawMatcher(l *flow.Layout) (match func(rec []byte) bool) {
	if !fastLoads || f.count || f.labels {
		return nil
	}
	// A reader asks for each layout in each file and worker: they share
	// one test, which counts and reorders once. Making one each time
	// left 1.2 MB of garbage over the bench's ten files with twenty
	// terms, and godump's peak RSS as much above nfdump's.
	f.raw.mu.Lock()
	defer f.raw.mu.Unlock()
	if m, ok := f.raw.m[*l]; ok {
		return m
	}
	m := f.rawMatcher(l)
	if f.raw.m == nil {
		f.raw.m = make(map[flow.Layout]func([]byte) bool)
	}
	f.raw.m[*l] = m
	return m
}

// rawTests are the raw tests a filter made, by layout, and the programs
// behind them. Layouts that differ only where the filter does not look
// (a MAC or VLAN element before the ones it reads, say, moves no field
// it tests) lower it into the same code, and share one program: the
// bench's ten files hold 13 layouts, on which its twenty-term filter
// lowers into 7 programs, 'proto tcp' into 2. Each program samples and
// reorders once, which left 64 KB of garbage with twenty terms, enough
// to set off a second garbage collection during godump -s and raise its
// peak RSS above nfdump's.
type rawTests struct {
	mu    sync.Mutex
	m     map[flow.Layout]func([]byte) bool
	progs []*rawProg
	// Work space for lowering the code for a layout, kept between
	// layouts: only a program unlike the others is copied out of it.
	lowered, compacted []op
	compacter
}

// rawMatcher makes RawMatcher's test for records of layout l, or takes
// that of a program made for another layout that lowers the same. The
// caller holds f.raw.mu.
func (f *Filter) rawMatcher(l *flow.Layout) func(rec []byte) bool {
	t := f.raw
	p := &rawProg{f: f}
	for i := range addrFields {
		p.addrOff[i], p.addrFam[i] = l.Off[addrFields[i]], l.Fam[addrFields[i]]
	}
	first := l.Off[flow.FieldFirst]
	if first != 0 && l.Off[flow.FieldLast] == first+8 && l.Off[flow.FieldInPackets] == first+24 && l.Off[flow.FieldInBytes] == first+32 {
		p.generic = first
	} else if first != 0 || l.Off[flow.FieldLast] != 0 || l.Off[flow.FieldInPackets] != 0 || l.Off[flow.FieldInBytes] != 0 {
		return nil // not the generic element's layout
	}
	p.mpls = l.Off[flow.FieldMPLS1]
	for i := 1; i < len(l.Off[flow.FieldMPLS1:flow.FieldMPLS10+1]); i++ {
		if p.mpls != 0 && l.Off[flow.FieldMPLS1+flow.Field(i)] != p.mpls+uint16(4*i) {
			return nil // not the MPLS element's layout
		}
	}
	code := append(t.lowered[:0], f.code...)
	t.lowered = code
	for i := firstOp; i < uint32(len(code)); i++ {
		if !p.lowerOp(&code[i], l) {
			return nil
		}
	}
	settleConsts(code)
	entry := skipConst(code, f.entry)
	// Only what the walk reaches counts: a layout settles tests (those
	// of IPv6 addresses on one of IPv4 addresses) that another keeps.
	t.compacted, entry = t.compacter.compact(t.compacted, code, entry)
	p.forget()
	for _, q := range t.progs {
		if q.entry == entry && q.rawPlaces == p.rawPlaces && slices.Equal(q.code, t.compacted) {
			return q.match
		}
	}
	p.code, p.entry = slices.Clone(t.compacted), entry
	t.progs = append(t.progs, p)
	if fp := flatten(p.code, entry); fp != nil {
		p.match = p.flatMatcher(fp)
		return p.match
	}
	p.counts = make([][2]atomic.Uint32, len(p.code))
	p.cur.Store(&rawCode{code: p.code, entry: entry, sampling: true})
	p.match = p.matcher()
	return p.match
}

// forget clears what p knows of its layout that its code does not use,
// so that programs of layouts that differ only there compare equal.
func (p *rawProg) forget() {
	for i := range p.addrOff {
		if p.used&(1<<i) == 0 {
			p.addrOff[i], p.addrFam[i] = 0, 0
		}
	}
}

// rawCode is code for the walk, and where it starts.
type rawCode struct {
	code     []op
	entry    uint32
	sampling bool // the walk counts the outcomes (rawProg.sample)
}

// rawSamples is how many records a rawProg counts its tests' outcomes on
// before it reorders its code: enough to tell a test that most flows
// pass from one that most fail, few next to a shape's records in a file
// (a block holds thousands).
const rawSamples = 512

// lowerOp makes o read its field from the record's bytes, or settles its
// test when the layout decides it; false for an op it cannot lower.
func (p *rawProg) lowerOp(o *op, l *flow.Layout) bool {
	if o.next[0] == o.next[1] {
		return true // settled already
	}
	settle := func(ev uint64) {
		o.next[0] = o.next[ev&1]
		o.next[1] = o.next[0]
	}
	switch o.kind {
	case kLoad, kLoadSet:
		off := l.Off[o.field]
		if off != 0 {
			o.off = uint32(off)
			return true
		}
		// x is 0.
		if o.kind == kLoad {
			settle(uint64(o.pass) >> cmpShift(0, o.value))
		} else {
			settle(b2u(p.f.vals[o.aux].contains(0)))
		}
	case kAddr, kAddrLo, kAddrHi:
		if !p.lowerAddr(o, settle) {
			p.used |= 1 << o.addr
		}
	case kIPList:
		// Where the layout holds an IPv4 address the set reads it at its
		// place, without the address cache (loadAddrs, walkState): the
		// bench's ip in [ ] of 1000 addresses added 437 instructions a
		// record to flowfile's BenchmarkSelectBlock loop, 339 so.
		set := p.f.ips[o.aux]
		switch {
		case set.blind || p.addrFam[o.addr] == 6:
			p.used |= 1 << o.addr
		case p.addrFam[o.addr] == 4:
			o.kind, o.off = kIPList4, uint32(p.addrOff[o.addr])
		default:
			settle(b2u(set.has(&addrWords{fam: 1}))) // no address: zeros
		}
	case kChain:
		for _, k := range p.f.chains[o.aux].classes {
			p.used |= 1 << k.addr
		}
	case kDuration, kFunc:
		if p.generic == 0 && (o.kind == kDuration || o.fn != fnMPLSEOS && o.fn != fnMPLSAny) {
			// Times and counters are 0, so are durations and rates.
			settle(uint64(o.pass) >> cmpShift(0, o.value))
		}
	case kIPv6:
		x := (b2u(p.addrFam[0] == 6 || p.addrFam[1] == 6) << (o.shift & 63)) & o.mask
		settle(uint64(o.pass) >> cmpShift(x, o.value))
	case kTest:
		if in := &p.f.prog[o.aux]; in.op == opIdent {
			settle(b2u(p.f.identMatch != nil && p.f.identMatch[in.aux]))
			return true
		}
		return false
	default:
		return false
	}
	return true
}

// lowerAddr settles an address test when the layout carries no address
// there, and makes it a test of a field when the layout holds an IPv4
// address: its lower word is then the stored 32-bit number and its upper
// word 0. A record of the layout then needs no address read before the
// walk (matcher), and the walk takes the common kind's way. A test of an
// IPv4 address or prefix fails on a layout of IPv6 addresses. It reports
// false for the tests that stay address tests: of an IPv6 address that
// may pass.
func (p *rawProg) lowerAddr(o *op, settle func(uint64)) bool {
	var mask, value addr128
	fams := o.fams
	switch o.kind {
	case kAddr:
		t := &p.f.addrs[o.aux]
		mask, value, fams = t.mask, t.value, t.fams
	case kAddrLo:
		mask.lo, value.lo = o.mask, o.value
	case kAddrHi:
		mask.hi, value.hi = o.mask, o.value
	}
	switch p.addrFam[o.addr] {
	case 0:
		// The walk reads no address as family 1, all zeros.
		settle(isZero(value.lo|value.hi) & uint64(fams>>1))
	case 4:
		const word = 0xffffffff
		if value.hi != 0 || fams>>4&1 == 0 || value.lo&^(mask.lo&word) != 0 {
			settle(0) // never equal, or not of the family
			return true
		}
		if mask.lo&word == 0 {
			settle(1) // an upper word of 0, or a /0
			return true
		}
		*o = op{
			kind: kLoad, off: uint32(p.addrOff[o.addr]), mask: mask.lo & word, value: value.lo,
			pass: passBits[cmpEQ], next: o.next,
		}
	case 6:
		if fams>>6&1 == 0 {
			// An IPv4 address or prefix: never an IPv6 flow's. The
			// bench's five terms on an IPv6 record are then four
			// equality tests, run flat (eqMatcher).
			settle(0)
			return true
		}
		return false
	default:
		return false
	}
	return true
}

// loadAddr reads address slot i of the record at base as the walk keeps
// it: an address the record lacks is family 1, all zeros.
func (p *rawProg) loadAddr(base unsafe.Pointer, i int, w *addrWords) {
	at := unsafe.Add(base, p.addrOff[i])
	switch p.addrFam[i] {
	case 4:
		w.hi, w.lo, w.fam = 0, uint64(*(*uint32)(at)), 4
	case 6:
		w.hi, w.lo, w.fam = *(*uint64)(at), *(*uint64)(unsafe.Add(at, 8)), 6
	default:
		w.hi, w.lo, w.fam = 0, 0, 1
	}
}

// matcher returns Filter.run on a record's bytes. It is a closure rather
// than the method value p.match, whose wrapper took a call of its own.
func (p *rawProg) matcher() func(rec []byte) bool {
	return func(rec []byte) bool {
		base := unsafe.Pointer(unsafe.SliceData(rec))
		c := p.cur.Load()
		if p.used == 0 && !c.sampling {
			// No address to read: no cache to clear either, which
			// costs about what a test of one field does.
			return p.walk(c, base, nil)
		}
		var st walkState
		p.loadAddrs(base, &st)
		if c.sampling {
			return p.sample(c, base, &st)
		}
		return p.walk(c, base, &st)
	}
}

// flatMatcher returns the raw test of code run flat.
func (p *rawProg) flatMatcher(fp *flatProg) func(rec []byte) bool {
	if p.used == 0 {
		if m := fp.eqMatcher(); m != nil {
			return m
		}
	}
	return func(rec []byte) bool {
		base := unsafe.Pointer(unsafe.SliceData(rec))
		if p.used == 0 {
			return p.flat(fp, base, nil)
		}
		var st walkState
		p.loadAddrs(base, &st)
		return p.flat(fp, base, &st)
	}
}

// loadAddrs reads every address the code may test into the walk's cache
// first: the ops then find them all there (chains look only there).
func (p *rawProg) loadAddrs(base unsafe.Pointer, st *walkState) {
	for i, used := 0, p.used; used != 0; i, used = i+1, used>>1 {
		if used&1 != 0 {
			p.loadAddr(base, i, &st.addr[i])
		}
	}
}

// sample is walk, counting each test's outcome; the walk that makes
// rawSamples reorders the code by the counts for the walks after it.
func (p *rawProg) sample(c *rawCode, base unsafe.Pointer, st *walkState) bool {
	idx := c.entry
	for idx >= firstOp {
		o := &c.code[idx]
		ev := p.test(o, base, st) & 1
		p.counts[idx][ev].Add(1)
		idx = o.next[ev]
	}
	if p.sampled.Add(1) == rawSamples {
		counts := make([][2]uint32, len(p.counts))
		for i := range counts {
			counts[i] = [2]uint32{p.counts[i][0].Load(), p.counts[i][1].Load()}
		}
		code, entry := reorder(c.code, c.entry, counts)
		p.cur.Store(&rawCode{code: code, entry: entry})
	}
	return idx == accept
}

// test is the outcome of op o's test of the record at base, as the walk
// computes it.
func (p *rawProg) test(o *op, base unsafe.Pointer, st *walkState) uint64 {
	switch o.kind {
	case kLoad:
		x := (*(*uint64)(unsafe.Add(base, o.off)) << (o.shift & 63)) & o.mask
		return uint64(o.pass) >> (cmpShift(x, o.value) & 63)
	case kAddr:
		w := &st.addr[o.addr]
		t := &p.f.addrs[o.aux]
		return isZero((w.lo&t.mask.lo^t.value.lo)|(w.hi&t.mask.hi^t.value.hi)) & uint64(t.fams>>w.fam)
	}
	return p.other(o, base, st)
}

// walk walks the code from the entry until it jumps to accept or reject,
// as Filter.run does; st holds the addresses, nil for code that reads
// none. It branches on each outcome, as run does: taking the next op by
// index instead took 1.27 times the CPU of godump -o null with the bench's
// twenty terms, and running every test of code of cheap tests to settle
// the answer without a branch (each block's answer selected from its
// children's) 1.20 times, 1.04 times with five terms. Code of a few
// cheap tests now runs flat (flat.go), with a table for the answer.
//
// The ops are found without a bounds check: compile and reorder make
// every jump lead to an op of the code or to accept or reject, and the
// lowered code keeps the jumps (lowerOp settles an op by its own jumps).
// Indexed, each op was checked, and its address computed again for each
// of its one-byte fields: under callgrind, godump -o null with the
// bench's twenty terms over one of its files (1 M flows) took 887 -> 856
// M instructions without the check, 825 M with the bytes in one load
// (906 M before cmpShift took SETcc).
func (p *rawProg) walk(c *rawCode, base unsafe.Pointer, st *walkState) bool {
	code := unsafe.Pointer(unsafe.SliceData(c.code))
	idx := c.entry
	for idx >= firstOp {
		o := (*op)(unsafe.Add(code, uintptr(idx)*unsafe.Sizeof(op{})))
		var ev uint64
		// kind, pass and shift in one load (opBytes): each took an
		// address computation of its own besides its load.
		w := *(*uint32)(unsafe.Pointer(&o.kind))
		if uint8(w) == kLoad {
			x := (*(*uint64)(unsafe.Add(base, o.off)) << (w >> 16 & 63)) & o.mask
			ev = uint64(w>>8&0xff) >> (cmpShift(x, o.value) & 63)
		} else if uint8(w) == kAddr {
			w := &st.addr[o.addr]
			t := &p.f.addrs[o.aux]
			ev = isZero((w.lo&t.mask.lo^t.value.lo)|(w.hi&t.mask.hi^t.value.hi)) & uint64(t.fams>>w.fam)
		} else if uint8(w) == kIPList4 {
			// The bench's ip in [ ] of 1000 addresses: through other's
			// switch and call it took 20 instructions more a test.
			ev = b2u(p.f.ips[o.aux].contains4(uint64(*(*uint32)(unsafe.Add(base, o.off)))))
		} else {
			ev = p.other(o, base, st)
		}
		if ev&1 != 0 {
			idx = o.next[1]
		} else {
			idx = o.next[0]
		}
	}
	return idx == accept
}

// opBytes holds when op's kind, pass and shift are its bytes one after
// the other, as walk loads them, the lowest first (fastLoads: the walk
// runs only on such machines): the build fails otherwise.
var opBytes = [1]struct{}{}[unsafe.Offsetof(op{}.pass)-unsafe.Offsetof(op{}.kind)-1+
	unsafe.Offsetof(op{}.shift)-unsafe.Offsetof(op{}.kind)-2]

// other is Filter.other on a record's bytes, for the kinds lowerOp keeps.
func (p *rawProg) other(o *op, base unsafe.Pointer, st *walkState) uint64 {
	switch o.kind {
	case kAddrLo, kAddrHi:
		w := &st.addr[o.addr]
		x := w.lo
		if o.kind == kAddrHi {
			x = w.hi
		}
		return isZero(x&o.mask^o.value) & uint64(o.fams>>w.fam)
	case kIPList:
		return b2u(p.f.ips[o.aux].has(&st.addr[o.addr]))
	case kIPList4:
		return b2u(p.f.ips[o.aux].contains4(uint64(*(*uint32)(unsafe.Add(base, o.off)))))
	case kChain:
		return b2u(p.f.chains[o.aux].match(nil, st))
	case kLoadSet:
		x := (*(*uint64)(unsafe.Add(base, o.off)) << (o.shift & 63)) & o.mask
		return b2u(p.f.vals[o.aux].contains(x))
	case kDuration:
		g := unsafe.Add(base, p.generic)
		x := ((*(*uint64)(unsafe.Add(g, 8)) - *(*uint64)(g)) << (o.shift & 63)) & o.mask
		return uint64(o.pass) >> (cmpShift(x, o.value) & 63)
	case kFunc:
		return uint64(o.pass) >> (cmpShift(p.function(o.fn, base), o.value) & 63)
	}
	return 0 // lowerOp lowers no other kind
}

// function is the flow function fn of the record at base, as function
// computes it from the decoded record.
func (p *rawProg) function(fn fnCode, base unsafe.Pointer) uint64 {
	if fn == fnMPLSEOS || fn == fnMPLSAny {
		var none [10]uint32
		stack := &none
		if p.mpls != 0 {
			stack = (*[10]uint32)(unsafe.Add(base, p.mpls))
		}
		return mplsBottom(stack)
	}
	g := (*[5]uint64)(unsafe.Add(base, p.generic))
	return rate(fn, g[0], g[1], g[3], g[4])
}
