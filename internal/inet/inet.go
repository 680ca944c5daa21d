// Package inet resolves host and service names and opens the sockets
// goprobe needs (a connected UDP socket per collector, the metrics
// endpoint's TCP listener) without the standard library's net package
// (internal/daemon writes to syslog's Unix socket the same way).
// goprobe's binary is mapped whole into memory (the page cache holds it
// in large folios), so every byte linked is a byte resident: net, its
// resolvers and log/syslog over it were 585 KB of a small program built
// as goprobe is that linked the rest goprobe links (the C library,
// os/exec, os/user, fmt), 1.94 against 2.53 MB; leaving them out of
// goprobe took its binary from 3.21 to 2.81 MB, its peak resident memory
// reading a capture of few flows about 0.3 MB lower. Names resolve
// through the C library's getaddrinfo(3), as fprobe resolved them, when
// the program links it (cgo); without cgo through net's resolver.
//
// The sockets are *os.File: non-blocking, so that reads, writes and
// deadlines go through Go's poller as a net.Conn's do.
package inet

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// SplitHostPort splits "host:port", "[host]:port" or ":port" into host
// and port, as net.SplitHostPort does for these forms: a host with a
// colon must be in brackets.
func SplitHostPort(hostport string) (host, port string, err error) {
	bad := func(why string) (string, string, error) {
		return "", "", fmt.Errorf("address %s: %s", hostport, why)
	}
	i := strings.LastIndexByte(hostport, ':')
	if i < 0 {
		return bad("missing port in address")
	}
	host, port = hostport[:i], hostport[i+1:]
	if strings.HasPrefix(host, "[") {
		if !strings.HasSuffix(host, "]") {
			return bad("missing ']' in address")
		}
		host = host[1 : len(host)-1]
	} else if strings.ContainsAny(host, "[]") {
		return bad("unexpected bracket in address")
	} else if strings.Contains(host, ":") {
		return bad("too many colons in address")
	}
	if strings.ContainsAny(port, "[]") {
		return bad("unexpected bracket in address")
	}
	return host, port, nil
}

// JoinHostPort joins host and port as net.JoinHostPort does: a host with
// a colon (an IPv6 address) goes in brackets.
func JoinHostPort(host, port string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// Family is the address family a name is resolved in.
type Family int

const (
	Any Family = iota // every address, in the resolver's order
	IPv4
	IPv6
)

// LookupHost returns host's addresses in family: an address literal as
// it is (an IPv4-mapped one unmapped), else the resolver's answer.
func LookupHost(host string, family Family) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		if family == IPv4 && !a.Is4() || family == IPv6 && !a.Is6() {
			return nil, fmt.Errorf("%s: address family does not match", host)
		}
		return []netip.Addr{a}, nil
	}
	addrs, err := lookupHost(host, family)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("lookup %s: no such host", host)
	}
	return addrs, nil
}

// LookupPort returns the port of service for network ("udp" or "tcp"):
// a number from 0 to 65535, or a service name (/etc/services).
func LookupPort(network, service string) (int, error) {
	if service != "" && strings.Trim(service, "0123456789") == "" {
		p, err := strconv.ParseUint(service, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("invalid port %q", service)
		}
		return int(p), nil
	}
	if service == "" {
		return 0, errors.New("empty port")
	}
	return lookupPort(network, service)
}

// sockaddr is a's socket address with port; an IPv6 address's zone (a
// link-local collector's "%eth0") is its interface's index.
func sockaddr(a netip.Addr, port int) (syscall.Sockaddr, int) {
	if a.Is4() {
		return &syscall.SockaddrInet4{Port: port, Addr: a.As4()}, syscall.AF_INET
	}
	return &syscall.SockaddrInet6{Port: port, Addr: a.As16(), ZoneId: zoneIndex(a.Zone())}, syscall.AF_INET6
}

// zoneIndex is the index of the interface zone names (or zone itself when
// it is a number), 0 when there is none: a link-local address without its
// interface, which the system refuses as net would.
func zoneIndex(zone string) uint32 {
	if zone == "" {
		return 0
	}
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n)
	}
	if strings.ContainsAny(zone, "/.") {
		return 0
	}
	b, err := os.ReadFile("/sys/class/net/" + zone + "/ifindex")
	if err != nil {
		return 0
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	if err != nil {
		return 0
	}
	return uint32(n)
}

// addrPort is a socket address as an AddrPort (zero for another family).
func addrPort(sa syscall.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *syscall.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port))
	}
	return netip.AddrPort{}
}

// socket opens a non-blocking socket that is closed on exec. The flags
// are set apart from the call (under ForkLock, so that no exec between
// them inherits the descriptor), as net does where socket(2) takes none:
// gocapd, which links this through internal/metrics, builds for systems
// other than Linux too.
func socket(family, typ int) (int, error) {
	syscall.ForkLock.RLock()
	fd, err := syscall.Socket(family, typ, 0)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return -1, os.NewSyscallError("setnonblock", err)
	}
	return fd, nil
}

// DialUDP opens a UDP socket bound to local (when valid; port 0) and
// connected to remote, in remote's family. A failed bind or connect is
// an *os.SyscallError naming the call. SO_BROADCAST is set, as net sets
// it on every datagram socket, so that a collector may be a broadcast
// address.
func DialUDP(local netip.Addr, remote netip.AddrPort) (*os.File, error) {
	rsa, family := sockaddr(remote.Addr().Unmap(), int(remote.Port()))
	fd, err := socket(family, syscall.SOCK_DGRAM)
	if err != nil {
		return nil, err
	}
	fail := func(call string, err error) (*os.File, error) {
		syscall.Close(fd)
		return nil, os.NewSyscallError(call, err)
	}
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_BROADCAST, 1); err != nil {
		return fail("setsockopt", err)
	}
	if local.IsValid() {
		lsa, _ := sockaddr(local, 0)
		if family == syscall.AF_INET6 && local.Is4() {
			lsa, _ = sockaddr(netip.AddrFrom16(local.As16()), 0)
		}
		if err := syscall.Bind(fd, lsa); err != nil {
			return fail("bind", err)
		}
	}
	if err := syscall.Connect(fd, rsa); err != nil {
		return fail("connect", err)
	}
	return os.NewFile(uintptr(fd), "udp:"+remote.String()), nil
}

// LocalAddr returns the address socket f is bound to.
func LocalAddr(f *os.File) netip.AddrPort { return sockName(f, syscall.Getsockname) }

// RemoteAddr returns the address socket f is connected to.
func RemoteAddr(f *os.File) netip.AddrPort { return sockName(f, syscall.Getpeername) }

func sockName(f *os.File, get func(int) (syscall.Sockaddr, error)) netip.AddrPort {
	rc, err := f.SyscallConn()
	if err != nil {
		return netip.AddrPort{}
	}
	var sa syscall.Sockaddr
	rc.Control(func(fd uintptr) { sa, _ = get(int(fd)) })
	return addrPort(sa)
}
