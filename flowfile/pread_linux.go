package flowfile

import (
	"io"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// cachedFile reads a flow file as os.File does, but reads what the page
// cache already holds without the Go runtime's system call bookkeeping.
//
// A block's payload of 400 kB takes a read of about 60 us, all of it
// copying from the page cache. Made as a blocking system call, it lets
// the runtime's monitor (sysmon) hand the worker's processor to another
// thread after 20 us, waking one, and keeps the monitor polling every 20
// us. Reading the home-shaped benchmark archive (8 files, 200 blocks) with
// -o null took 627 nanosleep and 171 futex calls and 1351 context
// switches that way, and 131 ms of CPU time (perf stat, 5 runs on a busy
// machine). Read with preadv2(RWF_NOWAIT), which fails at once where the
// data would have to come from the disk, as a raw system call, which the
// runtime does not see, they are 98, 63 and 252, and 116 ms. Data that is
// not cached is read with an ordinary (blocking) read, so a slow disk
// never holds a processor.
//
// Mapping the files instead (mmap) would spare the copy from the page
// cache, a sixth of -o null's CPU time, but not on a machine like the
// benchmark one (a VM whose page tables the host shadows): there the first
// touch of each mapped page costs about 3 us of user time, also after
// MAP_POPULATE or MADV_POPULATE_READ. Reading the 10 M-flow archive's 411
// MB through a mapping took 250 to 300 ms of user time, with reads 20 ms
// of user and 60 to 100 ms of system time. So the reader keeps read(2),
// and a file cut short while it is read gives an error, never a SIGBUS.
type cachedFile struct {
	f  *os.File
	fd uintptr
}

func newCachedFile(f *os.File) io.ReaderAt {
	c, err := f.SyscallConn()
	if err != nil {
		return f
	}
	cf := &cachedFile{f: f}
	if c.Control(func(fd uintptr) { cf.fd = fd }) != nil {
		return f
	}
	return cf
}

// ReadAt reads len(b) bytes at off, the cached part without the runtime
// and the rest through os.File.
func (c *cachedFile) ReadAt(b []byte, off int64) (int, error) {
	n := 0
	for n < len(b) {
		iov := unix.Iovec{Base: &b[n]}
		iov.SetLen(len(b) - n)
		// The offset goes as its low and high halves of 32 bits on
		// 32-bit systems; a 64-bit kernel takes it whole from the first
		// and ignores the second.
		at := off + int64(n)
		m, _, errno := unix.RawSyscall6(unix.SYS_PREADV2, c.fd, uintptr(unsafe.Pointer(&iov)), 1,
			uintptr(at), uintptr(uint64(at)>>32), unix.RWF_NOWAIT)
		if errno != 0 || m == 0 {
			// Not cached (EAGAIN), interrupted, the end of the file, an
			// error, or a kernel without RWF_NOWAIT (EOPNOTSUPP): the
			// ordinary read tells which.
			break
		}
		n += int(m)
	}
	if n == len(b) {
		return n, nil
	}
	m, err := c.f.ReadAt(b[n:], off+int64(n))
	return n + m, err
}
