package region

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Map returns n bytes of zeroed memory outside Go's heap that the
// kernel fills only as they are touched: a table may reserve room for
// what it may hold at once and cost only what it holds. The memory must
// hold no pointers, as the garbage collector does not see it; Free gives
// it back when mapped says it was mapped (Go's heap, when there was no
// address space for it, is the collector's).
//
// The region starts at a huge page boundary, and its huge pages from
// hugeFrom on are marked for the kernel to back with huge pages where it
// may (transparent huge pages in madvise mode). The huge pages lie within
// the region, so its size still bounds its memory; but a region filled
// from its start would hold up to 2 MiB it does not use in its last huge
// page: such a region may ask for none (hugeFrom n) and for the rest
// later (AdviseHuge), while one read all over, as a hash index is, asks
// from its start (hugeFrom 0).
func Map(n, hugeFrom int) (b []byte, mapped bool) {
	if n <= 0 {
		return nil, false
	}
	// Map a huge page more than asked, and give back what lies before the
	// first boundary and after the region.
	const prot, flags = unix.PROT_READ | unix.PROT_WRITE, unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_NORESERVE
	size := uintptr(n+unix.Getpagesize()-1) &^ uintptr(unix.Getpagesize()-1)
	p, err := unix.MmapPtr(-1, 0, nil, size+HugePage, prot, flags)
	if err != nil {
		// No address space for it (a ulimit -v): Go's heap, which
		// fails as it fails.
		return make([]byte, n), false
	}
	head := -uintptr(p) & (HugePage - 1)
	if head > 0 {
		unix.MunmapPtr(p, head)
	}
	if tail := HugePage - head; tail > 0 {
		unix.MunmapPtr(unsafe.Add(p, head+size), tail)
	}
	b = unsafe.Slice((*byte)(unsafe.Add(p, head)), n)
	if from, to := (max(hugeFrom, 0)+HugePage-1)&^(HugePage-1), n&^(HugePage-1); from < to {
		unix.Madvise(b[from:to], unix.MADV_HUGEPAGE) // advice: ignored where not supported
	}
	return b, true
}

// Populate has the kernel fill b's pages, writable, before they are used:
// memory that is read before it is first written maps the kernel's shared
// zero page, and the write must then replace that page, flushing it from
// the TLB of every CPU running the process (an interrupt to each, a VM exit
// on the benchmark machine). Those flushes were 11% of godump -s
// srcip/bytes's samples on the border archive (perf, cpu-clock), where
// a table's index and counters are probed before they are written.
// Memory a caller is about to write all over costs no more this way. b
// must be memory not used yet: where the kernel lacks the advice, each
// page is written a zero instead.
func Populate(b []byte) {
	if len(b) == 0 {
		return
	}
	if unix.Madvise(b, unix.MADV_POPULATE_WRITE) == nil {
		return
	}
	// Kernels before 5.14 have no MADV_POPULATE_WRITE: a write to each
	// page faults it in as well, a trap each.
	for i := 0; i < len(b); i += unix.Getpagesize() {
		b[i] = 0
	}
}

// AdviseHuge marks b, whole huge pages of mapped memory, for the kernel to
// back with huge pages as they are touched (MADV_HUGEPAGE).
func AdviseHuge(b []byte) { unix.Madvise(b, unix.MADV_HUGEPAGE) }

// Free gives back memory that Map mapped; nil is none.
func Free(b []byte) {
	if len(b) > 0 {
		unix.MunmapPtr(unsafe.Pointer(unsafe.SliceData(b)), uintptr(len(b)))
	}
}
