package probe

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQueuePushSwaps: a batch pushed into an empty queue takes the queue's
// place without a copy, the caller going on with the queue's empty
// buffer; pushed into a queue that holds flows, it is copied and its
// buffer comes back empty. Either way the exporter takes every flow, in
// order.
func TestQueuePushSwaps(t *testing.T) {
	q := newQueue(4, 2)
	batch := make([]queued, 0, q.size)
	batch = append(batch, queued{sport: 1}, queued{sport: 2})
	lost, next := q.push(batch, 10, false)
	require.Zero(t, lost)
	assert.Empty(t, next)
	assert.NotSame(t, &batch[:1][0], &next[:1][0], "the caller gets another buffer")

	next = append(next, queued{sport: 3})
	lost, again := q.push(next, 20, false)
	require.Zero(t, lost)
	assert.Same(t, &next[:1][0], &again[:1][0], "copied: the caller keeps its buffer")
	assert.Zero(t, again[:1][0].sport, "cleared")

	recs, now, ok := q.take(make([]queued, 0, q.size))
	require.True(t, ok)
	assert.Same(t, &batch[0], &recs[0], "the first batch was never copied")
	var ports []uint16
	for _, r := range recs {
		ports = append(ports, r.sport)
	}
	assert.Equal(t, []uint16{1, 2, 3}, ports)
	assert.Equal(t, int64(20), now)
}

// TestFileQueueHoldsOneBatch: reading a capture, the queue takes a batch
// only once the one before has gone to the exporter, so that the
// capture's, the queue's and the exporter's buffers are one batch long
// each and never grow.
func TestFileQueueHoldsOneBatch(t *testing.T) {
	s := newSink(t, "udp4", "127.0.0.1:0")
	p, _ := newProbe(t, Config{Collectors: []Collector{s.collector("")}, QueueLen: 100})
	require.Equal(t, 50, p.batch)
	assert.Equal(t, p.batch, p.q.size, "the buffers' length")
	assert.Equal(t, p.batch, cap(p.pending))

	batch := func(port uint16) []queued {
		b := make([]queued, p.batch, p.q.size)
		for i := range b {
			b[i].sport = port
		}
		return b
	}
	_, next := p.q.push(batch(1), 1, true)
	// Not even one flow more fits beside a batch: a push would wait (a
	// live capture's drops it, counted).
	lost, one := p.q.push(batch(2)[:1], 2, false)
	assert.Equal(t, 1, lost)
	recs, _, ok := p.q.take(make([]queued, 0, p.q.size))
	require.True(t, ok)
	assert.Len(t, recs, p.batch)
	assert.Equal(t, uint16(1), recs[0].sport)
	// Once the exporter has taken it, the next batch is queued as it is.
	lost, next = p.q.push(append(one, queued{sport: 2}), 2, true)
	assert.Zero(t, lost)
	recs, _, ok = p.q.take(recs)
	require.True(t, ok)
	require.Len(t, recs, 1)
	assert.Equal(t, uint16(2), recs[0].sport)
	for _, b := range [][]queued{recs, next, p.pending} {
		assert.LessOrEqual(t, cap(b), p.q.size, "no buffer grew")
	}
}

// TestLiveBuffersShrink: a live scan that expires many flows makes the
// buffers the flows go round in room for them all, and each lets go of
// that room once its flows have gone, so that the probe does not keep
// the largest scan's size for good.
func TestLiveBuffersShrink(t *testing.T) {
	s := newSink(t, "udp4", "127.0.0.1:0")
	p, _ := newProbe(t, Config{Collectors: []Collector{s.collector("")}, QueueLen: 100, Live: true})
	const flows = 2000
	ps := make([]fakePacket, 0, flows+2)
	for i := range flows {
		ps = append(ps, fakePacket{at: float64(i) * 1e-4, src: uint16(i), dst: 1})
	}
	// Past the scan at 5 s, which expires the others with it; then one
	// more, once the exporter has taken the scan's flows, which it takes
	// in its turn in place of its buffer (the queue's afterwards).
	ps = append(ps, fakePacket{at: 6, src: 1, dst: 2, fin: true}, fakePacket{at: 7, src: 1, dst: 3, fin: true})
	m := newFakeMeter(p, t0, time.Second, ps...)
	m.live = true
	m.onRead = func(m *fakeMeter) {
		if m.next == flows+1 {
			waitQueueEmpty(t, p)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx, m) }()
	s.wait(flows + 2)
	cancel()
	require.NoError(t, <-done)
	require.Greater(t, flows, p.exp.keep, "the scan is larger than the buffers keep")
	assert.Zero(t, p.Stats().FlowsLost)
	assert.LessOrEqual(t, cap(p.pending), p.exp.keep, "the capture's")
	assert.LessOrEqual(t, cap(p.q.recs), p.exp.keep, "the queue's, the exporter's before")
	assert.LessOrEqual(t, cap(p.exp.full), p.exp.keep, "the exporter's records")
}
