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
	return pwritevDirect(fd, [][]byte{b}, off, ring, false)
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
	return pwritevDirect(fd, [][]byte{b}, off, false, true)
}

// pwritevDirect writes bufs, each as pwriteDirect's b, one after the
// other from off on, in one pwritev(2) (through a ring with ring; a raw
// system call with raw, as pwriteDirectRaw): the blocks of a pair go to
// the disk as one request, with one doorbell and one extending ext4
// write (Writer.issue). At most maxBatch of them.
func pwritevDirect(fd int, bufs [][]byte, off int64, ring, raw bool) error {
	var parts [maxBatch][]byte
	p := parts[:copy(parts[:], bufs)]
	for len(p) > 0 {
		var n int
		var err error
		if ring {
			var ok bool
			if n, err, ok = ringWritev(fd, p, off); !ok {
				ring = false
				continue
			}
		} else {
			n, err = pwritev(fd, p, off, raw)
		}
		if err != nil {
			return err
		}
		if n <= 0 || n%directAlign != 0 {
			// A short write that leaves the rest unaligned: the caller
			// writes it all again through the page cache.
			return syscall.EIO
		}
		off += int64(n)
		for n > 0 {
			k := min(n, len(p[0]))
			p[0], n = p[0][k:], n-k
			if len(p[0]) == 0 {
				p = p[1:]
			}
		}
	}
	return nil
}

// pwritev makes one pwritev(2) of bufs at off, raw or not.
func pwritev(fd int, bufs [][]byte, off int64, raw bool) (int, error) {
	var iov [maxBatch]unix.Iovec
	setIovecs(iov[:], bufs)
	for {
		// pos_l, pos_h: a 64-bit kernel takes the offset whole from
		// pos_l and ignores pos_h.
		var n uintptr
		var e syscall.Errno
		if raw {
			n, _, e = unix.RawSyscall6(unix.SYS_PWRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(bufs)), uintptr(off), uintptr(uint64(off)>>32), 0)
		} else {
			n, _, e = unix.Syscall6(unix.SYS_PWRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(bufs)), uintptr(off), uintptr(uint64(off)>>32), 0)
		}
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(n), nil
	}
}

// setIovecs points iov at bufs, none of them empty.
func setIovecs(iov []unix.Iovec, bufs [][]byte) {
	for i, b := range bufs {
		iov[i].Base = unsafe.SliceData(b)
		iov[i].SetLen(len(b))
	}
}

// closeDirect closes the O_DIRECT descriptor.
func closeDirect(fd int) { unix.Close(fd) }

// addrMod returns the address of b's first byte modulo directAlign.
func addrMod(b []byte) int {
	return int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) % directAlign)
}

// dupFd duplicates f's descriptor (for the tests).
func dupFd(f *os.File) (int, error) { return unix.Dup(int(f.Fd())) }
