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
