// Package topn keeps the first n of a stream of items under an order, in
// a heap of n items, so that a top-N table costs memory and sorting for N
// items and one comparison for most of the others, however many there are.
// godump's -O with -n and its -s tables use it.
package topn

// Heap holds the first n items offered so far under before. Its root is
// the item that would go last, the first to drop out when a better one
// comes. It is not safe for concurrent use.
type Heap[T any] struct {
	before func(a, b *T) bool
	n      int
	items  []T
	// x holds an offered item while it is compared: the address of a
	// parameter passed to an unknown function would move it to the heap
	// on every call.
	x T
}

// New returns an empty heap for the first n items (n > 0) under before,
// which must be a strict total order: before(a, b) when a goes first.
func New[T any](n int, before func(a, b *T) bool) *Heap[T] {
	return &Heap[T]{before: before, n: n, items: make([]T, 0, min(n, 1<<16))}
}

// Offer adds x when it is among the first n so far.
func (h *Heap[T]) Offer(x T) {
	if len(h.items) < h.n {
		h.items = append(h.items, x)
		h.up(len(h.items) - 1)
		return
	}
	h.x = x
	if !h.before(&h.x, &h.items[0]) {
		return
	}
	h.items[0] = h.x
	h.down(0)
}

// Worst returns the item an offered one must go before to be kept, the
// root, once the heap holds n items; before that, false (any item is
// kept). A caller that ranks many items by a number can pass over those
// whose number the root's beats without making an item of each.
func (h *Heap[T]) Worst() (*T, bool) {
	if len(h.items) < h.n {
		return nil, false
	}
	return &h.items[0], true
}

// Sorted returns the items kept, first first. The heap is empty afterwards.
func (h *Heap[T]) Sorted() []T {
	// Heapsort in place: the root, the worst item left, goes to the end.
	out := h.items
	for n := len(out) - 1; n > 0; n-- {
		out[0], out[n] = out[n], out[0]
		h.items = out[:n]
		h.down(0)
	}
	h.items = nil
	return out
}

// worse reports whether item i goes after item j: the heap keeps the
// worst item at the root.
func (h *Heap[T]) worse(i, j int) bool { return h.before(&h.items[j], &h.items[i]) }

func (h *Heap[T]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.worse(i, p) {
			return
		}
		h.items[i], h.items[p] = h.items[p], h.items[i]
		i = p
	}
}

func (h *Heap[T]) down(i int) {
	for {
		c := 2*i + 1
		if c >= len(h.items) {
			return
		}
		if r := c + 1; r < len(h.items) && h.worse(r, c) {
			c = r
		}
		if !h.worse(c, i) {
			return
		}
		h.items[i], h.items[c] = h.items[c], h.items[i]
		i = c
	}
}
