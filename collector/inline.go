package collector

import "time"

// The receive loop processes a chunk itself, instead of handing it to the
// worker, when nothing it handed over before is still waiting, the worker
// is not busy with a rotation or its tick, and no flow file would make it
// wait for the disk. At a steady load of a few hundred thousand flows a
// second that spares the worker's wake-up for every chunk and the wake-up
// of the thread the runtime sends to look for work when the worker is
// made runnable: two of the three context switches a chunk cost, and on a
// virtual machine a context switch costs some 20 microseconds.
//
// The worker still takes what the receive loop must not do itself, and
// everything while the socket holds a backlog (behindShare):
//   - the rest of a chunk once a flow file has no room for another block
//     in its queue to the disk (a slow or stalled disk): the receive loop
//     checks before each datagram, as a datagram's records fit a block
//     (but for the most contrived templates), goes on draining the socket,
//     and the queue of chunks absorbs the stall as before;
//   - every chunk when a hook (-E's OnFlow and Idle) is set, as a hook may
//     block on its output.

// direct processes the datagrams of the batch r read last, where r
// landed them, when nothing read before waits in a chunk (the caller
// checks) and the receive loop may process them itself (see above): that
// spares copying them into a chunk, and they are decoded while the
// kernel's copy of them is still in the processor's cache. It returns how
// many it processed, from the first on, and their bytes; the rest go into
// a chunk as usual.
func (c *Collector) direct(r *batchReader, n int, at time.Time) (int, int) {
	if !c.tryInline() {
		return 0, 0
	}
	i, size := 0, 0
	for ; i < n && c.writersReady(); i++ {
		b, from := r.datagram(i)
		c.repeat(b)
		c.process(b, from, at)
		size += len(b)
	}
	c.inlined++
	c.work.Unlock()
	return i, size
}

// tryInline takes the worker's lock when the receive loop may process
// datagrams itself (see above): nothing handed over before still waits,
// the worker is not busy and every flow file can take a block. The
// caller then processes datagrams while writersReady holds, counts
// inlined and unlocks c.work; false: hand them to the worker.
func (c *Collector) tryInline() bool {
	if !c.inline || !c.work.TryLock() {
		return false
	}
	if c.handed.Load() != 0 || !c.writersReady() {
		c.work.Unlock()
		return false
	}
	return true
}

// hand passes k to the worker.
func (c *Collector) hand(k *chunk) {
	c.handed.Add(1)
	c.full <- k
}

// deliver processes k in the receive loop when it may (see above), else
// hands it, or what is left of it, to the worker. A chunk processed here
// whole is kept for the next datagrams (freeChunk takes it).
func (c *Collector) deliver(k *chunk) {
	if !c.behind && c.tryInline() {
		for k.next < len(k.ents) && c.writersReady() {
			b, from, at := k.datagram(k.next)
			c.process(b, from, at)
			k.next++
		}
		c.inlined++
		c.work.Unlock()
		if k.next == len(k.ents) {
			k.reset()
			c.spare = k
			return
		}
	}
	c.hand(k)
}

// writersReady reports whether every open flow file can hand its next
// block to the disk without waiting.
func (c *Collector) writersReady() bool {
	for _, k := range c.sinks {
		if k.w != nil && !k.w.Ready() {
			return false
		}
	}
	return true
}
