//go:build !linux

package collector

// freeSpace cannot tell here: writing is simply tried.
func freeSpace(string) (uint64, bool) { return 0, false }
