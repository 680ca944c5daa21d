//go:build !amd64 || !gc || noasm

package stats

// prefetch would bring the cache lines at the n addresses at addrs into
// the caches: a merge then finds them there instead of waiting for each.
// Without the instruction for it, nothing.
func prefetch(addrs *uintptr, n int) {}
