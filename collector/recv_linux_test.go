//go:build linux

package collector

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadDrainsAfterClose: what the socket holds when the collector is
// told to stop (the last datagrams of an exporter that stopped just
// before, which may have come while the receive loop slept) is still
// read, without waiting for more; then read says the reader is closed.
func TestReadDrainsAfterClose(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	require.NoError(t, conn.SetReadBuffer(1<<20))
	addr := conn.LocalAddr().(*net.UDPAddr)
	r, err := newBatchReader(conn)
	require.NoError(t, err)
	defer r.release()
	out, err := net.DialUDP("udp4", nil, addr)
	require.NoError(t, err)
	defer out.Close()

	const sent = recvBatch + 8
	for i := 0; i < sent; i++ {
		_, err := out.Write([]byte{byte(i), 1, 2, 3})
		require.NoError(t, err)
	}
	r.close()
	got := 0
	for range 3 {
		n, err := r.read(time.Second)
		if err != nil {
			assert.ErrorIs(t, err, net.ErrClosed)
			break
		}
		for i := 0; i < n; i++ {
			b, _ := r.datagram(i)
			assert.Equal(t, []byte{byte(got), 1, 2, 3}, b, "datagram %d", got)
			got++
		}
	}
	assert.Equal(t, sent, got, "every datagram queued before close was read")
	_, err = r.read(-1)
	assert.ErrorIs(t, err, net.ErrClosed, "and then the reader is closed, without waiting")
}

// smallSocket returns a loopback socket with a receive buffer of a few
// datagrams of 1.2 KB, and a socket that sends to it, closed with t.
func smallSocket(t *testing.T) (conn, out *net.UDPConn) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	require.NoError(t, conn.SetReadBuffer(8192))
	out, err = net.DialUDP("udp4", nil, conn.LocalAddr().(*net.UDPAddr))
	require.NoError(t, err)
	t.Cleanup(func() { out.Close() })
	return conn, out
}

// sendAll sends each of data through out.
func sendAll(t *testing.T, out *net.UDPConn, data [][]byte) {
	for _, d := range data {
		_, err := out.Write(d)
		require.NoError(t, err)
	}
}

// TestKernelDropsCounted: datagrams the kernel drops at a full socket
// buffer (sent before the collector reads) are counted as Socket Drops:
// with those read, every datagram sent.
func TestKernelDropsCounted(t *testing.T) {
	conn, out := smallSocket(t)
	_, data := benchDatagrams(5, 200, 24)
	sendAll(t, out, data)
	c, err := New(Config{Sources: []Source{{Ident: "drops", Dir: t.TempDir()}}, Interval: time.Hour}, conn)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for c.datagrams.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	require.NoError(t, <-done)
	cn := c.counters()
	assert.Greater(t, cn.KernelDrops, uint64(0), "the full socket dropped some")
	assert.Greater(t, cn.Datagrams, uint64(0), "and held some")
	assert.Equal(t, uint64(len(data)), cn.Datagrams+cn.KernelDrops, "read or dropped: every datagram sent")
}

// TestKernelDropsCountedWhenQuiet sends a burst into a small socket
// while the collector reads it: the drops of the burst's end are
// counted once the socket goes quiet, while gocapd runs (SIGUSR1 and
// --metrics show them), not only when the next datagram comes or at the
// exit.
func TestKernelDropsCountedWhenQuiet(t *testing.T) {
	conn, out := smallSocket(t)
	c, err := New(Config{Sources: []Source{{Ident: "drops", Dir: t.TempDir()}}, Interval: time.Hour}, conn)
	require.NoError(t, err)
	runWhileTest(t, c)
	_, data := benchDatagrams(5, 2000, 24)
	sendAll(t, out, data)
	var cn Counters
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cn = c.counters(); cn.Datagrams+cn.KernelDrops == uint64(len(data)) {
			break
		}
	}
	assert.Equal(t, uint64(len(data)), cn.Datagrams+cn.KernelDrops, "read or dropped, counted while running: every datagram sent")
	assert.Greater(t, cn.KernelDrops, uint64(0), "the small socket dropped some of the burst")
}
