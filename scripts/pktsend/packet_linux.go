package main

import (
	"fmt"
	"net"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nfgo/nftools/internal/mmsg"
)

// packetSender sends whole frames on an AF_PACKET socket bound to one
// interface, a batch a sendmmsg(2) call. The socket is blocking: when the
// kernel has no room for a frame the call waits, which is what a sender
// at full speed should do.
type packetSender struct {
	fd  int
	mtu int
	b   mmsg.Batch
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
	for len(batch) > 0 {
		n, errno := s.b.Send(uintptr(s.fd), batch)
		switch errno {
		case 0:
			batch = batch[n:]
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
