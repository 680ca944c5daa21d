//go:build !linux

package flowfile

import (
	"errors"
	"os"
	"unsafe"
)

// openDirect returns -1: only Linux writes past the page cache
// (direct_linux.go).
func openDirect(string) int { return -1 }

func pwriteDirect(int, []byte, int64, bool) error { panic("flowfile: no direct writes here") }

func pwriteDirectRaw(int, []byte, int64) error { panic("flowfile: no direct writes here") }

func pwritevDirect(int, [][]byte, int64, bool, bool) error { panic("flowfile: no direct writes here") }

func closeDirect(int) {}

func addrMod(b []byte) int {
	return int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) % directAlign)
}

// dupFd is not needed where nothing is written past the page cache.
func dupFd(*os.File) (int, error) { return -1, errors.ErrUnsupported }
