//go:build !linux

package flowfile

import (
	"io"
	"os"
)

// newCachedFile returns f: only Linux reads cached data without the
// runtime (pread_linux.go).
func newCachedFile(f *os.File) io.ReaderAt { return f }
