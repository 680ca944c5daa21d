package capture

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapRegion returns n bytes of zeroed memory outside Go's heap that the
// kernel fills only as they are touched: the slab and its index reserve
// room for the flow-count limit at once and cost what they hold. The
// memory holds no pointers, so the garbage collector need not see it;
// freeRegion gives it back.
//
// The whole huge pages inside the region are marked for the kernel to
// back with huge pages where it may (transparent huge pages in madvise
// mode): a page fault then fills 2 MiB instead of 4 KiB, and the cache's
// random reads miss the TLB far less, which a cache of many flows spent
// a good part of its time on. The huge pages lie within the region, so
// its size still bounds its memory (-m); what a flow count costs is
// rounded up to 2 MiB, at most.
func mapRegion(n int) []byte {
	if n <= 0 {
		return nil
	}
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		// No address space for it (a ulimit -v): Go's heap, which
		// fails as it fails.
		return make([]byte, n)
	}
	// The huge pages start at the first 2 MiB boundary past the region's
	// first 2 MiB, so that a cache of a few flows costs a few small pages.
	const huge = 2 << 20
	start := huge + int(-uintptr(unsafe.Pointer(&b[0]))&(huge-1))
	if end := start + max(n-start, 0)&^(huge-1); end > start {
		unix.Madvise(b[start:end], unix.MADV_HUGEPAGE) // advice: ignored where not supported
	}
	return b
}

// freeRegion gives back memory from mapRegion.
func freeRegion(b []byte) {
	if len(b) > 0 {
		unix.Munmap(b) // fails only for memory from Go's heap, which the collector frees
	}
}
