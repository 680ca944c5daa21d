//go:build amd64 || arm64

package capture

// prefetch asks the processor to bring the cache line at addr in, and
// returns at once: unlike a load, it does not hold up the instructions
// after it while the line comes from memory. Go has no prefetch of its
// own outside the runtime, hence these few lines of assembly. An address
// that is not mapped is ignored, as the instruction ignores it.
//
//go:noescape
func prefetch(addr uintptr)

// prefetch3 prefetches three cache lines in one call: a call costs more
// than the instruction.
//
//go:noescape
func prefetch3(a, b, c uintptr)
