//go:build gc && !noasm

package stats

// prefetch asks the processor to bring the cache lines at the n addresses
// at addrs into its caches, without waiting for them.
//
//go:noescape
func prefetch(addrs *uintptr, n int)
