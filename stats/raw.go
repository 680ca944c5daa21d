package stats

import (
	"encoding/binary"

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
}

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
	return p, true
}

// AddRaw counts the record rec, stored as the layout of plan p says, as
// Add counts it decoded. rec holds the whole record.
func (t *Table) AddRaw(p *RawPlan, rec []byte) {
	var c flowCounts
	p.counts(rec, &c)
	t.addKeys(p, rec, &c)
}

// AddRawAll counts the record rec into each of tables with its plan
// (plans[i] is tables[i]'s for rec's layout), as AddRaw does into each,
// reading the counters once: the lab's -s srcip -s dstip -s proto counts
// every flow into three tables.
func AddRawAll(tables []*Table, plans []RawPlan, rec []byte) {
	if len(tables) == 0 {
		return
	}
	var c flowCounts
	plans[0].counts(rec, &c)
	for i, t := range tables {
		t.addKeys(&plans[i], rec, &c)
	}
}

// counts reads what rec adds to the rows of its keys into c, field by
// field: a flowCounts returned by value was copied 16 bytes at a time
// from the 8 each field was stored with, and every copy waited for the
// stores to reach the cache (a failed store forward), which cost more than
// the rest of counting a flow.
func (p *RawPlan) counts(rec []byte, c *flowCounts) {
	c.first = le.Uint64(rec[p.first:])
	c.last = le.Uint64(rec[p.last:])
	c.inPackets = le.Uint64(rec[p.inPackets:])
	c.inBytes = le.Uint64(rec[p.inBytes:])
	c.flows = 1
	if p.flows != 0 {
		c.flows = max(le.Uint64(rec[p.flows:]), 1) // flow.Record.AggrFlows
	}
	c.outPackets, c.outBytes = 0, 0
	if p.outPackets != 0 {
		c.outPackets = le.Uint64(rec[p.outPackets:])
		c.outBytes = le.Uint64(rec[p.outBytes:])
	}
}

// addKeys adds c to the rows of rec's keys.
func (t *Table) addKeys(p *RawPlan, rec []byte, c *flowCounts) {
	var proto uint8
	if p.proto != 0 {
		proto = rec[p.proto]
	}
	switch t.fast {
	case fastSrcIP, fastDstIP:
		hi, lo, v6 := rawAddr(rec, p.key[0], p.fam[0])
		t.countHash(hi, lo, proto, v6, c)
	case fastIP:
		hi, lo, v6 := rawAddr(rec, p.key[0], p.fam[0])
		t.countHash(hi, lo, proto, v6, c)
		hi, lo, v6 = rawAddr(rec, p.key[1], p.fam[1])
		t.countHash(hi, lo, proto, v6, c)
	case fastSrcPort, fastDstPort:
		t.countHash(0, uint64(le.Uint16(rec[p.key[0]:])), proto, false, c)
	case fastPort:
		t.countHash(0, uint64(le.Uint16(rec[p.key[0]:])), proto, false, c)
		t.countHash(0, uint64(le.Uint16(rec[p.key[1]:])), proto, false, c)
	case fastProto:
		t.countProto(rec[p.key[0]], proto, c)
	}
}

var le = binary.LittleEndian

// rawAddr is the key of the address stored at off as fam says (see
// flow.Layout), as addrKey makes it of the decoded address.
func rawAddr(rec []byte, off uint16, fam uint8) (hi, lo uint64, v6 bool) {
	switch fam {
	case 4:
		return 0, uint64(le.Uint32(rec[off:])), false
	case 6:
		return le.Uint64(rec[off:]), le.Uint64(rec[off+8:]), true
	}
	return 0, 0, false
}
