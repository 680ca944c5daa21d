//go:build !linux

package collector

import "errors"

// freeSpace cannot tell here: writing is simply tried.
func freeSpace(string) (uint64, bool) { return 0, false }

// forceReadBuffer cannot go beyond the system's limit here.
func forceReadBuffer(uintptr, int) error { return errors.ErrUnsupported }
