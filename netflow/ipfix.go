package netflow

import (
	"encoding/binary"
)

// IPFIX (RFC 7011).
//
// header:  version(2)=10 length(2) exportTime(4) sequence(4) observationDomain(4)
// set:     id(2) length(2) content
//
//	id 2:  templates:         { templateID(2) fieldCount(2) { ie(2) length(2) [enterprise(4)] }... }...
//	       withdrawals:       { templateID(2) 0(2) }...
//	id 3:  options template:  templateID(2) fieldCount(2) scopeFieldCount(2) { ie(2) length(2) [enterprise(4)] }...
//	id>255 data records, variable-length fields with a 1 or 3 byte length
const ipfixHeaderLen = 16

// ipfixHeader takes what an IPFIX header says of exporter e
// (decodeTemplated checked its length): its sequence number. IPFIX counts
// data records: a datagram must start where the previous one's records
// ended. Like nfcapd, no failure before the first data.
func (d *Decoder) ipfixHeader(e *exporter, pkt []byte) {
	if seq := binary.BigEndian.Uint32(pkt[8:]); seq != e.ipfixSeq {
		if e.dataFlowsets != 0 {
			e.seqFailures++
			d.counters.SequenceFailures++
		}
		e.ipfixSeq = seq
	}
}

// ipfixLookup is nfcapd's LookupElement for IPFIX. nfcapd passes the
// enterprise number on as 16 bits, so only its low half counts.
func ipfixLookup(typ uint16, enterprise uint16) (ie, bool) {
	switch enterprise {
	case 0:
	case 6871: // CERT (YAF) payloads
		switch typ {
		case 18:
			typ = localInPayload
		case 16402:
			typ = localOutPayload
		default:
			return ie{}, false
		}
	case reverseEnterpriseNo:
		if r, ok := ipfixReverse[typ]; ok {
			typ = r
		}
	default:
		return ie{}, false
	}
	x, ok := ipfixFields[typ]
	return x, ok
}

// ipfixSpecLen returns the length of the count field specifiers at the
// start of p, enterprise numbers included, or 0 when they run past its end.
func ipfixSpecLen(p []byte, count int) int {
	n := 0
	for range count {
		if len(p)-n < 4 {
			return 0
		}
		l := 4
		if p[n]&0x80 != 0 {
			l = 8
		}
		if len(p)-n < l {
			return 0
		}
		n += l
	}
	return n
}

// ipfixField compiles a field of type typ (enterprise bit cleared) of
// enterprise ent and length bytes; known is false for a field nfcapd
// does not map, but for a sub-template list.
func ipfixField(typ, ent, length uint16) (f field, known bool) {
	f = field{inLen: length}
	if x, ok := ipfixLookup(typ, ent); ok {
		f.ie = x
		return f, true
	}
	f.skip = true
	if ent == 0 && (typ == ieSubTemplateList || typ == ieSubTemplateMultiList) {
		f.sub = typ
		return f, true
	}
	return f, false
}

// ipfixWithdraw withdraws the templates of a withdrawal set b (ids with
// a field count of 0); id 2 withdraws all.
func (d *Decoder) ipfixWithdraw(e *exporter, b []byte) {
	for ; len(b) >= 4; b = b[4:] {
		if id := binary.BigEndian.Uint16(b); id == 2 {
			d.dropTemplates(e)
		} else {
			d.dropTemplate(e, id)
		}
	}
}

// ipfixOptionTemplate decodes an IPFIX options template, whose header
// counts its fields and, of them, the scope fields.
func (d *Decoder) ipfixOptionTemplate(e *exporter, b []byte) error {
	be := binary.BigEndian
	if len(b) < 6 {
		return d.fail(e, e.key.addr, 10, ReasonOptionTemplate, "%d bytes", len(b))
	}
	id, count, scopes := be.Uint16(b), int(be.Uint16(b[2:])), int(be.Uint16(b[4:]))
	if scopes == 0 {
		return d.fail(e, e.key.addr, 10, ReasonOptionTemplate, "template %d: no scope field", id)
	}
	p := b[6:]
	if len(p) < 4*count {
		return d.fail(e, e.key.addr, 10, ReasonOptionTemplate, "template %d: %d fields need %d bytes, have %d", id, count, 4*count, len(p))
	}
	return d.optionFields(e, id, p, count, scopes, 10)
}
