package mmsg

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr is struct mmsghdr of sendmmsg(2): a msghdr and the bytes sent,
// padded to the alignment of the msghdr.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [unsafe.Sizeof(uintptr(0)) - 4]byte
}

// Batch holds the message headers of sendmmsg, made once and reused from
// one call to the next. The zero Batch is ready; it is not safe for
// concurrent use.
type Batch struct {
	hdrs []mmsghdr
	iovs []unix.Iovec
}

// Send offers every buffer of bufs (none empty), in order, to the socket
// fd in one sendmmsg call, and returns how many of them the kernel took
// (from the first) and the call's error number, 0 when it succeeded.
func (b *Batch) Send(fd uintptr, bufs [][]byte) (int, syscall.Errno) {
	if len(bufs) == 0 {
		return 0, 0
	}
	if len(b.hdrs) < len(bufs) {
		b.hdrs = make([]mmsghdr, len(bufs))
		b.iovs = make([]unix.Iovec, len(bufs))
		for i := range b.hdrs {
			b.hdrs[i].hdr.Iov = &b.iovs[i]
			b.hdrs[i].hdr.SetIovlen(1)
		}
	}
	for i, p := range bufs {
		b.iovs[i].Base = &p[0]
		b.iovs[i].SetLen(len(p))
	}
	r, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.hdrs[0])), uintptr(len(bufs)), 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), 0
}
