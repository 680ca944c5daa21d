package netflow

// v9Header fills the header of a v9 datagram b holding records template
// and data records (RFC 3954 section 5.1). The sequence number counts
// datagrams, and sysUpTime runs from boot to the export time's whole
// second, the one the header carries: a collector computes the boot time
// as unixSecs*1000 - sysUpTime and gets boot back exactly.
func (e *templateEncoder) v9Header(b []byte, now, boot uint64, records int) {
	putU16(b, 9)
	putU16(b[2:], uint16(records))
	putU32(b[4:], uint32(now-now%1000-boot))
	putU32(b[8:], uint32(now/1000))
	putU32(b[12:], e.seq)
	putU32(b[16:], e.cfg.SourceID)
	e.seq++
}
