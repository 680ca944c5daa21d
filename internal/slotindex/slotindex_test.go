package slotindex

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/region"
)

// table is the smallest user of an Index: keys kept in a slice, looked up
// with the probe loop the package comment shows.
type table struct {
	x    Index
	keys []uint64
}

func (t *table) find(k uint64) (uint32, bool) {
	if t.x.Full(len(t.keys)) {
		t.x.Grow()
	}
	pos, tag := t.x.Home(Finish(Mix(0, k)))
	for s := t.x.Slot(pos); s != 0; pos, s = t.x.Next(pos) {
		if i, ok := Match(s, tag); ok && t.keys[i] == k {
			return i, true
		}
	}
	i := uint32(len(t.keys))
	t.keys = append(t.keys, k)
	t.x.Put(pos, tag, i)
	return i, false
}

func TestIndexFindsEveryKeyAcrossGrowth(t *testing.T) {
	tb := &table{x: New(2)}
	const n = 100000
	for k := uint64(0); k < n; k++ {
		i, old := tb.find(k * 7919)
		require.False(t, old)
		require.Equal(t, uint32(k), i)
	}
	assert.Equal(t, 1<<18, len(tb.x.slots), "load at most one half")
	for k := uint64(0); k < n; k++ {
		i, old := tb.find(k * 7919)
		require.True(t, old)
		require.Equal(t, uint32(k), i)
	}
	tb.x.Reset()
	tb.keys = tb.keys[:0]
	_, old := tb.find(7919)
	assert.False(t, old, "an index after Reset is empty")
}

// TestMatchNeedsTheTag: a slot of another tag is no match whatever its
// entry number.
func TestMatchNeedsTheTag(t *testing.T) {
	x := New(4)
	pos, tag := x.Home(0xdeadbeef00000000)
	x.Put(pos, tag, 5)
	i, ok := Match(x.Slot(pos), tag)
	assert.True(t, ok)
	assert.Equal(t, uint32(5), i)
	_, ok = Match(x.Slot(pos), tag^1<<40)
	assert.False(t, ok)
}

// remove deletes key k from the table's index (its entry stays in keys).
func (t *table) remove(k uint64) bool {
	pos, tag := t.x.Home(Finish(Mix(0, k)))
	for s := t.x.Slot(pos); s != 0; pos, s = t.x.Next(pos) {
		if i, ok := Match(s, tag); ok && t.keys[i] == k {
			t.x.Delete(pos)
			return true
		}
	}
	return false
}

// TestDeleteKeepsEveryOtherKey deletes keys in a crowded index, where
// clusters wrap around the end, and checks against a map that every key
// left is found and no deleted key is.
func TestDeleteKeepsEveryOtherKey(t *testing.T) {
	tb := &table{x: New(10)}
	live := map[uint64]bool{}
	rnd := uint64(1)
	next := func() uint64 { rnd = rnd*6364136223846793005 + 1442695040888963407; return rnd >> 54 } // 0..1023
	for round := 0; round < 20000; round++ {
		k := next()
		if live[k] {
			require.True(t, tb.remove(k))
			delete(live, k)
		} else if !tb.x.Full(len(live)) {
			pos, tag := tb.x.Home(Finish(Mix(0, k)))
			for s := tb.x.Slot(pos); s != 0; pos, s = tb.x.Next(pos) {
				i, ok := Match(s, tag)
				require.False(t, ok && tb.keys[i] == k, "key %d was deleted", k)
			}
			tb.x.Put(pos, tag, uint32(len(tb.keys)))
			tb.keys = append(tb.keys, k)
			live[k] = true
		}
	}
	assert.Equal(t, 1<<10, len(tb.x.slots))
	for k := uint64(0); k < 1024; k++ {
		found := false
		pos, tag := tb.x.Home(Finish(Mix(0, k)))
		for s := tb.x.Slot(pos); s != 0; pos, s = tb.x.Next(pos) {
			if i, ok := Match(s, tag); ok && tb.keys[i] == k {
				found = true
			}
		}
		assert.Equal(t, live[k], found, "key %d", k)
	}
	used := 0
	for _, s := range tb.x.slots {
		if s != 0 {
			used++
		}
	}
	assert.Equal(t, len(live), used)
}

// TestGrowInto: the index grows into the caller's slots, keeps every key,
// and hands back the slots it used before; slots of the wrong size are a
// programming error.
func TestGrowInto(t *testing.T) {
	tb := &table{x: New(4)}
	for k := uint64(0); k < 7; k++ {
		tb.find(k * 7919)
	}
	before := tb.x.slots
	slots := make([]uint64, 32)
	old := tb.x.GrowInto(slots)
	assert.Equal(t, &before[0], &old[0], "the old slots come back")
	assert.Equal(t, &slots[0], &tb.x.slots[0], "the index uses the new ones")
	for k := uint64(0); k < 7; k++ {
		i, found := tb.find(k * 7919)
		require.True(t, found)
		require.Equal(t, uint32(k), i)
	}
	assert.Panics(t, func() { tb.x.GrowInto(make([]uint64, 48)) })
}

// TestGrowFilledKeep: GrowFilledKeep hands back the region the slots were
// in (none while they were Go's), and the index keeps its entries.
func TestGrowFilledKeep(t *testing.T) {
	x := New(4)
	var mem []byte
	put := func(h uint64, i uint32) {
		_, tag := x.Home(h)
		x.Put(x.Free(h), tag, i)
	}
	hashes := []uint64{1 << 63, 3 << 62, 5 << 61, 7 << 60}
	for i, h := range hashes {
		put(h, uint32(i))
	}
	assert.Nil(t, x.GrowFilledKeep(&mem), "Go's slots are not handed back")
	require.Len(t, mem, 32*8)
	first := mem
	old := x.GrowFilledKeep(&mem)
	assert.Equal(t, unsafe.SliceData(first), unsafe.SliceData(old))
	assert.Len(t, old, 32*8)
	require.Len(t, mem, 64*8)
	for i, h := range hashes {
		pos, tag := x.Home(h)
		found := false
		for s := x.Slot(pos); s != 0; pos, s = x.Next(pos) {
			if j, ok := Match(s, tag); ok && j == uint32(i) {
				found = true
			}
		}
		assert.True(t, found, "entry %d", i)
	}
	region.Free(old)
	region.Free(mem)
}
