package stats

import (
	"cmp"
	"slices"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/slotindex"
	"github.com/nfgo/nftools/internal/topn"
	"github.com/nfgo/nftools/output"
)

// counter sums the flows that carried one key; the orders rank rows by
// it.
type counter struct {
	flows, inPackets, inBytes, outPackets, outBytes uint64
	first, last                                     uint64 // msec
}

// Table counts one element statistic.
type Table struct {
	spec Spec
	fast fastKind
	idx  slotindex.Index // finds a row by its key
	// rows keep each key beside its counters, so that counting a flow
	// touches one cache line after the index; they come in chunks of
	// rowChunk, so growing never copies them. The out counters, which
	// most flows do not carry, live apart in outs (same chunks), so that
	// a row fits in 64 bytes.
	chunks []*chunk
	n      int
	// byProto finds the row (plus one) of a protocol in a table of
	// protocols (fastProto), ahead of the index; Add fills it.
	byProto [256]uint32
	// touched keeps what Merge reads ahead, so that the reads stay.
	touched uint64
}

const rowBits = 10
const rowChunk = 1 << rowBits

// row is a key and the counters of the flows that carried it, apart from
// the out counters: 64 bytes.
type row struct {
	// hi and lo hold the value as nfdump's stat key does: an address as
	// its upper and lower 64 bits (IPv4 in the low 32 bits of lo), any
	// other value in lo.
	hi, lo uint64
	proto  uint8 // with a protocol split
	v6     bool  // the value is an IPv6 address
	// out says the row's out counters are not zero.
	out                       bool
	flows, inPackets, inBytes uint64
	first, last               uint64 // msec
}

// outCounter is a row's out packets and bytes.
type outCounter struct{ packets, bytes uint64 }

// chunk is rowChunk rows and their out counters, in one allocation.
type chunk struct {
	rows [rowChunk]row
	outs [rowChunk]outCounter
}

func (t *Table) row(i uint32) *row { return &t.chunks[i>>rowBits].rows[i&(rowChunk-1)] }

func (t *Table) outOf(i uint32) *outCounter { return &t.chunks[i>>rowBits].outs[i&(rowChunk-1)] }

// counter returns row i's counters.
func (t *Table) counter(i uint32) counter {
	w := t.row(i)
	c := counter{flows: w.flows, inPackets: w.inPackets, inBytes: w.inBytes, first: w.first, last: w.last}
	if w.out {
		o := t.outOf(i)
		c.outPackets, c.outBytes = o.packets, o.bytes
	}
	return c
}

// NewTable returns an empty table for an element spec (not -s record).
func NewTable(spec Spec) *Table {
	return &Table{spec: spec, idx: slotindex.New(11), fast: spec.Element.fast()}
}

func hashKey(hi, lo uint64, proto uint8, v6 bool) uint64 {
	h := slotindex.Mix(slotindex.Mix(0, hi), lo)
	x := uint64(proto)
	if v6 {
		x |= 1 << 8
	}
	return slotindex.Finish(h ^ x)
}

// findHash returns the number of the row of key (hi, lo, proto, v6), of
// hash h, and whether it was there before; a new row starts with no counts
// and the times first and last.
func (t *Table) findHash(h, hi, lo uint64, proto uint8, v6 bool, first, last uint64) (uint32, *row, bool) {
	pos, tag := t.idx.Home(h)
	for s := t.idx.Slot(pos); s != 0; pos, s = t.idx.Next(pos) {
		if i, ok := slotindex.Match(s, tag); ok {
			if w := t.row(i); w.lo == lo && w.hi == hi && w.proto == proto && w.v6 == v6 {
				return i, w, true
			}
		}
	}
	if t.idx.Full(t.n) {
		t.idx.Grow()
		pos = t.idx.Free(h)
	}
	i := uint32(t.n)
	if t.n>>rowBits == len(t.chunks) {
		t.chunks = append(t.chunks, new(chunk))
	}
	w := t.row(i)
	*w = row{hi: hi, lo: lo, proto: proto, v6: v6, first: first, last: last}
	t.n++
	t.idx.Put(pos, tag, i)
	return i, w, false
}

// Len returns the number of distinct keys counted so far.
func (t *Table) Len() int { return t.n }

// Add counts r under each of its element's keys; ip, port and the other
// two-key elements count a flow twice, also when both keys are equal, as
// nfdump does. The common elements take their keys straight from the
// record, the others through the field table.
func (t *Table) Add(r *flow.Record) {
	var proto uint8
	if t.spec.ProtoSplit {
		proto = r.Proto
	}
	c := flowCounts{
		first: r.First, last: r.Last, flows: r.AggrFlows(),
		inPackets: r.InPackets, inBytes: r.InBytes, outPackets: r.OutPackets, outBytes: r.OutBytes,
	}
	switch t.fast {
	case fastSrcIP:
		hi, lo, v6 := addrKey(r.SrcAddr)
		t.countHash(hi, lo, proto, v6, &c)
	case fastDstIP:
		hi, lo, v6 := addrKey(r.DstAddr)
		t.countHash(hi, lo, proto, v6, &c)
	case fastIP:
		hi, lo, v6 := addrKey(r.SrcAddr)
		t.countHash(hi, lo, proto, v6, &c)
		hi, lo, v6 = addrKey(r.DstAddr)
		t.countHash(hi, lo, proto, v6, &c)
	case fastSrcPort:
		t.countHash(0, uint64(r.SrcPort), proto, false, &c)
	case fastDstPort:
		t.countHash(0, uint64(r.DstPort), proto, false, &c)
	case fastPort:
		t.countHash(0, uint64(r.SrcPort), proto, false, &c)
		t.countHash(0, uint64(r.DstPort), proto, false, &c)
	case fastProto:
		t.countProto(r.Proto, proto, &c)
	default:
		for _, f := range t.spec.Element.fields {
			hi, lo, v6 := fieldKey(f, r)
			t.countHash(hi, lo, proto, v6, &c)
		}
	}
}

// flowCounts are what a flow adds to the row of each of its keys.
type flowCounts struct {
	first, last, flows                       uint64
	inPackets, inBytes, outPackets, outBytes uint64
}

// countHash adds c to the row of key (hi, lo, proto, v6).
func (t *Table) countHash(hi, lo uint64, proto uint8, v6 bool, c *flowCounts) {
	i, _, _ := t.findHash(hashKey(hi, lo, proto, v6), hi, lo, proto, v6, c.first, c.last)
	t.add(i, c)
}

// countProto adds c to the row of protocol p (split is p again with a
// protocol split, else 0). A protocol's row is found by its number: a
// handful of rows, each looked up for every flow.
func (t *Table) countProto(p, split uint8, c *flowCounts) {
	i := t.byProto[p]
	if i == 0 {
		lo := uint64(p)
		j, _, _ := t.findHash(hashKey(0, lo, split, false), 0, lo, split, false, c.first, c.last)
		i = j + 1
		t.byProto[p] = i
	}
	t.add(i-1, c)
}

// add adds c to row i.
func (t *Table) add(i uint32, c *flowCounts) {
	w := t.row(i)
	w.flows += c.flows
	w.inPackets += c.inPackets
	w.inBytes += c.inBytes
	w.first = min(w.first, c.first)
	w.last = max(w.last, c.last)
	if c.outPackets|c.outBytes != 0 {
		w.out = true
		o := t.outOf(i)
		o.packets += c.outPackets
		o.bytes += c.outBytes
	}
}

// Reset empties the table for reuse, keeping its memory: a table that
// counts one block of flows at a time (see Merge) allocates only while its
// blocks grow.
func (t *Table) Reset() {
	if t.n == 0 {
		return
	}
	t.idx.Reset()
	clear(t.byProto[:])
	for c := 0; c <= (t.n-1)>>rowBits; c++ {
		clear(t.chunks[c].outs[:])
	}
	t.n = 0
}

// Merge adds the rows of o, a table of the same spec, as if the flows o
// counted had been added to t after those t counted: rows keep t's order,
// o's new keys follow in o's order, so that the order in which keys were
// first seen (which breaks ties in Top) is that of the flows, and every
// counter, first and last time is what counting the flows gives.
func (t *Table) Merge(o *Table) {
	// A row of a large table is seldom in the cache: the rows are taken
	// in batches, and the index slot and row where each one's probe
	// starts are read for the whole batch first, so that their trips to
	// memory overlap instead of each waiting for the one before.
	var hs [mergeBatch]uint64
	for b := 0; b < o.n; b += mergeBatch {
		n := min(mergeBatch, o.n-b)
		var touched uint64
		for k := 0; k < n; k++ {
			src := o.row(uint32(b + k))
			h := hashKey(src.hi, src.lo, src.proto, src.v6)
			hs[k] = h
			pos, _ := t.idx.Home(h)
			if s := t.idx.Slot(pos); s != 0 {
				touched += t.row(uint32(s) - 1).lo
			}
		}
		t.touched = touched
		for k := 0; k < n; k++ {
			i := b + k
			src := o.row(uint32(i))
			j, w, old := t.findHash(hs[k], src.hi, src.lo, src.proto, src.v6, src.first, src.last)
			if old {
				w.flows += src.flows
				w.inPackets += src.inPackets
				w.inBytes += src.inBytes
				w.first = min(w.first, src.first)
				w.last = max(w.last, src.last)
			} else {
				*w = *src
			}
			if src.out {
				w.out = true
				so, to := o.outOf(uint32(i)), t.outOf(j)
				to.packets += so.packets
				to.bytes += so.bytes
			}
		}
	}
}

// mergeBatch is how many rows Merge looks up at once.
const mergeBatch = 16

// ranked is a row in the ranking: its value and its index, which is also
// the order in which its key was first seen.
type ranked struct {
	value uint64
	idx   uint32
}

// heapsortLimit is the table size from which nfdump 1.7.1 sorts element
// tables with its radix sort, which ignores the direction: with this many
// rows (after the limits) an ascending order prints descending.
const heapsortLimit = 100

// rankedBefore is the ranking order: by value, ascending when asc, ties
// in the order in which their keys were first seen. nfdump's tie order
// comes from its hash table and heap sort and has no meaning.
func rankedBefore(asc bool) func(a, b *ranked) bool {
	return func(a, b *ranked) bool {
		if a.value != b.value {
			return (a.value < b.value) == asc
		}
		return a.idx < b.idx
	}
}

// rank orders rows by value and keeps the first topN (all for 0).
func rank(rows []ranked, asc bool, topN int) []ranked {
	before := rankedBefore(asc)
	if topN > 0 && len(rows) > topN {
		h := topn.New(topN, before)
		for _, r := range rows {
			h.Offer(r)
		}
		return h.Sorted()
	}
	slices.SortFunc(rows, func(a, b ranked) int {
		switch {
		case a.value == b.value:
			return cmp.Compare(a.idx, b.idx)
		case (a.value < b.value) == asc:
			return -1
		default:
			return 1
		}
	})
	return rows
}

// Top returns the table's block for order o: the top topN rows (all for
// 0) among those within the limits, which are tested on the order's
// counters. With topN it keeps only topN rows while it walks the table.
func (t *Table) Top(o Order, topN int, packets, bytes Limit) *output.StatBlock {
	keep := func(c *counter) bool {
		return bytes.keep(bytesOf(c, o.Dir)) && packets.keep(packetsOf(c, o.Dir))
	}
	asc := false
	if t.spec.Ascending {
		n := 0
		for i := uint32(0); i < uint32(t.n) && n < heapsortLimit; i++ {
			if c := t.counter(i); keep(&c) {
				n++
			}
		}
		asc = n < heapsortLimit
	}
	// One counter for every row: a counter's address goes to o.value,
	// a function value, so it lives on the heap, and a counter of each
	// row's own was an allocation for every row.
	var c counter
	var rows []ranked
	if topN > 0 && topN < t.n {
		h := topn.New(topN, rankedBefore(asc))
		for i := uint32(0); i < uint32(t.n); i++ {
			if c = t.counter(i); keep(&c) {
				h.Offer(ranked{value: o.value(&c, o.Dir), idx: i})
			}
		}
		rows = h.Sorted()
	} else {
		rows = make([]ranked, 0, t.n)
		for i := uint32(0); i < uint32(t.n); i++ {
			if c = t.counter(i); keep(&c) {
				rows = append(rows, ranked{value: o.value(&c, o.Dir), idx: i})
			}
		}
		rows = rank(rows, asc, 0)
	}
	blk := &output.StatBlock{
		Header:     t.spec.Element.Header,
		Kind:       t.spec.Element.Kind,
		ProtoSplit: t.spec.ProtoSplit,
		Order:      o.Name,
		Dir:        o.Dir,
		TopN:       uint64(topN),
		Rows:       make([]output.StatRow, len(rows)),
	}
	for i, r := range rows {
		w, c := t.row(r.idx), t.counter(r.idx)
		blk.Rows[i] = output.StatRow{
			Hi: w.hi, Lo: w.lo, Proto: w.proto, IPv6: w.v6,
			Flows: c.flows, InPackets: c.inPackets, InBytes: c.inBytes,
			OutPackets: c.outPackets, OutBytes: c.outBytes,
			First: c.first, Last: c.last,
		}
	}
	return blk
}
