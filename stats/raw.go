package stats

import (
	"encoding/binary"
	"unsafe"

	"github.com/nfgo/nftools/flow"
)

// Counting a decoded flow costs the decoding of every element the table
// reads: addresses become netip.Addr values only to be taken apart again
// into the table's key, and the record is written and read back. For the
// common elements a Table can count a record from its bytes instead: a
// RawPlan says, for the records of one layout, where the key, the protocol
// and the counters sit, and AddRaw reads them there. The reader asks for a
// plan once for each layout it meets (flowfile.RawVisitor).

// RawPlan is where a Table finds what it counts in the bytes of records of
// one layout (flow.Layout).
type RawPlan struct {
	// key are the offsets of the element's one or two values (addresses,
	// ports or the protocol), fam their address family (4, 6, or 0 for
	// a number); an address the record does not carry has offset 0 and
	// counts as the key 0.
	key [2]uint16
	fam [2]uint8
	// proto is the protocol's offset, for a protocol split.
	proto uint16
	// The generic element's times and in counters, and the counter
	// element's flows (0 stands for 1) and out counters; 0 when the
	// records do not carry them.
	first, last, inPackets, inBytes uint16
	flows, outPackets, outBytes     uint16
	// kind is how addKeys finds the keys; end is how many bytes a
	// record of the layout holds at least: every offset above plus the
	// width read there, so that one check of a record's length covers
	// all its reads.
	kind rawKind
	end  uint16
}

// rawKind is how a plan's keys are read. The common elements without a
// protocol split have small keys (see smallFlag), read and found without
// the general key's steps; any other plan takes them as Table.Add does.
type rawKind uint8

const (
	rawGeneral  rawKind = iota
	rawV4               // one IPv4 address
	rawV4Pair           // two IPv4 addresses (ip)
	rawPort             // one port
	rawPortPair         // two ports (port)
	rawProto            // the protocol (proto, always split by itself)
)

// Plan returns the table's plan for records stored as l says, whose
// aggregated flow count sits at flows (0: the records carry none, each is
// one flow), and false when the table counts such records only decoded:
// elements other than the common ones (see fastFields), and records
// without the generic element (the times, in counters, ports and
// protocol), which no usual file has.
func (t *Table) Plan(l *flow.Layout, flows uint16) (RawPlan, bool) {
	if t.fast == fastNone || l.Off[flow.FieldFirst] == 0 {
		return RawPlan{}, false
	}
	p := RawPlan{
		first: l.Off[flow.FieldFirst], last: l.Off[flow.FieldLast],
		inPackets: l.Off[flow.FieldInPackets], inBytes: l.Off[flow.FieldInBytes],
		flows: flows, outPackets: l.Off[flow.FieldOutPackets], outBytes: l.Off[flow.FieldOutBytes],
	}
	if t.spec.ProtoSplit {
		p.proto = l.Off[flow.FieldProto]
	}
	for i, f := range t.spec.Element.fields {
		p.key[i], p.fam[i] = l.Off[f], l.Fam[f]
	}
	p.kind = rawGeneral
	switch t.fast {
	case fastSrcIP, fastDstIP:
		if p.fam[0] == 4 && !t.spec.ProtoSplit {
			p.kind = rawV4
		}
	case fastIP:
		if p.fam[0] == 4 && p.fam[1] == 4 && !t.spec.ProtoSplit {
			p.kind = rawV4Pair
		}
	case fastSrcPort, fastDstPort:
		if !t.spec.ProtoSplit {
			p.kind = rawPort
		}
	case fastPort:
		if !t.spec.ProtoSplit {
			p.kind = rawPortPair
		}
	case fastProto:
		p.kind = rawProto
	}
	p.end = p.need()
	return p, true
}

// need is how many bytes a record must hold for every read of p.
func (p *RawPlan) need() uint16 {
	end := max(p.first, p.last, p.inPackets, p.inBytes, p.flows, p.outPackets, p.outBytes) + 8
	end = max(end, p.proto+1)
	for i, off := range p.key {
		switch {
		case p.fam[i] == 6:
			end = max(end, off+16)
		case p.fam[i] == 4:
			end = max(end, off+4)
		default:
			end = max(end, off+2) // a port, or the protocol
		}
	}
	return end
}

// AddRaw counts the record rec, stored as the layout of plan p says, as
// Add counts it decoded. rec holds the whole record.
//
// An IPv4 address or a port without a protocol split, the keys of
// godump's usual -s, are small keys (see smallFlag), counted here: the
// counters are read from the record as they are added, which saves
// storing them and loading them again, and a caller's loop makes one
// call a record. The probe is countSmall's, written out. Under callgrind
// BenchmarkAddRawHome/1 took 183 instructions a flow instead of 232
// through AddRawAll's loops and the counters stored apart, and 201 with
// the probe a function of its own.
func (t *Table) AddRaw(p *RawPlan, rec []byte) {
	base := rawBase(p, rec)
	var v uint32
	switch p.kind {
	case rawV4:
		v = ld32(base, p.key[0])
	case rawPort:
		v = uint32(ld16(base, p.key[0]))
	default:
		var c flowCounts
		p.counts(base, &c)
		t.addKeys(p, base, &c)
		return
	}
	if t.log {
		t.logRaw(p, base, v)
		return
	}
	h := smallHash(v)
	tag := h&^(1<<32-1) | smallFlag
	pos, _ := t.idx.Home(h)
	first, last := ld64(base, p.first), ld64(base, p.last)
	var i uint32
	for s := t.idx.Slot(pos); ; pos, s = t.idx.Next(pos) {
		if s&^entryMask == tag {
			i = uint32(s)&entryMask - 1
			break
		}
		if s == 0 {
			i, _ = t.insert(pos, h, tag, 0, uint64(v), 0, first, last)
			break
		}
	}
	ch, j := t.chunks[i>>rowBits], i&(rowChunk-1)
	w := &ch.rows[j]
	flows := uint64(1)
	if p.flows != 0 {
		flows = max(ld64(base, p.flows), 1) // flow.Record.AggrFlows
	}
	w.flows += flows
	w.inPackets += ld64(base, p.inPackets)
	w.inBytes += ld64(base, p.inBytes)
	w.first = min(w.first, first)
	w.last = max(w.last, last)
	if p.outPackets != 0 {
		if op, ob := ld64(base, p.outPackets), ld64(base, p.outBytes); op|ob != 0 {
			w.meta |= metaOut
			o := &ch.outs[j]
			o.packets += op
			o.bytes += ob
		}
	}
}

// logRaw is logRow for the record at base, of small key v: its counters
// go from the record to the row, as AddRaw adds them, not through a
// flowCounts.
func (t *Table) logRaw(p *RawPlan, base unsafe.Pointer, v uint32) {
	i := uint32(t.n)
	if t.n>>rowBits == len(t.chunks) {
		t.addChunk()
	}
	ch, j := t.chunks[i>>rowBits], i&(rowChunk-1)
	w := &ch.rows[j]
	w.hi, w.lo = 0, uint64(v)
	w.meta = (t.next & seenMask) << seenShift
	w.flows = 1
	if p.flows != 0 {
		w.flows = max(ld64(base, p.flows), 1) // flow.Record.AggrFlows
	}
	w.inPackets, w.inBytes = ld64(base, p.inPackets), ld64(base, p.inBytes)
	w.first, w.last = ld64(base, p.first), ld64(base, p.last)
	t.n++
	t.next++
	out := false
	if p.outPackets != 0 {
		if op, ob := ld64(base, p.outPackets), ld64(base, p.outBytes); op|ob != 0 {
			// Reset cleared the out counters of the rows it emptied.
			w.meta |= metaOut
			ch.outs[j] = outCounter{packets: op, bytes: ob}
			out = true
		}
	}
	h := smallHash(v)
	part := partOf(h, len(t.byPart))
	t.byPart[part] = append(t.byPart[part], newHashRow(h, i, true, out))
}

// rawBase returns where rec, a record of plan p's layout, starts, having
// checked that it holds every read of p, which then go without bounds
// checks: checked one by one, they were a third of counting a flow. A
// record of the plan's layout holds them (the reader makes the layout
// from a record of the same shape and size).
func rawBase(p *RawPlan, rec []byte) unsafe.Pointer {
	if len(rec) < int(p.end) {
		panic("stats: a record is shorter than its layout")
	}
	return unsafe.Pointer(unsafe.SliceData(rec))
}

// AddRawAll counts the record rec into each of tables with its plan
// (plans[i] is tables[i]'s for rec's layout), as AddRaw does into each,
// reading the counters once: the lab's -s srcip -s dstip -s proto counts
// every flow into three tables.
func AddRawAll(tables []*Table, plans []RawPlan, rec []byte) {
	switch len(tables) {
	case 0:
		return
	case 1:
		tables[0].AddRaw(&plans[0], rec)
		return
	}
	plans = plans[:len(tables)]
	var base unsafe.Pointer
	for i := range plans {
		base = rawBase(&plans[i], rec)
	}
	var c flowCounts
	plans[0].counts(base, &c)
	for i, t := range tables {
		t.addKeys(&plans[i], base, &c)
	}
}

// ld64, ld32, ld16 and ld8 read the little-endian number at off in the
// record at base, whose length the caller checked.
func ld64(base unsafe.Pointer, off uint16) uint64 {
	return le.Uint64((*[8]byte)(unsafe.Add(base, off))[:])
}

func ld32(base unsafe.Pointer, off uint16) uint32 {
	return le.Uint32((*[4]byte)(unsafe.Add(base, off))[:])
}

func ld16(base unsafe.Pointer, off uint16) uint16 {
	return le.Uint16((*[2]byte)(unsafe.Add(base, off))[:])
}

func ld8(base unsafe.Pointer, off uint16) uint8 { return *(*uint8)(unsafe.Add(base, off)) }

// counts reads what the record at base adds to the rows of its keys into
// c, field by field: a flowCounts returned by value was copied 16 bytes
// at a time from the 8 each field was stored with, and every copy waited
// for the stores to reach the cache (a failed store forward), which cost
// more than the rest of counting a flow.
func (p *RawPlan) counts(base unsafe.Pointer, c *flowCounts) {
	c.first = ld64(base, p.first)
	c.last = ld64(base, p.last)
	c.inPackets = ld64(base, p.inPackets)
	c.inBytes = ld64(base, p.inBytes)
	c.flows = 1
	if p.flows != 0 {
		c.flows = max(ld64(base, p.flows), 1) // flow.Record.AggrFlows
	}
	c.outPackets, c.outBytes = 0, 0
	if p.outPackets != 0 {
		c.outPackets = ld64(base, p.outPackets)
		c.outBytes = ld64(base, p.outBytes)
	}
}

// addKeys adds c to the rows of the keys of the record at base.
func (t *Table) addKeys(p *RawPlan, base unsafe.Pointer, c *flowCounts) {
	switch p.kind {
	case rawV4:
		t.countSmall(ld32(base, p.key[0]), c)
		return
	case rawV4Pair:
		t.countSmall(ld32(base, p.key[0]), c)
		t.countSmall(ld32(base, p.key[1]), c)
		return
	case rawPort:
		t.countSmall(uint32(ld16(base, p.key[0])), c)
		return
	case rawPortPair:
		t.countSmall(uint32(ld16(base, p.key[0])), c)
		t.countSmall(uint32(ld16(base, p.key[1])), c)
		return
	}
	var proto uint8
	if p.proto != 0 {
		proto = ld8(base, p.proto)
	}
	switch t.fast {
	case fastSrcIP, fastDstIP:
		hi, lo, v6 := rawAddr(base, p.key[0], p.fam[0])
		t.countHash(hi, lo, proto, v6, c)
	case fastIP:
		hi, lo, v6 := rawAddr(base, p.key[0], p.fam[0])
		t.countHash(hi, lo, proto, v6, c)
		hi, lo, v6 = rawAddr(base, p.key[1], p.fam[1])
		t.countHash(hi, lo, proto, v6, c)
	case fastSrcPort, fastDstPort:
		t.countHash(0, uint64(ld16(base, p.key[0])), proto, false, c)
	case fastPort:
		t.countHash(0, uint64(ld16(base, p.key[0])), proto, false, c)
		t.countHash(0, uint64(ld16(base, p.key[1])), proto, false, c)
	case fastProto:
		t.countProto(ld8(base, p.key[0]), proto, c)
	}
}

var le = binary.LittleEndian

// rawAddr is the key of the address stored at off as fam says (see
// flow.Layout), as addrKey makes it of the decoded address.
func rawAddr(base unsafe.Pointer, off uint16, fam uint8) (hi, lo uint64, v6 bool) {
	switch fam {
	case 4:
		return 0, uint64(ld32(base, off)), false
	case 6:
		return ld64(base, off), ld64(base, off+8), true
	}
	return 0, 0, false
}
