package aggregate

import (
	"cmp"
	"slices"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/topn"
)

// Sorting a table for -O works on entry numbers and sort keys, never on
// records: a full sort costs an entry number and a key (12 bytes) per
// aggregated flow, and with -n N only the best N are kept, in a heap of N
// (internal/topn), while the table is walked once. Records are built afterwards, one at a
// time, for the entries printed.

// keyOf returns o's key for entry i, as o would compute it on the record
// Record or WriteRecord builds. The key reads only counters and times,
// which the entry holds; only -B turns a record around and so swaps its in
// and out counters, which needs the ports of the first flow.
func (t *Table) keyOf(o *Order, i int32, r *flow.Record) uint64 {
	e := t.at(i)
	if t.spec.guess {
		t.Record(i, r)
	} else {
		e.sums(r)
	}
	return o.key(r)
}

// sortItem is an entry number with what orders it: its key, and for equal
// keys its first seen time and its number, which is the order of Order.
type sortItem struct {
	key, first uint64
	i          int32
}

// before reports whether a prints before b under o.
func (o *Order) before(a, b *sortItem) bool {
	if a.key != b.key {
		return (a.key < b.key) == o.asc
	}
	if a.first != b.first {
		return a.first < b.first
	}
	return a.i < b.i
}

// Sorted returns the entries in the order -O o prints them: o's key, ties
// in the order of Order (first seen time, then the order the keys were
// first seen), as a stable sort of Order's list by the key gives. With
// topN > 0 it returns only the first topN.
func (t *Table) Sorted(o *Order, topN int) []int32 {
	t.flush()
	var r flow.Record
	if topN > 0 && topN < t.n {
		h := topn.New(topN, o.before)
		for i := int32(0); i < int32(t.n); i++ {
			h.Offer(sortItem{key: t.keyOf(o, i, &r), first: t.at(i).first, i: i})
		}
		out := make([]int32, 0, topN)
		for _, it := range h.Sorted() {
			out = append(out, it.i)
		}
		return out
	}
	keys := make([]uint64, t.n)
	out := make([]int32, t.n)
	for i := range out {
		out[i] = int32(i)
		keys[i] = t.keyOf(o, int32(i), &r)
	}
	slices.SortFunc(out, func(a, b int32) int {
		ka, kb := keys[a], keys[b]
		if ka != kb {
			if (ka < kb) == o.asc {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(t.at(a).first, t.at(b).first); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return out
}
