//go:build linux

package probe

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/nfgo/nftools/internal/testutil"
)

// TestRealtime: -r puts the capture loop's thread under SCHED_FIFO at the
// priority given while it reads, and Started is called once it is.
func TestRealtime(t *testing.T) {
	if os.Geteuid() != 0 {
		testutil.Missing(t, "root (real-time scheduling)")
	}
	s := newSink(t, "udp4", "127.0.0.1:0")
	started := false
	p, _ := newProbe(t, Config{Collectors: []Collector{s.collector("")}, RealtimePriority: 3, Started: func() { started = true }})
	m := newFakeMeter(p, t0, time.Hour, packets(3, 0, 0.1, 1)...)
	var policies []uint32
	var prios []uint32
	m.onRead = func(*fakeMeter) {
		attr, err := unix.SchedGetAttr(0, 0)
		require.NoError(t, err)
		policies = append(policies, attr.Policy)
		prios = append(prios, attr.Priority)
	}
	require.NoError(t, p.Run(context.Background(), m))
	assert.True(t, started)
	assert.Equal(t, []uint32{unix.SCHED_FIFO, unix.SCHED_FIFO, unix.SCHED_FIFO, unix.SCHED_FIFO}, policies)
	assert.Equal(t, []uint32{3, 3, 3, 3}, prios)
	s.wait(3)
}

// TestRealtimeRefused: a priority the system refuses stops Run before it
// reads, with a SetupError, and Started is not called.
func TestRealtimeRefused(t *testing.T) {
	s := newSink(t, "udp4", "127.0.0.1:0")
	started := false
	p, _ := newProbe(t, Config{Collectors: []Collector{s.collector("")}, RealtimePriority: 100, Started: func() { started = true }})
	m := newFakeMeter(p, t0, time.Hour, packets(3, 0, 0.1, 1)...)
	err := p.Run(context.Background(), m)
	var se *SetupError
	require.ErrorAs(t, err, &se)
	assert.Contains(t, err.Error(), "realtime priority 100: ")
	assert.False(t, started)
	assert.Zero(t, m.reads)
}
