package capture

import (
	"io"
	"os"
	"syscall"
	"unsafe"
)

// rawFile reads a regular file with the raw read(2) call, which Go's
// scheduler does not see: read ahead in chunks from the page cache, a
// call takes tens of microseconds, long enough for the scheduler to hand
// the caller's processor to another thread each time (sysmon retakes a
// processor whose thread has been in a system call for 20 µs), a wake-up
// and a context switch for nothing. A regular file's read never waits
// for long, whereas a pipe's may wait for ever: pipes keep Go's read.
type rawFile struct{ fd uintptr }

// rawReader returns r itself, or a rawFile where r is a regular file.
func rawReader(r io.Reader) io.Reader {
	f, ok := r.(*os.File)
	if !ok {
		return r
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return r
	}
	return &rawFile{fd: f.Fd()}
}

func (r *rawFile) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, r.fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		switch {
		case e == syscall.EINTR:
			continue
		case e != 0:
			return 0, e
		case n == 0:
			return 0, io.EOF
		}
		return int(n), nil
	}
}
