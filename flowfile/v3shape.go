package flowfile

import (
	"math"
	"unsafe"

	"github.com/nfgo/nftools/flow"
)

// A collector writes the flows of one template with the same elements in
// the same order, so a file holds a handful of record layouts, each many
// thousand times. Checking each element header of each record on its own
// (decodeV3) costs more than decompressing the record; a v3Decoder instead
// remembers the layouts it has seen as shapes. A record whose size,
// element count and element headers (one 32-bit compare each) equal a
// shape's is valid exactly as that shape's first record was, and its
// wanted elements sit at the shape's offsets: it is decoded without
// walking it. Any other record goes through decodeV3, which checks it and,
// when it is good, adds its shape.

// maxShapes bounds the shapes a decoder keeps. A file of many templates
// (a border router's exporters send IPv4 and IPv6, NetFlow v9 and IPFIX)
// holds a dozen or so; beyond that the oldest is replaced.
const maxShapes = 16

// v3Shape is the element layout of one kind of V3 record.
type v3Shape struct {
	key     uint32                          // the record's size and element count (bytes 2 to 5)
	n       int                             // elements
	hdr     [flow.MaxElementsPerFlow]uint32 // each element's header word, as loaded (see matches)
	off     [flow.MaxElementsPerFlow]uint16 // and its offset in the record
	elems   flow.Elements                   // the modeled elements present
	skipped int                             // elements this package does not model
	// The offsets of the generic and the counter element (the last one
	// of each, as decoding lets the last win), 0 for none: what
	// flow.Totals reads.
	generic, counters int
	// The elements the decoder wants, in record order (an element that
	// repeats is decoded each time, as decodeV3 does), and where their
	// values start and end.
	nwant   int
	wantID  [flow.MaxElementsPerFlow]uint8
	wantOff [flow.MaxElementsPerFlow][2]uint16
	raw     rawShape // selecting from the bytes (rawselect.go)
	visit   rawVisit // a RawVisitor's plan for the shape's records
}

// rawVisit is what a shape holds for a RawVisitor: its plan for the
// shape's records, once asked for.
type rawVisit struct {
	asked bool
	plan  any
}

// v3Decoder decodes V3 records with the shapes it learned. Each reader
// goroutine that decodes owns one; the zero value is not usable (see
// newV3Decoder's want).
type v3Decoder struct {
	want flow.Elements
	n    int // shapes in use
	next int // the shape to replace when all are in use
	// byKey finds a shape by its key's hash: the number (plus one) of the
	// shape last learned with a key of that hash. Records of several
	// templates come interleaved, so the shape of the previous record is
	// seldom the next one's.
	byKey [1 << keyBits]uint8
	// byKey2 is the shape that held byKey's place before it, tried
	// second: two templates of the same key and first element (IPv4
	// flows with and without a later element, say) take turns there, and
	// a record of the other one walked every shape.
	byKey2 [1 << keyBits]uint8
	shapes [maxShapes]v3Shape
	acc    shapeSums // sumTotals' sums, in memory
}

// keyBits is the size of v3Decoder.byKey's hash.
const keyBits = 8

// recordHash hashes a record's key and its first element's header into
// v3Decoder.byKey: templates of the same record size and element count are
// common (IPv4 flows of NetFlow v9 and of IPFIX), and by their key alone
// they would take each other's place there. The caller has checked that
// b holds a V3 record header.
func recordHash(b []byte) uint32 {
	h := le.Uint32(b[2:])
	if len(b) >= v3HeaderSize+elemHdrSize {
		h ^= le.Uint32(b[v3HeaderSize:]) * 0x85ebca6b
	}
	return h * 0x9e3779b1 >> (32 - keyBits)
}

// reset readies d for records decoded with want, forgetting its shapes.
func (d *v3Decoder) reset(want flow.Elements) {
	d.want, d.n, d.next = want, 0, 0
	d.byKey = [1 << keyBits]uint8{}
	d.byKey2 = [1 << keyBits]uint8{}
}

// matches reports whether record b (whose size field is len(b)) has s's
// layout. The caller has compared the keys, so b is as long as the record
// s was learned from, and every header offset of s lies inside b: the
// headers are read without bounds checks, which took half the time of
// matching a record of a dozen elements. They are compared as the machine
// loads them, as learn stored them.
//
// The records of a file's templates come interleaved, so a loop over each
// shape's own number of headers would end at a place the branch predictor
// cannot guess (a home-shaped file changes shape at 9 of 10 records, and
// finding shapes took 20 ns a record, as long as decompressing one). The
// first fastHeaders headers are compared in one expression instead: a
// shape of fewer elements repeats its record key there (learn), which
// the caller already found equal.
func (s *v3Shape) matches(b []byte) bool {
	p := unsafe.Pointer(unsafe.SliceData(b))
	h, o := &s.hdr, &s.off
	x := (*(*uint32)(unsafe.Add(p, o[0])) ^ h[0]) |
		(*(*uint32)(unsafe.Add(p, o[1])) ^ h[1]) |
		(*(*uint32)(unsafe.Add(p, o[2])) ^ h[2]) |
		(*(*uint32)(unsafe.Add(p, o[3])) ^ h[3]) |
		(*(*uint32)(unsafe.Add(p, o[4])) ^ h[4]) |
		(*(*uint32)(unsafe.Add(p, o[5])) ^ h[5]) |
		(*(*uint32)(unsafe.Add(p, o[6])) ^ h[6]) |
		(*(*uint32)(unsafe.Add(p, o[7])) ^ h[7])
	if x != 0 {
		return false
	}
	for i := fastHeaders; i < s.n; i++ {
		if *(*uint32)(unsafe.Add(p, o[i])) != h[i] {
			return false
		}
	}
	return true
}

// fastHeaders is the number of element headers matches compares without
// a loop.
const fastHeaders = 8

// decode is decodeV3 for r, the same result and error. The caller has
// checked that len(b) is the record's size field, and r holds what the
// previous decode into it left, as decodeV3 requires.
func (d *v3Decoder) decode(b []byte, r *flow.Record) (skipped int, err error) {
	if s := d.find(b); s != nil {
		return d.decodeShape(s, b, r), nil
	}
	skipped, err = decodeV3(b, r, d.want)
	if err == nil {
		d.learn(b, skipped)
	}
	return skipped, err
}

// find returns the shape of record b (whose size field is len(b)), or nil
// for a record of no known shape.
func (d *v3Decoder) find(b []byte) *v3Shape {
	if len(b) < v3HeaderSize {
		return nil
	}
	key := le.Uint32(b[2:])
	h := recordHash(b)
	if i := d.byKey[h]; i > 0 {
		if s := &d.shapes[i-1]; s.key == key && s.matches(b) {
			return s
		}
	}
	if i := d.byKey2[h]; i > 0 {
		if s := &d.shapes[i-1]; s.key == key && s.matches(b) {
			return s
		}
	}
	// Two templates of the same size and element count, or a hash
	// shared by two keys.
	for i := 0; i < d.n; i++ {
		if s := &d.shapes[i]; s.key == key && s.matches(b) {
			d.place(h, i)
			return s
		}
	}
	return nil
}

// place makes shape i the first try for hash h (byKey), and the one there
// the second (byKey2).
func (d *v3Decoder) place(h uint32, i int) {
	if old := d.byKey[h]; old != uint8(i+1) {
		d.byKey2[h], d.byKey[h] = old, uint8(i+1)
	}
}

// total counts record b, which has s's layout, into t, as decoding it and
// t.Add would, from its bytes.
func (s *v3Shape) total(b []byte, t *flow.Totals) {
	// As in matches, b is as long as the record s was learned from, whose
	// elements decodeV3 checked: they are read without bounds checks.
	gp, cp := s.sumElements(unsafe.Pointer(unsafe.SliceData(b)))
	t.AddCounts(le.Uint64(gp[0:]), le.Uint64(gp[8:]),
		max(le.Uint64(cp[0:]), 1), // flow.Record.AggrFlows
		le.Uint64(gp[24:])+le.Uint64(cp[8:]), le.Uint64(gp[32:])+le.Uint64(cp[16:]))
}

// sumShaped counts into t, as total does, the V3 records at the start of
// b that have shapes d knows, at most n of them; with a visitor v it also
// hands each to v, from its bytes when v is a RawVisitor with a plan for
// the shape, otherwise decoded into rec. It stops at the first record
// that is not one (nor a complete record header), which the caller takes
// the long way, and returns how many records it counted, the bytes they
// took and the elements they hold that this package does not model.
//
// It runs at every flow record of -o null, -s and the aggregations, so
// find's first try, matches and total are written out in its loop (on the
// home-shaped benchmark archive's blocks, held in the cache, a record took
// 8% less time without a visitor than with the calls: CPU time of 40
// passes, median of 6). The sums live in memory (v3Decoder.acc), as in
// sumTotals: in local variables, the visitor's call had them saved and
// loaded again at each record, and godump -s srcip/bytes over the first
// file of the border and home benchmark archives executed 324 M and 194 M
// instructions (callgrind), now 321 M and 190 M. Without a visitor it is
// sumTotals.
func (d *v3Decoder) sumShaped(b []byte, n uint32, t *flow.Totals, rec *flow.Record, v BlockVisitor) (count uint32, used int, skipped uint64) {
	if v == nil {
		return d.sumTotals(b, n, t)
	}
	rv, _ := v.(RawVisitor)
	// The sums in memory, as in sumTotals: the visitor's call would
	// have them saved and loaded again at every record.
	acc := &d.acc
	*acc = shapeSums{first: math.MaxUint64}
	for count < n && len(b)-used >= v3HeaderSize {
		r := b[used:]
		size := int(le.Uint16(r[2:]))
		if le.Uint16(r) != recV3 || size > len(r) || size < v3HeaderSize {
			break
		}
		r = r[:size]
		// find's first try, with matches written out for the shapes of
		// up to fastHeaders elements: a call here would have the loop's
		// sums saved to memory and loaded again at every record.
		// The key (the record's size among it) is compared first: only
		// then are the shape's header offsets inside r, and a short
		// record at a block's end is not read past.
		x := uint32(1)
		var s *v3Shape
		if i := d.byKey[recordHash(r)]; i > 0 && d.shapes[i-1].key == le.Uint32(r[2:]) {
			s = &d.shapes[i-1]
			p := unsafe.Pointer(unsafe.SliceData(r))
			h, o := &s.hdr, &s.off
			x = (*(*uint32)(unsafe.Add(p, o[0])) ^ h[0]) |
				(*(*uint32)(unsafe.Add(p, o[1])) ^ h[1]) |
				(*(*uint32)(unsafe.Add(p, o[2])) ^ h[2]) |
				(*(*uint32)(unsafe.Add(p, o[3])) ^ h[3]) |
				(*(*uint32)(unsafe.Add(p, o[4])) ^ h[4]) |
				(*(*uint32)(unsafe.Add(p, o[5])) ^ h[5]) |
				(*(*uint32)(unsafe.Add(p, o[6])) ^ h[6]) |
				(*(*uint32)(unsafe.Add(p, o[7])) ^ h[7])
		}
		if x != 0 || s.n > fastHeaders && !s.matches(r) {
			// Another shape of the same key, or a record of none.
			if s = d.find(r); s == nil {
				break
			}
		}
		// As in total: r is as long as the record s was learned from.
		base := unsafe.Pointer(unsafe.SliceData(r))
		gp, cp := s.sumElements(base)
		acc.first = min(acc.first, le.Uint64(gp[0:]))
		acc.last = max(acc.last, le.Uint64(gp[8:]))
		acc.packets += le.Uint64(gp[24:]) + le.Uint64(cp[8:])
		acc.bytes += le.Uint64(gp[32:]) + le.Uint64(cp[16:])
		acc.flows += max(le.Uint64(cp[0:]), 1) // flow.Record.AggrFlows
		if v != nil {
			// visitShaped's common way, a plan known, written out: the
			// call took 25 instructions a record of godump -s.
			if rv != nil && s.visit.plan != nil {
				rv.FlowRaw(s.visit.plan, r)
			} else {
				d.visitShaped(s, r, rec, v, rv)
			}
		}
		acc.skipped += uint64(s.skipped)
		count++
		used += size
	}
	acc.addTo(t, count)
	return count, used, acc.skipped
}

// sumTotals is sumShaped without a visitor (godump -o null). The records
// whose shape is the first try for their hash, of up to fastHeaders
// elements, are summed by sumQuick, whose loop calls nothing; any other
// record takes find's way here, between two of sumQuick's runs. sumQuick
// keeps the sums in memory (v3Decoder.acc), added to in place, and walks
// the block by a pointer: the loop has more values live than the machine
// has registers. With find and matches called in the loop itself, every
// value live across the calls was saved and loaded again at each record
// (and each pointer made a slice was checked for wrapping around): reading
// the first file of each benchmark archive (250 000 records, twice,
// callgrind) took 142 instructions a record on border and 146 on home,
// now 116 and 122. godump -o null took 0.979 of the CPU time over the
// border archive (median of 30 paired runs, load 5) and 0.970 over home
// (20 pairs).
func (d *v3Decoder) sumTotals(b []byte, n uint32, t *flow.Totals) (count uint32, used int, skipped uint64) {
	acc := &d.acc
	*acc = shapeSums{first: math.MaxUint64}
	for {
		c, next := d.sumQuick(b, used, n-count)
		count += c
		used = next
		if count == n || len(b)-used < v3HeaderSize {
			break
		}
		// A record of another shape of its key, one of no shape known,
		// or not a V3 record at all: find's own way.
		r := b[used:]
		size := int(le.Uint16(r[2:]))
		if le.Uint16(r) != recV3 || size > len(r) || size < v3HeaderSize {
			break
		}
		s := d.find(r[:size])
		if s == nil {
			break
		}
		gp, cp := s.sumElements(unsafe.Pointer(unsafe.SliceData(r)))
		acc.first = min(acc.first, le.Uint64(gp[0:]))
		acc.last = max(acc.last, le.Uint64(gp[8:]))
		acc.packets += le.Uint64(gp[24:]) + le.Uint64(cp[8:])
		acc.bytes += le.Uint64(gp[32:]) + le.Uint64(cp[16:])
		acc.flows += max(le.Uint64(cp[0:]), 1) // flow.Record.AggrFlows
		acc.skipped += uint64(s.skipped)
		count++
		used += size
	}
	acc.addTo(t, count)
	return count, used, acc.skipped
}

// sumQuick adds to d.acc the records from b[at:] on, at most n, up to the
// first that is not a V3 record inside b whose shape is the first try for
// its hash, of up to fastHeaders elements, and returns how many it added
// and where the record after them starts. It calls nothing.
func (d *v3Decoder) sumQuick(b []byte, at int, n uint32) (count uint32, next int) {
	acc := &d.acc
	p := unsafe.Pointer(unsafe.SliceData(b))
	rest := len(b) - at
	p = unsafe.Add(p, at)
	size := 0 // the record before's
	for ; count < n && rest-size >= v3HeaderSize; count++ {
		// Moved on here, where rest says the record is inside b, p
		// never points past b's end.
		p = unsafe.Add(p, size)
		rest -= size
		// The record's type and size, and its size and element count
		// (the shape's key), read as find reads them.
		word := *(*uint32)(p)
		size = int(word >> 16)
		if uint16(word) != recV3 || size > rest || size < v3HeaderSize {
			size = 0
			break
		}
		key := *(*uint32)(unsafe.Add(p, 2))
		h := key
		if size >= v3HeaderSize+elemHdrSize {
			h ^= *(*uint32)(unsafe.Add(p, v3HeaderSize)) * 0x85ebca6b
		}
		i := d.byKey[h*0x9e3779b1>>(32-keyBits)] - 1
		if i >= maxShapes {
			size = 0
			break
		}
		s := &d.shapes[i]
		if s.key != key {
			size = 0
			break
		}
		// The key is equal, so the record is as long as the one s was
		// learned from, and s's header offsets lie inside it.
		hd, o := &s.hdr, &s.off
		x := (*(*uint32)(unsafe.Add(p, o[0])) ^ hd[0]) |
			(*(*uint32)(unsafe.Add(p, o[1])) ^ hd[1]) |
			(*(*uint32)(unsafe.Add(p, o[2])) ^ hd[2]) |
			(*(*uint32)(unsafe.Add(p, o[3])) ^ hd[3]) |
			(*(*uint32)(unsafe.Add(p, o[4])) ^ hd[4]) |
			(*(*uint32)(unsafe.Add(p, o[5])) ^ hd[5]) |
			(*(*uint32)(unsafe.Add(p, o[6])) ^ hd[6]) |
			(*(*uint32)(unsafe.Add(p, o[7])) ^ hd[7])
		if x != 0 || s.n > fastHeaders {
			size = 0
			break
		}
		gp, cp := s.sumElements(p)
		acc.first = min(acc.first, le.Uint64(gp[0:]))
		acc.last = max(acc.last, le.Uint64(gp[8:]))
		acc.packets += le.Uint64(gp[24:]) + le.Uint64(cp[8:])
		acc.bytes += le.Uint64(gp[32:]) + le.Uint64(cp[16:])
		acc.flows += max(le.Uint64(cp[0:]), 1) // flow.Record.AggrFlows
		acc.skipped += uint64(s.skipped)
	}
	return count, len(b) - rest + size
}

// shapeSums are sumTotals' sums.
type shapeSums struct {
	first, last, flows, packets, bytes, skipped uint64
}

// addTo adds the sums of count records to t (nothing for none: their
// first would be MaxUint64).
func (acc *shapeSums) addTo(t *flow.Totals, count uint32) {
	if count > 0 {
		t.Merge(&flow.Totals{First: acc.first, Last: acc.last, Records: uint64(count),
			Flows: acc.flows, Packets: acc.packets, Bytes: acc.bytes})
	}
}

// sumElements returns the generic and counter elements' fields of a
// record of shape s at base, or zeroElement for the one it lacks. Small
// enough to be inlined: sumShaped and selectShaped keep their sums in
// registers through it.
func (s *v3Shape) sumElements(base unsafe.Pointer) (*[48]byte, *[24]byte) {
	g := unsafe.Pointer(&zeroElement)
	if s.generic > 0 {
		g = unsafe.Add(base, s.generic+elemHdrSize)
	}
	c := unsafe.Pointer(&zeroElement)
	if s.counters > 0 {
		c = unsafe.Add(base, s.counters+elemHdrSize)
	}
	return (*[48]byte)(g), (*[24]byte)(c)
}

// zeroElement stands for the generic or counter element a record lacks
// (sumShaped): its fields read as 0.
var zeroElement [48]byte

// visitShaped hands b, a record of shape s, to v: to rv (v as a
// RawVisitor, or nil) from its bytes when it has a plan for the shape,
// asking it the first time, otherwise decoded into rec.
func (d *v3Decoder) visitShaped(s *v3Shape, b []byte, rec *flow.Record, v BlockVisitor, rv RawVisitor) {
	if rv != nil {
		if plan := s.rawPlan(rv, b); plan != nil {
			rv.FlowRaw(plan, b)
			return
		}
	}
	d.decodeShape(s, b, rec)
	v.Flow(rec)
}

// decodeShape decodes b, which has s's layout.
func (d *v3Decoder) decodeShape(s *v3Shape, b []byte, r *flow.Record) int {
	prev := r.Elements & d.want
	r.EngineType = b[6]
	r.EngineID = b[7]
	r.ExporterID = le.Uint16(b[8:])
	r.Flags = b[10]
	r.NFVersion = b[11]
	for i, id := range s.wantID[:s.nwant] {
		off := &s.wantOff[i]
		decodeElement(int(id), b[off[0]:off[1]], r)
	}
	r.Elements = s.elems
	clearStale(r, prev, s.elems, d.want)
	return s.skipped
}

// flowsAt returns the offset of the stored flow count in records of shape
// s, 0 for none: the layout has no place for it (flow.Layout).
func (s *v3Shape) flowsAt() uint16 {
	if s.counters == 0 {
		return 0
	}
	for _, p := range flow.V3Places(flow.ElemCounters) {
		if p.Field == flow.FieldFlows {
			return uint16(s.counters+elemHdrSize) + uint16(p.Off)
		}
	}
	return 0
}

// learn adds the shape of b, a record decodeV3 found good.
func (d *v3Decoder) learn(b []byte, skipped int) {
	i := d.n
	if i == maxShapes {
		i = d.next
		d.next = (d.next + 1) % maxShapes
	} else {
		d.n++
	}
	s := &d.shapes[i]
	s.key = le.Uint32(b[2:])
	s.n, s.elems, s.skipped, s.nwant = 0, 0, skipped, 0
	s.generic, s.counters = 0, 0
	s.raw = rawShape{}
	s.visit = rawVisit{}
	for off := v3HeaderSize; off < len(b); {
		id := int(le.Uint16(b[off:]))
		s.hdr[s.n] = *(*uint32)(unsafe.Pointer(&b[off]))
		s.off[s.n] = uint16(off)
		s.n++
		switch id {
		case flow.ElemGeneric:
			s.generic = off
		case flow.ElemCounters:
			s.counters = off
		}
		l := int(le.Uint16(b[off+2:]))
		if uint(id-1) < flow.MaxModeledElement || id == flow.ElemLabel {
			// A flow label (EXlabel) is part of the shape too: its
			// header holds its length.
			s.elems |= 1 << uint(id)
			if d.want&(1<<uint(id)) != 0 {
				s.wantID[s.nwant] = uint8(id)
				s.wantOff[s.nwant] = [2]uint16{uint16(off + elemHdrSize), uint16(off + l)}
				s.nwant++
			}
		}
		off += l
	}
	for k := s.n; k < fastHeaders; k++ {
		// The record key, at its place: equal in every record that
		// matches holds the key (see matches).
		s.hdr[k] = *(*uint32)(unsafe.Pointer(&b[2]))
		s.off[k] = 2
	}
	d.place(recordHash(b), i)
}
