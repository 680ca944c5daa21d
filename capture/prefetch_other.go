//go:build !amd64 && !arm64

package capture

// prefetch does nothing where no assembly says how to prefetch.
func prefetch(addr uintptr) {}

// prefetch3 does nothing either.
func prefetch3(a, b, c uintptr) {}
