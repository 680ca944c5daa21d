package stats

import (
	"runtime"
	"sync"

	"github.com/nfgo/nftools/internal/region"
	"github.com/nfgo/nftools/output"
)

// Split is an element statistic's table in parts, each holding the keys
// of its share of the hash values and locked on its own, so that several
// goroutines merge blocks into it at once (MergeBlocks): on a border
// router's hundreds of thousands of addresses, merging each block's table
// into the run's costs about what counting the block did, and on one
// goroutine it kept the other cores idle. Blocks may merge in any order
// once Reserve numbered them in file order: ties rank in the order in
// which keys were first seen, which those numbers keep.
type Split struct {
	parts []*Table
	mu    []sync.Mutex // mu[i] guards parts[i]
	next  uint64       // the first-seen number of the next reserved block's first key
}

// NewSplit returns an empty table of n parts (n > 0) for an element spec.
func NewSplit(spec Spec, n int) *Split {
	s := &Split{parts: make([]*Table, n), mu: make([]sync.Mutex, n)}
	mem := &splitMem{Memory: region.NewMemory(n)}
	for i := range s.parts {
		s.parts[i] = NewTable(spec)
		s.parts[i].mem, s.parts[i].part = mem, i
	}
	runtime.AddCleanup(s, (*region.Memory).Free, mem.Memory)
	return s
}

// splitMem is what a Split keeps outside Go's heap (internal/region), on
// small pages: on the benchmark machine a huge page's first touch is now
// and then its host filling 2 MiB (region.MapSmall, Table.grow). The
// parts take their rows from one pool; each part's index slots have a
// region of their own (Memory.Index). The memory goes back when the
// Split is unreachable.
type splitMem struct {
	mu sync.Mutex // guards the pool: parts grow at once
	*region.Memory
}

// Part returns part i. Counting flows into it (Table.Add) is right in a
// split of one part only, where the part holds every key.
func (s *Split) Part(i int) *Table { return s.parts[i] }

// Reserve returns the first-seen number from which the keys of block b,
// a table of the same spec, are numbered when they merge (MergeBlocks).
// Blocks must be reserved in file order, on one goroutine.
func (s *Split) Reserve(b *Table) uint64 {
	base := s.next
	s.next += b.next
	return base
}

// MergeBlocks adds each block blocks[i] to splits[i], as Table.Merge
// does, numbering its keys from bases[i] (Reserve). Several goroutines may
// merge blocks at once, in any order: each takes first the parts that no
// other is merging, and waits only when all it has left are taken. A
// block must not change while it merges.
func MergeBlocks(splits []*Split, blocks []*Table, bases []uint64) {
	// left is the (split, part) pairs still to merge, as split<<16|part
	// while they fit a small array (a usual run's), else in a slice.
	var buf [16]int
	left := buf[:0]
	for i, s := range splits {
		blocks[i].partition(len(s.parts))
		for p := range s.parts {
			left = append(left, i<<16|p)
		}
	}
	for len(left) > 0 {
		merged := false
		for k := 0; k < len(left); {
			i, p := left[k]>>16, left[k]&(1<<16-1)
			if !splits[i].mu[p].TryLock() {
				k++
				continue
			}
			splits[i].mergeLocked(p, blocks[i], bases[i])
			left[k] = left[len(left)-1]
			left = left[:len(left)-1]
			merged = true
		}
		if !merged {
			i, p := left[0]>>16, left[0]&(1<<16-1)
			splits[i].mu[p].Lock()
			splits[i].mergeLocked(p, blocks[i], bases[i])
			left = left[1:]
		}
	}
}

// mergeLocked merges part p of b, whose lock the caller holds, and
// unlocks it.
func (s *Split) mergeLocked(p int, b *Table, base uint64) {
	defer s.mu[p].Unlock()
	s.parts[p].merge(b, b.byPart[p], base)
	if s.parts[p].n >= logFrom {
		b.startLog(len(s.parts))
	}
}

// logFrom is how many keys a part of a Split holds when the blocks that
// merge into it start counting in log mode (Table.log): each flow a row
// of its own, merged as it is. Finding a flow's key in its block's table
// saves merging the key more than once, but once the run's rows no
// longer fit in the processor's caches, a merge waits for memory for
// each key of a block once, and each further row of that key finds the
// run's row in the cache: the block's table then costs more than it
// saves (on the border archive a block of 7 800 flows has 5 300 keys:
// godump -s srcip/bytes took 0.927 of the CPU time, the lab's triple
// 0.903). A table that merges into a small Split keeps finding its keys,
// as there each flow of a block merged would cost about what counting it
// did. From 1<<12 keys on the border archive switched a few blocks
// earlier, for the same CPU time.
const logFrom = 1 << 14

// Len returns the number of distinct keys counted so far.
func (s *Split) Len() int {
	n := 0
	for _, t := range s.parts {
		n += t.n
	}
	return n
}

// Top returns the block for order o over all parts, as Table.Top does for
// one table.
func (s *Split) Top(o Order, topN int, packets, bytes Limit) *output.StatBlock {
	blk := top(s.parts, o, topN, packets, bytes)
	// The parts' rows go back when s is unreachable, which s would be
	// during top without this.
	runtime.KeepAlive(s)
	return blk
}
