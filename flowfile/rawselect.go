package flowfile

import (
	"sync"

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

// layouts are the layouts askRaw hands a RawSelector. One of its own
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
// also hands them to v (visitShaped). It stops at the first
// record that is not one, which the caller takes the long way, after
// limit records passed when limit > 0, and leaves a record with fewer
// than 8 bytes after it in b to the caller too. It returns how many
// records it processed and passed, the bytes they took and the elements
// they hold that this package does not model.
func (d *v3Decoder) selectShaped(b []byte, n uint32, limit uint64, sel RawSelector, mark []uint64, first uint32, t *flow.Totals, rec *flow.Record, v BlockVisitor) (count, passed uint32, used int, skipped uint64) {
	if mark == nil && v == nil {
		return d.selectTally(b, n, limit, sel, t)
	}
	if mark == nil && limit == 0 && n > probeRecords {
		return d.selectVisit(b, n, sel, t, rec, v)
	}
	return d.selectEach(b, n, limit, sel, mark, first, t, rec, v)
}

// selectEach is selectShaped's loop that branches on each record's
// outcome.
func (d *v3Decoder) selectEach(b []byte, n uint32, limit uint64, sel RawSelector, mark []uint64, first uint32, t *flow.Totals, rec *flow.Record, v BlockVisitor) (count, passed uint32, used int, skipped uint64) {
	rv, _ := v.(RawVisitor)
	for count < n && len(b)-used >= v3HeaderSize {
		r := b[used:]
		size := int(le.Uint16(r[2:]))
		if le.Uint16(r) != recV3 || size > len(r)-8 {
			break
		}
		r = r[:size]
		s := d.find(r)
		if s == nil {
			break
		}
		match := s.rawMatch(sel, r)
		if match == nil {
			break
		}
		if match(r) {
			switch {
			case mark != nil:
				i := first + count
				mark[i/64] |= 1 << (i % 64)
			case v != nil:
				s.total(r, t)
				d.visitShaped(s, r, rec, v, rv)
			default:
				s.total(r, t)
			}
			passed++
		}
		skipped += uint64(s.skipped)
		count++
		used += size
		if limit > 0 && uint64(passed) == limit {
			break
		}
	}
	return count, passed, used, skipped
}

// selectVisit is selectShaped handing the records that pass to a visitor
// v, which is called only for them: as in selectTally, a run's first
// probeRecords records take the loop that branches on each outcome, and
// when between an eighth and seven eighths of them passed, the rest take
// a loop that does not. It tests visitBatch records at a time, noting
// where those that pass are (the note of one that fails is overwritten
// by the next), and then counts and visits the ones noted.
func (d *v3Decoder) selectVisit(b []byte, n uint32, sel RawSelector, t *flow.Totals, rec *flow.Record, v BlockVisitor) (count, passed uint32, used int, skipped uint64) {
	count, passed, used, skipped = d.selectEach(b, probeRecords, 0, sel, nil, 0, t, rec, v)
	if count < probeRecords {
		return count, passed, used, skipped
	}
	if passed < count/8 || passed > count-count/8 {
		c, p, u, k := d.selectEach(b[used:], n-count, 0, sel, nil, 0, t, rec, v)
		return count + c, passed + p, used + u, skipped + k
	}
	rv, _ := v.(RawVisitor)
	var at [visitBatch]int
	var shapes [visitBatch]*v3Shape
	for count < n {
		k, stop := 0, false
		for j := 0; j < visitBatch && count < n; j++ {
			if len(b)-used < v3HeaderSize {
				stop = true
				break
			}
			r := b[used:]
			size := int(le.Uint16(r[2:]))
			if le.Uint16(r) != recV3 || size > len(r)-8 {
				stop = true
				break
			}
			r = r[:size]
			s := d.find(r)
			if s == nil {
				stop = true
				break
			}
			match := s.rawMatch(sel, r)
			if match == nil {
				stop = true
				break
			}
			at[k], shapes[k] = used, s
			k += int(b2u(match(r)))
			skipped += uint64(s.skipped)
			count++
			used += size
		}
		// The shapes stay put: only decoding a record of none of them
		// learns a new one, which the caller does after the run.
		for i, s := range shapes[:k] {
			r := b[at[i]:]
			r = r[:le.Uint16(r[2:])]
			s.total(r, t)
			d.visitShaped(s, r, rec, v, rv)
		}
		passed += uint32(k)
		if stop {
			break
		}
	}
	return count, passed, used, skipped
}

// visitBatch is how many records selectVisit tests before it visits
// those that passed.
const visitBatch = 64

// selectTally is selectShaped counting the records that pass into t, and
// nothing else: godump -o null's loop, and that of every job that needs
// only the totals. Where the outcome of the filter is a matter of chance
// for the predictor, branching on it costs more than counting every
// record: with 'proto tcp' (seven flows in ten pass) the branch was
// mispredicted 0.46 times a record, and in perf profiles of godump -o
// null over the bench's files the selection loop and the shape lookups
// after each miss took 1.16 times the samples of the loop that counts
// the records that fail into totals it throws away (five terms, three in
// ten: 1.22 times). Where nearly every flow passes or nearly none does
// (twenty terms, one in twelve), the branch is predicted and counting
// the others is the waste: 0.88 times. So the loop branches on the first
// probeRecords of a run, and goes on without branching when between an
// eighth and seven eighths of them passed.
func (d *v3Decoder) selectTally(b []byte, n uint32, limit uint64, sel RawSelector, t *flow.Totals) (count, passed uint32, used int, skipped uint64) {
	probe := min(n, probeRecords)
	count, passed, used, skipped = d.selectTallyBranching(b, probe, limit, sel, t)
	if count < probe || count == n || limit > 0 || passed < count/8 || passed > count-count/8 {
		if count == probe && count < n && (limit == 0 || uint64(passed) < limit) {
			c, p, u, k := d.selectTallyBranching(b[used:], n-count, limit-min(limit, uint64(passed)), sel, t)
			count, passed, used, skipped = count+c, passed+p, used+u, skipped+k
		}
		return count, passed, used, skipped
	}
	c, p, u, k := d.selectTallyMasked(b[used:], n-count, sel, t)
	return count + c, passed + p, used + u, skipped + k
}

// probeRecords is how many records of a run selectTally tests before it
// chooses its loop for the rest.
const probeRecords = 256

// selectTallyMasked is selectTally's loop that does not branch on a
// record's outcome: a record that fails is counted into totals that are
// thrown away. It takes no limit.
func (d *v3Decoder) selectTallyMasked(b []byte, n uint32, sel RawSelector, t *flow.Totals) (count, passed uint32, used int, skipped uint64) {
	var tt [2]flow.Totals // those that fail, those that pass
	for count < n && len(b)-used >= v3HeaderSize {
		r := b[used:]
		size := int(le.Uint16(r[2:]))
		if le.Uint16(r) != recV3 || size > len(r)-8 {
			break
		}
		r = r[:size]
		s := d.find(r)
		if s == nil {
			break
		}
		match := s.rawMatch(sel, r)
		if match == nil {
			break
		}
		pass := b2u(match(r))
		s.total(r, &tt[pass])
		passed += uint32(pass)
		skipped += uint64(s.skipped)
		count++
		used += size
	}
	t.Merge(&tt[1])
	return count, passed, used, skipped
}

// b2u is 1 for true and 0 for false, without a branch.
func b2u(b bool) uint64 {
	var u uint64
	if b {
		u = 1
	}
	return u
}

// selectTallyBranching is selectTally's loop that counts a record only
// when it passes. With fewer values to keep across its calls than
// selectShaped, it spills fewer: under callgrind BenchmarkSelectBlock's
// records took 208 instructions a record with 'proto tcp' instead of
// 220, and 239 with the bench's five terms instead of 248.
func (d *v3Decoder) selectTallyBranching(b []byte, n uint32, limit uint64, sel RawSelector, t *flow.Totals) (count, passed uint32, used int, skipped uint64) {
	for count < n && len(b)-used >= v3HeaderSize {
		r := b[used:]
		size := int(le.Uint16(r[2:]))
		if le.Uint16(r) != recV3 || size > len(r)-8 {
			break
		}
		r = r[:size]
		s := d.find(r)
		if s == nil {
			break
		}
		match := s.rawMatch(sel, r)
		if match == nil {
			break
		}
		if match(r) {
			s.total(r, t)
			passed++
			if uint64(passed) == limit {
				skipped += uint64(s.skipped)
				count++
				used += size
				break
			}
		}
		skipped += uint64(s.skipped)
		count++
		used += size
	}
	return count, passed, used, skipped
}
