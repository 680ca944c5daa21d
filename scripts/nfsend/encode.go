package main

import "encoding/binary"

var be = binary.BigEndian

// templateID is the one data template every stream announces.
const templateID = 256

// field is one field of the template: its information element and length.
type field struct{ ie, length uint16 }

// v9Template: what a NetFlow v9 router typically exports for IPv4
// (RFC 3954 section 8 names): 35 bytes a record.
var v9Template = []field{
	{8, 4},  // IPV4_SRC_ADDR
	{12, 4}, // IPV4_DST_ADDR
	{7, 2},  // L4_SRC_PORT
	{11, 2}, // L4_DST_PORT
	{4, 1},  // PROTOCOL
	{6, 1},  // TCP_FLAGS
	{5, 1},  // SRC_TOS
	{2, 4},  // IN_PKTS
	{1, 4},  // IN_BYTES
	{22, 4}, // FIRST_SWITCHED (sysUpTime msec)
	{21, 4}, // LAST_SWITCHED (sysUpTime msec)
	{10, 2}, // INPUT_SNMP
	{14, 2}, // OUTPUT_SNMP
}

// ipfixTemplate: the same flows in IPFIX (RFC 7012 names), with 64-bit
// counters and absolute millisecond times: 55 bytes a record.
var ipfixTemplate = []field{
	{8, 4},   // sourceIPv4Address
	{12, 4},  // destinationIPv4Address
	{7, 2},   // sourceTransportPort
	{11, 2},  // destinationTransportPort
	{4, 1},   // protocolIdentifier
	{6, 1},   // tcpControlBits (reduced-size encoding)
	{5, 1},   // ipClassOfService
	{2, 8},   // packetDeltaCount
	{1, 8},   // octetDeltaCount
	{152, 8}, // flowStartMilliseconds
	{153, 8}, // flowEndMilliseconds
	{10, 4},  // ingressInterface
	{14, 4},  // egressInterface
}

// v5Record: NetFlow v5's fixed record of 48 bytes (srcaddr dstaddr nexthop
// input output dPkts dOctets first last srcport dstport pad1 tcp_flags prot
// tos src_as dst_as src_mask dst_mask pad2), the same flows without a
// template; dOctets is at byte 20.
const (
	v5RecLen   = 48
	v5BytesOff = 20
	v5MaxFlows = 30 // what a v5 header's count may say
)

// Header sizes.
const (
	v5HeaderLen    = 24 // version count sysUptime unixSecs unixNsecs sequence engineType engineID sampling
	v9HeaderLen    = 20 // version count sysUptime unixSecs sequence sourceID
	ipfixHeaderLen = 16 // version length exportTime sequence observationDomain
	setHeaderLen   = 4  // flowset/set id and length
)

// encoder builds the datagrams of one protocol. The variable parts of a
// datagram (sequence number, header times, the per-pass byte count) are
// patched in place before each send, so the datagrams are built once.
type encoder struct {
	version  int // 5, 9 or 10
	fields   []field
	recLen   int
	bytesOff int // offset of the byte counter in a record
	bytesLen int
	bootMsec uint64 // v9: the exporter's boot time, origin of sysUpTime
}

func newEncoder(version int, c content) *encoder {
	e := &encoder{version: version, fields: v9Template}
	switch version {
	case 10:
		e.fields = ipfixTemplate
	case 5:
		e.fields = nil
		e.recLen, e.bytesOff, e.bytesLen = v5RecLen, v5BytesOff, 4
	}
	for _, f := range e.fields {
		if f.ie == 1 {
			e.bytesOff, e.bytesLen = e.recLen, int(f.length)
		}
		e.recLen += int(f.length)
	}
	// The exporter booted a day before the flows: sysUpTime stays well
	// inside 32 bits (49 days) and every flow starts after the boot.
	e.bootMsec = c.baseMsec - 24*3600*1000
	return e
}

func (e *encoder) headerLen() int {
	switch e.version {
	case 10:
		return ipfixHeaderLen
	case 5:
		return v5HeaderLen
	}
	return v9HeaderLen
}

// setLen is the bytes before the records that follow the header: a data
// flowset's or set's header, none in v5.
func (e *encoder) setLen() int {
	if e.version == 5 {
		return 0
	}
	return setHeaderLen
}

// header writes a message header without the varying parts. For v9, count
// is the number of records (template and data) in the datagram; v5 tells
// its exporters apart by the engine id, which is the domain.
func (e *encoder) header(b []byte, domain uint32, count int) []byte {
	if e.version == 5 {
		b = be.AppendUint16(b, 5)
		b = be.AppendUint16(b, uint16(count))
		b = be.AppendUint32(b, 0) // sysUptime
		b = be.AppendUint32(b, 0) // unix secs
		b = be.AppendUint32(b, 0) // unix nsecs
		b = be.AppendUint32(b, 0) // flow sequence
		b = append(b, 0, byte(domain))
		return be.AppendUint16(b, 0) // not sampled
	}
	if e.version == 10 {
		b = be.AppendUint16(b, 10)
		b = be.AppendUint16(b, 0) // length, set in finish
		b = be.AppendUint32(b, 0) // export time
		b = be.AppendUint32(b, 0) // sequence
		return be.AppendUint32(b, domain)
	}
	b = be.AppendUint16(b, 9)
	b = be.AppendUint16(b, uint16(count))
	b = be.AppendUint32(b, 0) // sysUptime
	b = be.AppendUint32(b, 0) // unix secs
	b = be.AppendUint32(b, 0) // sequence
	return be.AppendUint32(b, domain)
}

// finish sets the IPFIX message length.
func (e *encoder) finish(b []byte) []byte {
	if e.version == 10 {
		be.PutUint16(b[2:], uint16(len(b)))
	}
	return b
}

// templateDatagram is a datagram holding only the template.
func (e *encoder) templateDatagram(domain uint32) []byte {
	b := e.header(make([]byte, 0, 128), domain, 1)
	setID := uint16(0) // v9 template flowset
	if e.version == 10 {
		setID = 2 // IPFIX template set
	}
	b = be.AppendUint16(b, setID)
	b = be.AppendUint16(b, uint16(setHeaderLen+4+4*len(e.fields)))
	b = be.AppendUint16(b, templateID)
	b = be.AppendUint16(b, uint16(len(e.fields)))
	for _, f := range e.fields {
		b = be.AppendUint16(b, f.ie)
		b = be.AppendUint16(b, f.length)
	}
	return e.finish(b)
}

// dataDatagram is a datagram holding flows in one data flowset or set,
// padded to 32 bits as RFC 3954 asks (RFC 7011 allows it).
func (e *encoder) dataDatagram(domain uint32, flows []flowVals) []byte {
	if e.version == 5 {
		b := e.header(make([]byte, 0, v5HeaderLen+len(flows)*v5RecLen), domain, len(flows))
		for i := range flows {
			b = e.record(b, &flows[i])
		}
		return b
	}
	n := len(flows) * e.recLen
	pad := (4 - n%4) % 4
	b := e.header(make([]byte, 0, e.headerLen()+setHeaderLen+n+pad), domain, len(flows))
	b = be.AppendUint16(b, templateID)
	b = be.AppendUint16(b, uint16(setHeaderLen+n+pad))
	for i := range flows {
		b = e.record(b, &flows[i])
	}
	b = append(b, make([]byte, pad)...)
	return e.finish(b)
}

// record appends one data record in template order.
func (e *encoder) record(b []byte, f *flowVals) []byte {
	if e.version == 5 {
		b = append(b, f.Src[:]...)
		b = append(b, f.Dst[:]...)
		b = be.AppendUint32(b, 0) // next hop
		b = be.AppendUint16(b, uint16(f.Input))
		b = be.AppendUint16(b, uint16(f.Output))
		b = be.AppendUint32(b, uint32(f.Packets))
		b = be.AppendUint32(b, uint32(f.Bytes))
		b = be.AppendUint32(b, uint32(f.First-e.bootMsec))
		b = be.AppendUint32(b, uint32(f.Last-e.bootMsec))
		b = be.AppendUint16(b, f.SrcPort)
		b = be.AppendUint16(b, f.DstPort)
		b = append(b, 0, f.TCPFlags, f.Proto, f.Tos)
		return append(b, 0, 0, 0, 0, 0, 0, 0, 0) // AS numbers, masks, padding
	}
	b = append(b, f.Src[:]...)
	b = append(b, f.Dst[:]...)
	b = be.AppendUint16(b, f.SrcPort)
	b = be.AppendUint16(b, f.DstPort)
	b = append(b, f.Proto, f.TCPFlags, f.Tos)
	if e.version == 10 {
		b = be.AppendUint64(b, f.Packets)
		b = be.AppendUint64(b, f.Bytes)
		b = be.AppendUint64(b, f.First)
		b = be.AppendUint64(b, f.Last)
		b = be.AppendUint32(b, f.Input)
		return be.AppendUint32(b, f.Output)
	}
	b = be.AppendUint32(b, uint32(f.Packets))
	b = be.AppendUint32(b, uint32(f.Bytes))
	b = be.AppendUint32(b, uint32(f.First-e.bootMsec))
	b = be.AppendUint32(b, uint32(f.Last-e.bootMsec))
	b = be.AppendUint16(b, uint16(f.Input))
	return be.AppendUint16(b, uint16(f.Output))
}

// stamp sets the sequence number and the header times of a datagram about
// to be sent. v9's sysUptime is derived from the whole seconds it sends,
// so that a collector's boot time (unixSecs*1000 - sysUptime) is exactly
// the exporter's and the flow times decode to what was encoded.
func (e *encoder) stamp(b []byte, seq uint32, unixSecs uint32) {
	if e.version == 5 {
		be.PutUint32(b[4:], uint32(uint64(unixSecs)*1000-e.bootMsec))
		be.PutUint32(b[8:], unixSecs)
		be.PutUint32(b[16:], seq)
		return
	}
	if e.version == 10 {
		be.PutUint32(b[4:], unixSecs)
		be.PutUint32(b[8:], seq)
		return
	}
	be.PutUint32(b[4:], uint32(uint64(unixSecs)*1000-e.bootMsec))
	be.PutUint32(b[8:], unixSecs)
	be.PutUint32(b[12:], seq)
}

// bump adds one to the byte counter of every record of a data datagram of
// n flows: the next pass through the ring.
func (e *encoder) bump(b []byte, n int) {
	off := e.headerLen() + e.setLen() + e.bytesOff
	for i := 0; i < n; i, off = i+1, off+e.recLen {
		if e.bytesLen == 8 {
			be.PutUint64(b[off:], be.Uint64(b[off:])+1)
		} else {
			be.PutUint32(b[off:], be.Uint32(b[off:])+1)
		}
	}
}
