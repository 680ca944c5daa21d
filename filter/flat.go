package filter

import "unsafe"

// The walk branches on each test's outcome, and the outcome is the
// flow's: for a test that a third of the flows pass, the predictor guesses
// wrong about a third of the time. perf put more than a quarter of the
// walk's samples of godump -o null with the bench's five-term filter
// right after that branch. Code of a few cheap tests is cheaper run flat:
// every test runs, each outcome becomes a bit of a number, and a table
// built when the code is made (one bit for each combination of outcomes,
// the walk's answer for it) gives the answer. The tests then run in a
// fixed order, whose branches the predictor learns, and nothing depends on
// an outcome but the table's bit. Flat code is not reordered: every test
// runs anyway.

// maxFlat is the most tests code may have to run flat; their outcomes
// table is then one word. Running every test costs what the walk saves
// on the branches, so the tests are cheap ones, and equality tests of a
// field, the most common, take a loop of their own. Under callgrind, the
// loop of flowfile's BenchmarkRawMatchBench with the bench's five-term
// filter (five equality tests, two and a half walked a record) took 217
// instructions a record flat and 226 walked, with 0.63 mispredicted
// branches for 1.67.
const maxFlat = 6

// flatProg is code run flat: its tests, field loads first, and the table.
type flatProg struct {
	eqs   []flatEq // equality tests of a field, outcome bits 0 to len(eqs)-1
	loads []op     // the other tests of a field, the bits after those
	rest  []op     // the other tests, the bits after those
	table uint64   // bit v: the answer when the outcomes are v's bits
}

// flatEq is a kLoad op that tests equality, (x << shift) & mask ==
// value, as x & mask>>shift == value>>shift: the mask's and the value's
// lower shift bits are 0.
type flatEq struct {
	off         uint32
	mask, value uint64
}

// flatten returns the flat form of the walk through code from entry, or
// nil for code of more than maxFlat tests or of tests that cost more than
// a mispredicted branch (sets, flow functions, chains), which the walk
// may skip. A single test is always flat: it always runs.
func flatten(code []op, entry uint32) *flatProg {
	code, entry = compact(code, entry)
	n := len(code) - int(firstOp)
	if n == 0 || n > maxFlat {
		return nil
	}
	fp := &flatProg{}
	var bit [maxFlat + firstOp]uint // each op's outcome bit
	eq := func(o *op) bool { return o.kind == kLoad && o.pass == passBits[cmpEQ] }
	for i := firstOp; i < uint32(len(code)); i++ {
		if o := &code[i]; eq(o) {
			bit[i] = uint(len(fp.eqs))
			fp.eqs = append(fp.eqs, flatEq{o.off, o.mask >> (o.shift & 63), o.value >> (o.shift & 63)})
		}
	}
	for i := firstOp; i < uint32(len(code)); i++ {
		if o := &code[i]; o.kind == kLoad && !eq(o) {
			bit[i] = uint(len(fp.eqs) + len(fp.loads))
			fp.loads = append(fp.loads, *o)
		}
	}
	for i := firstOp; i < uint32(len(code)); i++ {
		switch code[i].kind {
		case kLoad:
			continue
		case kAddrLo, kAddrHi, kAddr, kIPv6, kDuration:
		default:
			if n > 1 {
				return nil
			}
		}
		bit[i] = uint(len(fp.eqs) + len(fp.loads) + len(fp.rest))
		fp.rest = append(fp.rest, code[i])
	}
	for v := uint64(0); v < 1<<n; v++ {
		idx := entry
		for idx >= firstOp {
			idx = code[idx].next[v>>bit[idx]&1]
		}
		if idx == accept {
			fp.table |= 1 << v
		}
	}
	return fp
}

// flat is the answer of p's flat code for the record at base; st holds
// its addresses.
func (p *rawProg) flat(fp *flatProg, base unsafe.Pointer, st *walkState) bool {
	var v uint64
	for i := range fp.eqs {
		e := &fp.eqs[i]
		v |= isZero(*(*uint64)(unsafe.Add(base, e.off))&e.mask^e.value) << (uint(i) & 63)
	}
	n := uint(len(fp.eqs))
	for i := range fp.loads {
		o := &fp.loads[i]
		x := (*(*uint64)(unsafe.Add(base, o.off)) << (o.shift & 63)) & o.mask
		v |= (uint64(o.pass) >> (cmpShift(x, o.value) & 63) & 1) << ((n + uint(i)) & 63)
	}
	n += uint(len(fp.loads))
	for i := range fp.rest {
		v |= (p.test(&fp.rest[i], base, st) & 1) << ((n + uint(i)) & 63)
	}
	return fp.table>>(v&63)&1 != 0
}

// eqMatcher returns the raw test of flat code made of equality tests
// alone, or nil for other code. The closure runs the tests itself, with
// no call of flat, and unrolled: a test it does not need is one that
// compares 0 with 0, whose bit the table ignores (wideTable). Under
// callgrind, on the records of flowfile's BenchmarkSelectBlock, 'proto
// tcp' took 7 instructions a record instead of 75, and the bench's five
// terms (five equality tests on an IPv4 record) 62 instead of 160.
func (fp *flatProg) eqMatcher() func(rec []byte) bool {
	if len(fp.loads) > 0 || len(fp.rest) > 0 {
		return nil
	}
	if len(fp.eqs) == 1 {
		e := fp.eqs[0]
		if fp.table == 0b10 {
			return func(rec []byte) bool {
				return *(*uint64)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(rec)), e.off))&e.mask == e.value
			}
		}
		return func(rec []byte) bool {
			return *(*uint64)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(rec)), e.off))&e.mask != e.value
		}
	}
	var eqs [maxFlat]flatEq
	copy(eqs[:], fp.eqs)
	table := wideTable(fp.table, len(fp.eqs))
	if len(fp.eqs) <= 3 {
		return func(rec []byte) bool {
			base := unsafe.Pointer(unsafe.SliceData(rec))
			v := eqBit(base, &eqs[0]) | eqBit(base, &eqs[1])<<1 | eqBit(base, &eqs[2])<<2
			return table>>v&1 != 0
		}
	}
	return func(rec []byte) bool {
		base := unsafe.Pointer(unsafe.SliceData(rec))
		v := eqBit(base, &eqs[0]) | eqBit(base, &eqs[1])<<1 | eqBit(base, &eqs[2])<<2 |
			eqBit(base, &eqs[3])<<3 | eqBit(base, &eqs[4])<<4 | eqBit(base, &eqs[5])<<5
		return table>>v&1 != 0
	}
}

// eqBit is the outcome of test e of the record at base, 0 or 1.
func eqBit(base unsafe.Pointer, e *flatEq) uint64 {
	return b2u(*(*uint64)(unsafe.Add(base, e.off))&e.mask == e.value)
}

// wideTable is the table of code of n tests extended to maxFlat tests
// whose outcomes do not count: bit v is table's bit for v's lower n bits.
func wideTable(table uint64, n int) uint64 {
	var wide uint64
	for v := uint64(0); v < 1<<maxFlat; v++ {
		wide |= (table >> (v & (1<<n - 1)) & 1) << v
	}
	return wide
}
