// Package aggregate is godump's aggregation engine: the -a, -A, -b and -B
// tables that merge flows with the same key, and the -O sort orders that
// plain and aggregated listings share. It follows nfdump 1.7.1: counters
// are summed, TCP flags OR-ed, first is the earliest and last the latest
// time, and the first flow seen for a key supplies every other field.
package aggregate

import (
	"encoding/binary"
	"net/netip"
	"slices"

	"github.com/nfgo/nftools/flow"
)

// entry accumulates one key.
type entry struct {
	rec                      flow.Record // the first flow seen
	inPk, inBy, outPk, outBy uint64
	flows                    uint64
	first, last              uint64
	inFlags, outFlags        uint8
	seq                      int // insertion order, for stable output
}

// keyArray is the set of fixed key sizes; the smallest that holds a
// spec's key is used, so short keys hash quickly.
type keyArray interface {
	[40]byte | [128]byte | [320]byte
}

// index maps keys to entries. It is generic over the key size so that
// the map's key is a plain comparable array and a lookup allocates
// nothing.
type index[K keyArray] struct {
	m map[K]int32
}

func (x *index[K]) get(b []byte) (int32, bool) {
	var k K
	copyKey(&k, b)
	i, ok := x.m[k]
	return i, ok
}

func (x *index[K]) put(b []byte, i int32) {
	var k K
	copyKey(&k, b)
	x.m[k] = i
}

func copyKey[K keyArray](k *K, b []byte) {
	switch k := any(k).(type) {
	case *[40]byte:
		copy(k[:], b)
	case *[128]byte:
		copy(k[:], b)
	case *[320]byte:
		copy(k[:], b)
	}
}

type indexer interface {
	get(b []byte) (int32, bool)
	put(b []byte, i int32)
}

// Table aggregates flows for one Spec. It is not safe for concurrent use.
type Table struct {
	spec *Spec
	idx  indexer
	// blocks hold the entries, blockSize each, so that growing the table
	// never copies the entries already there.
	blocks [][]entry
	n      int
	key    [320]byte
	rkey   [320]byte
}

const blockBits = 10
const blockSize = 1 << blockBits

func (t *Table) at(i int32) *entry { return &t.blocks[i>>blockBits][i&(blockSize-1)] }

// New returns an empty table for spec.
func New(spec *Spec) *Table {
	t := &Table{spec: spec}
	switch {
	case spec.keyLen <= 40:
		t.idx = &index[[40]byte]{m: map[[40]byte]int32{}}
	case spec.keyLen <= 128:
		t.idx = &index[[128]byte]{m: map[[128]byte]int32{}}
	default:
		t.idx = &index[[320]byte]{m: map[[320]byte]int32{}}
	}
	return t
}

// Len returns the number of keys in the table.
func (t *Table) Len() int { return t.n }

// Add merges r into the table. It copies what it keeps, so r may be
// reused afterwards, and it allocates only when the table grows.
func (t *Table) Add(r *flow.Record) {
	s := t.spec
	k := t.key[:s.keyLen]
	if s.custom {
		s.customKey(k, r)
	} else {
		fiveTuple(k, r, false)
	}
	if i, ok := t.idx.get(k); ok {
		t.at(i).merge(r, false)
		return
	}
	if s.bidir && (r.Proto == flow.ProtoTCP || r.Proto == flow.ProtoUDP) {
		rk := t.rkey[:s.keyLen]
		fiveTuple(rk, r, true)
		if i, ok := t.idx.get(rk); ok {
			t.at(i).merge(r, true)
			return
		}
	}
	if t.n>>blockBits == len(t.blocks) {
		t.blocks = append(t.blocks, make([]entry, blockSize))
	}
	t.idx.put(k, int32(t.n))
	*t.at(int32(t.n)) = entry{
		rec:  *r,
		inPk: r.InPackets, inBy: r.InBytes, outPk: r.OutPackets, outBy: r.OutBytes,
		flows: r.AggrFlows(), first: r.First, last: r.Last, inFlags: r.TCPFlags,
		seq: t.n,
	}
	t.n++
}

// merge adds r to the entry; reverse puts r's counters and flags on the
// other direction, for the opposite flow of a -b pair.
func (e *entry) merge(r *flow.Record, reverse bool) {
	if reverse {
		e.outPk += r.InPackets
		e.outBy += r.InBytes
		e.inPk += r.OutPackets
		e.inBy += r.OutBytes
		e.outFlags |= r.TCPFlags
	} else {
		e.inPk += r.InPackets
		e.inBy += r.InBytes
		e.outPk += r.OutPackets
		e.outBy += r.OutBytes
		e.inFlags |= r.TCPFlags
	}
	e.first = min(e.first, r.First)
	e.last = max(e.last, r.Last)
	e.flows += r.AggrFlows()
}

// addrWords returns an address as nfdump keeps it in its master record:
// two words, IPv4 in the low 32 bits of the second.
func addrWords(a netip.Addr) (hi, lo uint64) {
	switch {
	case a.Is4():
		b := a.As4()
		return 0, uint64(binary.BigEndian.Uint32(b[:]))
	case a.IsValid():
		b := a.As16()
		return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	}
	return 0, 0
}

// wordsAddr is the inverse of addrWords for the family v6.
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
	sh, sl := addrWords(r.SrcAddr)
	dh, dl := addrWords(r.DstAddr)
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
	sh, sl = addrWords(r.SrcAddr)
	dh, dl = addrWords(r.DstAddr)
	if s.netbits&1 != 0 {
		sh, sl = netMask(sh, sl, r.SrcMask, r.IsIPv6())
	}
	if s.netbits&2 != 0 {
		dh, dl = netMask(dh, dl, r.DstMask, r.IsIPv6())
	}
	return
}

// mplsLabel returns what nfdump keys and keeps of MPLS entry i (0-based):
// its master record masks keep 12 label bits of the odd entries (mpls1,
// mpls3, ...) and the 20 label bits of the even ones.
func mplsLabel(r *flow.Record, i int) uint32 {
	if i%2 == 0 {
		return r.MPLS[i] & 0xfff0
	}
	return r.MPLS[i] & 0xfffff0
}

// customKey writes the -A key of r into b, field after field in table
// order.
func (s *Spec) customKey(b []byte, r *flow.Record) {
	sh, sl, dh, dl := s.addresses(r)
	le := binary.LittleEndian
	for _, id := range s.fields {
		m := s.masks[id]
		switch id {
		case fSrcIP4, fSrcIP6, fSrcNet, fSrcIP:
			putAddr(b, sh&m.hi, sl&m.lo)
		case fDstIP4, fDstIP6, fDstNet, fDstIP:
			putAddr(b, dh&m.hi, dl&m.lo)
		case fXSrcIP, fXDstIP:
			// NSEL translated addresses are not in godump's record
			// model; they are zero in every flow.
			putAddr(b, 0, 0)
		case fXSrcPort, fXDstPort:
			le.PutUint16(b, 0)
		case fNext:
			h, l := addrWords(r.IPNextHop)
			putAddr(b, h, l)
		case fBGPNext:
			h, l := addrWords(r.BGPNextHop)
			putAddr(b, h, l)
		case fRouter:
			h, l := addrWords(r.Exporter)
			putAddr(b, h, l)
		case fInSrcMAC:
			le.PutUint64(b, r.InSrcMAC)
		case fOutDstMAC:
			le.PutUint64(b, r.OutDstMAC)
		case fInDstMAC:
			le.PutUint64(b, r.InDstMAC)
		case fOutSrcMAC:
			le.PutUint64(b, r.OutSrcMAC)
		case fSrcAS:
			le.PutUint32(b, r.SrcAS)
		case fDstAS:
			le.PutUint32(b, r.DstAS)
		case fNextAS:
			le.PutUint32(b, r.NextAS)
		case fPrevAS:
			le.PutUint32(b, r.PrevAS)
		case fInIf:
			le.PutUint32(b, r.Input)
		case fOutIf:
			le.PutUint32(b, r.Output)
		case fSrcPort:
			le.PutUint16(b, r.SrcPort)
		case fDstPort:
			le.PutUint16(b, r.DstPort)
		case fSrcVLAN:
			le.PutUint16(b, uint16(r.SrcVLAN))
		case fDstVLAN:
			le.PutUint16(b, uint16(r.DstVLAN))
		case fSrcMask:
			b[0] = r.SrcMask
		case fDstMask:
			b[0] = r.DstMask
		case fProto:
			b[0] = r.Proto
		case fTos, fSrcTos:
			b[0] = r.SrcTos
		case fDstTos:
			b[0] = r.DstTos
		case fODID, fOPID:
			// Observation domain and point ids are not in the record
			// model; zero in every flow.
			b[0] = 0
		case fSrcGeo, fDstGeo:
			// Without a GeoIP database nfdump's country codes are
			// empty, so the field never splits a key.
			le.PutUint32(b, 0)
		default:
			if id >= fMPLS1 && id < fMPLS1+10 {
				le.PutUint32(b, mplsLabel(r, int(id-fMPLS1)))
			}
		}
		b = b[fieldTable[id].size:]
	}
}

// MaskedElements marks a record printed under an -A list: nfdump's
// aggregation mask clears the element list of the records it prints (but
// not its length), so the raw and json modes show only the record header,
// and its ICMP type and code, so the fmt modes show 0.0 while csv and pipe
// show the port. Element number 0 is never a real element, so its bit can
// carry the mark.
const MaskedElements = flow.Elements(1)

// ReverseFlags marks a record printed from an -a, -b or -B table: nfdump
// sets its reverse TCP flags to the flags of the flows merged in the
// opposite direction (none for -a), and -o raw prints them when they are
// not zero. For a record read from a file nfdump never prints them, so
// the printers need the mark to tell the two apart. Element numbers stop
// far below 63, so its bit can carry the mark.
const ReverseFlags = flow.Elements(1) << 63

// Records returns the aggregated flows as nfdump prints them, in the
// order their keys were first seen sorted by their first-seen time (ties
// in key order). For -A, the fields outside the key are zero; for -B,
// flows that seem to run from server to client are turned around.
func (t *Table) Records() []flow.Record {
	out := make([]flow.Record, t.n)
	for i, e := range t.sorted() {
		if t.spec.custom {
			t.spec.maskedRecord(&out[i], e)
		} else {
			t.spec.printRecord(&out[i], e)
		}
	}
	return out
}

// WriteRecords returns the aggregated flows as nfdump writes them with
// -w: the first flow with the sums, its fields not cleared even for -A
// (only the srcip4/N-style prefixes applied), in the order of Records.
func (t *Table) WriteRecords() []flow.Record {
	out := make([]flow.Record, t.n)
	for i, e := range t.sorted() {
		t.spec.writeRecord(&out[i], e)
	}
	return out
}

// sorted returns the entries by first-seen time, ties in insertion order.
func (t *Table) sorted() []*entry {
	es := make([]*entry, t.n)
	for i := range es {
		es[i] = t.at(int32(i))
	}
	slices.SortStableFunc(es, func(a, b *entry) int {
		switch {
		case a.first < b.first:
			return -1
		case a.first > b.first:
			return 1
		}
		return a.seq - b.seq
	})
	return es
}

// sums puts the entry's sums on r.
func (e *entry) sums(r *flow.Record) {
	r.InPackets, r.InBytes = e.inPk, e.inBy
	r.OutPackets, r.OutBytes = e.outPk, e.outBy
	r.Flows = e.flows
	r.First, r.Last = e.first, e.last
	r.TCPFlags = e.inFlags
}

// printRecord builds the record nfdump prints for -a, -b and -B.
func (s *Spec) printRecord(r *flow.Record, e *entry) {
	*r = e.rec
	e.sums(r)
	r.RevTCPFlags = e.outFlags
	r.Elements |= ReverseFlags
	if s.guess && needSwap(r) {
		r.SrcAddr, r.DstAddr = r.DstAddr, r.SrcAddr
		r.SrcPort, r.DstPort = r.DstPort, r.SrcPort
		r.SrcAS, r.DstAS = r.DstAS, r.SrcAS
		r.Input, r.Output = r.Output, r.Input
		r.InPackets, r.OutPackets = r.OutPackets, r.InPackets
		r.InBytes, r.OutBytes = r.OutBytes, r.InBytes
	}
}

// writeRecord builds the record nfdump writes with -w: the stored first
// flow with the sums, the -A prefixes and srcnet/dstnet applied, and -B's
// turn, which in the file also swaps the prefix lengths.
func (s *Spec) writeRecord(r *flow.Record, e *entry) {
	*r = e.rec
	e.sums(r)
	misc := r.Elements.Has(flow.ElemMisc) || r.Elements == 0
	if misc {
		r.RevTCPFlags = e.outFlags
	}
	v6 := r.IsIPv6()
	if s.hasMasks || s.netbits != 0 && misc {
		sh, sl := addrWords(r.SrcAddr)
		dh, dl := addrWords(r.DstAddr)
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
		r.SrcAddr, r.DstAddr = r.DstAddr, r.SrcAddr
		r.SrcPort, r.DstPort = r.DstPort, r.SrcPort
		r.SrcAS, r.DstAS = r.DstAS, r.SrcAS
		r.Input, r.Output = r.Output, r.Input
		r.SrcMask, r.DstMask = r.DstMask, r.SrcMask
		r.InPackets, r.OutPackets = r.OutPackets, r.InPackets
		r.InBytes, r.OutBytes = r.OutBytes, r.InBytes
	}
}

// maskedRecord builds the record nfdump prints for an -A list: the sums,
// the times, the record's version and flags, and the key fields; every
// other field is zero, as nfdump's aggregation mask leaves it.
func (s *Spec) maskedRecord(r *flow.Record, e *entry) {
	f := &e.rec
	*r = flow.Record{
		Elements:  f.Elements | MaskedElements,
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
	if a[fInSrcMAC] {
		r.InSrcMAC = f.InSrcMAC
	}
	if a[fOutDstMAC] {
		r.OutDstMAC = f.OutDstMAC
	}
	if a[fInDstMAC] {
		r.InDstMAC = f.InDstMAC
	}
	if a[fOutSrcMAC] {
		r.OutSrcMAC = f.OutSrcMAC
	}
	if a[fSrcAS] {
		r.SrcAS = f.SrcAS
	}
	if a[fDstAS] {
		r.DstAS = f.DstAS
	}
	if a[fNextAS] {
		r.NextAS = f.NextAS
	}
	if a[fPrevAS] {
		r.PrevAS = f.PrevAS
	}
	if a[fInIf] {
		r.Input = f.Input
	}
	if a[fOutIf] {
		r.Output = f.Output
	}
	for i := 0; i < 10; i++ {
		if a[fMPLS1+fieldID(i)] {
			r.MPLS[i] = mplsLabel(f, i)
		}
	}
	if a[fSrcPort] {
		r.SrcPort = f.SrcPort
	}
	// nfdump prints an ICMP type and code from fields the mask clears,
	// so they read 0.0 even when dstport is a key; the printers do that
	// for a record with MaskedElements. csv and pipe print the port
	// itself, which the key keeps.
	if a[fDstPort] {
		r.DstPort = f.DstPort
	}
	if a[fSrcVLAN] {
		r.SrcVLAN = uint32(uint16(f.SrcVLAN))
	}
	if a[fDstVLAN] {
		r.DstVLAN = uint32(uint16(f.DstVLAN))
	}
	if a[fSrcMask] {
		r.SrcMask = f.SrcMask
	}
	if a[fDstMask] {
		r.DstMask = f.DstMask
	}
	if a[fProto] {
		r.Proto = f.Proto
	}
	if a[fTos] || a[fSrcTos] {
		r.SrcTos = f.SrcTos
	}
	if a[fDstTos] {
		r.DstTos = f.DstTos
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
