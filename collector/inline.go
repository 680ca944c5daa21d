package collector

// The receive loop processes a chunk itself, instead of handing it to the
// worker, when nothing it handed over before is still waiting, the worker
// is not busy with a rotation or its tick, and no flow file would make it
// wait for the disk. At a steady load of a few hundred thousand flows a
// second that spares the worker's wake-up for every chunk and the wake-up
// of the thread the runtime sends to look for work when the worker is
// made runnable: two of the three context switches a chunk cost, and on a
// virtual machine a context switch costs some 20 microseconds.
//
// The worker still takes what the receive loop must not do itself:
//   - large chunks (more than inlineMax bytes, a rate at which a chunk's
//     flows could fill more than one block of a file: a second block
//     would wait for the disk to take the first);
//   - any chunk while a flow file has no room for another block in its
//     queue to the disk (a slow or stalled disk): the receive loop goes on
//     draining the socket, and the queue of chunks absorbs the stall as
//     before;
//   - every chunk when a hook (-E's OnFlow and Idle) is set, as a hook may
//     block on its output.

// inlineMax bounds the datagram bytes of a chunk the receive loop
// processes itself. Its records take at most some six times the bytes of
// the datagrams (IPFIX of 20-byte flows, stored as 120-byte V3 records),
// less than one WriteBlockSize block.
const inlineMax = 128 << 10

// hand passes k to the worker.
func (c *Collector) hand(k *chunk) {
	c.handed.Add(1)
	c.full <- k
}

// deliver processes k in the receive loop when it may (see above), else
// hands it to the worker. A chunk processed here is kept for the next
// datagrams (freeChunk takes it).
func (c *Collector) deliver(k *chunk) {
	if c.inline && len(k.buf) <= inlineMax && c.work.TryLock() {
		done := c.handed.Load() == 0 && c.writersReady()
		if done {
			c.processChunk(k)
			c.inlined++
		}
		c.work.Unlock()
		if done {
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
