package collector

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQueueLen(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rcvbuf int // as the kernel reports it
		want   int
	}{
		{"unknown", -1, queueChunks},
		{"kernel default", 212992, queueChunks},
		{"gocapd's default 16 MiB", 2 * DefaultBuffer, queueChunks},
		{"-B 32 MiB", 2 * 32 << 20, 128},
		{"-B 40 MiB", 2 * 40 << 20, 160},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, queueLen(tc.rcvbuf))
		})
	}
}

// TestQueueHoldsWhatTheSocketIsAskedFor: with a socket buffer of 40 MiB
// (-B 41943040), the queue may hold 40 MiB of datagrams, not 16.
func TestQueueHoldsWhatTheSocketIsAskedFor(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer conn.Close()
	rc, err := conn.SyscallConn()
	require.NoError(t, err)
	var ferr error
	require.NoError(t, rc.Control(func(fd uintptr) { ferr = forceReadBuffer(fd, 40<<20) }))
	if ferr != nil {
		t.Skipf("a 40 MiB socket buffer needs root (SO_RCVBUFFORCE): %v", ferr)
	}
	c, err := New(Config{Sources: []Source{{Ident: "q", Dir: t.TempDir()}}, Interval: time.Hour}, conn)
	require.NoError(t, err)
	assert.Equal(t, 160, c.maxChunks)
	assert.Equal(t, 160, cap(c.free))
	for i := 0; i < 160; i++ {
		require.NotNil(t, c.freeChunk(), "chunk %d", i)
	}
	assert.Nil(t, c.freeChunk(), "the 161st chunk")
}
