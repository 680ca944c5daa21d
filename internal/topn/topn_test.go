package topn

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

type item struct{ key, seq int }

// byKey: larger keys first, equal keys in the order they came.
func byKey(a, b *item) bool {
	if a.key != b.key {
		return a.key > b.key
	}
	return a.seq < b.seq
}

func TestFirstNLikeSorting(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, total := range []int{0, 1, 5, 100, 5000} {
		all := make([]item, total)
		for i := range all {
			// Few distinct keys: many ties.
			all[i] = item{key: rng.IntN(20), seq: i}
		}
		want := slices.Clone(all)
		slices.SortStableFunc(want, func(a, b item) int { return b.key - a.key })
		for _, n := range []int{1, 2, 10, total, total + 3} {
			if n == 0 {
				continue
			}
			h := New(n, byKey)
			for _, x := range all {
				h.Offer(x)
			}
			assert.Equal(t, want[:min(n, total)], h.Sorted(), "first %d of %d", n, total)
		}
	}
}

func TestOfferAllocatesNothingOnceFull(t *testing.T) {
	h := New(10, byKey)
	for i := 0; i < 10; i++ {
		h.Offer(item{key: i, seq: i})
	}
	i := 10
	assert.Zero(t, testing.AllocsPerRun(1000, func() {
		i++
		h.Offer(item{key: i % 50, seq: i})
	}))
}
