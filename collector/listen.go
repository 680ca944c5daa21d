package collector

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
)

// ListenConfig says where the collector's socket listens.
type ListenConfig struct {
	Host   string // -b: bind address or host name; "" is any
	Port   string // -p: port number or service name
	Family int    // 4 (-4), 6 (-6) or 0: dual stack, IPv6 and IPv4
	Group  string // -J: multicast group to join
	Buffer int    // -B: socket receive buffer in bytes; 0 keeps the default
	// Logf, when set, receives the lines nfcapd logs about the socket
	// buffer.
	Logf func(format string, args ...any)
}

// MinBuffer is the smallest socket buffer -B sets, as in nfcapd.
const MinBuffer = 65536

// Listen opens the UDP socket. It returns the socket and the "Bound to
// ..." log line.
func Listen(cfg ListenConfig) (*net.UDPConn, string, error) {
	network := "udp"
	switch cfg.Family {
	case 4:
		network = "udp4"
	case 6:
		network = "udp6"
	}
	port, err := net.LookupPort(network, cfg.Port)
	if err != nil {
		return nil, "", fmt.Errorf("port %s: %w", cfg.Port, err)
	}
	var conn *net.UDPConn
	var what string
	if cfg.Group != "" {
		ip, err := netip.ParseAddr(cfg.Group)
		if err != nil || !ip.IsMulticast() {
			return nil, "", fmt.Errorf("not a multicast group: %s", cfg.Group)
		}
		conn, err = net.ListenMulticastUDP(network, nil, &net.UDPAddr{IP: ip.AsSlice(), Port: port})
		if err != nil {
			return nil, "", fmt.Errorf("could not open the requested socket: %w", errors.Unwrap(err))
		}
		fam := "IPv4"
		if ip.Is6() {
			fam = "IPv6"
		}
		what = fmt.Sprintf("Joined %s multicast group: %s Port: %d", fam, ip, port)
	} else {
		addr := ""
		if cfg.Host != "" {
			addr = cfg.Host
		}
		laddr, err := net.ResolveUDPAddr(network, net.JoinHostPort(addr, strconv.Itoa(port)))
		if err != nil {
			return nil, "", fmt.Errorf("host %s: %w", cfg.Host, err)
		}
		conn, err = net.ListenUDP(network, laddr)
		if err != nil {
			return nil, "", fmt.Errorf("could not open the requested socket: %w", unwrapSyscall(err))
		}
		fam := "IPv4/IPv6"
		switch {
		case cfg.Family == 4 || (laddr.IP != nil && laddr.IP.To4() != nil):
			fam = "IPv4"
		case cfg.Family == 6 || laddr.IP != nil:
			fam = "IPv6"
		}
		host := cfg.Host
		if host == "" {
			host = "any"
		}
		what = fmt.Sprintf("Bound to %s host/IP: %s, Port: %d", fam, host, port)
	}
	if cfg.Buffer > 0 {
		if err := setBuffer(conn, cfg.Buffer, cfg.Logf); err != nil {
			conn.Close()
			return nil, "", err
		}
	} else {
		defaultBuffer(conn)
	}
	return conn, what, nil
}

// DefaultBuffer is the socket receive buffer gocapd asks for without -B
// (Linux doubles it): nfcapd keeps the kernel's default of 208 KiB, some
// 20 ms of datagrams at 10 000 a second. On two cores kept busy by other
// work (load 14), with LZO files and 4 000 datagrams of 24 v9 flows a
// second, nfcapd lost 11% of them, gocapd with the kernel's default 15%,
// with this one none; at 10 000 a second gocapd lost 17% with the
// kernel's default, 2.6% with 2 MiB, 0.5% with 8 MiB (one run each). The
// buffer is a limit, not an allocation: the kernel fills it only while
// gocapd falls behind.
const DefaultBuffer = 16 << 20

// defaultBuffer raises the socket's receive buffer to DefaultBuffer,
// beyond net.core.rmem_max when gocapd may (it runs as root until it
// drops its privileges), else as far as the kernel lets it; it never
// lowers a larger default. Nothing is logged, as nfcapd logs nothing
// without -B.
func defaultBuffer(conn *net.UDPConn) {
	if ReadBuffer(conn) >= 2*DefaultBuffer {
		return
	}
	if rc, err := conn.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			if forceReadBuffer(fd, DefaultBuffer) != nil {
				syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, DefaultBuffer)
			}
		})
	}
}

// setBuffer sets the socket's receive buffer as nfcapd's -B does: at
// least MinBuffer bytes, logging the size before and the size the kernel
// granted (twice the request, up to net.core.rmem_max).
func setBuffer(conn *net.UDPConn, n int, logf func(string, ...any)) error {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if n < MinBuffer {
		n = MinBuffer
		logf("I want at least %d bytes as socket buffer", n)
	}
	logf("Standard setsockopt, SO_RCVBUF is %d Requested length is %d bytes", ReadBuffer(conn), n)
	if err := conn.SetReadBuffer(n); err != nil {
		return fmt.Errorf("setsockopt(SO_RCVBUF,%d): %w", n, unwrapSyscall(err))
	}
	logf("System set setsockopt, SO_RCVBUF to %d bytes", ReadBuffer(conn))
	return nil
}

// ReadBuffer returns the socket's receive buffer size (SO_RCVBUF), or -1.
func ReadBuffer(conn *net.UDPConn) int {
	size := -1
	if rc, err := conn.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			if v, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF); err == nil {
				size = v
			}
		})
	}
	return size
}

func unwrapSyscall(err error) error {
	var se *net.OpError
	if errors.As(err, &se) && se.Err != nil {
		err = se.Err
	}
	var sc *os.SyscallError
	if errors.As(err, &sc) {
		return sc.Err
	}
	return err
}
