package aggregate

import (
	"encoding/binary"
	"unsafe"

	"github.com/nfgo/nftools/flow"
)

// Batch is one block's flows made ready for a table in a reader's worker
// (it is a flowfile.BlockVisitor): each flow's key words and their hash,
// for -b the opposite direction's too, its counters as an entry and the
// meta its first flow would leave. Table.AddBatch then only looks the
// keys up and merges, on the goroutine that owns the table, in the
// order the batches come (file order), so the table, and with it every
// listing, is what Add of the same flows builds. Making the key, hashing
// it and decoding the flow was about a third of the main goroutine's
// time on the -A srcip,dstport jobs of scripts/bench/godump.sh, while
// the reader's workers sat mostly idle.
//
// Only a table that keeps no first flows whole (Table.Batches) takes
// batches.
type Batch struct {
	spec  *Spec
	kw    int
	items []batchItem
	// words are the items' key words, kw each; rwords the opposite
	// direction's (-b, -B), kw each, set for the items with rev.
	words  []uint64
	rwords []uint64
	// labels are the flow labels the block's flows carry, each once:
	// labels[0] is "", and an item's meta.label is an index here.
	labels []string
	key    [320 + 8]byte
}

type batchItem struct {
	e   entry // the flow's counters; ref is unused
	h   uint64
	rh  uint64 // the hash of rwords (rev)
	m   meta
	rev bool // a TCP or UDP flow of a -b table: rwords and rh are set
}

// Batches reports whether the table takes flows in batches (NewBatch,
// AddBatch): it keeps of each key's first flow only what the key and the
// meta hold.
func (t *Table) Batches() bool { return !t.full }

// NewBatch returns an empty batch for the table. Batches may be filled
// on other goroutines than the table's, each by one at a time.
func (t *Table) NewBatch() *Batch {
	if t.full {
		panic("aggregate: NewBatch of a table that keeps whole flows")
	}
	return &Batch{spec: t.spec, kw: t.kw, labels: []string{""}}
}

// Len returns the number of flows in the batch.
func (b *Batch) Len() int { return len(b.items) }

// Reset empties the batch.
func (b *Batch) Reset() {
	b.items = b.items[:0]
	b.words = b.words[:0]
	b.rwords = b.rwords[:0]
	clear(b.labels[1:])
	b.labels = b.labels[:1]
}

// Flow adds r to the batch; it copies what it keeps.
func (b *Batch) Flow(r *flow.Record) {
	s := b.spec
	k := b.key[:s.keyLen]
	if s.custom {
		s.customKey(k, r)
	} else {
		fiveTuple(k, r, false)
	}
	n := len(b.words)
	b.words = grow(b.words, b.kw)
	w := b.words[n : n+b.kw]
	b.loadWords(w)
	b.items = append(b.items, batchItem{
		e: entry{
			inPk: r.InPackets, inBy: r.InBytes, outPk: r.OutPackets, outBy: r.OutBytes,
			flows: r.AggrFlows(), first: r.First, last: r.Last, inFlags: r.TCPFlags,
		},
		h: hashWords(w),
		m: s.meta(r),
	})
	it := &b.items[len(b.items)-1]
	if r.Label != "" {
		it.m.label = b.labelIndex(r.Label)
	}
	if s.bidir && (r.Proto == flow.ProtoTCP || r.Proto == flow.ProtoUDP) {
		fiveTuple(k, r, true)
		n := len(b.rwords)
		b.rwords = grow(b.rwords, b.kw)
		rw := b.rwords[n : n+b.kw]
		b.loadWords(rw)
		it.rh, it.rev = hashWords(rw), true
	}
}

// grow extends s by n zero words, reusing its room.
func grow(s []uint64, n int) []uint64 {
	for range n {
		s = append(s, 0)
	}
	return s
}

// loadWords is Table.words of the batch's key bytes.
func (b *Batch) loadWords(w []uint64) {
	for i := range w {
		w[i] = binary.LittleEndian.Uint64(b.key[i*8:])
	}
}

// labelIndex returns the number of label l in the batch, adding it when
// new.
func (b *Batch) labelIndex(l string) uint32 {
	if n := len(b.labels); n > 1 && b.labels[n-1] == l {
		return uint32(n - 1)
	}
	for i, x := range b.labels {
		if x == l {
			return uint32(i)
		}
	}
	b.labels = append(b.labels, l)
	return uint32(len(b.labels) - 1)
}

// batchAhead is how many flows ahead of the one it merges AddBatch
// prefetches the index slot of.
const batchAhead = 8

// AddBatch merges the batch's flows into the table, in their order, as
// Add of each would. The batch is left as it is.
func (t *Table) AddBatch(b *Batch) {
	if t.full || b.spec != t.spec {
		panic("aggregate: AddBatch of a batch made for another table")
	}
	t.flush()
	items := b.items
	for i := range min(batchAhead, len(items)) {
		pos, _ := t.idx.Home(items[i].h)
		prefetch(uintptr(unsafe.Pointer(t.idx.SlotAddr(pos))))
	}
	kw := t.kw
	ri := 0
	for i := range items {
		if j := i + batchAhead; j < len(items) {
			pos, _ := t.idx.Home(items[j].h)
			prefetch(uintptr(unsafe.Pointer(t.idx.SlotAddr(pos))))
		}
		it := &items[i]
		var rw []uint64
		if it.rev {
			rw = b.rwords[ri*kw : ri*kw+kw]
			ri++
		}
		t.addItem(it, b.words[i*kw:i*kw+kw], rw, b.labels)
	}
}

// addItem is add of a batch's flow: w its key words, rw the opposite
// direction's (nil when it has none).
func (t *Table) addItem(it *batchItem, w, rw []uint64, labels []string) {
	if t.idx.Full(t.n) {
		t.idx.GrowMapped(&t.mem.Index[0])
	}
	i, pos, tag := t.findHash(w, it.h)
	if i >= 0 {
		t.at(i).mergeEntry(&it.e, false)
		return
	}
	if rw != nil {
		if i, _, _ := t.findHash(rw, it.rh); i >= 0 {
			t.at(i).mergeEntry(&it.e, true)
			return
		}
	}
	if t.n>>blockBits == len(t.blocks) {
		t.blocks = append(t.blocks, entries(&t.mem.Pool, blockSize))
		t.keys = append(t.keys, words(&t.mem.Pool, blockSize*t.kw))
	}
	n := int32(t.n)
	t.idx.Put(pos, tag, uint32(n))
	copy(t.keyAt(n), w)
	e := t.at(n)
	*e = it.e
	m := it.m
	m.label = t.labelRef(labels[m.label])
	e.ref = t.metaIndex(m)
	t.n++
}

// mergeEntry is merge of a flow whose counters are in f (a batch's).
func (e *entry) mergeEntry(f *entry, reverse bool) {
	if reverse {
		e.outPk += f.inPk
		e.outBy += f.inBy
		e.inPk += f.outPk
		e.inBy += f.outBy
		e.outFlags |= f.inFlags
	} else {
		e.inPk += f.inPk
		e.inBy += f.inBy
		e.outPk += f.outPk
		e.outBy += f.outBy
		e.inFlags |= f.inFlags
	}
	e.first = min(e.first, f.first)
	e.last = max(e.last, f.last)
	e.flows += f.flows
}
