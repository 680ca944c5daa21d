//go:build amd64 || arm64

package aggregate

// prefetch asks the processor to bring the cache line at addr in and
// returns at once, where a load would hold up what follows while the line
// comes from memory (the same few lines of assembly as capture's: Go has
// no prefetch outside the runtime). An unmapped address is ignored.
//
//go:noescape
func prefetch(addr uintptr)
