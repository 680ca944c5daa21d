package stats

import (
	"slices"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/output"
)

// key is a table key: the element value and, with a protocol split, the
// protocol. It is comparable and fixed in size, so a map lookup hashes it
// without allocating.
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
	spec  Spec
	index map[key]uint32
	keys  []key
	cnt   []counter
}

// NewTable returns an empty table for an element spec (not -s record).
func NewTable(spec Spec) *Table {
	return &Table{spec: spec, index: make(map[key]uint32, 1024)}
}

// Len returns the number of distinct keys counted so far.
func (t *Table) Len() int { return len(t.keys) }

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
		k := key{hi, lo, proto}
		i, ok := t.index[k]
		if !ok {
			i = uint32(len(t.keys))
			t.index[k] = i
			t.keys = append(t.keys, k)
			t.cnt = append(t.cnt, counter{first: r.First, last: r.Last})
		}
		c := &t.cnt[i]
		c.flows += flows
		c.inPackets += r.InPackets
		c.inBytes += r.InBytes
		c.outPackets += r.OutPackets
		c.outBytes += r.OutBytes
		c.first = min(c.first, r.First)
		c.last = max(c.last, r.Last)
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
	rows := make([]ranked, 0, len(t.cnt))
	for i := range t.cnt {
		c := &t.cnt[i]
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
		k, c := t.keys[r.idx], &t.cnt[r.idx]
		blk.Rows[i] = output.StatRow{
			Hi: k.hi, Lo: k.lo, Proto: k.proto,
			Flows: c.flows, InPackets: c.inPackets, InBytes: c.inBytes,
			OutPackets: c.outPackets, OutBytes: c.outBytes,
			First: c.first, Last: c.last,
		}
	}
	return blk
}
