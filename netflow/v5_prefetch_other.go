//go:build !amd64

package netflow

// prefetchStores does nothing where no assembly says how to prefetch.
func prefetchStores(p uintptr, n int) {}
