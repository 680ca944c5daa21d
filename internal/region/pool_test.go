package region

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPoolTake: what a pool hands out is zeroed, 8-byte aligned, never
// overlaps what it handed out before, and regions grow by doubling up
// to MaxPool; Free empties the pool.
func TestPoolTake(t *testing.T) {
	var p Pool
	type span struct{ lo, hi uintptr }
	var spans []span
	for _, n := range []int{8, 1 << 20, 3 << 20, 24, MaxPool + 8, 5 << 20, 1 << 20} {
		b := p.Take(n)
		require.Len(t, b, n)
		assert.Equal(t, n, cap(b), "capped at its length")
		lo := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
		assert.Zero(t, lo%8, "aligned")
		for _, s := range spans {
			assert.False(t, lo < s.hi && s.lo < lo+uintptr(n), "overlaps an earlier take")
		}
		for _, c := range b {
			if c != 0 {
				t.Fatalf("take of %d not zeroed", n)
			}
		}
		b[0], b[n-1] = 1, 1
		spans = append(spans, span{lo, lo + uintptr(n)})
	}
	assert.LessOrEqual(t, p.total, 2*(MinPool+MaxPool+MaxPool+8+4*HugePage), "regions double, then stay at MaxPool")
	p.Free()
	assert.Zero(t, p.total)
	assert.Empty(t, p.mapped)
}

// TestPoolRecycle: TakeDirty hands out a recycled region's memory first,
// in pieces that do not overlap and stay 8-byte aligned, then maps new
// memory as Take does; Free gives the recycled region back too.
func TestPoolRecycle(t *testing.T) {
	var p Pool
	b, mapped := Map(3<<20, 0)
	require.True(t, mapped)
	for i := range b {
		b[i] = 0xa5 // dirty, as an index it grew out of
	}
	p.Recycle(b)
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	hi := lo + uintptr(len(b))
	in := func(x []byte) bool {
		a := uintptr(unsafe.Pointer(unsafe.SliceData(x)))
		return a >= lo && a+uintptr(len(x)) <= hi
	}
	x := p.TakeDirty(1 << 20)
	y := p.TakeDirty(1<<20 + 8)
	assert.True(t, in(x) && in(y), "taken from the recycled region")
	assert.Equal(t, len(x), cap(x))
	assert.Zero(t, uintptr(unsafe.Pointer(unsafe.SliceData(y)))%8)
	assert.Equal(t, uintptr(unsafe.Pointer(unsafe.SliceData(x)))+1<<20, uintptr(unsafe.Pointer(unsafe.SliceData(y))), "no overlap, no gap")
	z := p.TakeDirty(1 << 20) // more than is left of it
	assert.False(t, in(z), "a new region once the recycled one is used up")
	assert.Zero(t, z[0])
	assert.Len(t, p.mapped, 2)
	p.Free()
	assert.Empty(t, p.mapped)
	assert.Empty(t, p.spare)
}
