package netflow

// prefetchStores asks the processor to bring the cache lines from p to
// p+n in, owned for stores, and returns at once. An unmapped address is
// ignored.
//
//go:noescape
func prefetchStores(p uintptr, n int)
