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
// The payloads of compressed blocks are not read at all where the file
// can be mapped (mapFile): the workers decompress them from the mapping.
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

// mapFile maps the size bytes of f read-only for the workers to decompress
// blocks from, or returns nil where it cannot (not a regular file, empty,
// too large for the address space, no mmap): the blocks are then read.
//
// Read, each block's stored bytes are copied from the page cache into the
// worker's buffer, a tenth of godump -o null's CPU time (the kernel's
// _copy_to_iter); mapped, the decompressor reads them where they are, and
// the kernel maps a file's cached pages some 25 at a time (4 000 page
// faults for the 411 MB of the 10 M-flow benchmark archive). godump -o
// null took 0.915 times the CPU time over that archive, 0.90 over the
// home-shaped one and 0.96 over the border-shaped one (perf stat
// task-clock, median of 6 to 8 paired runs, load 7 to 9 on 2 cores), and
// -s, -A, filters and -o line as much or less. An earlier measurement
// (another kernel) found the first touch of each mapped page so costly, 3
// us, that reads won; this kernel (6.18) maps the page cache's large
// folios in batches. Populating the block's pages ahead
// (MADV_POPULATE_READ in the producer: 800 faults instead of 6 800)
// measured 0.94 to 1.015 of the CPU time, within the noise, and was left.
//
// A file cut short while it is mapped (a collector's file still being
// written and truncated, or replaced) faults with SIGBUS where the workers
// read past its new end: they run with debug.SetPanicOnFault, and the
// fault becomes an error naming the file and block (Reader.unpack).
func mapFile(f *os.File, size int64) []byte {
	if size <= 0 || size != int64(int(size)) {
		return nil
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	b, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil
	}
	return b
}

// willNeed starts reading the part [from, to) of mapped, a mapFile
// mapping, from the disk where the page cache does not hold it, without
// waiting for it. Faulted in by the decompressor instead, with the
// kernel's read-ahead for mappings, the border-shaped benchmark archive
// (110 MB) evicted from the page cache took godump -o null 0.64 s
// instead of 0.54 s read, and 0.19 s of CPU time instead of 0.17 (median
// of 8 runs each, machine loaded); advised, 0.54 s and 0.17 s. Over
// cached files it costs nothing measurable (paired runs: 0.997 and 1.007
// of the CPU time without it).
func willNeed(mapped []byte, from, to int64) {
	from &^= int64(os.Getpagesize() - 1)
	_ = unix.Madvise(mapped[from:to], unix.MADV_WILLNEED)
}

// doneWith drops the part [from, to) of mapped, a mapFile mapping, from
// the process's page tables once a worker has decompressed the block
// there (MADV_DONTNEED; the pages stay in the page cache). Mapped pages
// that were read count in the process's resident size until unmapped:
// godump -o null over the filter bench's 411 MB archive peaked at 52 MB
// with whole files mapped, against nfdump's 11 MB.
//
// The range is widened to whole windows of the kernel's fault-around
// (faultAround): a fault maps the cached pages of the window around it,
// so the first fault of a block mapped the end of the block before it,
// and its last the start of the block after it, which their workers
// had often dropped already; those pages stayed until the file was
// unmapped, up to 64 KB a block, 3 to 4 MB of a file of 100 blocks:
// godump -o null -f with the bench's net list peaked at 11.6-12.0 MB,
// widened 9.0-9.3 MB (nfdump 10.7). A page of a neighbour that another
// worker is still reading is only faulted in again from the page cache,
// as the mapping is shared and read-only.
func doneWith(mapped []byte, from, to int64) {
	from &^= faultAround - 1
	to = min((to+faultAround-1)&^(faultAround-1), int64(len(mapped)))
	if from < to {
		_ = unix.Madvise(mapped[from:to], unix.MADV_DONTNEED)
	}
}

// faultAround is the kernel's fault_around_bytes, 64 KB unless changed
// through debugfs, a multiple of the page size: a read fault on a file
// mapping maps the cached pages of the window of that size around it.
const faultAround = 64 << 10

// unmapFile unmaps what mapFile mapped.
func unmapFile(b []byte) {
	if b != nil {
		_ = unix.Munmap(b)
	}
}
