//go:build linux

package collector

import (
	"net"
	"net/netip"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// recvBatch is how many datagrams one recvmmsg(2) call may return: on
// loopback the system call, not the copy, is most of the cost of a
// datagram.
const recvBatch = 32

// oobSize holds the SO_RXQ_OVFL control message.
const oobSize = 64

// mmsghdr is struct mmsghdr of recvmmsg(2): a msghdr and the bytes
// received, padded to the alignment of the msghdr.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [unsafe.Sizeof(uintptr(0)) - 4]byte
}

// batchReader reads up to recvBatch datagrams a call. Each datagram lands
// in its own slot of maxDatagram bytes (only the pages a datagram touches
// become resident) and is then packed into a chunk.
//
// Its short waits (read with a time limit, sleep) are raw system calls:
// the scheduler goes on seeing the goroutine as running and leaves its
// processor alone. Through Syscall the scheduler's monitor takes the
// processor away from a call that waits longer than 20 microseconds while
// the worker is busy, and then polls every 20 microseconds for a
// millisecond; at 200 000 flows/s that came to about 2 000 hand-offs and
// 8 000 wake-ups of the monitor a second, a fifth of gocapd's CPU time.
// The runtime's preemption signal ends such a wait early, so a stop of the
// world is not held up. A wait without a limit (nothing is held back from
// the worker) parks the goroutine in Go's network poller, which costs
// nothing while no datagram comes.
type batchReader struct {
	rc    syscall.RawConn
	hdrs  []mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6
	land  []byte
	oob   []byte

	// The state of one call, and the callbacks RawConn.Read and Control
	// run, bound once: a closure made per read would be allocated per
	// read.
	wait     time.Duration
	n        int
	errno    syscall.Errno
	recvFn   func(fd uintptr) bool
	pollFn   func(fd uintptr)
	pollfd   [1]unix.PollFd
	waitSpec unix.Timespec
}

func newBatchReader(conn *net.UDPConn) (*batchReader, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	r := &batchReader{
		rc:    rc,
		hdrs:  make([]mmsghdr, recvBatch),
		iovs:  make([]unix.Iovec, recvBatch),
		names: make([]unix.RawSockaddrInet6, recvBatch),
		land:  make([]byte, recvBatch*maxDatagram),
		oob:   make([]byte, recvBatch*oobSize),
	}
	for i := range r.hdrs {
		r.iovs[i].Base = &r.land[i*maxDatagram]
		r.iovs[i].SetLen(maxDatagram)
		h := &r.hdrs[i].hdr
		h.Iov = &r.iovs[i]
		h.SetIovlen(1)
	}
	r.recvFn = r.recvOrPark
	r.pollFn = r.pollAndRecv
	return r, nil
}

// recv is one recvmmsg call on fd that returns at once.
func (r *batchReader) recv(fd uintptr) {
	m, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), recvBatch, unix.MSG_DONTWAIT, 0, 0)
	r.n, r.errno = int(m), e
}

// recvOrPark reads what is pending; it reports false (park in the poller
// until the socket is readable) when nothing is.
func (r *batchReader) recvOrPark(fd uintptr) bool {
	r.recv(fd)
	return r.errno != syscall.EAGAIN
}

// pollAndRecv reads what is pending and, when nothing is, waits up to
// r.wait for a datagram and reads again.
func (r *batchReader) pollAndRecv(fd uintptr) {
	r.recv(fd)
	if r.errno != syscall.EAGAIN || r.wait <= 0 {
		return
	}
	r.pollfd[0] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	r.waitSpec = unix.NsecToTimespec(r.wait.Nanoseconds())
	m, _, e := unix.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&r.pollfd[0])), 1, uintptr(unsafe.Pointer(&r.waitSpec)), 0, 0, 0)
	if e != 0 || m == 0 {
		return // interrupted or nothing came: r.errno is still EAGAIN
	}
	r.recv(fd)
}

// read returns how many datagrams it read; datagram i is then
// r.datagram(i). With wait > 0 it waits up to wait for one, with wait < 0
// until one comes, and with 0 not at all; it returns 0 when none came,
// and net.ErrClosed once the socket is closed.
func (r *batchReader) read(wait time.Duration) (int, error) {
	for i := range r.hdrs {
		h := &r.hdrs[i].hdr
		h.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		h.Namelen = uint32(unsafe.Sizeof(r.names[i]))
		h.Control = &r.oob[i*oobSize]
		h.SetControllen(oobSize)
		h.Flags = 0
	}
	var err error
	if wait < 0 {
		err = r.rc.Read(r.recvFn)
	} else {
		r.wait = wait
		err = r.rc.Control(r.pollFn)
	}
	n, errno := r.n, r.errno
	if err != nil {
		return 0, err
	}
	if errno == syscall.EAGAIN || errno == syscall.EINTR {
		return 0, nil
	}
	if errno != 0 {
		return 0, errno
	}
	return n, nil
}

// sleep waits d at the most, a raw system call like the waits of read; a
// signal ends it early.
func (r *batchReader) sleep(d time.Duration) {
	ts := unix.NsecToTimespec(d.Nanoseconds())
	unix.RawSyscall(unix.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), 0, 0)
}

// datagram returns the bytes and sender of datagram i of the last read.
func (r *batchReader) datagram(i int) ([]byte, netip.Addr) {
	n := int(r.hdrs[i].len)
	b := r.land[i*maxDatagram : i*maxDatagram+n]
	sa := &r.names[i]
	var from netip.Addr
	switch sa.Family {
	case unix.AF_INET6:
		from = netip.AddrFrom16(sa.Addr).Unmap()
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		from = netip.AddrFrom4(sa4.Addr)
	}
	return b, from
}

// drops returns the kernel's drop counter (SO_RXQ_OVFL) carried by
// datagram i of the last read, if it carries one.
func (r *batchReader) drops(i int) (uint32, bool) {
	l := int(r.hdrs[i].hdr.Controllen)
	if l <= 0 {
		return 0, false
	}
	return kernelDrops(r.oob[i*oobSize : i*oobSize+l])
}
