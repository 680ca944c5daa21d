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

// maxFlat is the most tests code may have to run flat. Running every
// test costs what the walk saves on the branches: under callgrind, the
// bench's five-term filter (five tests, about three walked a flow) took
// 63 instructions more a record flat and half the mispredicted branches,
// and the same time in a benchmark; 'proto tcp' took fewer instructions
// flat, and two thirds of the time.
const maxFlat = 4

// flatProg is code run flat: its tests, field loads first, and the table.
type flatProg struct {
	loads []op   // kLoad tests, outcomes bits 0 to len(loads)-1
	rest  []op   // the other tests, the bits after those
	table uint64 // bit v: the answer when the outcomes are v's bits
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
	for i := firstOp; i < uint32(len(code)); i++ {
		if code[i].kind == kLoad {
			bit[i] = uint(len(fp.loads))
			fp.loads = append(fp.loads, code[i])
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
		bit[i] = uint(len(fp.loads) + len(fp.rest))
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
	for i := range fp.loads {
		o := &fp.loads[i]
		x := (*(*uint64)(unsafe.Add(base, o.off)) << (o.shift & 63)) & o.mask
		v |= (uint64(o.pass) >> (cmpShift(x, o.value) & 63) & 1) << (uint(i) & 63)
	}
	for i := range fp.rest {
		v |= (p.test(&fp.rest[i], base, st) & 1) << (uint(len(fp.loads)+i) & 63)
	}
	return fp.table>>(v&63)&1 != 0
}
