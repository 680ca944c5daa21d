package probe

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/nfgo/nftools/internal/daemon"
	"github.com/nfgo/nftools/internal/inet"
)

// Mode says how a collector shares the exported datagrams with the others.
type Mode uint8

const (
	// Mirror collectors each get every datagram (fprobe's type "m", the
	// default).
	Mirror Mode = iota
	// RoundRobin collectors take the datagrams in turn (fprobe's type "r").
	RoundRobin
)

// String returns the mode's letter as fprobe logs it: "m" or "r".
func (m Mode) String() string {
	if m == RoundRobin {
		return "r"
	}
	return "m"
}

// Collector is one collector argument, remote:port[/[local][/type]], as
// given on the command line.
type Collector struct {
	// Host and Port name the collector; Host is an address (an IPv6 one
	// without its brackets) or a host name, Port a number or a service.
	Host, Port string
	// Local is the address to send from; empty takes -a's.
	Local string
	Mode  Mode
}

// String returns the collector as the command line writes it.
func (c Collector) String() string {
	s := inet.JoinHostPort(c.Host, c.Port)
	if c.Local != "" || c.Mode != Mirror {
		s += "/" + c.Local
	}
	if c.Mode != Mirror {
		s += "/" + c.Mode.String()
	}
	return s
}

// errSyntax marks a collector argument that does not read as
// remote:port[/[local][/type]].
var errSyntax = errors.New("not remote:port[/[local][/type]]")

// ParseCollector reads one collector argument. The remote part is host:port
// or [IPv6 address]:port; the port must not be empty. The type is read from
// its first letter, as fprobe does: m (or nothing) mirrors, r takes turns.
func ParseCollector(arg string) (Collector, error) {
	var c Collector
	var rest string
	if strings.HasPrefix(arg, "[") {
		end := strings.Index(arg, "]")
		if end < 0 || end+1 >= len(arg) || arg[end+1] != ':' {
			return c, errSyntax
		}
		c.Host, rest = arg[1:end], arg[end+2:]
		if _, err := netip.ParseAddr(c.Host); err != nil || !strings.Contains(c.Host, ":") {
			return c, errSyntax
		}
	} else {
		var ok bool
		if c.Host, rest, ok = strings.Cut(arg, ":"); !ok {
			return c, errSyntax
		}
	}
	var local string
	var hasLocal bool
	c.Port, local, hasLocal = strings.Cut(rest, "/")
	if c.Host == "" || c.Port == "" {
		return c, errSyntax
	}
	if hasLocal {
		var typ string
		c.Local, typ, _ = strings.Cut(local, "/")
		c.Local = strings.TrimSuffix(strings.TrimPrefix(c.Local, "["), "]")
		switch {
		case typ == "" || typ[0] == 'm':
		case typ[0] == 'r':
			c.Mode = RoundRobin
		default:
			return c, errSyntax
		}
	}
	return c, nil
}

// CollectorError is a collector that cannot be used. Its message is the
// one fprobe prints for the same fault, which scripts may read.
type CollectorError struct {
	Index int    // 1-based position among the collectors
	Op    string // "parameters", "source address", "bind" or "connect"
	Err   error
}

func (e *CollectorError) Error() string {
	switch e.Op {
	case "parameters":
		return fmt.Sprintf("Error in collector #%d parameters", e.Index)
	case "source address":
		return "Illegal source address"
	default:
		return e.Op + "(): " + daemon.Strerror(e.Err)
	}
}

func (e *CollectorError) Unwrap() error { return e.Err }

// ResolveSource resolves -a or a collector's local part to an address,
// IPv4 first as fprobe does, IPv6 when the name has no IPv4 address.
func ResolveSource(host string) (netip.Addr, error) {
	return resolveHost(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), "")
}

// resolveHost resolves host to one address of the family network asks for
// ("udp4", "udp6"), or IPv4 first and then IPv6 when network is empty.
func resolveHost(host, network string) (netip.Addr, error) {
	var families []inet.Family
	switch network {
	case "udp4":
		families = []inet.Family{inet.IPv4}
	case "udp6":
		families = []inet.Family{inet.IPv6}
	default:
		families = []inet.Family{inet.IPv4, inet.IPv6}
	}
	var err error
	for _, f := range families {
		var addrs []netip.Addr
		if addrs, err = inet.LookupHost(host, f); err == nil {
			return addrs[0], nil
		}
	}
	return netip.Addr{}, err
}

// dial opens the connected socket of collector number index (1-based),
// bound to the collector's local address or else to source (-a), failing
// with fprobe's messages: a local address that does not resolve, a remote
// one that does not (or not in the local address's family), a bind or a
// connect that the system refuses.
// It returns the socket and the address it was bound to, an unspecified
// one when no local address was asked for.
func dial(index int, c Collector, source netip.Addr) (*os.File, netip.Addr, error) {
	fail := func(op string, err error) (*os.File, netip.Addr, error) {
		return nil, netip.Addr{}, &CollectorError{Index: index, Op: op, Err: err}
	}
	local := source
	if c.Local != "" {
		a, err := ResolveSource(c.Local)
		if err != nil {
			return fail("source address", err)
		}
		local = a
	}
	network := ""
	switch {
	case local.Is4():
		network = "udp4"
	case local.Is6():
		network = "udp6"
	}
	remote, err := resolveHost(c.Host, network)
	if err != nil {
		return fail("parameters", err)
	}
	port, err := inet.LookupPort("udp", c.Port)
	if err != nil || port == 0 {
		return fail("parameters", fmt.Errorf("port %q", c.Port))
	}
	conn, err := inet.DialUDP(local, netip.AddrPortFrom(remote, uint16(port)))
	if err != nil {
		var se *os.SyscallError
		if errors.As(err, &se) && se.Syscall == "bind" {
			return fail("bind", se.Err)
		}
		if errors.As(err, &se) {
			err = se.Err
		}
		return fail("connect", err)
	}
	if !local.IsValid() {
		local = netip.IPv4Unspecified()
		if remote.Is6() {
			local = netip.IPv6Unspecified()
		}
	}
	return conn, local, nil
}
