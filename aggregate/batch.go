package aggregate

import (
	"encoding/binary"
	"runtime"
	"unsafe"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/region"
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
	// direction's (-b, -B), kw each, for the items marked revItem, and
	// rhashes their hashes.
	words   []uint64
	rwords  []uint64
	rhashes []uint64
	// metas are the metas of the flows of the batch's blocks, each once
	// (an item's entry.ref is an index here), found by metaOf and the
	// caches before it as a table finds its own; they stay from block to
	// block (Reset). Their label is an index in labels: the flow labels
	// met, each once, labels[0] being "".
	metaSet
	packed [1 << packedCacheBits]packedCached
	labels []string
	key    [320 + 8]byte
	// mem holds items, words, rwords and rhashes, outside Go's heap.
	mem *batchMem
}

// batchMem is the memory of a batch's arrays: the regions they are in
// (nil for one on Go's heap or none yet). On Go's heap, the two batches
// of the home-shaped archive's -A srcip,dstport list, a megabyte each,
// and the arrays they grew out of made the heap 7 MB at the peak of
// resident memory instead of 0.9 MB.
type batchMem struct {
	items, words, rwords, rhashes []byte
}

// free gives back the regions.
func (m *batchMem) free() {
	for _, b := range []*[]byte{&m.items, &m.words, &m.rwords, &m.rhashes} {
		region.Free(*b)
		*b = nil
	}
}

// extend returns s grown by n elements (which hold anything), moving it
// to a region twice as large when it is full; *mem is the region s is
// in, which it then frees. T must hold no pointers.
func extend[T any](s []T, mem *[]byte, n int) []T {
	if len(s)+n <= cap(s) {
		return s[:len(s)+n]
	}
	size := int(unsafe.Sizeof(*new(T)))
	c := max(2*cap(s), len(s)+n, 1024)
	b, mapped := region.MapSmall(c * size)
	ns := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), c)[:len(s)+n]
	copy(ns, s)
	region.Free(*mem)
	*mem = nil
	if mapped {
		*mem = b
	}
	return ns
}

// batchItem is a flow of a batch: e its counters, with in e.ref the index
// of its meta in the batch (and revItem for a flow with opposite key
// words), and h the hash of its key words.
type batchItem struct {
	e entry
	h uint64
}

// revItem marks, in a batch item's e.ref, a TCP or UDP flow of a -b
// table: it has the next key words in Batch.rwords.
const revItem = 1 << 31

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
	b := &Batch{spec: t.spec, kw: t.kw, labels: []string{""}, metaSet: newMetaSet(), mem: new(batchMem)}
	runtime.AddCleanup(b, (*batchMem).free, b.mem)
	return b
}

// Free gives back the batch's memory outside Go's heap; the batch is
// unusable afterwards. A batch never freed gives it back when the garbage
// collector finds it unreachable.
func (b *Batch) Free() {
	b.mem.free()
	*b = Batch{mem: b.mem}
}

// Len returns the number of flows in the batch.
func (b *Batch) Len() int { return len(b.items) }

// Reset empties the batch.
func (b *Batch) Reset() {
	b.items = b.items[:0]
	b.words = b.words[:0]
	b.rwords = b.rwords[:0]
	b.rhashes = b.rhashes[:0]
	// The metas and labels stay from block to block, and with them the
	// caches that find them, unless there are many.
	if len(b.metas) > maxBatchMetas || len(b.labels) > maxBatchMetas {
		b.metaSet.reset()
		b.packed = [1 << packedCacheBits]packedCached{}
		clear(b.labels[1:])
		b.labels = b.labels[:1]
	}
}

// maxBatchMetas is the most metas or labels a batch keeps for its next
// block: AddBatch looks at each of a batch's metas.
const maxBatchMetas = 256

// Flow adds r to the batch; it copies what it keeps.
func (b *Batch) Flow(r *flow.Record) {
	s := b.spec
	k := b.key[:s.keyLen]
	if s.custom {
		s.customKey(k, r)
	} else {
		fiveTuple(k, r, false)
	}
	w := b.loadWords(&b.words, &b.mem.words)
	ref := b.flowMeta(r)
	if s.bidir && (r.Proto == flow.ProtoTCP || r.Proto == flow.ProtoUDP) {
		fiveTuple(k, r, true)
		h := hashWords(b.loadWords(&b.rwords, &b.mem.rwords))
		b.rhashes = extend(b.rhashes, &b.mem.rhashes, 1)
		b.rhashes[len(b.rhashes)-1] = h
		ref |= revItem
	}
	n := len(b.items)
	b.items = extend(b.items, &b.mem.items, 1)
	// Set field by field: a composite literal was built on the stack and
	// copied, the most of this function's time.
	it := &b.items[n]
	it.h = hashWords(w)
	e := &it.e
	e.inPk, e.inBy, e.outPk, e.outBy = r.InPackets, r.InBytes, r.OutPackets, r.OutBytes
	e.flows, e.first, e.last = r.AggrFlows(), r.First, r.Last
	e.ref, e.inFlags, e.outFlags = ref, r.TCPFlags, 0
}

// loadWords appends the key bytes to *ws as words (Table.words) and
// returns them; *mem is the region *ws is in.
func (b *Batch) loadWords(ws *[]uint64, mem *[]byte) []uint64 {
	n := len(*ws)
	*ws = extend(*ws, mem, b.kw)
	w := (*ws)[n:]
	for i := range w {
		w[i] = binary.LittleEndian.Uint64(b.key[i*8:])
	}
	return w
}

// flowMeta returns the number of r's meta in the batch, adding it when
// new. A flow without a label looks its meta up by the meta packed in two
// words (packedMeta) in a cache of its own first: building the meta and
// finding it in the cache a table keeps was 8.5% of the processor time of
// -A srcip,dstport -O bytes -n 20 on the home-shaped archive.
func (b *Batch) flowMeta(r *flow.Record) uint32 {
	if r.Label != "" {
		m := b.spec.meta(r)
		m.label = b.labelIndex(r.Label)
		return b.metaIndex(m)
	}
	e, f := packedMeta(r)
	c := &b.packed[(e^f)*0x9e3779b97f4a7c15>>(64-packedCacheBits)]
	if c.set && c.e == e && c.f == f {
		return c.i
	}
	i := b.metaIndex(b.spec.meta(r))
	*c = packedCached{e: e, f: f, i: i, set: true}
	return i
}

// packedMeta returns what tells r's meta from others but its label, in
// two words: the elements, and the header bytes and address families.
// Spec.meta's fields come from these alone, so two flows with the same
// words and no label have the same meta.
func packedMeta(r *flow.Record) (e, f uint64) {
	f = uint64(r.NFVersion) | uint64(r.Flags)<<8 |
		addrFam(r.IPNextHop)<<16 | addrFam(r.BGPNextHop)<<24 | addrFam(r.Exporter)<<32 |
		addrFam(r.SrcAddr)<<40 | addrFam(r.DstAddr)<<48
	return uint64(r.Elements), f
}

// packedCacheBits is the log2 of the slots of a batch's cache of packed
// metas. The cache is direct-mapped: with 32 slots, the dozen metas of
// the bench archives' flows, interleaved, missed a quarter of the time,
// as two of them often share a slot.
const packedCacheBits = 8

type packedCached struct {
	e, f uint64
	i    uint32
	set  bool
}

// labelIndex returns the number of label l in the batch, adding it when
// new.
func (b *Batch) labelIndex(l string) uint32 {
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
	// The table's number of each batch meta, found when a new key needs
	// it.
	refs := t.batchRefs[:0]
	for range b.metas {
		refs = append(refs, noRef)
	}
	t.batchRefs = refs
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
		if t.idx.Full(t.n) {
			t.grow()
		}
		w := b.words[i*kw : i*kw+kw]
		rev := it.e.ref&revItem != 0
		if rev {
			ri++ // every flow with opposite words has its own
		}
		j, pos, tag := t.findHash(w, it.h)
		if j >= 0 {
			t.at(j).mergeEntry(&it.e, false)
			continue
		}
		if rev {
			r := ri - 1
			if j, _, _ := t.findHash(b.rwords[r*kw:r*kw+kw], b.rhashes[r]); j >= 0 {
				t.at(j).mergeEntry(&it.e, true)
				continue
			}
		}
		m := it.e.ref &^ revItem
		if refs[m] == noRef {
			bm := b.metas[m]
			bm.label = t.labelRef(b.labels[bm.label])
			refs[m] = t.metaIndex(bm)
		}
		t.newEntry(pos, tag, w, &it.e, refs[m])
	}
}

// noRef marks a batch meta whose number in the table is not known yet.
const noRef = ^uint32(0)

// mergeEntry adds the counters of f (a batch's flow, or a record's
// through merge) to the entry; reverse puts them on the other direction,
// for the opposite flow of a -b pair.
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
