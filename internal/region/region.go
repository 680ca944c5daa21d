// Package region hands out large blocks of pointer-free memory outside
// Go's heap, aligned to transparent huge pages and advised to use them
// (MADV_HUGEPAGE) where the kernel runs them in madvise mode: a page fault
// then fills 2 MiB instead of 4 KiB, and random reads miss the TLB far
// less. goprobe's flow cache and godump's aggregation and statistics
// tables keep their big arrays here. It needs no cgo (golang.org/x/sys/unix
// only), so gocapd and godump still build with CGO_ENABLED=0.
//
// The memory must hold no Go pointers: the garbage collector does not
// scan it, and it must be given back with Free once unused.
package region

// HugePage is the size of a transparent huge page on the machines the
// tools run on (x86-64, arm64 with 4 KiB pages).
const HugePage = 2 << 20
