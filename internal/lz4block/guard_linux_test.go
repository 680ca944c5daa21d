package lz4block

import (
	"testing"

	"golang.org/x/sys/unix"
)

// A guarded is memory with an inaccessible page on either side, so that a
// decoder that reads or writes past a buffer placed against either end
// faults instead of going unnoticed.
type guarded struct{ mem []byte }

func newGuarded(tb testing.TB, size int) *guarded {
	page := unix.Getpagesize()
	size = (size + page - 1) / page * page
	mem, err := unix.Mmap(-1, 0, size+2*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		tb.Fatal(err)
	}
	if err := unix.Mprotect(mem[:page], unix.PROT_NONE); err != nil {
		tb.Fatal(err)
	}
	if err := unix.Mprotect(mem[page+size:], unix.PROT_NONE); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { unix.Munmap(mem) })
	return &guarded{mem[page : page+size : page+size]}
}

// place returns n bytes of g against its start or, with atEnd, its end.
func (g *guarded) place(tb testing.TB, n int, atEnd bool) []byte {
	if n > len(g.mem) {
		tb.Fatalf("guarded memory of %d bytes cannot hold %d", len(g.mem), n)
	}
	if atEnd {
		return g.mem[len(g.mem)-n:]
	}
	return g.mem[:n:n]
}
