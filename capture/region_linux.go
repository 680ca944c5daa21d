package capture

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapRegion returns n bytes of zeroed memory outside Go's heap that the
// kernel fills only as they are touched: the slab reserves room for the
// flow-count limit at once and costs what it holds. The memory holds no
// pointers, so the garbage collector need not see it; freeRegion gives
// it back when mapped says it was mapped (Go's heap, when there was no
// address space for it, is the collector's).
//
// The region starts at a huge page boundary, and its huge pages from
// hugeFrom on are marked for the kernel to back with huge pages where it
// may (transparent huge pages in madvise mode): a page fault then fills
// 2 MiB instead of 4 KiB, and random reads miss the TLB far less, which a
// cache of many flows spent a good part of its time on. The huge pages
// lie within the region, so its size still bounds its memory (-m); but a
// region filled from its start, as the slab is, would hold up to 2 MiB it
// does not use in its last huge page, a quarter of the memory of 67 000
// flows: the slab asks for none (hugeFrom n) and for the rest once its
// first 2 MiB are full (Cache.adviseSlab); the index, read all over, asks
// from its start.
func mapRegion(n, hugeFrom int) (b []byte, mapped bool) {
	if n <= 0 {
		return nil, false
	}
	// Map a huge page more than asked, and give back what lies before the
	// first boundary and after the region.
	const prot, flags = unix.PROT_READ | unix.PROT_WRITE, unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_NORESERVE
	size := uintptr(n+unix.Getpagesize()-1) &^ uintptr(unix.Getpagesize()-1)
	p, err := unix.MmapPtr(-1, 0, nil, size+hugePage, prot, flags)
	if err != nil {
		// No address space for it (a ulimit -v): Go's heap, which
		// fails as it fails.
		return make([]byte, n), false
	}
	head := -uintptr(p) & (hugePage - 1)
	if head > 0 {
		unix.MunmapPtr(p, head)
	}
	if tail := hugePage - head; tail > 0 {
		unix.MunmapPtr(unsafe.Add(p, head+size), tail)
	}
	b = unsafe.Slice((*byte)(unsafe.Add(p, head)), n)
	if from, to := (max(hugeFrom, 0)+hugePage-1)&^(hugePage-1), n&^(hugePage-1); from < to {
		unix.Madvise(b[from:to], unix.MADV_HUGEPAGE) // advice: ignored where not supported
	}
	return b, true
}

// adviseHuge marks b, whole huge pages of mapped memory, for the kernel to
// back with huge pages as they are touched (MADV_HUGEPAGE).
func adviseHuge(b []byte) { unix.Madvise(b, unix.MADV_HUGEPAGE) }

// freeRegion gives back memory that mapRegion mapped; nil is none.
func freeRegion(b []byte) {
	if len(b) > 0 {
		unix.MunmapPtr(unsafe.Pointer(unsafe.SliceData(b)), uintptr(len(b)))
	}
}
