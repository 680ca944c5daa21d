//go:build !linux

package flowfile

import (
	"io"
	"os"
)

// newCachedFile returns f: only Linux reads cached data without the
// runtime (pread_linux.go).
func newCachedFile(f *os.File) io.ReaderAt { return f }

// mapFile returns nil: only Linux maps files (pread_linux.go).
func mapFile(*os.File, int64) []byte { return nil }

// willNeed has nothing to advise.
func willNeed([]byte, int64, int64) {}

// unmapFile has nothing to unmap.
func unmapFile([]byte) {}

// doneWith has nothing to give back where nothing is mapped.
func doneWith([]byte, int64, int64) {}
