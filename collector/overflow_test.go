package collector

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
)

// TestStalledWorkerOverflowsTheQueueNotTheSocket stalls the worker (as a
// slow disk would) while an exporter keeps sending: the receive loop must
// go on draining the socket and count what the full queue cannot take,
// and once the worker runs again everything queued reaches the file.
func TestStalledWorkerOverflowsTheQueueNotTheSocket(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	require.NoError(t, conn.SetReadBuffer(1<<20))
	release := make(chan struct{})
	var once sync.Once
	c, err := New(Config{
		Sources:  []Source{{Ident: "overflow", Dir: t.TempDir()}},
		Interval: time.Hour,
		// The first flow blocks the worker until the sender is done.
		OnFlow: func(*flow.Record) { once.Do(func() { <-release }) },
	}, conn)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()

	tmpl, data := benchDatagrams(9, 4000, 24)
	out, err := net.DialUDP("udp4", nil, conn.LocalAddr().(*net.UDPAddr))
	require.NoError(t, err)
	defer out.Close()
	_, err = out.Write(tmpl)
	require.NoError(t, err)
	// Far more than the queue's 16 MiB: some 19,000 of these datagrams
	// fit. Paced by the receive loop's count, so that the socket buffer
	// never holds more than 256 of them however busy the machine is.
	sent := 0
	deadline := time.Now().Add(60 * time.Second)
	for round := 0; round < 8; round++ {
		for _, d := range data {
			for sent-int(c.datagrams.Load()) > 256 && time.Now().Before(deadline) {
				time.Sleep(100 * time.Microsecond)
			}
			_, err := out.Write(d)
			require.NoError(t, err)
			sent++
		}
	}
	deadline = time.Now().Add(10 * time.Second)
	// The receive loop's own counters are atomic; the decoder's are the
	// worker's until Run returns.
	for c.datagrams.Load() < uint64(sent+1) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.Equal(t, uint64(sent+1), c.datagrams.Load(), "the receive loop read every datagram while the worker stalled")
	assert.Greater(t, c.overflow.Load(), uint64(0), "a full queue is counted")
	assert.Zero(t, c.kdrops.Load())

	close(release)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("the collector did not stop")
	}
	cn := c.counters()
	assert.Equal(t, (cn.Datagrams-cn.QueueOverflow-1)*24, cn.Flows, "every queued datagram was decoded")
}
