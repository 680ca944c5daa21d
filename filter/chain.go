package filter

import "github.com/nfgo/nftools/flow"

// An or of many address primitives (net A or net B or ..., host lists
// written out) compiles, as in nfdump, into a chain of blocks that Match
// walks test by test: a flow outside every network runs all of them, four
// per IPv4 net (source and destination, the address word and the zero
// upper word). foldChains finds such chains in the program and puts one
// block in their place that looks the flow's addresses up in hash sets,
// one lookup per address field and prefix length. -X still prints the
// blocks nfdump builds; only the program Match walks changes.
//
// A chain is groups g1 ... gn. A group is blocks t1 ... tk, each an
// equality test of (part of) one and the same address field, not
// inverted, linked by onTrue; all leave on false to the same block, the
// first block of the next group (or, for gn, the chain's exit E), and tk
// goes on true to T, the same for every group. No block of the chain
// other than g1's first is reached from outside it. Walking the chain then
// ends at T with a true test when any group's tests all hold, and at E
// with a false one otherwise, which is what the folded block does.

// foldAddrChains turns folding on; tests turn it off to compare.
var foldAddrChains = true

// minChainGroups is the number of groups from which folding a chain pays:
// a lookup costs a few block tests.
const minChainGroups = 8

// maxGroupBlocks bounds a group: an address primitive makes at most
// two blocks, and the bound keeps a walk along onTrue finite whatever
// the tree.
const maxGroupBlocks = 8

// opAddrChain is the folded block's op (see opKind); aux numbers its
// chain in Filter.chains.
const opAddrChain opKind = 255

// addrChain is a folded chain: a flow passes when one of its address
// fields, masked, is in the class's set.
type addrChain struct {
	classes []chainClass
}

// chainClass is the groups that test one address field with one mask and
// family.
type chainClass struct {
	addr uint8 // addrIndex of the field, the walk's cache slot
	fam  uint8 // 0, 4 or 6, as inst.fam
	mask addr128
	set  hashSet // the groups' values
}

type classKey struct {
	addr uint8
	fam  uint8
	mask addr128
}

// match is the chain's answer for r.
func (c *addrChain) match(r *flow.Record, st *walkState) bool {
	for i := range c.classes {
		k := &c.classes[i]
		w := &st.addr[k.addr]
		if w.fam == 0 {
			st.load(k.addr, r)
		}
		if k.fam != 0 && w.fam != 1 && w.fam != k.fam {
			continue
		}
		if k.set.has(addr128{w.hi & k.mask.hi, w.lo & k.mask.lo}) {
			return true
		}
	}
	return false
}

// chainGroup is one group: its blocks, where they go, and the one test
// they make together.
type chainGroup struct {
	blocks          blockList
	onTrue, onFalse uint32
	key             classKey
	value           addr128
}

// blockList is a group's blocks, held in the group rather than in a
// slice of their own: a chain of 100 groups made 100 allocations.
type blockList struct {
	b [maxGroupBlocks]uint32
	n uint8
}

func (l *blockList) add(b uint32) { l.b[l.n] = b; l.n++ }

func (l *blockList) all() []uint32 { return l.b[:l.n] }

// foldChains replaces each chain of at least minChainGroups groups
// reachable from the start by a folded block. Filters with labels keep
// their blocks: MatchLabel reads the label of every block it passes.
func (f *Filter) foldChains() {
	if f.labels || f.start == 0 {
		return
	}
	// Each block's predecessors, and the blocks in an order in which a
	// chain's first block comes before the rest of it (breadth first).
	indeg := make([]int, len(f.prog))
	seen := make([]bool, len(f.prog))
	order := []uint32{f.start}
	seen[f.start] = true
	for i := 0; i < len(order); i++ {
		in := &f.prog[order[i]]
		for _, next := range [2]uint32{in.onTrue, in.onFalse} {
			if next == 0 {
				continue
			}
			indeg[next]++
			if !seen[next] {
				seen[next] = true
				order = append(order, next)
			}
		}
	}
	used := make([]bool, len(f.prog))
	var groups []chainGroup // reused: fold keeps none of it
	for _, h := range order {
		if used[h] {
			continue
		}
		groups = f.chainAt(h, indeg, used, groups[:0])
		if len(groups) < minChainGroups {
			continue
		}
		f.fold(h, groups, used)
	}
}

// chainAt appends to groups those of the longest chain that starts at
// block h.
func (f *Filter) chainAt(h uint32, indeg []int, used []bool, groups []chainGroup) []chainGroup {
	for cur := h; cur != 0 && !used[cur]; {
		g, ok := f.groupAt(cur, indeg)
		if !ok {
			break
		}
		if n := len(groups); n > 0 {
			// Only the previous group's blocks lead here, and this group
			// ends where the others do.
			if indeg[cur] != int(groups[n-1].blocks.n) || g.onTrue != groups[0].onTrue {
				break
			}
		}
		groups = append(groups, g)
		cur = g.onFalse
	}
	return groups
}

// chainable reports whether a block can be part of a group: an equality
// test of an address word, not inverted, whose value lies within its mask.
func chainable(in *inst) bool {
	return (in.op == opAddrHi || in.op == opAddrLo) && in.comp == cmpEQ && !in.invert &&
		in.value&^in.mask == 0 && in.addr < 4
}

// groupAt reads the group that starts at block h.
func (f *Filter) groupAt(h uint32, indeg []int) (chainGroup, bool) {
	first := &f.prog[h]
	if !chainable(first) {
		return chainGroup{}, false
	}
	g := chainGroup{onFalse: first.onFalse, key: classKey{addr: first.addr}}
	for t := h; ; {
		in := &f.prog[t]
		// The group's tests must agree on the family and not overlap, so
		// that one masked compare makes all of them.
		if in.fam != 0 {
			if g.key.fam != 0 && g.key.fam != in.fam {
				return chainGroup{}, false
			}
			g.key.fam = in.fam
		}
		m, v := &g.key.mask.lo, &g.value.lo
		if in.op == opAddrHi {
			m, v = &g.key.mask.hi, &g.value.hi
		}
		if *m&in.mask != 0 {
			return chainGroup{}, false
		}
		*m |= in.mask
		*v |= in.value
		g.blocks.add(t)
		next := in.onTrue
		if next == 0 || next == h || g.blocks.n == maxGroupBlocks {
			g.onTrue = next
			break
		}
		nx := &f.prog[next]
		if !chainable(nx) || nx.addr != first.addr || nx.onFalse != g.onFalse || indeg[next] != 1 {
			g.onTrue = next
			break
		}
		t = next
	}
	if g.onTrue == g.onFalse || g.onFalse == h {
		return chainGroup{}, false
	}
	return g, true
}

// fold puts the folded block of groups at h, the chain's first block.
func (f *Filter) fold(h uint32, groups []chainGroup, used []bool) {
	c := &addrChain{}
	index := map[classKey]int{}
	for _, g := range groups {
		i, ok := index[g.key]
		if !ok {
			i = len(c.classes)
			index[g.key] = i
			c.classes = append(c.classes, chainClass{
				addr: g.key.addr, fam: g.key.fam, mask: g.key.mask,
			})
		}
		c.classes[i].set.add(g.value)
		for _, b := range g.blocks.all() {
			used[b] = true
		}
	}
	f.prog[h] = inst{
		op: opAddrChain, aux: uint32(len(f.chains)),
		onTrue: groups[0].onTrue, onFalse: groups[len(groups)-1].onFalse,
	}
	f.chains = append(f.chains, c)
}
