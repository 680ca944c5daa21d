//go:build !linux

package capture

// mapRegion returns n bytes of zeroed memory: on Linux, memory outside Go's
// heap that costs what is touched (region_linux.go); here Go's heap (never
// mapped: the collector frees it), whose
// large allocations are fresh pages the system fills as they are touched
// too.
func mapRegion(n, _ int) (b []byte, mapped bool) { return make([]byte, n), false }

// freeRegion gives back memory that mapRegion mapped: none here.
func freeRegion([]byte) {}

// adviseHuge asks for huge pages: not here.
func adviseHuge([]byte) {}
