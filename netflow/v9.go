package netflow

import "encoding/binary"

// NetFlow v9 (RFC 3954).
//
// header:   version(2) count(2) sysUptime(4) unixSecs(4) sequence(4) sourceID(4)
// flowset:  id(2) length(2) content
//
//	id 0:   templates:        { templateID(2) fieldCount(2) { type(2) length(2) }... }...
//	id 1:   options template: templateID(2) scopeLen(2) optionLen(2) { type(2) length(2) }...
//	id>255: data records of that template, padded to 4 bytes
const v9HeaderLen = 20

// v9Header takes what a v9 header says of exporter e (decodeTemplated
// checked its length): the boot time and the datagram's sequence number.
func (d *Decoder) v9Header(e *exporter, pkt []byte) {
	be := binary.BigEndian
	e.bootTime = 1000*uint64(be.Uint32(pkt[8:])) - uint64(be.Uint32(pkt[4:]))
	d.checkSequence(e, be.Uint32(pkt[12:]), 1)
}

// v9OptionTemplate decodes a v9 options template, whose header gives the
// scope and option fields' lengths in bytes.
func (d *Decoder) v9OptionTemplate(e *exporter, b []byte) error {
	be := binary.BigEndian
	if len(b) < 6 {
		return d.fail(e, e.key.addr, 9, ReasonOptionTemplate, "%d bytes", len(b))
	}
	id, scopeLen, optLen := be.Uint16(b), int(be.Uint16(b[2:])), int(be.Uint16(b[4:]))
	if scopeLen&3 != 0 || optLen&3 != 0 {
		return d.fail(e, e.key.addr, 9, ReasonOptionTemplate, "template %d: scope length %d or option length %d not a multiple of 4", id, scopeLen, optLen)
	}
	if 6+scopeLen+optLen > len(b) {
		return d.fail(e, e.key.addr, 9, ReasonOptionTemplate, "template %d: %d bytes of fields, %d left", id, scopeLen+optLen, len(b)-6)
	}
	return d.optionFields(e, id, b[6:], (scopeLen+optLen)/4, scopeLen/4, 9)
}
