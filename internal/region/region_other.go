//go:build !linux

package region

// Map returns n bytes of zeroed memory: on Linux, memory outside Go's
// heap that costs what is touched (region_linux.go); here Go's heap (never
// mapped: the collector frees it), whose
// large allocations are fresh pages the system fills as they are touched
// too.
func Map(n, _ int) (b []byte, mapped bool) { return make([]byte, n), false }

// Free gives back memory that Map mapped: none here.
func Free([]byte) {}

// AdviseHuge asks for huge pages: not here.
func AdviseHuge([]byte) {}

// Populate fills b's pages ahead of use: nothing to do here.
func Populate([]byte) {}
