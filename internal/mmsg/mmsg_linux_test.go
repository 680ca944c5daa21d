package mmsg

import (
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSendOnLoopback: a batch sent on a connected UDP socket arrives as
// its datagrams, in order and whole, and the Batch is reused for a larger
// batch and then a smaller one.
func TestSendOnLoopback(t *testing.T) {
	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer rx.Close()
	tx, err := net.DialUDP("udp4", nil, rx.LocalAddr().(*net.UDPAddr))
	require.NoError(t, err)
	defer tx.Close()
	rc, err := tx.SyscallConn()
	require.NoError(t, err)

	var b Batch
	for _, sizes := range [][]int{{1, 2, 3}, {100, 1, 1400, 7, 9}, {42}} {
		var bufs [][]byte
		for i, n := range sizes {
			p := make([]byte, n)
			for j := range p {
				p[j] = byte(i + j)
			}
			bufs = append(bufs, p)
		}
		var sent int
		var errno syscall.Errno
		require.NoError(t, rc.Write(func(fd uintptr) bool {
			sent, errno = b.Send(fd, bufs)
			return true
		}))
		require.Zero(t, errno)
		require.Equal(t, len(bufs), sent)
		require.NoError(t, rx.SetReadDeadline(time.Now().Add(5*time.Second)))
		buf := make([]byte, 2048)
		for _, want := range bufs {
			n, err := rx.Read(buf)
			require.NoError(t, err)
			assert.Equal(t, want, buf[:n])
		}
	}
	n, errno := b.Send(0, nil)
	assert.Zero(t, n)
	assert.Zero(t, errno)
}
