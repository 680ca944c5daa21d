package testutil

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestUDPQueued: a datagram nobody read is counted on its port's queue,
// and reading it empties the queue.
func TestUDPQueued(t *testing.T) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer c.Close()
	port := c.LocalAddr().(*net.UDPAddr).Port
	n, err := udpQueued(port)
	require.NoError(t, err)
	require.Zero(t, n)

	out, err := net.DialUDP("udp4", nil, c.LocalAddr().(*net.UDPAddr))
	require.NoError(t, err)
	defer out.Close()
	_, err = out.Write(make([]byte, 100))
	require.NoError(t, err)
	require.Eventually(t, func() bool { n, _ := udpQueued(port); return n > 0 }, time.Second, time.Millisecond)

	buf := make([]byte, 200)
	_, err = c.Read(buf)
	require.NoError(t, err)
	WaitUDPRead(t, port)
	n, err = udpQueued(port)
	require.NoError(t, err)
	require.Zero(t, n)
}
