package stats

import (
	"cmp"
	"runtime"
	"slices"
	"sync"
	"unsafe"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/region"
	"github.com/nfgo/nftools/internal/slotindex"
	"github.com/nfgo/nftools/internal/topn"
	"github.com/nfgo/nftools/output"
)

// counter sums the flows that carried one key; the orders rank rows by
// it.
type counter struct {
	flows, inPackets, inBytes, outPackets, outBytes uint64
	first, last                                     uint64 // msec
}

// Table counts one element statistic.
type Table struct {
	spec Spec
	fast fastKind
	idx  slotindex.Index // finds a row by its key
	// rows keep each key beside its counters, so that counting a flow
	// touches one cache line after the index; they come in chunks of
	// rowChunk, so growing never copies them. The out counters, which
	// most flows do not carry, live apart in outs (same chunks), so that
	// a row fits in 64 bytes.
	chunks []*chunk
	n      int
	// next is the first-seen number the table gives its next new key:
	// keys rank by it on ties. Merge numbers the keys of the table it
	// merges on from here.
	next uint64
	// byProto finds the row (plus one) of a protocol in a table of
	// protocols (fastProto), ahead of the index; Add fills it.
	byProto [256]uint32
	// byPart is partition's, kept for the next block.
	byPart [][]hashRow
	// mem, when set, holds the chunks and the index's slots outside Go's
	// heap (see splitMem), the slots in mem.Index[part].
	mem  *splitMem
	part int
	// log makes a block's table give every flow a row of its own, as
	// if its key were new (logRow), without the index: see logFrom.
	// logSized is set once Reset made room in the lists for that.
	log, logSized bool
}

const rowBits = 10
const rowChunk = 1 << rowBits

// row is a key and the counters of the flows that carried it, apart from
// the out counters: 64 bytes.
type row struct {
	// hi and lo hold the value as nfdump's stat key does: an address as
	// its upper and lower 64 bits (IPv4 in the low 32 bits of lo), any
	// other value in lo.
	hi, lo uint64
	// meta holds the rest of the key (keyMask: the protocol of a
	// protocol split, and keyV6 when the value is an IPv6 address),
	// metaOut when the row's out counters are not zero, and the number
	// in which the key was first seen (above seenShift), which breaks
	// ties in Top: in one word, so that the row stays 64 bytes.
	meta                      uint64
	flows, inPackets, inBytes uint64
	first, last               uint64 // msec
}

// The bits of row.meta.
const (
	keyV6     = 1 << 8
	keyMask   = keyV6 | 0xff
	metaOut   = 1 << 9
	seenShift = 24
	// seenMask keeps a first-seen number in its 40 bits: a run would
	// have to count a trillion keys in its blocks to pass it, and then
	// only ties would rank in another order.
	seenMask = 1<<(64-seenShift) - 1
)

// rowKey is the part of the key that meta holds.
func rowKey(proto uint8, v6 bool) uint64 {
	k := uint64(proto)
	if v6 {
		k |= keyV6
	}
	return k
}

// seen is the number in which the row's key was first seen.
func (w *row) seen() uint64 { return w.meta >> seenShift }

// outCounter is a row's out packets and bytes.
type outCounter struct{ packets, bytes uint64 }

// chunk is rowChunk rows and their out counters, in one allocation.
type chunk struct {
	rows [rowChunk]row
	outs [rowChunk]outCounter
}

func (t *Table) row(i uint32) *row { return &t.chunks[i>>rowBits].rows[i&(rowChunk-1)] }

func (t *Table) outOf(i uint32) *outCounter { return &t.chunks[i>>rowBits].outs[i&(rowChunk-1)] }

// counter returns row i's counters.
func (t *Table) counter(i uint32) counter {
	w := t.row(i)
	c := counter{flows: w.flows, inPackets: w.inPackets, inBytes: w.inBytes, first: w.first, last: w.last}
	if w.meta&metaOut != 0 {
		o := t.outOf(i)
		c.outPackets, c.outBytes = o.packets, o.bytes
	}
	return c
}

// NewTable returns an empty table for an element spec (not -s record).
func NewTable(spec Spec) *Table {
	return &Table{spec: spec, idx: slotindex.New(11), fast: spec.Element.fast()}
}

// NewBlockTable is NewTable for a table that counts block after block
// (Reset, MergeBlocks): its rows and index grow outside Go's heap, as a
// Split's do, and Free gives them back. godump's workers keep such a table
// for each statistic; on Go's heap the two workers' tables were half of
// what -s srcip/bytes allocated on the border archive, and the heap
// reached the collector's first goal of 4 MB, a collection with 2 ms of
// the world stopped and 7.6 ms of the processors' time (gctrace).
func NewBlockTable(spec Spec) *Table {
	t := NewTable(spec)
	t.mem = &splitMem{Memory: region.NewMemory(1)}
	// Should a table not be freed, its memory goes back when it is
	// unreachable; freeing it twice frees nothing the second time.
	runtime.AddCleanup(t, (*region.Memory).Free, t.mem.Memory)
	return t
}

// Free gives back the memory of a table NewBlockTable made. The table
// must not be used afterwards.
func (t *Table) Free() {
	if t.mem != nil {
		t.mem.Free()
	}
	*t = Table{}
}

// grow doubles the index. It is rare, so it stays out of line: inlined
// into findHash it would make the common path spill registers.
//
//go:noinline
func (t *Table) grow() {
	if t.mem == nil {
		t.idx.Grow()
		return
	}
	// The new slots take small pages, filled first
	// (slotindex.GrowFilledKeep). Moving the slots probes each new one before it
	// writes it, and on pages the kernel had not filled each first read
	// mapped the zero page and each write then flushed it from every
	// CPU's TLB: 5.5% of the samples of -s srcip/bytes on the border
	// archive. Huge pages, which the index had before, cost no less CPU
	// on the benchmark machine but now and then a slow first touch,
	// the host filling 2 MiB (see region.MapSmall): the lab's triple
	// -s on the border archive took its 4 huge pages in 1-2 ms, but in
	// 10 and 50 ms in 2 of 14 runs under perf (do_huge_pmd_anonymous_page).
	region.Free(t.idx.GrowFilledKeep(&t.mem.Index[t.part]))
}

// addChunk adds a chunk of rows.
func (t *Table) addChunk() {
	if t.mem == nil {
		t.chunks = append(t.chunks, new(chunk))
		return
	}
	t.mem.mu.Lock()
	b := t.mem.Pool.Take(int(unsafe.Sizeof(chunk{})))
	t.mem.mu.Unlock()
	// A merge reads a row's out counters ahead before it adds to them,
	// and finds the row's other counters through slots it read: filled
	// now, the chunk's pages are never the zero page a first read maps,
	// whose replacement on the first write flushes every CPU's TLB (4.2%
	// of the samples of -s srcip/bytes on the border archive).
	region.Populate(b)
	t.chunks = append(t.chunks, (*chunk)(unsafe.Pointer(unsafe.SliceData(b))))
}

// A key of the common elements is mostly a number of at most 32 bits: an
// IPv4 address, a port, a protocol, an AS (and no protocol split). The
// index holds such a small key itself, so that finding its row compares
// the slot and never reads the row: a slot's tag is a bijection of the
// key (smallHash), marked with smallFlag, so that equal tags mean equal
// keys. The row is then read only to be counted, a load that no branch
// waits for. Any other key's slot holds its hash's upper half as the tag,
// without the flag, and the probe compares the row's key. The flag takes
// a bit of the row number, so a table holds fewer than 1<<31 rows (which
// would take 128 GiB).
const (
	smallFlag = 1 << 31
	entryMask = smallFlag - 1
)

// isSmall reports whether the index holds key (hi, lo, k) itself.
func isSmall(hi, lo, k uint64) bool { return hi|lo>>32|k == 0 }

// smallHash is the hash of small key v: its upper half is a bijection of
// v (a multiply by an odd number and an xor-shift, each invertible), which
// places the key and is its tag; the lower half, which only partOf reads,
// mixes v again.
func smallHash(v uint32) uint64 {
	x := v * 0x9e3779b1
	x ^= x >> 15
	x *= 0x85ebca6b
	y := x * 0xc2b2ae35
	return uint64(x)<<32 | uint64(y^y>>16)
}

// hashKey hashes the key (hi, lo, k), k as rowKey makes it.
func hashKey(hi, lo, k uint64) uint64 {
	if isSmall(hi, lo, k) {
		return smallHash(uint32(lo))
	}
	return slotindex.Finish(slotindex.Mix(slotindex.Mix(0, hi), lo) ^ k)
}

// slotTag is what the slot of key (hi, lo, k), of hash h, holds above
// the row number.
func slotTag(h, hi, lo, k uint64) uint64 {
	tag := h &^ (1<<32 - 1)
	if isSmall(hi, lo, k) {
		tag |= smallFlag
	}
	return tag
}

// findHash returns the number of the row of key (hi, lo, k), of hash h,
// and whether it was there before; a new row starts with no counts, the
// times first and last and the table's next first-seen number.
func (t *Table) findHash(h, hi, lo, k uint64, first, last uint64) (uint32, *row, bool) {
	pos, _ := t.idx.Home(h)
	tag := slotTag(h, hi, lo, k)
	for s := t.idx.Slot(pos); s != 0; pos, s = t.idx.Next(pos) {
		if s&^entryMask != tag {
			continue
		}
		i := uint32(s)&entryMask - 1
		w := t.row(i)
		if tag&smallFlag != 0 || w.lo == lo && w.hi == hi && w.meta&keyMask == k {
			return i, w, true
		}
	}
	i, w := t.insert(pos, h, tag, hi, lo, k, first, last)
	return i, w, false
}

// countSmall adds c to the row of small key v (see smallFlag), a new row
// as findHash makes one when v is new. It is countHash for the common
// elements' keys: the probe compares slots only, and the counting is
// written out here rather than called, as this is all the work a flow
// of a common element costs.
func (t *Table) countSmall(v uint32, c *flowCounts) {
	if t.log {
		t.logRow(0, uint64(v), 0, c)
		return
	}
	h := smallHash(v)
	tag := h&^(1<<32-1) | smallFlag
	pos, _ := t.idx.Home(h)
	var i uint32
	for s := t.idx.Slot(pos); ; pos, s = t.idx.Next(pos) {
		if s&^entryMask == tag {
			i = uint32(s)&entryMask - 1
			break
		}
		if s == 0 {
			i, _ = t.insert(pos, h, tag, 0, uint64(v), 0, c.first, c.last)
			break
		}
	}
	w := &t.chunks[i>>rowBits].rows[i&(rowChunk-1)]
	w.flows += c.flows
	w.inPackets += c.inPackets
	w.inBytes += c.inBytes
	w.first = min(w.first, c.first)
	w.last = max(w.last, c.last)
	if c.outPackets|c.outBytes != 0 {
		t.addOut(i, c)
	}
}

// insert adds the row of key (hi, lo, k), of hash h, whose slot tag is
// tag, at the free slot pos where its probe ended. It is out of line: a
// table meets each key once, and inlined into the lookups it would make
// their common path spill registers.
//
//go:noinline
func (t *Table) insert(pos int, h, tag, hi, lo, k uint64, first, last uint64) (uint32, *row) {
	if t.idx.Full(t.n) {
		t.grow()
		pos = t.idx.Free(h)
	}
	i := uint32(t.n)
	if t.n>>rowBits == len(t.chunks) {
		t.addChunk()
	}
	// The row is written field by field: as a composite literal it was
	// built on the stack, 8 bytes a field, and copied 16 bytes at a time,
	// each copy waiting for the stores it spans to reach the cache (a
	// failed store forward): 60% of insert's samples, insert 9.5% of the
	// lab's triple on the border archive.
	w := t.row(i)
	w.hi, w.lo = hi, lo
	w.meta = k | (t.next&seenMask)<<seenShift
	w.flows, w.inPackets, w.inBytes = 0, 0, 0
	w.first, w.last = first, last
	t.n++
	t.next++
	t.idx.Put(pos, tag, i)
	return i, w
}

// logRow adds a row of key (hi, lo, k) with the counts c, whether or not
// the table has the key: a table in log mode (Table.log) counts each flow
// so, and a merge adds up the rows of a key.
func (t *Table) logRow(hi, lo, k uint64, c *flowCounts) uint32 {
	i := uint32(t.n)
	if t.n>>rowBits == len(t.chunks) {
		t.addChunk()
	}
	w := t.row(i)
	w.hi, w.lo = hi, lo
	w.meta = k | (t.next&seenMask)<<seenShift
	w.flows, w.inPackets, w.inBytes = c.flows, c.inPackets, c.inBytes
	w.first, w.last = c.first, c.last
	t.n++
	t.next++
	out := c.outPackets|c.outBytes != 0
	if out {
		t.addOut(i, c)
	}
	// The row's hash goes to its part's list right away, as partition
	// would put it there: the row is still in the cache, and no pass
	// reads the block's rows again.
	small := isSmall(hi, lo, k)
	var h uint64
	if small {
		h = smallHash(uint32(lo))
	} else {
		h = hashKey(hi, lo, k)
	}
	p := partOf(h, len(t.byPart))
	t.byPart[p] = append(t.byPart[p], newHashRow(h, i, small, out))
	return i
}

// startLog puts a block's table, which merges into parts parts, in log
// mode (Table.log) from its next block on, and gives back its index.
func (t *Table) startLog(parts int) {
	if t.log {
		return
	}
	t.log = true
	if len(t.byPart) != parts {
		t.byPart = make([][]hashRow, parts)
	}
	t.idx = slotindex.New(0)
	if t.mem != nil {
		region.Free(t.mem.Index[t.part])
		t.mem.Index[t.part] = nil
	}
}

// Len returns the number of distinct keys counted so far (of rows, in
// log mode).
func (t *Table) Len() int { return t.n }

// Add counts r under each of its element's keys; ip, port and the other
// two-key elements count a flow twice, also when both keys are equal, as
// nfdump does. The common elements take their keys straight from the
// record, the others through the field table.
func (t *Table) Add(r *flow.Record) {
	var proto uint8
	if t.spec.ProtoSplit {
		proto = r.Proto
	}
	c := flowCounts{
		first: r.First, last: r.Last, flows: r.AggrFlows(),
		inPackets: r.InPackets, inBytes: r.InBytes, outPackets: r.OutPackets, outBytes: r.OutBytes,
	}
	switch t.fast {
	case fastSrcIP:
		hi, lo, v6 := addrKey(r.SrcAddr)
		t.countHash(hi, lo, proto, v6, &c)
	case fastDstIP:
		hi, lo, v6 := addrKey(r.DstAddr)
		t.countHash(hi, lo, proto, v6, &c)
	case fastIP:
		hi, lo, v6 := addrKey(r.SrcAddr)
		t.countHash(hi, lo, proto, v6, &c)
		hi, lo, v6 = addrKey(r.DstAddr)
		t.countHash(hi, lo, proto, v6, &c)
	case fastSrcPort:
		t.countHash(0, uint64(r.SrcPort), proto, false, &c)
	case fastDstPort:
		t.countHash(0, uint64(r.DstPort), proto, false, &c)
	case fastPort:
		t.countHash(0, uint64(r.SrcPort), proto, false, &c)
		t.countHash(0, uint64(r.DstPort), proto, false, &c)
	case fastProto:
		t.countProto(r.Proto, proto, &c)
	default:
		for _, f := range t.spec.Element.fields {
			hi, lo, v6 := fieldKey(f, r)
			t.countHash(hi, lo, proto, v6, &c)
		}
	}
}

// flowCounts are what a flow adds to the row of each of its keys.
type flowCounts struct {
	first, last, flows                       uint64
	inPackets, inBytes, outPackets, outBytes uint64
}

// countHash adds c to the row of key (hi, lo, proto, v6).
func (t *Table) countHash(hi, lo uint64, proto uint8, v6 bool, c *flowCounts) {
	k := rowKey(proto, v6)
	if t.log {
		t.logRow(hi, lo, k, c)
		return
	}
	if isSmall(hi, lo, k) {
		t.countSmall(uint32(lo), c)
		return
	}
	i, _, _ := t.findHash(hashKey(hi, lo, k), hi, lo, k, c.first, c.last)
	t.add(i, c)
}

// countProto adds c to the row of protocol p (split is p again with a
// protocol split, else 0). A protocol's row is found by its number: a
// handful of rows, each looked up for every flow.
func (t *Table) countProto(p, split uint8, c *flowCounts) {
	i := t.byProto[p]
	if i == 0 {
		lo, k := uint64(p), uint64(split)
		if t.log {
			// A protocol's row takes its later flows all the same
			// (byProto): its table stays a handful of rows.
			t.byProto[p] = t.logRow(0, lo, k, c) + 1
			return
		}
		j, _, _ := t.findHash(hashKey(0, lo, k), 0, lo, k, c.first, c.last)
		i = j + 1
		t.byProto[p] = i
	}
	t.add(i-1, c)
}

// add adds c to row i.
func (t *Table) add(i uint32, c *flowCounts) {
	w := t.row(i)
	w.flows += c.flows
	w.inPackets += c.inPackets
	w.inBytes += c.inBytes
	w.first = min(w.first, c.first)
	w.last = max(w.last, c.last)
	if c.outPackets|c.outBytes != 0 {
		t.addOut(i, c)
	}
}

// addOut adds c's out counters to row i.
func (t *Table) addOut(i uint32, c *flowCounts) {
	t.row(i).meta |= metaOut
	o := t.outOf(i)
	o.packets += c.outPackets
	o.bytes += c.outBytes
}

// Reset empties the table for reuse, keeping its memory: a table that
// counts one block of flows at a time (see Merge) allocates only while its
// blocks grow.
func (t *Table) Reset() {
	t.next = 0
	if t.n == 0 {
		return
	}
	if t.log {
		// The first block in log mode has a row for each flow where the
		// one before had a row for each key: room for twice as many
		// rows at once, as a list that grows leaves the array it
		// outgrew on Go's heap, which a run of -s seldom collects.
		for p := range t.byPart {
			t.byPart[p] = t.byPart[p][:0]
			if want := 2*t.n/len(t.byPart) + 64; !t.logSized && cap(t.byPart[p]) < want {
				t.byPart[p] = make([]hashRow, 0, want)
			}
		}
		t.logSized = true
	} else {
		t.idx.Reset()
	}
	clear(t.byProto[:])
	for c := 0; c <= (t.n-1)>>rowBits; c++ {
		clear(t.chunks[c].outs[:])
	}
	t.n = 0
}

// Merge adds the rows of o, a table of the same spec, as if the flows o
// counted had been added to t after those t counted: o's new keys rank
// after t's on ties, in o's order, so that the order in which keys were
// first seen (which breaks ties in Top) is that of the flows, and every
// counter, first and last time is what counting the flows gives.
func (t *Table) Merge(o *Table) {
	o.partition(1)
	// In log mode, o's lists are those of the parts it was put in log
	// mode for; the order in which they merge changes no count.
	base := t.next
	for p := range o.byPart {
		t.merge(o, o.byPart[p], base)
	}
	t.next += o.next
}

// partition sorts the hashes of t's rows by the part, of parts, that
// their keys belong to (see partOf): byPart[p] holds part p's, in row
// order, each row's hash beside its number, so that merging a part reads
// only its rows and no row is hashed twice. It reads the rows once,
// appending each to its part's list: hashing every row into arrays and
// then sorting them by part took 90 instructions a row, this 60, and
// godump -s srcip/bytes on the border archive 3% less CPU (callgrind,
// BenchmarkMergeBorder/2; 20 alternating pairs). Its memory is kept for
// the next block.
func (t *Table) partition(parts int) {
	if t.log {
		// logRow made the lists, for as many parts (startLog).
		return
	}
	if cap(t.byPart) < parts {
		t.byPart = make([][]hashRow, parts)
	}
	t.byPart = t.byPart[:parts]
	// A part gets about its share of the rows; a list that outgrows
	// this grows as append grows it, and keeps its size.
	want := t.n/parts + t.n/(4*parts) + 64
	for p := range t.byPart {
		t.byPart[p] = slices.Grow(t.byPart[p][:0], want)
	}
	for c := 0; c<<rowBits < t.n; c++ {
		rows := t.chunks[c].rows[:min(rowChunk, t.n-c<<rowBits)]
		for j := range rows {
			w := &rows[j]
			k := w.meta & keyMask
			small := isSmall(w.hi, w.lo, k)
			var h uint64
			if small {
				h = smallHash(uint32(w.lo))
			} else {
				h = hashKey(w.hi, w.lo, k)
			}
			p := partOf(h, parts)
			t.byPart[p] = append(t.byPart[p], newHashRow(h, uint32(c<<rowBits+j), small, w.meta&metaOut != 0))
		}
	}
}

// hashRow is a row's number, the upper half of its key's hash (all that
// an index reads of it: a slot's tag, and where its probe starts),
// whether the key is small (see smallFlag) and whether the row has out
// counters: merge's read-ahead loop takes that from here, without a load
// of the block's row per key (godump -s srcip/bytes on the border
// archive: CPU ratio 0.967 over 40 alternating pairs, 0.977 and 1.00
// over two sets of 20). It takes 8 bytes, so that a block in log mode
// (Table.log), with a hashRow for each flow, takes no more memory than
// the block's table did with its index.
type hashRow struct {
	hi  uint32 // the upper half of the hash
	row uint32 // the row's number (rowNum), rowSmall and rowOut
}

// The bits of hashRow.row. A block's table has fewer than 1<<30 rows,
// which would take 80 GiB.
const (
	rowSmall = 1 << 31 // the key is small
	rowOut   = 1 << 30 // the row's out counters are not zero (metaOut)
	rowNum   = rowOut - 1
)

func newHashRow(h uint64, row uint32, small, out bool) hashRow {
	if small {
		row |= rowSmall
	}
	if out {
		row |= rowOut
	}
	return hashRow{hi: uint32(h >> 32), row: row}
}

// hash is the key's hash, as far as an index reads it.
func (r *hashRow) hash() uint64 { return uint64(r.hi) << 32 }

// num is the row's number.
func (r *hashRow) num() uint32 { return r.row & rowNum }

// out reports whether the row's out counters are not zero.
func (r *hashRow) out() bool { return r.row&rowOut != 0 }

// tag is what the slot of r's key holds above the row number.
func (r *hashRow) tag() uint64 {
	tag := r.hash()
	if r.row&rowSmall != 0 {
		tag |= smallFlag
	}
	return tag
}

// merge adds the rows rows of o, numbering those new to t from base on in
// o's order.
func (t *Table) merge(o *Table, rows []hashRow, base uint64) {
	// A row of a large table is seldom in the cache: the rows are taken
	// in batches, and for a batch first the index slots where their
	// probes start are read, then the rows (and out counters) those slots
	// point to, so that the trips to memory of a batch overlap instead of
	// each waiting for the one before. The batches go through these
	// steps in a pipeline: while one batch is counted, the rows of the
	// next are read and the slots of the one after, so that the reads of
	// two batches are in flight while a third is counted, instead of each
	// step of a batch waiting for the one before it. The loops are tight,
	// so that the processor has every load of a batch in flight at once:
	// a loop with more work per load than its reorder window holds runs
	// them a few at a time. The row that read ahead found is kept (cand),
	// so that a key the table has is counted after one compare of that
	// row's key, without a second probe: merge and findHash took 447 ->
	// 391 M instructions in BenchmarkMergeBorder/2 (callgrind).
	//
	// A batch is probed before the one ahead of it is counted, whose new
	// keys may then take slots the probe saw free, or grow the index: a
	// candidate is only taken once its row holds the key (rows never
	// move), else the probe runs again (findHash), and finds the key if
	// the batch ahead added it (in log mode a block has a key in more
	// than one row).
	var cand [2][mergeBatch]uint32 // the row (plus one) of the first slot whose tag matched
	take := func() []hashRow {
		b := rows[:min(mergeBatch, len(rows))]
		rows = rows[len(b):]
		return b
	}
	cur := take()
	t.prefetchSlots(cur)
	t.probeBatch(cur, &cand[0])
	next := take()
	t.prefetchSlots(next)
	for c := 0; len(cur) > 0; c ^= 1 {
		after := take()
		t.prefetchSlots(after)
		t.probeBatch(next, &cand[c^1])
		t.countBatch(o, cur, &cand[c], base)
		cur, next = next, after
	}
}

// probeBatch sets cand[k] to the row (plus one) of the first slot whose
// tag matches batch[k]'s, 0 for none, and has the processor fetch that
// row (and its out counters, when batch[k] has some), so that counting
// finds it in the cache.
func (t *Table) probeBatch(batch []hashRow, cand *[mergeBatch]uint32) {
	var addrs [2 * mergeBatch]uintptr
	n := 0
	for k := range batch {
		r := &batch[k]
		pos, _ := t.idx.Home(r.hash())
		tag := r.tag()
		cand[k] = 0
		for s := t.idx.Slot(pos); s != 0; pos, s = t.idx.Next(pos) {
			if s&^entryMask == tag {
				j := uint32(s) & entryMask
				cand[k] = j
				addrs[n] = uintptr(unsafe.Pointer(t.row(j - 1)))
				n++
				if r.out() {
					addrs[n] = uintptr(unsafe.Pointer(t.outOf(j - 1)))
					n++
				}
				break
			}
		}
	}
	prefetch(&addrs[0], n)
}

// countBatch adds the rows batch of o to t, each to the candidate row
// probeBatch found for it when that row holds its key, numbering those
// new to t from base on in o's order.
func (t *Table) countBatch(o *Table, batch []hashRow, cand *[mergeBatch]uint32, base uint64) {
	for k := range batch {
		r := &batch[k]
		from := o.row(r.num())
		seen := (base + from.seen()) & seenMask
		hi, lo, key := from.hi, from.lo, from.meta&keyMask
		// The candidate is the key's row when it holds the key: a key
		// has one row, and rows never move (a slot read before an
		// insert or a growth may have pointed elsewhere, and then the
		// probe runs again).
		j := cand[k] - 1
		var w *row
		old := false
		if j != ^uint32(0) {
			if w = t.row(j); w.lo == lo && w.hi == hi && w.meta&keyMask == key {
				old = true
			}
		}
		if !old {
			j, w, old = t.findHash(r.hash(), hi, lo, key, from.first, from.last)
		}
		if old {
			// Blocks may merge out of file order (MergeBlocks): the key
			// was first seen in the earliest.
			if seen < w.seen() {
				w.meta = w.meta&(keyMask|metaOut) | seen<<seenShift
			}
			w.flows += from.flows
			w.inPackets += from.inPackets
			w.inBytes += from.inBytes
			w.first = min(w.first, from.first)
			w.last = max(w.last, from.last)
			w.meta |= from.meta & metaOut
		} else {
			*w = *from
			w.meta = from.meta&(keyMask|metaOut) | seen<<seenShift
		}
		if from.meta&metaOut != 0 {
			so, to := o.outOf(r.num()), t.outOf(j)
			to.packets += so.packets
			to.bytes += so.bytes
		}
	}
}

// prefetchSlots has the processor fetch the index slots where the
// probes of rows start, without waiting for them.
func (t *Table) prefetchSlots(rows []hashRow) {
	var addrs [mergeBatch]uintptr
	for k := range rows {
		pos, _ := t.idx.Home(rows[k].hash())
		addrs[k] = uintptr(unsafe.Pointer(t.idx.SlotAddr(pos)))
	}
	prefetch(&addrs[0], len(rows))
}

// mergeBatch is how many rows a merge looks up at once.
const mergeBatch = 32

// partOf is the part, of parts, that the key of hash h belongs to. It
// takes the hash's low half, which the index does not use to place keys
// (slotindex takes the high bits), so that a part's keys still spread
// over its whole index.
func partOf(h uint64, parts int) int { return int(uint64(uint32(h)) * uint64(parts) >> 32) }

// ranked is a row in the ranking: its value, the number in which its key
// was first seen, which breaks ties, and where the row is: part (of a
// Split) and index.
type ranked struct {
	value uint64
	seen  uint64
	part  uint32
	idx   uint32
}

// heapsortLimit is the table size from which nfdump 1.7.1 sorts element
// tables with its radix sort, which ignores the direction: with this many
// rows (after the limits) an ascending order prints descending.
const heapsortLimit = 100

// rankedBefore is the ranking order: by value, ascending when asc, ties
// in the order in which their keys were first seen. nfdump's tie order
// comes from its hash table and heap sort and has no meaning.
func rankedBefore(asc bool) func(a, b *ranked) bool {
	return func(a, b *ranked) bool {
		if a.value != b.value {
			return (a.value < b.value) == asc
		}
		return a.seen < b.seen
	}
}

// rank orders rows by value and keeps the first topN (all for 0).
func rank(rows []ranked, asc bool, topN int) []ranked {
	before := rankedBefore(asc)
	if topN > 0 && len(rows) > topN {
		h := topn.New(topN, before)
		for _, r := range rows {
			h.Offer(r)
		}
		return h.Sorted()
	}
	slices.SortFunc(rows, func(a, b ranked) int {
		switch {
		case a.value == b.value:
			return cmp.Compare(a.seen, b.seen)
		case (a.value < b.value) == asc:
			return -1
		default:
			return 1
		}
	})
	return rows
}

// Top returns the table's block for order o: the top topN rows (all for
// 0) among those within the limits, which are tested on the order's
// counters. With topN it keeps only topN rows while it walks the table.
func (t *Table) Top(o Order, topN int, packets, bytes Limit) *output.StatBlock {
	return top([]*Table{t}, o, topN, packets, bytes)
}

// top is Top over the rows of parts, tables of the same spec that hold
// different keys (a Split's) and number them in one sequence.
func top(parts []*Table, o Order, topN int, packets, bytes Limit) *output.StatBlock {
	spec := parts[0].spec
	total := 0
	for _, t := range parts {
		total += t.n
	}
	asc := false
	if spec.Ascending {
		n := 0
		for _, t := range parts {
			for i := uint32(0); i < uint32(t.n) && n < heapsortLimit; i++ {
				if c := t.counter(i); keepCounter(&c, o.Dir, packets, bytes) {
					n++
				}
			}
		}
		asc = n < heapsortLimit
	}
	var rows []ranked
	if topN > 0 && topN < total {
		// Each part's top N, the parts at once, each on a goroutine of
		// its own, and then the top N of those: keys are numbered in one
		// sequence, so no two rows rank equal, and the top N of the
		// parts' top N are the table's. The ranking reads every row, 12.5
		// ms of the main goroutine's time on a table of 200 k keys in two
		// parts, after the reader's workers are done (BenchmarkTopBorder).
		tops := make([][]ranked, len(parts))
		if len(parts) == 1 {
			tops[0] = parts[0].topOf(0, &o, topN, asc, packets, bytes)
		} else {
			var wg sync.WaitGroup
			for p, t := range parts {
				wg.Go(func() { tops[p] = t.topOf(uint32(p), &o, topN, asc, packets, bytes) })
			}
			wg.Wait()
		}
		if len(tops) == 1 {
			rows = tops[0]
		} else {
			h := topn.New(topN, rankedBefore(asc))
			for _, top := range tops {
				for _, r := range top {
					h.Offer(r)
				}
			}
			rows = h.Sorted()
		}
	} else {
		rows = make([]ranked, 0, total)
		for p, t := range parts {
			for i := uint32(0); i < uint32(t.n); i++ {
				if c := t.counter(i); keepCounter(&c, o.Dir, packets, bytes) {
					rows = append(rows, ranked{value: o.of(&c), seen: t.row(i).seen(), part: uint32(p), idx: i})
				}
			}
		}
		rows = rank(rows, asc, 0)
	}
	blk := &output.StatBlock{
		Header:     spec.Element.Header,
		Kind:       spec.Element.Kind,
		ProtoSplit: spec.ProtoSplit,
		Order:      o.Name,
		Dir:        o.Dir,
		TopN:       uint64(topN),
		Rows:       make([]output.StatRow, len(rows)),
	}
	for i, r := range rows {
		t := parts[r.part]
		w, c := t.row(r.idx), t.counter(r.idx)
		blk.Rows[i] = output.StatRow{
			Hi: w.hi, Lo: w.lo, Proto: uint8(w.meta), IPv6: w.meta&keyV6 != 0,
			Flows: c.flows, InPackets: c.inPackets, InBytes: c.inBytes,
			OutPackets: c.outPackets, OutBytes: c.outBytes,
			First: c.first, Last: c.last,
		}
	}
	return blk
}

// topOf returns the top topN rows of t, part part of a table, within the
// limits, ranked by o (ascending when asc), best first. It reads the
// values of a chunk's rows first, in a loop of its own (chunkValues), and
// then offers only the rows whose value could enter the top: with a copy
// of each row's counters, their limits tested and each row offered,
// ranking took ten times as long as a loop that only reads each row's
// bytes (BenchmarkTopBorder, 200 k rows: 5.0 ms against 0.5 ms), and
// with each value read in the loop that offers it, five times, the reads
// waiting for memory one after the other.
func (t *Table) topOf(part uint32, o *Order, topN int, asc bool, packets, bytes Limit) []ranked {
	h := topn.New(topN, rankedBefore(asc))
	limited := packets.Value != 0 || bytes.Value != 0
	vals := new([rowChunk]uint64)
	for c := 0; c<<rowBits < t.n; c++ {
		ch := t.chunks[c]
		vs := vals[:min(rowChunk, t.n-c<<rowBits)]
		chunkValues(o, ch, vs)
		for j, v := range vs {
			i := uint32(c<<rowBits + j)
			if limited {
				if c := t.counter(i); !keepCounter(&c, o.Dir, packets, bytes) {
					continue
				}
			}
			// A row of the worst's value may still go before it, if its
			// key was seen first: Offer decides.
			if worst, full := h.Worst(); full && (v < worst.value && !asc || v > worst.value && asc) {
				continue
			}
			h.Offer(ranked{value: v, seen: ch.rows[j].seen(), part: part, idx: i})
		}
	}
	return h.Sorted()
}

// chunkValues sets vals[j] to o.of of the counters of row j of ch, read in
// place for the orders by flows, packets and bytes: the one or two fields
// the order ranks by, the out counters only where the row has them.
func chunkValues(o *Order, ch *chunk, vals []uint64) {
	rows := ch.rows[:len(vals)]
	switch {
	case o.by == byFlows:
		for j := range rows {
			vals[j] = rows[j].flows
		}
	case o.by == byBytes && o.Dir == output.StatIn:
		for j := range rows {
			vals[j] = rows[j].inBytes
		}
	case o.by == byPackets && o.Dir == output.StatIn:
		for j := range rows {
			vals[j] = rows[j].inPackets
		}
	case o.by == byBytes && o.Dir == output.StatInOut:
		for j := range rows {
			vals[j] = rows[j].inBytes
		}
		for j := range rows {
			if rows[j].meta&metaOut != 0 {
				vals[j] += ch.outs[j].bytes
			}
		}
	case o.by == byPackets && o.Dir == output.StatInOut:
		for j := range rows {
			vals[j] = rows[j].inPackets
		}
		for j := range rows {
			if rows[j].meta&metaOut != 0 {
				vals[j] += ch.outs[j].packets
			}
		}
	default:
		for j := range rows {
			w := &rows[j]
			c := counter{flows: w.flows, inPackets: w.inPackets, inBytes: w.inBytes, first: w.first, last: w.last}
			if w.meta&metaOut != 0 {
				c.outPackets, c.outBytes = ch.outs[j].packets, ch.outs[j].bytes
			}
			vals[j] = o.of(&c)
		}
	}
}

// keepCounter reports whether counters c are within the limits -l
// (packets) and -L (bytes), which nfdump tests on the order's direction.
func keepCounter(c *counter, dir output.StatDir, packets, bytes Limit) bool {
	return bytes.keep(bytesOf(c, dir)) && packets.keep(packetsOf(c, dir))
}
