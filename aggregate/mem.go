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

// Regions grow by doubling from minRegion up to maxRegion bytes, so that
// a small table maps little and a big one few regions.
const (
	minRegion = 4 << 20
	maxRegion = 64 << 20
)

// pool hands out memory carved from mapped regions and frees them all at
// once. The memory must never hold Go pointers.
type pool struct {
	mem   *regions
	cur   []byte // what is left of the last region
	total int    // bytes mapped so far
}

// regions is the memory a pool mapped, a value of its own so that the
// table's cleanup does not keep the table reachable.
type regions struct{ mapped [][]byte }

func (r *regions) free() {
	for _, b := range r.mapped {
		region.Free(b)
	}
	r.mapped = nil
}

// take returns n zeroed bytes, 8-byte aligned (n is a multiple of 8).
func (p *pool) take(n int) []byte {
	if len(p.cur) < n {
		size := max(n, min(max(p.total, minRegion), maxRegion))
		size = (size + region.HugePage - 1) &^ (region.HugePage - 1)
		b, mapped := region.Map(size, 0)
		if mapped {
			p.mem.mapped = append(p.mem.mapped, b)
		}
		p.cur, p.total = b, p.total+size
	}
	b := p.cur[:n:n]
	p.cur = p.cur[n:]
	return b
}

// words returns n zeroed words.
func (p *pool) words(n int) []uint64 {
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(p.take(n*8)))), n)
}

// entries returns n zeroed entries.
func (p *pool) entries(n int) []entry {
	return unsafe.Slice((*entry)(unsafe.Pointer(unsafe.SliceData(p.take(n*int(unsafe.Sizeof(entry{})))))), n)
}
