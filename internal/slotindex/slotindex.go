// Package slotindex is the open-addressing hash index that godump's
// aggregation and statistics tables share: a power-of-two array of 64-bit
// slots with linear probing, each used slot holding the top 32 bits of
// its key's hash and the number (plus one) of the entry the table keeps
// elsewhere. goprobe's flow cache uses it too, with Delete: flows come and
// go where godump's tables only grow. The index never holds keys, so a table stores them where it
// likes; and since a slot keeps the hash bits that place it, growing reads
// only the slots, never the keys. godump's tables keep the load at most
// one half (Full), goprobe's flow cache three quarters (with Len).
//
// The probe loop stays in each table, where the key comparison is, so
// that nothing on the hot path goes through a function value:
//
//	pos, tag := x.Home(h)
//	for s := x.Slot(pos); s != 0; pos, s = x.Next(pos) {
//		if i, ok := slotindex.Match(s, tag); ok && keyOf(i) == k {
//			return i
//		}
//	}
//	x.Put(pos, tag, n) // the key is new: entry n goes at the free slot
package slotindex

import (
	"unsafe"

	"github.com/nfgo/nftools/internal/region"
)

// Index is the slot array. The zero Index is not usable; make one with
// New.
type Index struct {
	slots []uint64
	shift uint // 64 - log2(len(slots))
}

// New returns an empty index of 1<<bits slots.
func New(bits uint) Index {
	return Index{slots: make([]uint64, 1<<bits), shift: 64 - bits}
}

// Home returns the slot where the probe for hash h starts and the tag its
// slot keeps.
func (x *Index) Home(h uint64) (pos int, tag uint64) {
	// The mask tells the compiler the shift is below 64, which saves
	// the instructions Go's shift semantics need otherwise.
	return int(h >> (x.shift & 63)), h >> 32 << 32
}

// Slot returns slot pos: 0 when it is free.
func (x *Index) Slot(pos int) uint64 { return x.slots[pos] }

// SlotAddr returns where slot pos is in memory, for a table that
// prefetches it ahead of a lookup.
func (x *Index) SlotAddr(pos int) *uint64 { return &x.slots[pos] }

// Next returns the slot after pos, wrapping around, and its value.
func (x *Index) Next(pos int) (int, uint64) {
	pos = (pos + 1) & (len(x.slots) - 1)
	return pos, x.slots[pos]
}

// Match returns the entry number of slot s when its tag is tag; the key
// must still be compared, as different keys can share a tag.
func Match(s, tag uint64) (uint32, bool) {
	return uint32(s) - 1, s&^(1<<32-1) == tag
}

// Free returns the first free slot of the probe for hash h: where a new
// key goes after Grow moved the slots.
func (x *Index) Free(h uint64) int {
	pos, _ := x.Home(h)
	for x.slots[pos] != 0 {
		pos = (pos + 1) & (len(x.slots) - 1)
	}
	return pos
}

// Put sets the free slot pos to entry i with tag.
func (x *Index) Put(pos int, tag uint64, i uint32) { x.slots[pos] = tag | uint64(i+1) }

// Delete frees slot pos, and moves back the slots after it whose probes
// would otherwise stop at the hole (backward-shift deletion), so that
// lookups stay correct without tombstones and the load stays what the
// entries make it.
func (x *Index) Delete(pos int) {
	mask := len(x.slots) - 1
	for {
		x.slots[pos] = 0
		next := pos
		for {
			next = (next + 1) & mask
			s := x.slots[next]
			if s == 0 {
				return
			}
			// s may fill the hole when the hole lies on its probe path:
			// between its home slot and where it is now.
			home := int(s >> x.shift)
			if (next-pos)&mask <= (next-home)&mask {
				x.slots[pos] = s
				pos = next
				break
			}
		}
	}
}

// Len returns the number of slots, for a table that keeps a load of its
// own.
func (x *Index) Len() int { return len(x.slots) }

// Full reports whether an index holding n entries must grow before it
// takes another: the load would pass one half.
func (x *Index) Full(n int) bool { return 2*(n+1) > len(x.slots) }

// Grow doubles the index and puts every slot back, placed by the hash bits
// it keeps. It is rare, so it stays out of line: inlined into a table's
// lookup it would make the common path spill registers.
//
//go:noinline
func (x *Index) Grow() { x.GrowInto(make([]uint64, 2*len(x.slots))) }

// GrowInto is Grow into slots the caller provides: zeroed, twice Len
// long. It returns the old slots, which the index no longer uses: a table
// that keeps its index outside Go's heap frees them at once, where Grow
// leaves them to the garbage collector.
func (x *Index) GrowInto(slots []uint64) (old []uint64) {
	if len(slots) != 2*len(x.slots) {
		panic("slotindex: GrowInto needs twice as many slots")
	}
	x.shift--
	mask := len(slots) - 1
	for _, s := range x.slots {
		if s == 0 {
			continue
		}
		pos := int(s >> (x.shift & 63))
		for slots[pos] != 0 {
			pos = (pos + 1) & mask
		}
		slots[pos] = s
	}
	old, x.slots = x.slots, slots
	return old
}

// Reset empties the index and keeps its size.
func (x *Index) Reset() { clear(x.slots) }

// Mix is one round of the hash that the tables build from their key
// words (SplitMix64's finaliser over h^v): cheap, and good enough that the
// top bits spread keys that differ in any bit.
func Mix(h, v uint64) uint64 {
	h ^= v
	h *= 0xbf58476d1ce4e5b9
	return h ^ h>>31
}

// Finish ends a hash built with Mix.
func Finish(h uint64) uint64 { return h * 0x94d049bb133111eb }

// GrowMapped doubles the index into memory outside Go's heap, advised for
// huge pages (region.Map), and frees the slots it leaves at once: Go's
// heap would keep them until a collection and then for its own reuse.
// *mem is the region the slots are in, nil while they are Go's; GrowMapped
// sets it to the new one.
func (x *Index) GrowMapped(mem *[]byte) {
	b, mapped := region.Map(2*len(x.slots)*8, 0)
	region.Free(x.growMapped(mem, b, mapped))
}

// GrowFilledKeep doubles the index into small pages outside Go's heap,
// every one filled before the slots move (region.MapSmall,
// region.Populate), and returns the region the slots were in instead of
// freeing it (nil when they were Go's), for a table that puts its memory
// to other use (region.Pool.Recycle). *mem is as for GrowMapped.
//
// Moving the slots probes each new one before it writes it: on pages not
// filled ahead each first read mapped the zero page and each write then
// replaced it (two faults a page and a TLB flush on every processor), and
// huge pages, one fault each, came on the benchmark machine from memory
// its host had taken back, whose first touch was the host filling 2 MiB
// (see region.MapSmall; the measurements are in aggregate's and stats'
// Table.grow).
func (x *Index) GrowFilledKeep(mem *[]byte) (old []byte) {
	b, mapped := region.MapSmall(2 * len(x.slots) * 8)
	region.Populate(b)
	return x.growMapped(mem, b, mapped)
}

// growMapped moves the index into b, sets *mem to b when it is a region
// (mapped) and returns the region the slots were in.
func (x *Index) growMapped(mem *[]byte, b []byte, mapped bool) (old []byte) {
	x.GrowInto(unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/8))
	old = *mem
	*mem = nil
	if mapped {
		*mem = b
	}
	return old
}
