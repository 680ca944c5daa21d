//go:build !linux

package lz4block

import "testing"

// Without mmap the buffers are plain slices: the guard pages' checks are
// made on Linux only.
type guarded struct{ mem []byte }

func newGuarded(tb testing.TB, size int) *guarded { return &guarded{make([]byte, size)} }

func (g *guarded) place(tb testing.TB, n int, atEnd bool) []byte {
	if atEnd {
		return g.mem[len(g.mem)-n:]
	}
	return g.mem[:n:n]
}
