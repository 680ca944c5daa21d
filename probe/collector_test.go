package probe

import (
	"net/netip"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/inet"
)

func TestParseCollector(t *testing.T) {
	for _, tc := range []struct {
		arg  string
		want Collector
	}{
		{"127.0.0.1:2055", Collector{Host: "127.0.0.1", Port: "2055"}},
		{"localhost:555", Collector{Host: "localhost", Port: "555"}},
		{"10.1.1.2:2055//r", Collector{Host: "10.1.1.2", Port: "2055", Mode: RoundRobin}},
		{"10.1.1.2:2055/10.0.0.1/m", Collector{Host: "10.1.1.2", Port: "2055", Local: "10.0.0.1"}},
		{"10.1.1.2:2055/10.0.0.1", Collector{Host: "10.1.1.2", Port: "2055", Local: "10.0.0.1"}},
		{"10.1.1.2:2055/", Collector{Host: "10.1.1.2", Port: "2055"}},
		{"10.1.1.2:2055//", Collector{Host: "10.1.1.2", Port: "2055"}},
		// fprobe reads the type from its first letter only.
		{"10.1.1.2:2055//rotate", Collector{Host: "10.1.1.2", Port: "2055", Mode: RoundRobin}},
		{"[::1]:2055", Collector{Host: "::1", Port: "2055"}},
		{"[2001:db8::1]:2055/[2001:db8::2]/r", Collector{Host: "2001:db8::1", Port: "2055", Local: "2001:db8::2", Mode: RoundRobin}},
		{"[2001:db8::1]:2055/2001:db8::2", Collector{Host: "2001:db8::1", Port: "2055", Local: "2001:db8::2"}},
		{"collector:netflow", Collector{Host: "collector", Port: "netflow"}},
	} {
		got, err := ParseCollector(tc.arg)
		if assert.NoError(t, err, tc.arg) {
			assert.Equal(t, tc.want, got, tc.arg)
		}
	}
}

func TestParseCollectorErrors(t *testing.T) {
	for _, arg := range []string{
		"foo", "127.0.0.1", "127.0.0.1:", ":2055", "127.0.0.1:2055//x",
		"[::1]", "[::1]2055", "[::1:2055", "[localhost]:2055", "[10.0.0.1]:2055", "[]:2055",
	} {
		_, err := ParseCollector(arg)
		assert.ErrorIs(t, err, errSyntax, arg)
	}
}

func TestCollectorString(t *testing.T) {
	for _, arg := range []string{"127.0.0.1:2055", "127.0.0.1:2055/127.0.0.2", "127.0.0.1:2055//r", "[::1]:2055/::1/r"} {
		c, err := ParseCollector(arg)
		require.NoError(t, err)
		assert.Equal(t, arg, c.String())
	}
}

func TestCollectorErrorText(t *testing.T) {
	for _, tc := range []struct {
		err  CollectorError
		want string
	}{
		{CollectorError{Index: 2, Op: "parameters"}, "Error in collector #2 parameters"},
		{CollectorError{Index: 1, Op: "source address"}, "Illegal source address"},
		{CollectorError{Index: 1, Op: "bind", Err: syscall.EADDRNOTAVAIL}, "bind(): Cannot assign requested address"},
		{CollectorError{Index: 1, Op: "connect", Err: syscall.ENETUNREACH}, "connect(): Network is unreachable"},
	} {
		assert.Equal(t, tc.want, tc.err.Error())
	}
}

// TestDial opens collectors' sockets on loopback the ways the command line
// can ask for. No name in here needs DNS: "localhost" is in /etc/hosts, and
// a name with an empty label is refused before any query is sent.
func TestDial(t *testing.T) {
	for _, tc := range []struct {
		arg, source string
		wantLocal   string // the local address, port not compared
		wantBound   string // the address bound to
		wantRemote  string
		wantErr     string
	}{
		{arg: "127.0.0.1:2055", wantLocal: "127.0.0.1", wantBound: "0.0.0.0", wantRemote: "127.0.0.1:2055"},
		{arg: "localhost:2055", wantLocal: "127.0.0.1", wantBound: "0.0.0.0", wantRemote: "127.0.0.1:2055"},
		{arg: "127.0.0.1:2055/127.0.0.2", wantLocal: "127.0.0.2", wantBound: "127.0.0.2", wantRemote: "127.0.0.1:2055"},
		{arg: "127.0.0.1:2055", source: "127.0.0.3", wantLocal: "127.0.0.3", wantBound: "127.0.0.3", wantRemote: "127.0.0.1:2055"},
		// The collector's own local address wins over -a.
		{arg: "127.0.0.1:2055/127.0.0.4/r", source: "127.0.0.3", wantLocal: "127.0.0.4", wantBound: "127.0.0.4", wantRemote: "127.0.0.1:2055"},
		{arg: "[::1]:2055", wantLocal: "::1", wantBound: "::", wantRemote: "[::1]:2055"},
		{arg: "[::1]:2055/::1", wantLocal: "::1", wantBound: "::1", wantRemote: "[::1]:2055"},
		{arg: "bad..name:2055", wantErr: "Error in collector #1 parameters"},
		{arg: "127.0.0.1:99999", wantErr: "Error in collector #1 parameters"},
		{arg: "127.0.0.1:0", wantErr: "Error in collector #1 parameters"},
		{arg: "127.0.0.1:no-such-service", wantErr: "Error in collector #1 parameters"},
		{arg: "127.0.0.1:2055/bad..name", wantErr: "Illegal source address"},
		// 192.0.2.1 (TEST-NET-1) is not an address of this machine.
		{arg: "127.0.0.1:2055/192.0.2.1", wantErr: "bind(): Cannot assign requested address"},
		// A local address of the other family: the remote does not
		// resolve in it.
		{arg: "[::1]:2055/127.0.0.1", wantErr: "Error in collector #1 parameters"},
	} {
		c, err := ParseCollector(tc.arg)
		require.NoError(t, err, tc.arg)
		var source netip.Addr
		if tc.source != "" {
			source = netip.MustParseAddr(tc.source)
		}
		conn, bound, err := dial(1, c, source)
		if tc.wantErr != "" {
			assert.EqualError(t, err, tc.wantErr, tc.arg)
			var ce *CollectorError
			assert.ErrorAs(t, err, &ce, tc.arg)
			continue
		}
		if !assert.NoError(t, err, tc.arg) {
			continue
		}
		local := inet.LocalAddr(conn)
		assert.Equal(t, tc.wantLocal, local.Addr().String(), tc.arg)
		assert.Equal(t, tc.wantBound, bound.String(), tc.arg)
		assert.Equal(t, tc.wantRemote, inet.RemoteAddr(conn).String(), tc.arg)
		conn.Close()
	}
}

func TestResolveSource(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1": "127.0.0.1", "localhost": "127.0.0.1", "::1": "::1", "[::1]": "::1", "::ffff:127.0.0.1": "127.0.0.1",
	} {
		a, err := ResolveSource(in)
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, a.String(), in)
		}
	}
	_, err := ResolveSource("bad..name")
	assert.Error(t, err)
}
