package aggregate

import (
	"unsafe"

	"github.com/nfgo/nftools/internal/region"
)

// The table's big arrays (entries, keys, packed records, the index) hold
// no pointers and live outside Go's heap, in huge-page-aligned regions
// advised for huge pages (internal/region): Go's heap asks for none, and
// on a machine whose transparent huge pages run in madvise mode a table of
// millions of keys then took a page fault per 4 KiB it touched, 14% of
// -B's time on the border-shaped benchmark archive.

// words returns n zeroed words from p.
func words(p *region.Pool, n int) []uint64 {
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(p.Take(n*8)))), n)
}

// entries returns n zeroed entries from p.
func entries(p *region.Pool, n int) []entry {
	return unsafe.Slice((*entry)(unsafe.Pointer(unsafe.SliceData(p.Take(n*int(unsafe.Sizeof(entry{})))))), n)
}
