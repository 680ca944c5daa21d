package slotindex

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
