package inet

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSplitHostPort: the forms net.SplitHostPort takes split as it splits
// them, and those it refuses are refused.
func TestSplitHostPort(t *testing.T) {
	for _, s := range []string{"127.0.0.1:2055", "[::1]:2055", ":9102", "host.example:domain", "[::]:0",
		"[fe80::1%eth0]:1", "a:", "::1", "[::1]", "[::1]x:1", "a]:1", "a:[1]", "a", "", "1.2.3.4"} {
		h, p, err := SplitHostPort(s)
		wh, wp, werr := net.SplitHostPort(s)
		assert.Equal(t, werr == nil, err == nil, "%q: %v, net: %v", s, err, werr)
		if werr == nil {
			assert.Equal(t, wh, h, s)
			assert.Equal(t, wp, p, s)
			assert.Equal(t, net.JoinHostPort(h, p), JoinHostPort(h, p), s)
		}
	}
}

func TestLookupPort(t *testing.T) {
	for _, c := range []struct {
		network, service string
		want             int
		ok               bool
	}{{"udp", "2055", 2055, true}, {"udp", "0", 0, true}, {"tcp", "65535", 65535, true}, {"udp", "65536", 0, false},
		{"udp", "", 0, false}, {"udp", "-1", 0, false}, {"udp", "no-such-service-here", 0, false}} {
		p, err := LookupPort(c.network, c.service)
		assert.Equal(t, c.ok, err == nil, "%s/%s: %v", c.network, c.service, err)
		assert.Equal(t, c.want, p, "%s/%s", c.network, c.service)
	}
	// A service name, where the system knows it, is the port net finds.
	if want, err := net.LookupPort("tcp", "domain"); err == nil {
		p, err := LookupPort("tcp", "domain")
		require.NoError(t, err)
		assert.Equal(t, want, p)
	}
}

func TestLookupHost(t *testing.T) {
	a, err := LookupHost("::ffff:10.0.0.1", Any)
	require.NoError(t, err)
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("10.0.0.1")}, a)
	_, err = LookupHost("10.0.0.1", IPv6)
	assert.ErrorContains(t, err, "address family does not match")
	a, err = LookupHost("localhost", IPv4)
	require.NoError(t, err)
	assert.Contains(t, a, netip.MustParseAddr("127.0.0.1"))
	_, err = LookupHost("no-such-host.invalid", Any)
	assert.ErrorContains(t, err, "no-such-host.invalid")
}

// TestDialUDP: a datagram written to the socket arrives from the local
// address it was bound to; a bind to an address the machine lacks fails
// as bind.
func TestDialUDP(t *testing.T) {
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer sink.Close()
	remote := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	c, err := DialUDP(netip.MustParseAddr("127.0.0.3"), remote)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write([]byte("flow"))
	require.NoError(t, err)
	sink.SetReadDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, 16)
	n, from, err := sink.ReadFromUDPAddrPort(b)
	require.NoError(t, err)
	assert.Equal(t, "flow", string(b[:n]))
	assert.Equal(t, "127.0.0.3", from.Addr().String())

	_, err = DialUDP(netip.MustParseAddr("192.0.2.1"), remote)
	var se *os.SyscallError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "bind", se.Syscall)
	assert.ErrorIs(t, err, syscall.EADDRNOTAVAIL)
}

// TestListenTCP: a connection is accepted, reads what the client sent,
// and after CloseWrite the client reads the end of the stream; Close
// ends an Accept under way, and a port taken fails as bind.
func TestListenTCP(t *testing.T) {
	l, err := ListenTCP(netip.MustParseAddr("127.0.0.1"), 0)
	require.NoError(t, err)
	addr := l.Addr()
	assert.Equal(t, "127.0.0.1", addr.Addr().String())
	assert.NotZero(t, addr.Port())
	client, err := net.Dial("tcp", addr.String())
	require.NoError(t, err)
	defer client.Close()
	c, err := l.Accept()
	require.NoError(t, err)
	_, err = client.Write([]byte("GET"))
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	b := make([]byte, 3)
	_, err = io.ReadFull(c, b)
	require.NoError(t, err)
	assert.Equal(t, "GET", string(b))
	c.Write([]byte("ok"))
	require.NoError(t, CloseWrite(c))
	got, err := io.ReadAll(client)
	require.NoError(t, err)
	assert.Equal(t, "ok", string(got))
	c.Close()

	_, err = ListenTCP(netip.MustParseAddr("127.0.0.1"), int(addr.Port()))
	var se *os.SyscallError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "bind", se.Syscall)

	done := make(chan error)
	go func() { _, err := l.Accept(); done <- err }()
	require.NoError(t, l.Close())
	err = <-done
	assert.True(t, errors.Is(err, os.ErrClosed), "%v", err)
}

// TestListenTCPAnyAddress: no host listens on both families.
func TestListenTCPAnyAddress(t *testing.T) {
	l, err := ListenTCP(netip.Addr{}, 0)
	require.NoError(t, err)
	defer l.Close()
	assert.Equal(t, "::", l.Addr().Addr().String())
	port := l.Addr().Port()
	for _, host := range []string{"127.0.0.1", "::1"} {
		c, err := net.Dial("tcp", JoinHostPort(host, itoa(port)))
		if host == "::1" && err != nil {
			continue // a machine without IPv6 on loopback
		}
		require.NoError(t, err, host)
		a, err := l.Accept()
		require.NoError(t, err)
		a.Close()
		c.Close()
	}
}

func itoa(p uint16) string {
	return netip.AddrPortFrom(netip.IPv4Unspecified(), p).String()[len("0.0.0.0:"):]
}

// TestZoneIndex: an IPv6 zone is an interface's name or index, as net
// takes it ("fe80::1%eth0").
func TestZoneIndex(t *testing.T) {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skip("no loopback interface named lo")
	}
	assert.Equal(t, uint32(lo.Index), zoneIndex("lo"))
	assert.Equal(t, uint32(7), zoneIndex("7"))
	assert.Zero(t, zoneIndex(""))
	assert.Zero(t, zoneIndex("no-such-interface"))
	assert.Zero(t, zoneIndex("../lo"))
	sa, family := sockaddr(netip.MustParseAddr("fe80::1%lo"), 2055)
	assert.Equal(t, syscall.AF_INET6, family)
	assert.Equal(t, uint32(lo.Index), sa.(*syscall.SockaddrInet6).ZoneId)
}
