package probe

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
)

// TestQueuePushSwaps: a batch pushed into an empty queue takes the queue's
// place without a copy, the caller going on with the queue's empty
// buffer; pushed into a queue that holds flows, it is copied and its
// buffer comes back empty. Either way the exporter takes every flow, in
// order.
func TestQueuePushSwaps(t *testing.T) {
	q := newQueue(4, 2)
	batch := make([]flow.Record, 0, q.size)
	batch = append(batch, flow.Record{SrcPort: 1}, flow.Record{SrcPort: 2})
	lost, next := q.push(batch, 10, false)
	require.Zero(t, lost)
	assert.Empty(t, next)
	assert.NotSame(t, &batch[:1][0], &next[:1][0], "the caller gets another buffer")

	next = append(next, flow.Record{SrcPort: 3})
	lost, again := q.push(next, 20, false)
	require.Zero(t, lost)
	assert.Same(t, &next[:1][0], &again[:1][0], "copied: the caller keeps its buffer")
	assert.Zero(t, again[:1][0].SrcPort, "cleared")

	recs, now, ok := q.take(make([]flow.Record, 0, q.size))
	require.True(t, ok)
	assert.Same(t, &batch[0], &recs[0], "the first batch was never copied")
	var ports []uint16
	for _, r := range recs {
		ports = append(ports, r.SrcPort)
	}
	assert.Equal(t, []uint16{1, 2, 3}, ports)
	assert.Equal(t, int64(20), now)
}
