package main

import (
	"fmt"
	"net"
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

// batchWriter hands a batch of datagrams to the kernel in one sendmmsg(2)
// call: on loopback the system call, not the copy, is most of the cost of
// a datagram, and the sender must outrun the collectors on two cores.
type batchWriter struct {
	rc   syscall.RawConn
	hdrs []mmsghdr
	iovs []unix.Iovec
}

func newBatchWriter(conn *net.UDPConn, size int) (batchWriter, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return batchWriter{}, err
	}
	w := batchWriter{rc: rc, hdrs: make([]mmsghdr, size), iovs: make([]unix.Iovec, size)}
	for i := range w.hdrs {
		w.hdrs[i].hdr.Iov = &w.iovs[i]
		w.hdrs[i].hdr.SetIovlen(1)
	}
	return w, nil
}

// write sends every datagram of batch, in order, on the connected socket.
func (w batchWriter) write(batch [][]byte) error {
	refused := 0
	for len(batch) > 0 {
		for i, b := range batch {
			w.iovs[i].Base = &b[0]
			w.iovs[i].SetLen(len(b))
		}
		var n int
		var errno syscall.Errno
		err := w.rc.Write(func(fd uintptr) bool {
			r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&w.hdrs[0])), uintptr(len(batch)), 0, 0, 0)
			n, errno = int(r), e
			return errno != syscall.EAGAIN
		})
		if err != nil {
			return err
		}
		if errno != 0 {
			// Nothing listened when an earlier datagram arrived: the
			// kernel says so once, on this call; the batch is still to
			// send. A collector that stays away ends the run.
			if isRefused(errno) && refused < 3 {
				refused++
				continue
			}
			return fmt.Errorf("sendmmsg: %w", errno)
		}
		batch = batch[n:]
	}
	return nil
}
