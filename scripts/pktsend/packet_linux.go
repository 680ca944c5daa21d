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

// packetSender sends whole frames on an AF_PACKET socket bound to one
// interface, a batch a sendmmsg(2) call. The socket is blocking: when the
// kernel has no room for a frame the call waits, which is what a sender
// at full speed should do.
type packetSender struct {
	fd   int
	mtu  int
	hdrs []mmsghdr
	iovs []unix.Iovec
}

// openSender opens the socket in the calling thread's network namespace.
func openSender(ifname string) (*packetSender, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, err
	}
	// Protocol 0: the socket sends and never receives, so the frames it
	// sends are not copied back to it.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("AF_PACKET socket (root or CAP_NET_RAW needed): %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifi.Index}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind to %s: %w", ifname, err)
	}
	// Past the interface's queueing discipline, as a packet generator
	// goes: the qdisc would only add cost (a veth has none anyway).
	_ = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1)
	return &packetSender{fd: fd, mtu: ifi.MTU}, nil
}

func (s *packetSender) MTU() int { return s.mtu }

func (s *packetSender) WriteBatch(batch [][]byte) error {
	if len(s.hdrs) < len(batch) {
		s.hdrs = make([]mmsghdr, len(batch))
		s.iovs = make([]unix.Iovec, len(batch))
		for i := range s.hdrs {
			s.hdrs[i].hdr.Iov = &s.iovs[i]
			s.hdrs[i].hdr.SetIovlen(1)
		}
	}
	for len(batch) > 0 {
		for i, b := range batch {
			s.iovs[i].Base = &b[0]
			s.iovs[i].SetLen(len(b))
		}
		r, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(s.fd), uintptr(unsafe.Pointer(&s.hdrs[0])), uintptr(len(batch)), 0, 0, 0)
		switch errno {
		case 0:
			batch = batch[r:]
		case syscall.EINTR:
		case syscall.ENOBUFS:
			// The device's queue is full for a moment: the frames were not
			// taken, try them again.
		default:
			return fmt.Errorf("sendmmsg: %w", errno)
		}
	}
	return nil
}

func (s *packetSender) Close() error { return unix.Close(s.fd) }
