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

// MapSmall is Map without huge pages: for the rows of a hash table
// (Pool). On the benchmark machine, a VM whose kernel hands free memory of
// 8 MiB blocks back to its host (free page reporting), a huge page comes
// from such a block and its first touch makes the host fill it again:
// godump -a on the home-shaped archive (2 M keys, 440 MB) took 1.23-1.42 s
// of system time with huge pages and 0.23-0.33 s without, in 5 paired
// runs, with the same user time (2.4-2.8 s both); -B on the border-shaped
// one 1.03-1.40 s against 0.33-0.83. Small pages come from the kernel's
// lists of pages freed lately, which the host still backs. godump's
// aggregation index takes small pages too, filled ahead (Populate): it is
// read all over, but huge pages there saved little user time and their
// first touch cost godump -A srcip,dstport -O bytes -n 20 'proto tcp'
// 0.05-0.56 s of system time from run to run (aggregate's Table.grow).
func MapSmall(n int) (b []byte, mapped bool) { return Map(n, n) }
