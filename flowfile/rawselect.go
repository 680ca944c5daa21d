package flowfile

import (
	"math"
	"sync"
	"unsafe"

	"github.com/nfgo/nftools/flow"
)

// A selector that tests decoded records makes the workers decode every
// record before they know whether it passes; with a filter that passes
// some of the flows, decoding the others is wasted, and decoding costs
// about what testing does. A RawSelector tests a record's bytes instead:
// for each shape the workers meet they ask it once for a test of records
// of that layout (RawSelector.RawMatcher), and then count, sum or decode
// only the records that pass. A shape the selector has no test for, and a
// record too near the end of its block for the test's loads, take the way
// through decoding and Match.

// RawSelector is a Selector that can also test records from their
// bytes. filter.Filter is one.
type RawSelector interface {
	Selector
	// RawMatcher returns a test of the V3 records stored as l says, which
	// answers for a record as Match does for the record it decodes into,
	// or nil when it has none for them. The test is given a record
	// followed in memory by at least 8 more bytes, and may read them; it
	// must be safe for concurrent use. A selector without a test for the
	// empty layout (a record of no fields) has none for any layout: the
	// reader then asks no more.
	RawMatcher(l *flow.Layout) func(rec []byte) bool
}

// RawBatchVisitor is a RawVisitor that also takes records from their
// bytes a batch at a time: with a RawSelector the workers hand it the
// records of a batch that passed, and that it has plans for, in one call
// (FlowsRaw) instead of one call a record (FlowRaw).
type RawBatchVisitor interface {
	RawVisitor
	// FlowsRaw does for each of flows in turn what FlowRaw does. It must
	// not keep flows.
	FlowsRaw(flows []RawFlow)
}

// RawFlow is a record for FlowsRaw: the whole record, stored as the
// layout of its plan (RawVisitor.RawPlan) says.
type RawFlow struct {
	Plan any
	Rec  []byte
}

// rawFlows are the batches selectShaped hands a RawBatchVisitor: one on
// its stack would escape through the interface, a batch for each run.
var rawFlows = sync.Pool{New: func() any { return new([selectBatch]RawFlow) }}

// putRawFlows gives a batch back to rawFlows, without the records it
// pointed to: a block buffer on Go's heap would stay while the pool keeps
// the batch.
func putRawFlows(flows *[selectBatch]RawFlow) {
	clear(flows[:])
	rawFlows.Put(flows)
}

// rawSelector returns the reader's selector as a RawSelector when the
// workers may select from the records' bytes: a NumberedSelector needs
// each record's running number, which only Match takes, and a selector
// without raw tests (a filter with flow labels) would only make the
// workers look for a test for each record before they decode it.
func rawSelector(s Selector) RawSelector {
	if _, numbered := s.(NumberedSelector); numbered {
		return nil
	}
	rs, ok := s.(RawSelector)
	if !ok || rs.RawMatcher(&flow.Layout{}) == nil {
		return nil
	}
	return rs
}

// maxRawMisses is how many runs of selectShaped a block may start that
// end at once before the reader stops starting them in that block. Each
// such record is looked up twice, in selectShaped and in decoding: in a
// file of more layouts than a decoder keeps (maxShapes), whose records
// keep missing the known shapes, that made reading with a filter take a
// fifth more CPU than deciding on the decoded records. A block of a
// usual file misses a few times: its non-flow records, the record at its
// end, the first record of a shape.
const maxRawMisses = 32

// rawMiss counts a run of selectShaped that ended at once in *misses and
// reports whether the block should go on starting them.
func rawMiss(misses *int) bool {
	*misses++
	return *misses < maxRawMisses
}

// rawShape is what a shape holds for selecting from the bytes: the
// selector's test of its records, once asked for.
type rawShape struct {
	asked bool
	match func(rec []byte) bool
}

// rawMatch returns sel's test for records of shape s, asking sel the
// first time; b is a record of the shape.
func (s *v3Shape) rawMatch(sel RawSelector, b []byte) func([]byte) bool {
	if !s.raw.asked {
		s.askRaw(sel, b)
	}
	return s.raw.match
}

// askRaw asks sel for its test of records of shape s, of which b is one.
func (s *v3Shape) askRaw(sel RawSelector, b []byte) {
	l := layouts.Get().(*flow.Layout)
	s.layout(b, l)
	s.raw = rawShape{asked: true, match: sel.RawMatcher(l)}
	layouts.Put(l)
}

// rawPlan returns rv's plan for records of shape s, asking rv the first
// time; b is a record of the shape.
func (s *v3Shape) rawPlan(rv RawVisitor, b []byte) any {
	if !s.visit.asked {
		s.askPlan(rv, b)
	}
	return s.visit.plan
}

// askPlan asks rv for its plan for records of shape s, of which b is one.
func (s *v3Shape) askPlan(rv RawVisitor, b []byte) {
	l := layouts.Get().(*flow.Layout)
	s.layout(b, l)
	s.visit = rawVisit{asked: true, plan: rv.RawPlan(l, s.flowsAt())}
	layouts.Put(l)
}

// layouts are the layouts askRaw and askPlan hand a RawSelector or a
// RawVisitor. One of its own
// each time (it escapes through the interface) left 45 KB of garbage in
// a godump run over the bench's ten files, all of it before the first
// collection, and so as much more peak RSS.
var layouts = sync.Pool{New: func() any { return new(flow.Layout) }}

// layout fills l with where the fields of records of shape s sit, from b,
// one of them, as flow.V3Places has them. As in decoding, of two elements
// that fill the same fields (IPv4 and IPv6 addresses, or an element
// repeated) the last one counts.
func (s *v3Shape) layout(b []byte, l *flow.Layout) {
	*l = flow.Layout{}
	place := func(p flow.V3Place, at uint16) {
		if p.Field == flow.FieldFlows {
			return // the stored count is no field's value: 0 stands for 1
		}
		l.Off[p.Field], l.Fam[p.Field] = at+uint16(p.Off), p.Fam
	}
	for _, p := range flow.V3HeaderPlaces() {
		place(p, 0)
	}
	for _, o := range s.off[:s.n] {
		for _, p := range flow.V3Places(int(le.Uint16(b[o:]))) {
			place(p, o+elemHdrSize) // where the element's values start
		}
	}
	// The ICMP type and code are the destination port's upper and lower
	// byte, which it stores little-endian.
	if at := l.Off[flow.FieldDstPort]; at > 0 {
		l.Off[flow.FieldICMPCode], l.Off[flow.FieldICMPType] = at, at+1
	}
}

// selectShaped is sumShaped with a RawSelector: of the V3 records at the
// start of b that have shapes d knows and a test of sel, at most n, it
// tests each on its bytes. With mark set it marks those that pass in it,
// numbering the records from first (the reader's marking, for Next);
// otherwise it counts them into t, as total does, and with a visitor v
// also hands them to v (visitShaped). It stops at the first record that
// is not one, which the caller takes the long way, after limit records
// passed when limit > 0, and leaves a record with fewer than 8 bytes
// after it in b to the caller too. It returns how many records it
// processed and passed, the bytes they took and the elements they hold
// that this package does not model.
//
// It tests selectBatch records at a time (testBatch), and then counts,
// marks or visits those that passed: no branch waits for a filter's
// outcome, which for the predictor is often a matter of chance (with
// 'proto tcp', seven flows in ten pass, a branch on it was mispredicted
// 0.46 times a record), and the records that fail cost nothing more.
// With a limit a batch holds no more records than may still pass, so
// that the limit-th flow that passes is the last one tested. This one
// loop replaced four (one that branched on each outcome, one that
// counted the records that fail into totals thrown away, one that
// visited in batches, and one chosen among them after a run's first
// records): under callgrind, godump over one file of the filter bench
// takes 15 to 25 fewer instructions a record with one primitive, five
// terms or twenty (of 640 to 970), and with twenty terms 0.8 fewer
// simulated mispredicted branches.
func (d *v3Decoder) selectShaped(b []byte, n uint32, limit uint64, sel RawSelector, mark []uint64, first uint32, t *flow.Totals, rec *flow.Record, v BlockVisitor) (count, passed uint32, used int, skipped uint64) {
	rv, _ := v.(RawVisitor)
	bv, _ := v.(RawBatchVisitor)
	var flows *[selectBatch]RawFlow
	if bv != nil {
		flows = rawFlows.Get().(*[selectBatch]RawFlow)
		defer putRawFlows(flows)
	}
	var tb testedBatch
	// The sums of the records that passed, kept in local variables as in
	// sumShaped and merged into t at the end.
	sumFirst, sumLast := uint64(math.MaxUint64), uint64(0)
	var sumFlows, sumPackets, sumBytes uint64
	bp := unsafe.Pointer(unsafe.SliceData(b))
	for stop := false; !stop && count < n; {
		batch := min(n-count, selectBatch)
		if limit > 0 {
			batch = uint32(min(uint64(batch), limit-uint64(passed)))
		}
		k, tested, next, sk, end := d.testBatch(b, used, batch, sel, &tb)
		// The shapes stay put: only decoding a record of none of them
		// learns a new one, which the caller does after the run.
		if mark != nil {
			for _, i := range tb.pass[:k] {
				j := first + count + uint32(i)
				mark[j/64] |= 1 << (j % 64)
			}
			count, used, skipped, stop = count+tested, next, skipped+sk, end
			passed += uint32(k)
			if limit > 0 && uint64(passed) == limit {
				break
			}
			continue
		}
		count, used, skipped, stop = count+tested, next, skipped+sk, end
		// The sums first, in a loop that calls nothing, which keeps
		// them in registers: in the visitor's loop they were stored
		// and loaded again at each record.
		for _, i := range tb.pass[:k] {
			// testBatch checked that the record lies inside b, and it
			// has s's layout: its sums are read as sumShaped reads
			// them, without bounds checks.
			s := &d.shapes[tb.shape[i%selectBatch]%maxShapes]
			base := unsafe.Add(bp, tb.at[i%selectBatch])
			gp, cp := s.sumElements(base)
			sumFirst = min(sumFirst, le.Uint64(gp[0:]))
			sumLast = max(sumLast, le.Uint64(gp[8:]))
			sumPackets += le.Uint64(gp[24:]) + le.Uint64(cp[8:])
			sumBytes += le.Uint64(gp[32:]) + le.Uint64(cp[16:])
			sumFlows += max(le.Uint64(cp[0:]), 1) // flow.Record.AggrFlows
		}
		m := 0 // records in flows
		visit := tb.pass[:k]
		if v == nil {
			visit = nil
		}
		for _, i := range visit {
			s := &d.shapes[tb.shape[i%selectBatch]%maxShapes]
			base := unsafe.Add(bp, tb.at[i%selectBatch])
			r := unsafe.Slice((*byte)(base), le.Uint16((*[4]byte)(base)[2:]))
			if bv != nil {
				if plan := s.rawPlan(rv, r); plan != nil {
					// Field by field: the struct was made on the
					// stack and copied.
					f := &flows[m]
					f.Plan, f.Rec = plan, r
					m++
					continue
				}
				// Decoded, after the records before it.
				if m > 0 {
					bv.FlowsRaw(flows[:m])
					m = 0
				}
				d.decodeShape(s, r, rec)
				v.Flow(rec)
				continue
			}
			d.visitShaped(s, r, rec, v, rv)
		}
		if m > 0 {
			bv.FlowsRaw(flows[:m])
		}
		passed += uint32(k)
		if limit > 0 && uint64(passed) == limit {
			break
		}
	}
	if mark == nil && passed > 0 {
		t.Merge(&flow.Totals{First: sumFirst, Last: sumLast, Records: uint64(passed), Flows: sumFlows, Packets: sumPackets, Bytes: sumBytes})
	}
	return count, passed, used, skipped
}

// testedBatch notes the records of a batch: where each starts and its
// shape (shapeRun), and the places in the batch of those that passed
// (testBatch). A shape is noted as its index in v3Decoder.shapes: a
// pointer stored at each record took the garbage collector's write
// barrier check.
type testedBatch struct {
	at    [selectBatch]uint32
	shape [selectBatch]uint8
	pass  [selectBatch]uint8
	// What shapeRun returned, for testBatch.
	m, next int
	skipped uint64
	stop    bool
}

// testBatch tests at most n records from b[used:], noting those that pass
// in tb. It returns how many passed, how many it tested, where the next
// record starts, the elements not modeled in those it tested, and
// whether the run stops there: at a record that is not a V3 record of a
// shape d knows and sel has a test for, or has fewer than 8 bytes after
// it.
//
// It finds the shapes of the batch's records first (shapeRun), in loops
// that call nothing, and then calls their tests one after the other in
// a loop that keeps few values: with the steps of finding a shape, find
// and matches called for some records and the test called for each, one
// loop had a dozen values saved to memory and loaded again at each
// record. Under callgrind, over the first file of the filter bench's
// archive (1 M records, twice; BenchmarkArchiveSum with NFBENCH_FILTER),
// selecting took 190 instructions a record with 'proto tcp', now 175,
// and 220, 398, 525 and 411 with the other bench filters, now 201, 376,
// 502 and 390 (testBatch itself and the loops it calls: 150 with 'proto
// tcp', now 127). godump -o null over that archive with 'proto tcp'
// took 0.971 of the CPU time, with the five terms 0.964 (median of 20
// paired runs, load 5 to 7).
func (d *v3Decoder) testBatch(b []byte, used int, n uint32, sel RawSelector, tb *testedBatch) (k int, tested uint32, next int, skipped uint64, stop bool) {
	tb.m, tb.next, tb.skipped, tb.stop = d.shapeRun(b, used, n, sel, tb)
	// Only the loop's own values live across the calls: the loop loads
	// them again after each.
	bp := unsafe.Pointer(unsafe.SliceData(b))
	j := uint(0)
	for i := range uint(tb.m) {
		// shapeRun found the record inside b with 8 bytes after it.
		p := unsafe.Add(bp, tb.at[i%selectBatch])
		match := d.shapes[tb.shape[i%selectBatch]%maxShapes].raw.match
		tb.pass[j%selectBatch] = uint8(i)
		j += uint(b2u(match((*[1 << 16]byte)(p)[:*(*uint16)(unsafe.Add(p, 2))])))
	}
	return int(j), uint32(tb.m), tb.next, tb.skipped, tb.stop
}

// shapeRun notes in tb where each of at most n records from b[used:]
// starts and its shape, up to the first that is not a V3 record of a
// shape d knows that lies inside b, and with sel one that sel has a test
// for, with 8 bytes or more after it in b (for the test's loads). It
// returns how many it noted, where the record after them starts, the
// elements they hold that this package does not model, and whether it
// stopped at a record that is not one; n is at most selectBatch.
//
// The records whose shape is the first try for their hash it notes in a
// loop that calls nothing (shapeQuick); any other record takes the long
// way here, find and sel's test asked for, between two of its runs.
func (d *v3Decoder) shapeRun(b []byte, used int, n uint32, sel RawSelector, tb *testedBatch) (m int, next int, skipped uint64, stop bool) {
	pad := 0
	if sel != nil {
		pad = 8
	}
	for {
		q, at, sk := d.shapeQuick(b[:max(len(b)-pad, 0)], used, uint(m), uint(n), sel != nil, tb)
		m, used, skipped = int(q), at, skipped+sk
		if m == int(n) {
			return m, used, skipped, false
		}
		r := b[used:]
		if len(r) < v3HeaderSize {
			return m, used, skipped, true
		}
		size := int(le.Uint16(r[2:]))
		if le.Uint16(r) != recV3 || size > len(r)-pad || size < v3HeaderSize {
			return m, used, skipped, true
		}
		r = r[:size]
		s := d.find(r)
		if s == nil || sel != nil && s.rawMatch(sel, r) == nil {
			return m, used, skipped, true
		}
		tb.at[m%selectBatch] = uint32(used)
		tb.shape[m%selectBatch] = uint8((uintptr(unsafe.Pointer(s)) - uintptr(unsafe.Pointer(&d.shapes[0]))) / unsafe.Sizeof(*s))
		skipped += uint64(s.skipped)
		m++
		used += size
	}
}

// shapeQuick is shapeRun's loop for the records whose shape is the first
// try for their hash (v3Decoder.byKey), of up to fastHeaders elements,
// which lie inside b, and, with tests, have their test: from the record
// at b[at:] on it notes them in tb from its m-th place on, up to its
// n-th, and returns the number noted, where the record after them starts
// and the elements they hold that this package does not model. It calls
// nothing; find's first try and matches are written out, as in sumQuick.
func (d *v3Decoder) shapeQuick(b []byte, at int, m, n uint, tests bool, tb *testedBatch) (uint, int, uint64) {
	var skipped uint64
	base := unsafe.Pointer(unsafe.SliceData(b))
	end := len(b)
	for ; m < n && end-at >= v3HeaderSize; m++ {
		p := unsafe.Add(base, at)
		// The record's type and size, and its size and element count
		// (the shape's key), read as find reads them.
		word := *(*uint32)(p)
		size := int(word >> 16)
		if uint16(word) != recV3 || size > end-at || size < v3HeaderSize {
			break
		}
		key := *(*uint32)(unsafe.Add(p, 2))
		h := key
		if size >= v3HeaderSize+elemHdrSize {
			h ^= *(*uint32)(unsafe.Add(p, v3HeaderSize)) * 0x85ebca6b
		}
		i := d.byKey[h*0x9e3779b1>>(32-keyBits)] - 1
		if i >= maxShapes {
			break
		}
		s := &d.shapes[i]
		if s.key != key {
			break
		}
		// The key is equal, so the record is as long as the one s was
		// learned from, and s's header offsets lie inside it.
		hd, o := &s.hdr, &s.off
		x := (*(*uint32)(unsafe.Add(p, o[0])) ^ hd[0]) |
			(*(*uint32)(unsafe.Add(p, o[1])) ^ hd[1]) |
			(*(*uint32)(unsafe.Add(p, o[2])) ^ hd[2]) |
			(*(*uint32)(unsafe.Add(p, o[3])) ^ hd[3]) |
			(*(*uint32)(unsafe.Add(p, o[4])) ^ hd[4]) |
			(*(*uint32)(unsafe.Add(p, o[5])) ^ hd[5]) |
			(*(*uint32)(unsafe.Add(p, o[6])) ^ hd[6]) |
			(*(*uint32)(unsafe.Add(p, o[7])) ^ hd[7])
		if x != 0 || s.n > fastHeaders || tests && s.raw.match == nil {
			// Another shape, one of more headers than written out
			// here, or one whose test was not asked for yet (or that
			// has none): the long way.
			break
		}
		tb.at[m%selectBatch] = uint32(at)
		tb.shape[m%selectBatch] = i
		skipped += uint64(s.skipped)
		at += size
	}
	return m, at, skipped
}

// selectBatch is how many records selectShaped tests before it counts,
// marks or visits those that passed.
const selectBatch = 64

// b2u is 1 for true and 0 for false, without a branch.
func b2u(b bool) uint64 {
	var u uint64
	if b {
		u = 1
	}
	return u
}
