// Package aggregate is godump's aggregation engine: the -a, -A, -b and -B
// tables that merge flows with the same key, and the -O sort orders that
// plain and aggregated listings share. It follows nfdump 1.7.1: counters
// are summed, TCP flags OR-ed, first is the earliest and last the latest
// time, and the first flow seen for a key supplies every other field.
package aggregate

import (
	"cmp"
	"encoding/binary"
	"math/bits"
	"net/netip"
	"runtime"
	"slices"
	"unsafe"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/region"
	"github.com/nfgo/nftools/internal/slotindex"
)

// entry accumulates one key. It holds no pointers, so the garbage
// collector never scans the table's blocks of entries.
type entry struct {
	inPk, inBy, outPk, outBy uint64
	flows                    uint64
	first, last              uint64
	// ref is the first flow: its packed record in the arena or, for a
	// table that only prints an -A list, its index in metas.
	ref               uint32
	inFlags, outFlags uint8
}

// meta is what an -A list prints of the first flow beyond its key: the
// record header and the families of its addresses. Few distinct values
// occur, so the table keeps each once.
type meta struct {
	elements  flow.Elements
	nfVersion uint8
	flags     uint8
	v6        bool
	next, bgp uint8 // families (famNone, fam4, fam6)
	router    uint8
	src, dst  uint8  // families, for an -a, -b or -B key (fiveRecord)
	label     uint32 // the flow label's number (Table.labels)
}

// Table aggregates flows for one Spec. It is not safe for concurrent use.
//
// Keys live in an open-addressing hash table built for the purpose: the
// keys themselves, as words, in blocks beside the entries, and an index
// of entry numbers with a part of their hash at a load factor of at most
// one half, probed linearly. Nothing is allocated per flow, only when the
// table grows.
type Table struct {
	spec *Spec
	kw   int  // key length in words
	full bool // keep the first flow whole (else metas)
	// blocks hold the entries and keys hold their keys, blockSize
	// entries each, so that growing the table never copies them.
	blocks [][]entry
	keys   [][]uint64
	// slots: 0 free, else the top 32 bits of the key's hash above the
	// entry number plus one.
	idx  slotindex.Index
	n    int
	recs arena
	metaSet

	// labels are the flow labels of the first flows, each once, so that
	// an entry keeps a number (0 for none): labels[0] is "".
	labels  []string
	labelOf map[string]uint32
	// mem holds the blocks, the arena's chunks and the index's slots
	// once they outgrow their first few.
	mem    *region.Memory
	key    [320 + 8]byte
	kwords [40]uint64
	rwords [40]uint64
	// prev is the flow Add holds back until the next (pending), with its
	// key words and their hash.
	prev      flow.Record
	prevWords [40]uint64
	prevHash  uint64
	pending   bool
	// batchRefs is AddBatch's scratch: a batch's metas' numbers here.
	batchRefs []uint32
}

const blockBits = 14
const blockSize = 1 << blockBits

func (t *Table) at(i int32) *entry { return &t.blocks[i>>blockBits][i&(blockSize-1)] }

func (t *Table) keyAt(i int32) []uint64 {
	o := int(i&(blockSize-1)) * t.kw
	return t.keys[i>>blockBits][o : o+t.kw]
}

// New returns an empty table for spec that keeps the first flow of every
// key, as Records and WriteRecords need.
func New(spec *Spec) *Table { return newTable(spec, true) }

// NewPrinting returns an empty table whose records are only printed
// (Records, Record), never written (WriteRecords): for an -A list it keeps
// only the key and a few header bits of the first flow, which is all an
// -A listing prints.
func NewPrinting(spec *Spec) *Table { return newTable(spec, !spec.custom) }

// NewPrintingKeys is NewPrinting for a printer that reads of a record
// only its times, counters, TCP flags, version, protocol, addresses and
// ports (output.PrintsKeyFields, as the line and biline modes do): an -a,
// -b or -B table then keeps, like an -A list, only the key and the few
// header bits of the first flow (meta), not the whole flow packed. godump
// -a on the home-shaped archive, 2 M keys, kept 160 MB of packed flows
// beside 250 MB of entries, keys and index.
func NewPrintingKeys(spec *Spec) *Table { return newTable(spec, false) }

func newTable(spec *Spec, full bool) *Table {
	t := &Table{spec: spec, kw: (spec.keyLen + 7) / 8, full: full}
	t.idx = slotindex.New(12)
	t.mem = region.NewMemory(1)
	t.recs.mem = &t.mem.Pool
	runtime.AddCleanup(t, (*region.Memory).Free, t.mem)
	if !full {
		t.metaSet = newMetaSet()
	}
	return t
}

// Free gives back the table's memory outside Go's heap; the table is
// empty and unusable afterwards. A table never freed gives it back when
// the garbage collector finds it unreachable.
func (t *Table) Free() {
	t.mem.Free()
	*t = Table{}
}

// Len returns the number of keys in the table.
func (t *Table) Len() int {
	t.flush()
	return t.n
}

// hashWords mixes the key words; the top bits of the result pick a slot.
func hashWords(w []uint64) uint64 {
	h := uint64(len(w)) * 0x9e3779b97f4a7c15
	for _, v := range w {
		h = slotindex.Mix(h, v)
	}
	return slotindex.Finish(h)
}

// find returns the entry holding key w, or -1 and the free slot where it
// would go, and the slot's tag for w.
func (t *Table) find(w []uint64) (int32, int, uint64) { return t.findHash(w, hashWords(w)) }

// findHash is find of a key whose hash is h.
func (t *Table) findHash(w []uint64, h uint64) (int32, int, uint64) {
	pos, tag := t.idx.Home(h)
	for s := t.idx.Slot(pos); s != 0; pos, s = t.idx.Next(pos) {
		i, ok := slotindex.Match(s, tag)
		if !ok {
			continue
		}
		k := t.keyAt(int32(i))
		eq := true
		for j, v := range w {
			if k[j] != v {
				eq = false
				break
			}
		}
		if eq {
			return int32(i), pos, tag
		}
	}
	return -1, pos, tag
}

// words loads the key bytes into w, a word per 8 bytes (the bytes past
// the key are zero).
func (t *Table) words(w []uint64, b []byte) {
	for i := range w {
		w[i] = binary.LittleEndian.Uint64(b[i*8:])
	}
}

// Add merges r into the table. It copies what it keeps, so r may be
// reused afterwards, and it allocates only when the table grows.
//
// The flow is merged when the next one is added (or the table is read):
// Add makes r's key, prefetches its slot in the index and merges the
// flow before, whose slot it prefetched on the last call. A slot is a
// random read in an index of tens of MB, and waiting for it was most of
// find's time, a third of the -A srcip,dstport -O bytes -n 20 job on the
// home-shaped archive.
func (t *Table) Add(r *flow.Record) {
	s := t.spec
	k := t.key[:s.keyLen]
	if s.custom {
		s.customKey(k, r)
	} else {
		fiveTuple(k, r, false)
	}
	w := t.kwords[:t.kw]
	t.words(w, t.key[:])
	h := hashWords(w)
	pos, _ := t.idx.Home(h)
	prefetch(uintptr(unsafe.Pointer(t.idx.SlotAddr(pos))))
	if t.pending {
		t.add(&t.prev, t.prevWords[:t.kw], t.prevHash)
	}
	t.prev = *r
	copy(t.prevWords[:], w)
	t.prevHash, t.pending = h, true
}

// grow doubles the index into small pages filled ahead
// (slotindex.GrowFilledKeep). The slots it leaves go to the rows of entries and
// keys, which every new key writes before it is read, and it grows out of
// as many slots as it ends with.
//
// Moving the slots probes each new one before it writes it, so on pages
// not filled ahead each first read mapped the zero page and each write
// then replaced it: two faults a page and a TLB flush. Huge pages (as
// slotindex.GrowMapped asks) took one fault each, but on the benchmark
// machine a huge page comes from memory its host took back (see
// region.MapSmall), and the first touch was its host filling 2 MiB:
// godump -A srcip,dstport -O bytes -n 20 'proto tcp' on the border
// archive spent 0.05-0.56 s of system time (perf: 19-42% of the samples
// in do_huge_pmd_wp_page's clearing) on the same 31 huge pages, fast only
// while the pages nfdump had just freed were still backed, and 0.06-0.58
// s after 3 s idle. Small pages filled ahead took 0.06-0.13 s (20 runs
// each after an nfdump run, load 3.6-8.3), and the job's CPU time against
// nfdump's spread 0.37-0.47 instead of 0.35-0.75 (home: 0.39-0.51 instead
// of 0.41-0.76), the same median. Without huge pages the probes miss the
// TLB more, but the user time of the filtered and unfiltered -A
// srcip,dstport -O bytes -n 20 moved only within the noise, 0.95-1.04
// times what it was, and their task-clock was 0.89-0.98 (perf stat, 20
// paired runs each, both shapes); -a, -A and -B took 0.85-1.04 times the
// CPU time (8-10 paired runs).
func (t *Table) grow() {
	old := t.idx.GrowFilledKeep(&t.mem.Index[0])
	if len(old) < blockSize*int(unsafe.Sizeof(entry{})) {
		// Too small for a block of entries, it would mostly stay unused.
		region.Free(old)
		return
	}
	t.mem.Pool.Recycle(old)
}

// flush merges the flow Add holds back, before the table is read.
func (t *Table) flush() {
	if t.pending {
		t.pending = false
		t.add(&t.prev, t.prevWords[:t.kw], t.prevHash)
		t.prev = flow.Record{}
	}
}

// add merges r, whose key words are w and their hash h.
func (t *Table) add(r *flow.Record, w []uint64, h uint64) {
	s := t.spec
	if t.idx.Full(t.n) {
		t.grow()
	}
	i, pos, tag := t.findHash(w, h)
	if i >= 0 {
		t.at(i).merge(r, false)
		return
	}
	if s.bidir && (r.Proto == flow.ProtoTCP || r.Proto == flow.ProtoUDP) {
		fiveTuple(t.key[:s.keyLen], r, true)
		rw := t.rwords[:t.kw]
		t.words(rw, t.key[:])
		if i, _, _ := t.find(rw); i >= 0 {
			t.at(i).merge(r, true)
			return
		}
	}
	var ref uint32
	if t.full {
		ref = t.recs.put(r, t.labelRef(r.Label))
	} else {
		ref = t.metaRef(r)
	}
	e := entryOf(r)
	t.newEntry(pos, tag, w, &e, ref)
}

// newEntry puts a new key w at the free slot pos with tag, its entry
// from e with ref (its first flow's record or meta).
func (t *Table) newEntry(pos int, tag uint64, w []uint64, e *entry, ref uint32) {
	if t.n>>blockBits == len(t.blocks) {
		t.blocks = append(t.blocks, rowEntries(&t.mem.Pool, blockSize))
		t.keys = append(t.keys, rowWords(&t.mem.Pool, blockSize*t.kw))
	}
	n := int32(t.n)
	t.idx.Put(pos, tag, uint32(n))
	copy(t.keyAt(n), w)
	x := t.at(n)
	*x = *e
	x.ref = ref
	t.n++
}

// labelRef returns the number of a flow label, adding it when new; 0 for
// none. A filter has few labels, so the list stays short.
func (t *Table) labelRef(l string) uint32 {
	if l == "" {
		return 0
	}
	if n := len(t.labels); n > 0 && t.labels[n-1] == l {
		return uint32(n - 1)
	}
	i, ok := t.labelOf[l]
	if !ok {
		if t.labelOf == nil {
			t.labels = []string{""}
			t.labelOf = make(map[string]uint32)
		}
		i = uint32(len(t.labels))
		t.labels = append(t.labels, l)
		t.labelOf[l] = i
	}
	return i
}

// setLabel gives a record rebuilt from entry data the label with number
// i, and with it the EXlabel element nfdump adds to such a record.
func (t *Table) setLabel(r *flow.Record, i uint32) {
	if i != 0 {
		r.Label = t.labels[i]
		r.Elements = r.LabelElement()
	}
}

// family returns the family the meta keeps of the next hop, BGP next hop
// or exporter address.
func (m *meta) family(f flow.Field) uint64 {
	switch f {
	case flow.FieldIPNextHop:
		return uint64(m.next)
	case flow.FieldBGPNextHop:
		return uint64(m.bgp)
	}
	return uint64(m.router)
}

// metaRef returns the index of r's meta, adding it when new.
func (t *Table) metaRef(r *flow.Record) uint32 {
	m := t.spec.meta(r)
	m.label = t.labelRef(r.Label)
	return t.metaIndex(m)
}

// meta returns the meta of r, but for its label.
func (s *Spec) meta(r *flow.Record) meta {
	m := meta{
		elements: r.Elements, nfVersion: r.NFVersion, flags: r.Flags, v6: r.IsIPv6(),
		next: uint8(addrFam(r.IPNextHop)), bgp: uint8(addrFam(r.BGPNextHop)), router: uint8(addrFam(r.Exporter)),
	}
	if !s.custom {
		m.src, m.dst = uint8(addrFam(r.SrcAddr)), uint8(addrFam(r.DstAddr))
	}
	return m
}

// metaSet numbers the metas of a table's flows, or of a batch's, each
// once.
type metaSet struct {
	metas  []meta
	metaOf map[meta]uint32
	// metaCache holds recent metas by a cheap hash of theirs (metaSlot),
	// before the map is asked.
	metaCache *[metaCacheSize]metaCached
}

func newMetaSet() metaSet {
	return metaSet{metaOf: make(map[meta]uint32), metaCache: new([metaCacheSize]metaCached)}
}

// reset forgets every meta.
func (s *metaSet) reset() {
	s.metas = s.metas[:0]
	clear(s.metaOf)
	*s.metaCache = [metaCacheSize]metaCached{}
}

// metaIndex returns the index of m, adding it when new.
func (s *metaSet) metaIndex(m meta) uint32 {
	c := &s.metaCache[m.slot()]
	if c.set && c.m == m {
		return c.i
	}
	i, ok := s.metaOf[m]
	if !ok {
		i = uint32(len(s.metas))
		s.metas = append(s.metas, m)
		s.metaOf[m] = i
	}
	*c = metaCached{m: m, i: i, set: true}
	return i
}

// A table's flows carry a dozen metas (12 on either benchmark archive,
// the element sets of v4 and v6 flows with and without a next hop, from
// NetFlow v9 and IPFIX), interleaved: the last meta alone matched too
// rarely, and hashing the meta for the map was 5% of an -A list behind a
// filter. A direct-mapped cache of metaCacheSize slots, picked by a
// multiply of the fields that tell them apart, finds them instead.
const metaCacheSize = 64

type metaCached struct {
	m   meta
	i   uint32
	set bool
}

// slot returns m's place in the table's cache of metas.
func (m *meta) slot() int {
	h := uint64(m.elements) ^ uint64(m.nfVersion)<<48 ^ uint64(m.next)<<52 ^ uint64(m.bgp)<<54 ^
		uint64(m.router)<<56 ^ uint64(m.label)<<32 ^ uint64(m.flags)<<40 ^ uint64(m.src)<<60 ^ uint64(m.dst)<<62
	if m.v6 {
		h ^= 1 << 58
	}
	return int(h * 0x9e3779b97f4a7c15 >> 58)
}

// entryOf returns the counters of r as a new entry's.
func entryOf(r *flow.Record) entry {
	return entry{
		inPk: r.InPackets, inBy: r.InBytes, outPk: r.OutPackets, outBy: r.OutBytes,
		flows: r.AggrFlows(), first: r.First, last: r.Last, inFlags: r.TCPFlags,
	}
}

// merge adds r to the entry; reverse puts r's counters and flags on the
// other direction, for the opposite flow of a -b pair.
func (e *entry) merge(r *flow.Record, reverse bool) {
	f := entryOf(r)
	e.mergeEntry(&f, reverse)
}

// wordsAddr is the inverse of flow.AddrWords for the family v6.
func wordsAddr(hi, lo uint64, v6 bool) netip.Addr {
	if !v6 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(lo))
		return netip.AddrFrom4(b)
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	return netip.AddrFrom16(b)
}

// sameFamily returns a zero address of a's family (IPv4 when a is unset).
func zeroLike(a netip.Addr) netip.Addr {
	if a.Is6() {
		return netip.IPv6Unspecified()
	}
	return netip.IPv4Unspecified()
}

func putAddr(b []byte, hi, lo uint64) {
	binary.LittleEndian.PutUint64(b, hi)
	binary.LittleEndian.PutUint64(b[8:], lo)
}

// fiveTuple writes the -a key; reverse writes the key of the opposite
// direction, which -b looks up.
func fiveTuple(b []byte, r *flow.Record, reverse bool) {
	sh, sl := flow.AddrWords(r.SrcAddr)
	dh, dl := flow.AddrWords(r.DstAddr)
	sp, dp := r.SrcPort, r.DstPort
	if reverse {
		sh, sl, dh, dl = dh, dl, sh, sl
		sp, dp = dp, sp
	}
	putAddr(b, sh, sl)
	putAddr(b[16:], dh, dl)
	binary.LittleEndian.PutUint16(b[32:], sp)
	binary.LittleEndian.PutUint16(b[34:], dp)
	b[36] = r.Proto
}

// netMask applies nfdump's ApplyNetMaskBits: the record's own prefix
// length, with shifts that wrap their count as x86 does (so /0 keeps an
// IPv4 address, and keeps the upper half of an IPv6 one).
func netMask(hi, lo uint64, bits uint8, v6 bool) (uint64, uint64) {
	if !v6 {
		m := uint32(0xffffffff) << ((32 - uint32(bits)) & 31)
		return hi, uint64(uint32(lo) & m)
	}
	if bits > 64 {
		return hi, lo & (^uint64(0) << ((128 - uint32(bits)) & 63))
	}
	return hi & (^uint64(0) << ((64 - uint32(bits)) & 63)), 0
}

// addresses returns the source and destination words the key and the
// printed record start from: with srcnet/dstnet the record's own masks
// are applied first, as nfdump does to its record in place.
func (s *Spec) addresses(r *flow.Record) (sh, sl, dh, dl uint64) {
	sh, sl = flow.AddrWords(r.SrcAddr)
	dh, dl = flow.AddrWords(r.DstAddr)
	if s.netbits&1 != 0 {
		sh, sl = netMask(sh, sl, r.SrcMask, r.IsIPv6())
	}
	if s.netbits&2 != 0 {
		dh, dl = netMask(dh, dl, r.DstMask, r.IsIPv6())
	}
	return
}

// customKey writes the -A key of r into b, field after field in table
// order: the addresses under their masks, every other field as the field
// table keys it (flow.Field.KeyValue), in the field's size.
func (s *Spec) customKey(b []byte, r *flow.Record) {
	sh, sl, dh, dl := s.addresses(r)
	le := binary.LittleEndian
	for i := range s.ops {
		o := &s.ops[i]
		switch o.kind {
		case keySrc:
			putAddr(b, sh&o.mask.hi, sl&o.mask.lo)
			b = b[16:]
		case keyDst:
			putAddr(b, dh&o.mask.hi, dl&o.mask.lo)
			b = b[16:]
		case keyAddr:
			hi, lo := flow.AddrWords(o.field.Addr(r))
			putAddr(b, hi, lo)
			b = b[16:]
		case keyNum1:
			b[0] = uint8(o.field.KeyValue(r))
			b = b[1:]
		case keyNum2:
			le.PutUint16(b, uint16(o.field.KeyValue(r)))
			b = b[2:]
		case keyNum4:
			le.PutUint32(b, uint32(o.field.KeyValue(r)))
			b = b[4:]
		case keyNum8:
			le.PutUint64(b, o.field.KeyValue(r))
			b = b[8:]
		case keyZero16:
			putAddr(b, 0, 0)
			b = b[16:]
		}
	}
}

// getNum reads a number field of the key, little-endian in b's size (an
// NSEL address godump's records do not hold reads as its low word).
func getNum(b []byte) uint64 {
	le := binary.LittleEndian
	switch len(b) {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(le.Uint16(b))
	case 4:
		return uint64(le.Uint32(b))
	case 8:
		return le.Uint64(b)
	case 16:
		return le.Uint64(b[8:])
	}
	return 0
}

// Order returns the entries in the order nfdump prints them: by the
// first-seen time of their key, ties in the order the keys were first
// seen.
func (t *Table) Order() []int32 {
	t.flush()
	out := make([]int32, t.n)
	if t.n == 0 {
		return out
	}
	lo, hi := t.at(0).first, t.at(0).first
	for i := int32(0); i < int32(t.n); i++ {
		f := t.at(i).first
		lo, hi = min(lo, f), max(hi, f)
	}
	if hi-lo >= 1<<32 || t.n >= 1<<31 {
		for i := range out {
			out[i] = int32(i)
		}
		slices.SortStableFunc(out, func(a, b int32) int {
			return cmp.Compare(t.at(a).first, t.at(b).first)
		})
		return out
	}
	// Time offset above, entry number below: a radix sort of the
	// offset bits, stable, keeps ties in entry order.
	v := make([]uint64, t.n)
	for i := range v {
		v[i] = (t.at(int32(i)).first-lo)<<32 | uint64(i)
	}
	radixSort(v, 32, 32+bits.Len64(hi-lo))
	for i, x := range v {
		out[i] = int32(uint32(x))
	}
	return out
}

// radixSort sorts v stably by bits [from, to) of its values, 8 bits a
// pass.
func radixSort(v []uint64, from, to int) {
	if from >= to {
		return
	}
	tmp := make([]uint64, len(v))
	src, dst := v, tmp
	for shift := from; shift < to; shift += 8 {
		var count [257]int
		for _, x := range src {
			count[(x>>uint(shift))&0xff+1]++
		}
		for i := 1; i < 257; i++ {
			count[i] += count[i-1]
		}
		for _, x := range src {
			d := (x >> uint(shift)) & 0xff
			dst[count[d]] = x
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &v[0] {
		copy(v, src)
	}
}

// Record builds entry i (from Order) as nfdump prints it into r. For -A,
// the fields outside the key are zero; for -B, flows that seem to run
// from server to client are turned around.
func (t *Table) Record(i int32, r *flow.Record) {
	e := t.at(i)
	var label uint32
	switch {
	case !t.full && !t.spec.custom:
		label = t.metas[e.ref].label
		t.spec.fiveRecord(r, e, t.keyAt(i), &t.metas[e.ref])
	case !t.full:
		label = t.metas[e.ref].label
		t.spec.keyRecord(r, e, t.keyAt(i), &t.metas[e.ref])
	case t.spec.custom:
		var f flow.Record
		label = t.recs.get(e.ref, &f)
		t.spec.maskedRecord(r, e, &f)
	default:
		label = t.recs.get(e.ref, r)
		t.spec.printRecord(r, e)
	}
	t.setLabel(r, label)
}

// WriteRecord builds entry i (from Order) as nfdump writes it with -w
// into r: the first flow with the sums, its fields not cleared even for
// -A (only the srcip4/N-style prefixes applied). The table must come from
// New.
func (t *Table) WriteRecord(i int32, r *flow.Record) {
	e := t.at(i)
	if !t.full {
		panic("aggregate: WriteRecord on a printing table")
	}
	label := t.recs.get(e.ref, r)
	t.spec.writeRecord(r, e)
	t.setLabel(r, label)
}

// Records returns the aggregated flows as Record builds them, in Order.
func (t *Table) Records() []flow.Record {
	t.flush()
	out := make([]flow.Record, t.n)
	for j, i := range t.Order() {
		t.Record(i, &out[j])
	}
	return out
}

// WriteRecords returns the aggregated flows as WriteRecord builds them,
// in Order.
func (t *Table) WriteRecords() []flow.Record {
	t.flush()
	out := make([]flow.Record, t.n)
	for j, i := range t.Order() {
		t.WriteRecord(i, &out[j])
	}
	return out
}

// sums puts the entry's sums on r.
func (e *entry) sums(r *flow.Record) {
	r.InPackets, r.InBytes = e.inPk, e.inBy
	r.OutPackets, r.OutBytes = e.outPk, e.outBy
	r.Flows = e.flows
	r.First, r.Last = e.first, e.last
	r.TCPFlags = e.inFlags
}

// printRecord turns the first flow in r into the record nfdump prints
// for -a, -b and -B.
func (s *Spec) printRecord(r *flow.Record, e *entry) {
	e.sums(r)
	r.RevTCPFlags = e.outFlags
	r.Elements |= flow.MarkReverseFlags
	if s.guess && needSwap(r) {
		turn(r)
	}
}

// turn turns a flow around for -B: addresses, ports, AS numbers,
// interfaces and counters swap sides.
func turn(r *flow.Record) {
	r.SrcAddr, r.DstAddr = r.DstAddr, r.SrcAddr
	r.SrcPort, r.DstPort = r.DstPort, r.SrcPort
	r.SrcAS, r.DstAS = r.DstAS, r.SrcAS
	r.Input, r.Output = r.Output, r.Input
	r.InPackets, r.OutPackets = r.OutPackets, r.InPackets
	r.InBytes, r.OutBytes = r.OutBytes, r.InBytes
}

// writeRecord builds the record nfdump writes with -w: the stored first
// flow with the sums, the -A prefixes and srcnet/dstnet applied, and -B's
// turn, which in the file also swaps the prefix lengths.
func (s *Spec) writeRecord(r *flow.Record, e *entry) {
	e.sums(r)
	misc := r.Elements.Has(flow.ElemMisc) || r.Elements == 0
	if misc {
		r.RevTCPFlags = e.outFlags
	}
	v6 := r.IsIPv6()
	if s.hasMasks || s.netbits != 0 && misc {
		sh, sl := flow.AddrWords(r.SrcAddr)
		dh, dl := flow.AddrWords(r.DstAddr)
		if s.hasMasks {
			sh, sl = sh&s.srcMask.hi, sl&s.srcMask.lo
			dh, dl = dh&s.dstMask.hi, dl&s.dstMask.lo
		}
		if misc && s.netbits&1 != 0 {
			sh, sl = netMask(sh, sl, r.SrcMask, v6)
		}
		if misc && s.netbits&2 != 0 {
			dh, dl = netMask(dh, dl, r.DstMask, v6)
		}
		r.SrcAddr, r.DstAddr = wordsAddr(sh, sl, v6), wordsAddr(dh, dl, v6)
	}
	if s.guess && needSwap(r) {
		turn(r)
		r.SrcMask, r.DstMask = r.DstMask, r.SrcMask
	}
}

// maskedRecord builds the record nfdump prints for an -A list: the sums,
// the times, the record's version and flags, and the key fields; every
// other field is zero, as nfdump's aggregation mask leaves it.
func (s *Spec) maskedRecord(r *flow.Record, e *entry, f *flow.Record) {
	*r = flow.Record{
		Elements:  f.Elements | flow.MarkMasked,
		NFVersion: f.NFVersion,
		Flags:     f.Flags,
	}
	e.sums(r)
	r.TCPFlags = 0
	a := &s.active
	v6 := f.IsIPv6()
	sh, sl, dh, dl := s.addresses(f)
	sh, sl = sh&s.srcMask.hi, sl&s.srcMask.lo
	dh, dl = dh&s.dstMask.hi, dl&s.dstMask.lo
	var keep mask128
	for _, id := range []fieldID{fSrcIP4, fSrcIP6, fSrcNet, fSrcIP} {
		if a[id] {
			keep.hi |= s.masks[id].hi
			keep.lo |= s.masks[id].lo
		}
	}
	r.SrcAddr = wordsAddr(sh&keep.hi, sl&keep.lo, v6)
	keep = mask128{}
	for _, id := range []fieldID{fDstIP4, fDstIP6, fDstNet, fDstIP} {
		if a[id] {
			keep.hi |= s.masks[id].hi
			keep.lo |= s.masks[id].lo
		}
	}
	r.DstAddr = wordsAddr(dh&keep.hi, dl&keep.lo, v6)
	r.IPNextHop = keepAddr(a[fNext], f.IPNextHop)
	r.BGPNextHop = keepAddr(a[fBGPNext], f.BGPNextHop)
	r.Exporter = keepAddr(a[fRouter], f.Exporter)
	// The other key fields keep what the key holds of them. nfdump
	// prints an ICMP type and code from fields the mask clears, so they
	// read 0.0 even when dstport is a key; the printers do that for a
	// record with flow.MarkMasked. csv and pipe print the port itself,
	// which the key keeps.
	for _, id := range s.fields {
		if fld := fieldTable[id].field; fld.Kind() != flow.KindAddr {
			fld.Set(r, fld.KeyValue(f))
		}
	}
}

// keepAddr returns a when keep is set and a zero address of its family
// otherwise: nfdump clears the address but keeps its family flag.
func keepAddr(keep bool, a netip.Addr) netip.Addr {
	if keep || !a.IsValid() {
		return a
	}
	return zeroLike(a)
}

// fiveRecord builds the record an -a, -b or -B table of NewPrintingKeys
// prints: the first flow's addresses, ports and protocol from the key
// (fiveTuple's layout), its header from the meta, the sums, as
// printRecord makes them; every other field is zero, which such a
// printer does not read.
func (s *Spec) fiveRecord(r *flow.Record, e *entry, key []uint64, m *meta) {
	*r = flow.Record{
		Elements:  m.elements,
		NFVersion: m.nfVersion,
		Flags:     m.flags,
		SrcAddr:   famAddr(uint64(m.src), key[0], key[1]),
		DstAddr:   famAddr(uint64(m.dst), key[2], key[3]),
		SrcPort:   uint16(key[4]),
		DstPort:   uint16(key[4] >> 16),
		Proto:     uint8(key[4] >> 32),
	}
	s.printRecord(r, e)
}

// keyRecord builds what maskedRecord builds, from the key words and the
// meta a printing table keeps instead of the first flow. Each key field
// holds the first flow's value as maskedRecord prints it, except the
// addresses: every source field holds the (srcnet-masked) address under
// its own mask, so their union is the address under the union of the
// masks, which maskedRecord then cuts with the printed prefix.
func (s *Spec) keyRecord(r *flow.Record, e *entry, key []uint64, m *meta) {
	var kb [320 + 8]byte
	le := binary.LittleEndian
	for j, v := range key {
		le.PutUint64(kb[j*8:], v)
	}
	*r = flow.Record{
		Elements:  m.elements | flow.MarkMasked,
		NFVersion: m.nfVersion,
		Flags:     m.flags,
	}
	e.sums(r)
	r.TCPFlags = 0
	r.IPNextHop = famAddr(uint64(m.next), 0, 0)
	r.BGPNextHop = famAddr(uint64(m.bgp), 0, 0)
	r.Exporter = famAddr(uint64(m.router), 0, 0)
	var sh, sl, dh, dl uint64
	b := kb[:]
	for _, id := range s.fields {
		info := &fieldTable[id]
		switch f := info.field; {
		case f == flow.FieldSrcAddr:
			sh |= le.Uint64(b)
			sl |= le.Uint64(b[8:])
		case f == flow.FieldDstAddr:
			dh |= le.Uint64(b)
			dl |= le.Uint64(b[8:])
		case f.Kind() == flow.KindAddr:
			f.SetAddr(r, famAddr(m.family(f), le.Uint64(b), le.Uint64(b[8:])))
		default:
			f.Set(r, getNum(b[:info.size]))
		}
		b = b[info.size:]
	}
	r.SrcAddr = wordsAddr(sh&s.srcMask.hi, sl&s.srcMask.lo, m.v6)
	r.DstAddr = wordsAddr(dh&s.dstMask.hi, dl&s.dstMask.lo, m.v6)
}
