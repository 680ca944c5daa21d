package inet

import (
	"fmt"
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"
)

// Listener is a TCP socket listening for connections.
type Listener struct {
	f    *os.File
	rc   syscall.RawConn
	addr netip.AddrPort
	// closed: Close was called. The raw connection's calls then fail
	// with the poller's own error, which os.ErrClosed is not.
	closed atomic.Bool
}

// ListenTCP listens on addr; an invalid address (no host given) listens
// on every address of both families, as net.Listen("tcp", ":port") does.
// SO_REUSEADDR is set, as net sets it, so that a restart can bind a port
// whose old connections linger. A failed call is an *os.SyscallError.
func ListenTCP(addr netip.Addr, port int) (*Listener, error) {
	any := !addr.IsValid()
	if any {
		addr = netip.IPv6Unspecified()
	}
	sa, family := sockaddr(addr, port)
	fd, err := socket(family, syscall.SOCK_STREAM)
	if err != nil {
		return nil, err
	}
	fail := func(call string, err error) (*Listener, error) {
		syscall.Close(fd)
		return nil, os.NewSyscallError(call, err)
	}
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		return fail("setsockopt", err)
	}
	if any {
		// Dual stack: IPv4 connections come as mapped addresses.
		if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 0); err != nil {
			return fail("setsockopt", err)
		}
	}
	if err := syscall.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	if err := syscall.Listen(fd, syscall.SOMAXCONN); err != nil {
		return fail("listen", err)
	}
	got, err := syscall.Getsockname(fd)
	if err != nil {
		return fail("getsockname", err)
	}
	f := os.NewFile(uintptr(fd), "tcp-listener")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Listener{f: f, rc: rc, addr: addrPort(got)}, nil
}

// Addr returns the address listened on, with the port the kernel chose
// for port 0.
func (l *Listener) Addr() netip.AddrPort { return l.addr }

// Accept waits for a connection and returns it, non-blocking in Go's
// poller (deadlines work). After Close it returns an error for which
// errors.Is(err, os.ErrClosed) holds; a failed accept(2) is an
// *os.SyscallError (EMFILE, ECONNABORTED: temporary).
func (l *Listener) Accept() (*os.File, error) {
	var nfd int
	var aerr error
	err := l.rc.Read(func(fd uintptr) bool {
		syscall.ForkLock.RLock()
		nfd, _, aerr = syscall.Accept(int(fd))
		if aerr == nil {
			syscall.CloseOnExec(nfd)
		}
		syscall.ForkLock.RUnlock()
		return aerr != syscall.EAGAIN
	})
	if err != nil {
		if l.closed.Load() {
			return nil, fmt.Errorf("accept: %w", os.ErrClosed)
		}
		return nil, err
	}
	if aerr != nil {
		return nil, os.NewSyscallError("accept", aerr)
	}
	if err := syscall.SetNonblock(nfd, true); err != nil {
		syscall.Close(nfd)
		return nil, os.NewSyscallError("setnonblock", err)
	}
	return os.NewFile(uintptr(nfd), "tcp"), nil
}

// Close stops listening; an Accept under way returns.
func (l *Listener) Close() error {
	l.closed.Store(true)
	return l.f.Close()
}

// CloseWrite shuts down the sending side of connection c: the peer reads
// the end of the stream.
func CloseWrite(c *os.File) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.Shutdown(int(fd), syscall.SHUT_WR) }); err != nil {
		return err
	}
	if serr != nil {
		return os.NewSyscallError("shutdown", serr)
	}
	return nil
}
