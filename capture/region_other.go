//go:build !linux

package capture

// mapRegion returns n bytes of zeroed memory: on Linux, memory outside Go's
// heap that costs what is touched (region_linux.go); here Go's heap, whose
// large allocations are fresh pages the system fills as they are touched
// too.
func mapRegion(n int) []byte { return make([]byte, n) }

// freeRegion gives back memory from mapRegion: the collector does it here.
func freeRegion([]byte) {}
