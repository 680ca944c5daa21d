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
	return pwriteAll(b, off, func(b []byte, off int64) (int, error) {
		if ring {
			if n, err, ok := ringWrite(fd, b, off); ok {
				return n, err
			}
		}
		return syscall.Pwrite(fd, b, off)
	})
}

// pwriteDirectRaw is pwriteDirect in raw system calls, for a block a
// caller writes itself (Writer.writeHere): the scheduler goes on seeing
// the goroutine as running, so the write neither wakes the runtime's
// monitor when it sleeps (entersyscall) nor lets it hand the goroutine's
// processor to another thread after 20 microseconds. The cost: the
// processor is held while the disk takes the write, and a stop of the
// world waits for it to end. Not for the write goroutine's writes: in
// drains, where gocapd needs both processors, its raw writes held one
// of them (v5 drains 0.91-0.95 of the rate, 3 of 4 pairs).
func pwriteDirectRaw(fd int, b []byte, off int64) error {
	return pwriteAll(b, off, func(b []byte, off int64) (int, error) {
		for {
			n, _, e := unix.RawSyscall6(unix.SYS_PWRITE64, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), uintptr(off), 0, 0)
			if e == syscall.EINTR {
				continue // the runtime's preemption signal, before any byte
			}
			if e != 0 {
				return 0, e
			}
			return int(n), nil
		}
	})
}

// pwriteAll writes b at off with write until all of it is written.
func pwriteAll(b []byte, off int64, write func([]byte, int64) (int, error)) error {
	for len(b) > 0 {
		n, err := write(b, off)
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
