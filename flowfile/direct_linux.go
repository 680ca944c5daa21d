package flowfile

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// openDirect opens path a second time for writing with O_DIRECT, or
// returns -1 where the file system does not take it (EINVAL: tmpfs
// before Linux 6.6, some FUSE file systems).
func openDirect(path string) int {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_DIRECT|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return fd
}

// pwriteDirect writes b, directAlign-aligned in memory, length and
// offset, at off through the O_DIRECT descriptor fd; with ring, through
// an io_uring where there is one (direct_uring_linux.go).
func pwriteDirect(fd int, b []byte, off int64, ring bool) error {
	for len(b) > 0 {
		n, err, ok := 0, error(nil), false
		if ring {
			n, err, ok = ringWrite(fd, b, off)
		}
		if !ok {
			n, err = syscall.Pwrite(fd, b, off)
		}
		if err != nil {
			return err
		}
		if n <= 0 || n%directAlign != 0 {
			// A short write that leaves the rest unaligned: the caller
			// writes it all again through the page cache.
			return syscall.EIO
		}
		b, off = b[n:], off+int64(n)
	}
	return nil
}

// closeDirect closes the O_DIRECT descriptor.
func closeDirect(fd int) { unix.Close(fd) }

// addrMod returns the address of b's first byte modulo directAlign.
func addrMod(b []byte) int {
	return int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) % directAlign)
}

// dupFd duplicates f's descriptor (for the tests).
func dupFd(f *os.File) (int, error) { return unix.Dup(int(f.Fd())) }
