package collector

// blockStats counts a file's flows block by block, so that a file cut
// short by a full disk gets the stat record of the blocks it holds and the
// flows of the others are counted as lost. The writer numbers the blocks
// it hands to the disk (Queued) and those written (Written); the counts of
// blocks known to be written are merged into one, so only the few blocks
// in flight are kept apart.
type blockStats struct {
	done   statCounter   // blocks 0 .. base-1, all written
	blocks []statCounter // blocks base .. base+len-1, handed to the disk
	base   uint64
	cur    statCounter // the block being filled
}

// maxInFlight is how many counted blocks are kept apart before those
// already written are merged: a few more than the writer has in flight.
const maxInFlight = 8

func (b *blockStats) reset() {
	b.done.reset()
	b.blocks = b.blocks[:0]
	b.base = 0
	b.cur.reset()
}

// behind reports whether the writer has handed more than the blocks
// counted to the disk: the flows counted so far belong to those blocks
// (queued).
func (b *blockStats) behind(q uint64) bool {
	return b.base+uint64(len(b.blocks)) < q
}

// queued follows the writer to q blocks handed to the disk: the flows
// counted so far belong to those blocks. It reports whether a block was
// closed.
func (b *blockStats) queued(q uint64) bool {
	top := b.base + uint64(len(b.blocks))
	if top >= q {
		return false
	}
	for ; top < q; top++ {
		b.blocks = append(b.blocks, b.cur)
		b.cur.reset()
	}
	return true
}

// settle merges the counts of the blocks before written into done.
func (b *blockStats) settle(written uint64) {
	n := int(min(written-min(written, b.base), uint64(len(b.blocks))))
	for i := range b.blocks[:n] {
		b.done.merge(&b.blocks[i])
	}
	b.blocks = b.blocks[:copy(b.blocks, b.blocks[n:])]
	b.base += uint64(n)
}

// all returns the counts of every flow, written or not.
func (b *blockStats) all() statCounter {
	t := b.done
	for i := range b.blocks {
		t.merge(&b.blocks[i])
	}
	t.merge(&b.cur)
	return t
}

// keep settles a file of which only the first written blocks reached the
// disk: it returns their counts and the number of flows in the others.
func (b *blockStats) keep(written uint64) (statCounter, uint64) {
	b.settle(written)
	lost := b.cur.st.Flows
	for i := range b.blocks {
		lost += b.blocks[i].st.Flows
	}
	return b.done, lost
}
