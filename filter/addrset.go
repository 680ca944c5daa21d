package filter

import (
	"cmp"
	"math/bits"
	"slices"
)

// addr128 is an address as nfdump's master record holds it (flow.AddrWords):
// IPv4 in the low 32 bits.
type addr128 struct{ hi, lo uint64 }

func (a addr128) and(m addr128) addr128 { return addr128{a.hi & m.hi, a.lo & m.lo} }

// prefixMask returns the 128-bit mask of the first n bits.
func prefixMask(n int) addr128 {
	switch {
	case n <= 0:
		return addr128{}
	case n >= 128:
		return addr128{^uint64(0), ^uint64(0)}
	case n <= 64:
		return addr128{^uint64(0) << (64 - n), 0}
	}
	return addr128{^uint64(0), ^uint64(0) << (128 - n)}
}

// maskLen returns the number of leading one bits of a mask. nfdump's masks
// (even those its shifts make of an out-of-range prefix length) are all
// leading ones.
func maskLen(m addr128) int {
	if m.hi != ^uint64(0) {
		return bits.LeadingZeros64(^m.hi)
	}
	return 64 + bits.LeadingZeros64(^m.lo)
}

// nfdumpMask is the mask nfdump computes for a prefix of bits on an
// address of family v4 or IPv6: IPv4 lives in the low 32 bits, so its
// upper 96 bits must be zero. The shift counts wrap modulo 64 as x86's do
// (nfdump's C shifts by 64 and more are undefined; the machine wraps), so
// an IPv6 /0 is a /64, and an IPv4 /40 masks 8 more bits than it has.
func nfdumpMask(v4 bool, bitsN uint64) addr128 {
	shl := func(n uint64) uint64 { return ^uint64(0) << (n & 63) }
	if v4 {
		return addr128{^uint64(0), shl(32 - bitsN)}
	}
	if bitsN > 64 {
		return addr128{^uint64(0), shl(128 - bitsN)}
	}
	return addr128{shl(64 - bitsN), 0}
}

// ipEntry is one address or prefix of an `ip in [...]` list: its
// address, masked, and the length of its mask (maskLen), which is all of
// it: a list of a million addresses holds 24 bytes for each while it
// compiles, not 40.
type ipEntry struct {
	ip   addr128
	bits uint8
	v4   bool
}

// mask returns the entry's mask.
func (e *ipEntry) mask() addr128 { return prefixMask(int(e.bits)) }

// addrSet is an `ip in [...]` list. nfdump keeps the list in a red-black
// tree whose comparison masks each side with the other's mask, so an
// entry that overlaps one already in the tree is dropped: in
// [10.1.2.3 10.0.0.0/8] only 10.1.2.3 counts. The set keeps exactly the
// entries nfdump keeps, one hash table per prefix length, so a lookup
// costs one probe per distinct length however long the list is.
type addrSet struct {
	fam  [2]famSet // IPv4, IPv6
	kept []ipEntry // for -X, in nfdump's tree order
	// blind marks a set built family-blind: every entry is in the IPv6
	// set and every address is looked up there.
	blind bool
}

type famSet struct {
	lens   []int // distinct prefix lengths of the kept entries, longest first
	masks  []addr128
	tables []hashSet
}

// newAddrSet builds the set from the entries in the order they were
// written; it keeps the entries it keeps in their array. Every
// allocation is made at its final size (what compiling an address list
// allocates is garbage before godump reads its first block, and so peak
// RSS): with the bench's list of 1000 addresses it allocates 35 KB where
// it took 232.
func newAddrSet(entries []ipEntry) *addrSet {
	var fams [2]famBuilder
	fams[0].init(entries, true)
	fams[1].init(entries, false)
	kept := entries[:0]
	for i := range entries {
		e := entries[i] // kept may overwrite it
		f := &fams[1]
		if e.v4 {
			f = &fams[0]
		}
		if f.keep(&e) {
			kept = append(kept, e)
		}
	}
	s := &addrSet{kept: kept}
	s.fam[0], s.fam[1] = fams[0].finish(), fams[1].finish()
	// nfdump's tree order; of an IPv4 and an IPv6 entry of the same
	// bits, which nfdump's tree holds as one, the IPv4 one first.
	slices.SortFunc(s.kept, func(a, b ipEntry) int {
		switch {
		case a.ip.hi != b.ip.hi:
			return cmp.Compare(a.ip.hi, b.ip.hi)
		case a.ip.lo != b.ip.lo:
			return cmp.Compare(a.ip.lo, b.ip.lo)
		case a.v4 != b.v4 && a.v4:
			return -1
		case a.v4 != b.v4:
			return 1
		}
		return 0
	})
	return s
}

// famBuilder keeps the entries of one family that overlap no entry kept
// before them.
type famBuilder struct {
	lens []int // the lengths of the family's entries, longest first
	// keptBy[l] holds the kept entries of length l; cover[l] the first l
	// bits of every kept entry longer than l.
	keptBy, cover [129]*hashSet
}

// init readies b for the entries of family v4 (or IPv6).
func (b *famBuilder) init(entries []ipEntry, v4 bool) {
	// count[l] is the number of entries of length l, longer[l] of those
	// longer than l: what keptBy[l] and cover[l] hold at most.
	var count, longer [129]int
	for i := range entries {
		if e := &entries[i]; e.v4 == v4 {
			count[e.bits]++
		}
	}
	n := 0
	for l := 128; l >= 0; l-- {
		longer[l] = n
		n += count[l]
		if count[l] > 0 {
			b.lens = append(b.lens, l)
		}
	}
	for _, l := range b.lens {
		b.keptBy[l], b.cover[l] = newHashSet(count[l]), newHashSet(longer[l])
	}
}

// keep reports whether e, the family's next entry, is kept: whether it
// overlaps no entry kept before it.
func (b *famBuilder) keep(e *ipEntry) bool {
	l := int(e.bits)
	overlap := b.cover[l].has(e.ip)
	for _, m := range b.lens {
		if overlap || m > l {
			continue
		}
		overlap = b.keptBy[m].has(e.ip.and(prefixMask(m)))
	}
	if overlap {
		return false
	}
	b.keptBy[l].add(e.ip)
	for _, m := range b.lens {
		if m < l {
			b.cover[m].add(e.ip.and(prefixMask(m)))
		}
	}
	return true
}

// finish returns the family's set.
func (b *famBuilder) finish() famSet {
	var fs famSet
	for _, l := range b.lens {
		if b.keptBy[l].n > 0 {
			fs.lens = append(fs.lens, l)
			fs.masks = append(fs.masks, prefixMask(l))
			fs.tables = append(fs.tables, *b.keptBy[l])
		}
	}
	return fs
}

// has reports whether the address w lies in a kept entry.
func (s *addrSet) has(w *addrWords) bool {
	k := addr128{w.hi, w.lo}
	switch {
	case s.blind:
		return s.contains(k, false)
	case w.fam == 1:
		// An address the flow does not carry reads as 0 in either
		// family.
		return s.contains(k, true) || s.contains(k, false)
	}
	return s.contains(k, w.fam == 4)
}

// contains reports whether a (of family v4 or IPv6) lies in a kept entry.
func (s *addrSet) contains(a addr128, v4 bool) bool {
	f := &s.fam[1]
	if v4 {
		f = &s.fam[0]
	}
	for i := range f.tables {
		if f.tables[i].has(a.and(f.masks[i])) {
			return true
		}
	}
	return false
}

// contains4 is contains for the IPv4 address x (its low 32 bits), as the
// raw walk tests an ip in [ ] list (kIPList4): the seen bitmap answers
// for most addresses without a call, which the call of contains and
// then of has took a hundred instructions for.
func (s *addrSet) contains4(x uint64) bool {
	f := &s.fam[0]
	for i := range f.tables {
		t := &f.tables[i]
		if t.n == 0 {
			continue
		}
		// An IPv4 address's upper word is 0, masked or not.
		k := addr128{0, x & f.masks[i].lo}
		h := hash128(k)
		if b := h >> t.seenShift; t.seen[b>>6]&(1<<(b&63)) == 0 {
			continue
		}
		if t.probe(k, h) {
			return true
		}
	}
	return false
}

// hashSet is an open-addressing set of 128-bit keys: flat, so a lookup
// never allocates and a list of a million addresses costs two words per
// slot. Most lookups are of addresses not in the set (a flow outside the
// listed hosts), and probing for those mispredicted about twice a flow
// in godump's profile of the bench address lists; a bitmap of the keys'
// hashes, 16 bits a key, answers most of them with one load and a branch
// that goes the same way nearly every time.
type hashSet struct {
	slots []addr128
	used  []uint64 // occupancy bits
	seen  []uint64 // bit hash >> seenShift set for every key
	n     int
	shift uint
	// seenShift turns a hash into its bit in seen.
	seenShift uint
}

// seenBits is how many bits of seen there are for each slot.
const seenBits = 8

func hash128(k addr128) uint64 {
	return (k.hi*0x9e3779b97f4a7c15 ^ k.lo) * 0xbf58476d1ce4e5b9
}

func (h *hashSet) has(k addr128) bool {
	if h == nil || h.n == 0 {
		return false
	}
	x := hash128(k)
	if b := x >> h.seenShift; h.seen[b>>6]&(1<<(b&63)) == 0 {
		return false
	}
	return h.probe(k, x)
}

// probe looks for k, of hash x, in the slots.
func (h *hashSet) probe(k addr128, x uint64) bool {
	mask := uint64(len(h.slots) - 1)
	for i := x >> h.shift; ; i = (i + 1) & mask {
		if h.used[i>>6]&(1<<(i&63)) == 0 {
			return false
		}
		if h.slots[i] == k {
			return true
		}
	}
}

func (h *hashSet) add(k addr128) {
	if h.has(k) {
		return
	}
	if 2*(h.n+1) > len(h.slots) {
		h.grow()
	}
	h.insert(k)
}

func (h *hashSet) insert(k addr128) {
	mask := uint64(len(h.slots) - 1)
	x := hash128(k)
	i := x >> h.shift
	for h.used[i>>6]&(1<<(i&63)) != 0 {
		i = (i + 1) & mask
	}
	h.slots[i] = k
	h.used[i>>6] |= 1 << (i & 63)
	b := x >> h.seenShift
	h.seen[b>>6] |= 1 << (b & 63)
	h.n++
}

// newHashSet returns a set with room for n keys: it never grows while
// they are added.
func newHashSet(n int) *hashSet {
	h := &hashSet{}
	if n > 0 {
		size := 64
		for size < 2*n {
			size *= 2
		}
		h.resize(size)
	}
	return h
}

func (h *hashSet) grow() { h.resize(max(64, 2*len(h.slots))) }

// resize rehashes the set into size slots, a power of 2.
func (h *hashSet) resize(size int) {
	old, oldUsed := h.slots, h.used
	h.slots = make([]addr128, size)
	h.used = make([]uint64, size/64)
	h.seen = make([]uint64, size*seenBits/64)
	h.shift = uint(64 - bits.TrailingZeros(uint(size)))
	h.seenShift = uint(64 - bits.TrailingZeros(uint(size*seenBits)))
	h.n = 0
	for i, k := range old {
		if oldUsed[i>>6]&(1<<(uint(i)&63)) != 0 {
			h.insert(k)
		}
	}
}

// valSet is a `port in [...]` or `as in [...]` list: the values as nfdump
// shifts them into their place in its record word, sorted.
type valSet struct {
	sorted []uint64
	dump   []uint64 // in nfdump's tree order, for -X
}

func newValSet(dump []uint64) *valSet {
	s := &valSet{sorted: slices.Clone(dump), dump: dump}
	slices.Sort(s.sorted)
	s.sorted = slices.Compact(s.sorted)
	return s
}

func (s *valSet) contains(v uint64) bool {
	_, ok := slices.BinarySearch(s.sorted, v)
	return ok
}
