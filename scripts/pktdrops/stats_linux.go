package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// stats reads and resets the counters of pid's packet sockets.
func stats(pid int) (counters, error) {
	var c counters
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return c, err
	}
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return c, fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	defer unix.Close(pidfd)
	for _, e := range ents {
		link, err := os.Readlink(dir + "/" + e.Name())
		if err != nil || !strings.HasPrefix(link, "socket:") {
			continue // closed since, or not a socket
		}
		target, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fd, err := unix.PidfdGetfd(pidfd, target, 0)
		if err != nil {
			return c, fmt.Errorf("pidfd_getfd %d of process %d: %w", target, pid, err)
		}
		p, d, ok, err := packetStats(fd)
		unix.Close(fd)
		if err != nil {
			return c, fmt.Errorf("descriptor %d of process %d: %w", target, pid, err)
		}
		if ok {
			c.Sockets++
			c.Packets += p
			c.Drops += d
		}
	}
	return c, nil
}

// packetStats reads PACKET_STATISTICS of fd if it is a packet socket.
func packetStats(fd int) (packets, drops uint64, ok bool, err error) {
	dom, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN)
	if err != nil || dom != unix.AF_PACKET {
		return 0, 0, false, nil
	}
	// The V3 layout (a ring of blocks, as libpcap makes) is the V1 one
	// and a count of ring freezes; the kernel fills what the socket's
	// version has.
	var st unix.TpacketStatsV3
	size := uint32(unsafe.Sizeof(st))
	_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_PACKET, unix.PACKET_STATISTICS,
		uintptr(unsafe.Pointer(&st)), uintptr(unsafe.Pointer(&size)), 0)
	if errno != 0 {
		return 0, 0, false, fmt.Errorf("PACKET_STATISTICS: %w", errno)
	}
	return uint64(st.Packets), uint64(st.Drops), true, nil
}
