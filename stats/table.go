package stats

import (
	"slices"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/slotindex"
	"github.com/nfgo/nftools/output"
)

// key is a table key: the element value and, with a protocol split, the
// protocol.
type key struct {
	hi, lo uint64
	proto  uint8
}

// counter sums the flows that carried one key.
type counter struct {
	flows, inPackets, inBytes, outPackets, outBytes uint64
	first, last                                     uint64 // msec
}

// Table counts one element statistic.
type Table struct {
	spec Spec
	idx  slotindex.Index // finds a row by its key
	// rows keep each key beside its counter, so that counting a flow
	// touches one place in memory after the index; they come in chunks
	// of rowChunk, so growing never copies them.
	rows [][]row
	n    int
}

const rowBits = 10
const rowChunk = 1 << rowBits

func (t *Table) row(i uint32) *row { return &t.rows[i>>rowBits][i&(rowChunk-1)] }

// row is a key and its counter.
type row struct {
	k key
	c counter
}

// NewTable returns an empty table for an element spec (not -s record).
func NewTable(spec Spec) *Table {
	return &Table{spec: spec, idx: slotindex.New(11)}
}

func (k key) hash() uint64 {
	h := slotindex.Mix(slotindex.Mix(0, k.hi), k.lo)
	return slotindex.Finish(h ^ uint64(k.proto))
}

// lookup returns the number of key k, adding it with a new counter
// started at r's times when it is new.
func (t *Table) lookup(k key, r *flow.Record) uint32 {
	i, _ := t.find(k, counter{first: r.First, last: r.Last})
	return i
}

// find returns the number of key k and whether it was there before; a new
// key gets counter c.
func (t *Table) find(k key, c counter) (uint32, bool) {
	if t.idx.Full(t.n) {
		t.idx.Grow()
	}
	pos, tag := t.idx.Home(k.hash())
	for s := t.idx.Slot(pos); s != 0; pos, s = t.idx.Next(pos) {
		if i, ok := slotindex.Match(s, tag); ok && t.row(i).k == k {
			return i, true
		}
	}
	i := uint32(t.n)
	if t.n>>rowBits == len(t.rows) {
		t.rows = append(t.rows, make([]row, rowChunk))
	}
	*t.row(i) = row{k, c}
	t.n++
	t.idx.Put(pos, tag, i)
	return i, false
}

// Len returns the number of distinct keys counted so far.
func (t *Table) Len() int { return t.n }

// Add counts r under each of its element's keys; ip, port and the other
// two-key elements count a flow twice, also when both keys are equal, as
// nfdump does.
func (t *Table) Add(r *flow.Record) {
	var proto uint8
	if t.spec.ProtoSplit {
		proto = r.Proto
	}
	flows := r.AggrFlows()
	for _, kf := range t.spec.Element.keys {
		hi, lo := kf(r)
		c := &t.row(t.lookup(key{hi, lo, proto}, r)).c
		c.flows += flows
		c.inPackets += r.InPackets
		c.inBytes += r.InBytes
		c.outPackets += r.OutPackets
		c.outBytes += r.OutBytes
		c.first = min(c.first, r.First)
		c.last = max(c.last, r.Last)
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
	t.n = 0
}

// Merge adds the rows of o, a table of the same spec, as if the flows o
// counted had been added to t after those t counted: rows keep t's order,
// o's new keys follow in o's order, so that the order in which keys were
// first seen (which breaks ties in Top) is that of the flows, and every
// counter, first and last time is what counting the flows gives.
func (t *Table) Merge(o *Table) {
	for i := 0; i < o.n; i++ {
		src := o.row(uint32(i))
		j, old := t.find(src.k, src.c)
		if !old {
			continue
		}
		c := &t.row(j).c
		c.flows += src.c.flows
		c.inPackets += src.c.inPackets
		c.inBytes += src.c.inBytes
		c.outPackets += src.c.outPackets
		c.outBytes += src.c.outBytes
		c.first = min(c.first, src.c.first)
		c.last = max(c.last, src.c.last)
	}
}

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

// rank orders rows by value and keeps the first topN (all for 0); ties
// keep the order in which their keys were first seen. nfdump's tie order
// comes from its hash table and heap sort and has no meaning.
func rank(rows []ranked, asc bool, topN int) []ranked {
	slices.SortFunc(rows, func(a, b ranked) int {
		switch {
		case a.value == b.value:
			return int(int64(a.idx) - int64(b.idx))
		case (a.value < b.value) == asc:
			return -1
		default:
			return 1
		}
	})
	if topN > 0 && len(rows) > topN {
		rows = rows[:topN]
	}
	return rows
}

// Top returns the table's block for order o: the top topN rows (all for
// 0) among those within the limits, which are tested on the order's
// counters.
func (t *Table) Top(o Order, topN int, packets, bytes Limit) *output.StatBlock {
	rows := make([]ranked, 0, t.n)
	for i := 0; i < t.n; i++ {
		c := &t.row(uint32(i)).c
		if !bytes.keep(bytesOf(c, o.Dir)) || !packets.keep(packetsOf(c, o.Dir)) {
			continue
		}
		rows = append(rows, ranked{value: o.value(c, o.Dir), idx: uint32(i)})
	}
	rows = rank(rows, t.spec.Ascending && len(rows) < heapsortLimit, topN)
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
		k, c := t.row(r.idx).k, &t.row(r.idx).c
		blk.Rows[i] = output.StatRow{
			Hi: k.hi, Lo: k.lo, Proto: k.proto,
			Flows: c.flows, InPackets: c.inPackets, InBytes: c.inBytes,
			OutPackets: c.outPackets, OutBytes: c.outBytes,
			First: c.first, Last: c.last,
		}
	}
	return blk
}
