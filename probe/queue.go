package probe

import (
	"sync"
)

// queue carries expired flows from the capture loop to the exporter. The
// capture loop hands over whole batches (the flows one scan expired, or a
// few dozen ended by the packets themselves); the exporter takes
// everything waiting at once, swapping buffers, so neither side copies a
// flow twice or allocates once the buffers have grown.
//
// The queue is bounded in a way that never loses a scan's flows to a
// moment's backlog: a batch is accepted whole while fewer than limit flows
// wait. Once limit or more wait, the exporter is behind (a collector that
// is paced or stuck): a live capture then drops the batch and counts it,
// because the capture must never wait for the network, while a file read
// waits for room. What the queue holds stays below limit plus one batch,
// and a batch is never larger than the flow cache.
type queue struct {
	mu     sync.Mutex
	room   *sync.Cond // signalled when the exporter takes flows or closes
	recs   []queued
	now    int64 // the latest time of the flows waiting (ns)
	limit  int
	size   int // the capacity the buffers start with
	closed bool
	wake   chan struct{} // capacity 1: there is something to take
	lost   uint64        // flows dropped because the queue was full
}

// newQueue returns a queue of limit flows whose batches are usually no
// larger than batch: its buffer holds both at once (a batch pushed while
// fewer than limit wait) from the start, so that it never grows by
// copying through the sizes before (a growing buffer of 352-byte records,
// which the queue carried then, left a megabyte behind it at the end of
// a capture read).
func newQueue(limit, batch int) *queue {
	limit = max(limit, 1)
	q := &queue{limit: limit, size: limit - 1 + max(batch, 1), wake: make(chan struct{}, 1)}
	q.recs = make([]queued, 0, q.size)
	q.room = sync.NewCond(&q.mu)
	return q
}

// push hands batch over, stamped with the time it was expired at. With wait
// it waits for room instead of dropping. It reports how many flows it
// dropped, and returns the empty buffer the caller gathers the next batch
// in: batch's own, or, when the queue was empty and its buffer no larger,
// the queue's, batch taking its place without a copy (a capture read's
// queue holds two batches, and the exporter takes all it holds: each
// batch then passes without being copied).
func (q *queue) push(batch []queued, now int64, wait bool) (lost int, next []queued) {
	if len(batch) == 0 {
		return 0, batch
	}
	q.mu.Lock()
	for wait && !q.closed && len(q.recs) >= q.limit {
		q.room.Wait()
	}
	if q.closed || len(q.recs) >= q.limit {
		q.lost += uint64(len(batch))
		q.mu.Unlock()
		clear(batch)
		return len(batch), batch[:0]
	}
	if len(q.recs) == 0 && cap(q.recs) <= cap(batch) {
		q.recs, next = batch, q.recs
	} else {
		q.recs = append(q.recs, batch...)
		clear(batch)
		next = batch[:0]
	}
	q.now = max(q.now, now)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return 0, next
}

// take waits until flows wait or the queue is closed, and returns the
// waiting flows in buf's place (buf's storage becomes the queue's) with
// their time. It returns ok false once the queue is closed and empty.
func (q *queue) take(buf []queued) (recs []queued, now int64, ok bool) {
	for {
		q.mu.Lock()
		if len(q.recs) > 0 {
			recs, now = q.recs, q.now
			q.recs = buf[:0]
			q.room.Broadcast()
			q.mu.Unlock()
			return recs, now, true
		}
		if q.closed {
			q.mu.Unlock()
			return buf[:0], 0, false
		}
		q.mu.Unlock()
		<-q.wake
	}
}

// close lets take drain what waits and then report the end; a push after
// close drops its batch.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.room.Broadcast()
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// stats returns the flows waiting and the flows dropped so far.
func (q *queue) stats() (waiting int, lost uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.recs), q.lost
}
