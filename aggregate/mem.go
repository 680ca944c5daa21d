package aggregate

import (
	"unsafe"

	"github.com/nfgo/nftools/internal/region"
)

// The table's big arrays (entries, keys, packed records, the index) hold
// no pointers and live outside Go's heap (internal/region), where the
// garbage collector never scans them and Free gives them back at once.
// The rows take small pages: on the benchmark machine huge pages cost -a
// on the home-shaped archive a second of system time and saved no user
// time (region.MapSmall); the index, read all over, takes small pages
// filled ahead (Table.grow).

// rowWords returns n words from p for keys, which are written before they
// are read: maybe not zeroed (region.Pool.TakeDirty).
func rowWords(p *region.Pool, n int) []uint64 {
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(p.TakeDirty(n*8)))), n)
}

// rowEntries returns n entries from p, which are written before they are
// read: maybe not zeroed (region.Pool.TakeDirty).
func rowEntries(p *region.Pool, n int) []entry {
	return unsafe.Slice((*entry)(unsafe.Pointer(unsafe.SliceData(p.TakeDirty(n*int(unsafe.Sizeof(entry{})))))), n)
}

// words returns n zeroed words from p.
func words(p *region.Pool, n int) []uint64 {
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(p.Take(n*8)))), n)
}
