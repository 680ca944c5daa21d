package netflow

// ipfixHeader fills the header of an IPFIX message b holding data data
// records (RFC 7011 section 3.1): its length, the export time in seconds,
// and the sequence number, which counts the data records sent before this
// message. Flow times travel as absolute milliseconds
// (flowStartMilliseconds, flowEndMilliseconds), so no uptime is needed.
func (e *templateEncoder) ipfixHeader(b []byte, now uint64, data int) {
	putU16(b, 10)
	putU16(b[2:], uint16(len(b)))
	putU32(b[4:], uint32(now/1000))
	putU32(b[8:], e.seq)
	putU32(b[12:], e.cfg.SourceID)
	e.seq += uint32(data)
}
