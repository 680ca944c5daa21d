//go:build !amd64 && !arm64

package aggregate

// prefetch does nothing where no assembly says how to prefetch.
func prefetch(addr uintptr) {}
