//go:build linux

package collector

import (
	"net"
	"net/netip"
	"syscall"
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
type batchReader struct {
	rc    syscall.RawConn
	hdrs  []mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6
	land  []byte
	oob   []byte

	// The state of one recvmmsg call, and the callback RawConn.Read runs,
	// bound once: a closure made per read would be allocated per read.
	wait   bool
	n      int
	errno  syscall.Errno
	recvFn func(fd uintptr) bool
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
	r.recvFn = r.recv
	return r, nil
}

// recv is one recvmmsg call on fd; it reports whether RawConn.Read may
// return (false: wait until the socket is readable and call it again).
func (r *batchReader) recv(fd uintptr) bool {
	m, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), recvBatch, unix.MSG_DONTWAIT, 0, 0)
	r.n, r.errno = int(m), e
	return !r.wait || e != syscall.EAGAIN && e != syscall.EINTR
}

// read returns how many datagrams it read; datagram i is then
// r.datagram(i). With wait it waits for at least one, else it returns 0
// when none is pending. It returns net.ErrClosed once the socket is
// closed.
func (r *batchReader) read(wait bool) (int, error) {
	for i := range r.hdrs {
		h := &r.hdrs[i].hdr
		h.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		h.Namelen = uint32(unsafe.Sizeof(r.names[i]))
		h.Control = &r.oob[i*oobSize]
		h.SetControllen(oobSize)
		h.Flags = 0
	}
	r.wait = wait
	err := r.rc.Read(r.recvFn)
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
