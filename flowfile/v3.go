package flowfile

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"

	"github.com/nfgo/nftools/flow"
)

// Record types inside blocks (shared/notes/nffile-v2.md section 3).
const (
	recExporterInfo = 7
	recExporterStat = 8
	recV3           = flow.V3RecordType
	recSampler      = 15
	recIdent        = 0x8001
	recStat         = 0x8002

	v3HeaderSize = flow.V3HeaderSize
	elemHdrSize  = flow.V3ElemHeaderSize
)

// elemLen is the on-disk length (with its 4-byte header) of each element
// this package decodes (flow.ElemSize), as an int for slicing.
var elemLen = func() (l [flow.MaxModeledElement + 1]int) {
	for id, n := range flow.ElemSize {
		l[id] = int(n)
	}
	return l
}()

var le = binary.LittleEndian

// addr4 turns nfdump's host-order IPv4 number into an address.
func addr4(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// addr6 reads nfdump's two-halves IPv6 layout: each half is the big-endian
// number of 8 address bytes, stored little-endian.
func addr6(b []byte) netip.Addr {
	var a [16]byte
	binary.BigEndian.PutUint64(a[0:], le.Uint64(b[0:]))
	binary.BigEndian.PutUint64(a[8:], le.Uint64(b[8:]))
	return netip.AddrFrom16(a)
}

func putAddr4(b []byte, a netip.Addr) {
	if !a.Is4() {
		le.PutUint32(b, 0)
		return
	}
	v := a.As4()
	le.PutUint32(b, binary.BigEndian.Uint32(v[:]))
}

func putAddr6(b []byte, a netip.Addr) {
	v := a.As16() // zero for an invalid address; v4 becomes v4-mapped
	if !a.IsValid() {
		v = [16]byte{}
	}
	le.PutUint64(b[0:], binary.BigEndian.Uint64(v[0:]))
	le.PutUint64(b[8:], binary.BigEndian.Uint64(v[8:]))
}

// allElements selects every element this package decodes.
const allElements = ^flow.Elements(0)

// pairedElements are the element pairs that fill the same fields, an IPv4
// and an IPv6 variant each: 2 and 3, 8 and 9, 10 and 11, 12 and 13, so an
// element's partner is id^1.
const pairedElements = flow.Elements(1<<flow.ElemIPv4 | 1<<flow.ElemIPv6 |
	1<<flow.ElemBGPNextHopV4 | 1<<flow.ElemBGPNextHopV6 |
	1<<flow.ElemIPNextHopV4 | 1<<flow.ElemIPNextHopV6 |
	1<<flow.ElemExporterIPv4 | 1<<flow.ElemExporterIPv6)

// decodeV3 decodes a V3 record (header included) into r. It returns the
// number of elements it skipped because this package does not model them.
// The caller has checked that len(b) is the record's size field.
//
// r must hold what the previous decodeV3 into it left (or be the zero
// Record): instead of clearing the whole Record (some 330 bytes) for every
// flow, only the fields of elements r carried before and b does not carry
// are cleared. want selects the elements whose fields are decoded; the
// others are checked and listed in r.Elements but their fields stay zero.
// On an error r is the zero Record.
func decodeV3(b []byte, r *flow.Record, want flow.Elements) (skipped int, err error) {
	if len(b) < v3HeaderSize {
		*r = flow.Record{}
		return 0, fmt.Errorf("V3 record of %d bytes is shorter than its header", len(b))
	}
	n := int(le.Uint16(b[4:]))
	if n > flow.MaxElementsPerFlow {
		*r = flow.Record{}
		return 0, fmt.Errorf("V3 record has %d elements, at most %d allowed", n, flow.MaxElementsPerFlow)
	}
	prev := r.Elements & want
	r.EngineType = b[6]
	r.EngineID = b[7]
	r.ExporterID = le.Uint16(b[8:])
	r.Flags = b[10]
	r.NFVersion = b[11]
	var now flow.Elements
	off := v3HeaderSize
	for i := 0; i < n; i++ {
		if off+elemHdrSize > len(b) {
			*r = flow.Record{}
			return skipped, fmt.Errorf("V3 element %d runs past the record (%d bytes)", i, len(b))
		}
		id := int(le.Uint16(b[off:]))
		l := int(le.Uint16(b[off+2:]))
		if l < elemHdrSize || off+l > len(b) {
			*r = flow.Record{}
			return skipped, fmt.Errorf("V3 element %d (type %d) has bad length %d", i, id, l)
		}
		if uint(id-1) >= flow.MaxModeledElement {
			if id == flow.ElemLabel {
				now |= 1 << flow.ElemLabel
				if want.Has(flow.ElemLabel) {
					decodeElement(id, b[off+elemHdrSize:off+l], r)
				}
			} else {
				skipped++
			}
			off += l
			continue
		}
		if l != elemLen[id] {
			*r = flow.Record{}
			return skipped, fmt.Errorf("V3 element type %d has length %d, want %d", id, l, elemLen[id])
		}
		now |= 1 << uint(id)
		if want&(1<<uint(id)) != 0 {
			decodeElement(id, b[off+elemHdrSize:off+l], r)
		}
		off += l
	}
	if off != len(b) {
		*r = flow.Record{}
		return skipped, fmt.Errorf("V3 record size %d not equal to the sum of its elements %d", len(b), off)
	}
	r.Elements = now
	clearStale(r, prev, now, want)
	return skipped, nil
}

// clearStale zeroes the fields of the wanted elements r carried before
// (prev) and carries no longer (now), except where an element's partner
// filled the same fields.
func clearStale(r *flow.Record, prev, now, want flow.Elements) {
	for stale := prev &^ now; stale != 0; stale &= stale - 1 {
		id := bits.TrailingZeros64(uint64(stale))
		if pairedElements.Has(id) && (now & want).Has(id^1) {
			continue // its partner filled the shared fields
		}
		clearElement(id, r)
	}
}

// The element decoder and encoder below write out flow.V3Places, the one
// table of where each field sits, by hand: they run per flow. A loop over
// the table (each place's Record field found by its offset in the Record,
// a switch on its width) decoded 1.37 times as slow through the reader's
// shapes and 1.40 times walking each record (BenchmarkDecodeV3Shapes,
// BenchmarkDecodeV3), and encoded 1.58 times as slow (BenchmarkEncodeV3),
// in CPU time, medians of 7 paired runs. TestV3EncodeAtTablePlaces and
// TestV3DecodeFromTablePlaces hold them (and clearElement) to the table
// for every field.

// decodeElement decodes the payload p (the element without its header) of
// element id, whose length decodeV3 has checked. Each case turns p into an
// array pointer first, so the field reads need no bounds checks.
func decodeElement(id int, p []byte, r *flow.Record) {
	switch id {
	case flow.ElemLabel:
		// Of any length: the label and its NUL byte.
		r.Label = labelOf(p)
	case flow.ElemGeneric:
		p := (*[48]byte)(p)
		r.First = le.Uint64(p[0:])
		r.Last = le.Uint64(p[8:])
		r.Received = le.Uint64(p[16:])
		r.InPackets = le.Uint64(p[24:])
		r.InBytes = le.Uint64(p[32:])
		r.SrcPort = le.Uint16(p[40:])
		r.DstPort = le.Uint16(p[42:])
		r.Proto = p[44]
		r.TCPFlags = p[45]
		r.FwdStatus = p[46]
		r.SrcTos = p[47]
	case flow.ElemIPv4:
		p := (*[8]byte)(p)
		r.SrcAddr = addr4(le.Uint32(p[0:]))
		r.DstAddr = addr4(le.Uint32(p[4:]))
	case flow.ElemIPv6:
		p := (*[32]byte)(p)
		r.SrcAddr = addr6(p[0:])
		r.DstAddr = addr6(p[16:])
	case flow.ElemMisc:
		p := (*[16]byte)(p)
		r.Input = le.Uint32(p[0:])
		r.Output = le.Uint32(p[4:])
		r.SrcMask = p[8]
		r.DstMask = p[9]
		r.Dir = p[10]
		r.DstTos = p[11]
		r.BiFlowDir = p[12]
		r.EndReason = p[13]
		r.RevTCPFlags = p[14]
	case flow.ElemCounters:
		p := (*[24]byte)(p)
		r.Flows = le.Uint64(p[0:])
		r.OutPackets = le.Uint64(p[8:])
		r.OutBytes = le.Uint64(p[16:])
	case flow.ElemVLAN:
		p := (*[8]byte)(p)
		r.SrcVLAN = le.Uint32(p[0:])
		r.DstVLAN = le.Uint32(p[4:])
	case flow.ElemAS:
		p := (*[8]byte)(p)
		r.SrcAS = le.Uint32(p[0:])
		r.DstAS = le.Uint32(p[4:])
	case flow.ElemBGPNextHopV4:
		r.BGPNextHop = addr4(le.Uint32(p))
	case flow.ElemBGPNextHopV6:
		r.BGPNextHop = addr6(p)
	case flow.ElemIPNextHopV4:
		r.IPNextHop = addr4(le.Uint32(p))
	case flow.ElemIPNextHopV6:
		r.IPNextHop = addr6(p)
	case flow.ElemExporterIPv4:
		r.Exporter = addr4(le.Uint32(p))
	case flow.ElemExporterIPv6:
		r.Exporter = addr6(p)
	case flow.ElemMPLS:
		p := (*[40]byte)(p)
		for i := range r.MPLS {
			r.MPLS[i] = le.Uint32(p[4*i:])
		}
	case flow.ElemMAC:
		p := (*[32]byte)(p)
		r.InSrcMAC = le.Uint64(p[0:])
		r.OutDstMAC = le.Uint64(p[8:])
		r.InDstMAC = le.Uint64(p[16:])
		r.OutSrcMAC = le.Uint64(p[24:])
	case flow.ElemAdjacentAS:
		p := (*[8]byte)(p)
		r.NextAS = le.Uint32(p[0:])
		r.PrevAS = le.Uint32(p[4:])
	case flow.ElemLatency:
		p := (*[24]byte)(p)
		r.ClientNwDelay = le.Uint64(p[0:])
		r.ServerNwDelay = le.Uint64(p[8:])
		r.ApplLatency = le.Uint64(p[16:])
	}
}

// clearElement zeroes the fields element id fills.
func clearElement(id int, r *flow.Record) {
	switch id {
	case flow.ElemGeneric:
		r.First, r.Last, r.Received, r.InPackets, r.InBytes = 0, 0, 0, 0, 0
		r.SrcPort, r.DstPort = 0, 0
		r.Proto, r.TCPFlags, r.FwdStatus, r.SrcTos = 0, 0, 0, 0
	case flow.ElemIPv4, flow.ElemIPv6:
		r.SrcAddr, r.DstAddr = netip.Addr{}, netip.Addr{}
	case flow.ElemMisc:
		r.Input, r.Output = 0, 0
		r.SrcMask, r.DstMask, r.Dir, r.DstTos, r.BiFlowDir, r.EndReason, r.RevTCPFlags = 0, 0, 0, 0, 0, 0, 0
	case flow.ElemCounters:
		r.Flows, r.OutPackets, r.OutBytes = 0, 0, 0
	case flow.ElemVLAN:
		r.SrcVLAN, r.DstVLAN = 0, 0
	case flow.ElemAS:
		r.SrcAS, r.DstAS = 0, 0
	case flow.ElemBGPNextHopV4, flow.ElemBGPNextHopV6:
		r.BGPNextHop = netip.Addr{}
	case flow.ElemIPNextHopV4, flow.ElemIPNextHopV6:
		r.IPNextHop = netip.Addr{}
	case flow.ElemExporterIPv4, flow.ElemExporterIPv6:
		r.Exporter = netip.Addr{}
	case flow.ElemMPLS:
		r.MPLS = [10]uint32{}
	case flow.ElemMAC:
		r.InSrcMAC, r.OutDstMAC, r.InDstMAC, r.OutSrcMAC = 0, 0, 0, 0
	case flow.ElemAdjacentAS:
		r.NextAS, r.PrevAS = 0, 0
	case flow.ElemLatency:
		r.ClientNwDelay, r.ServerNwDelay, r.ApplLatency = 0, 0, 0
	case flow.ElemLabel:
		r.Label = ""
	}
}

// modeled masks the elements this package encodes.
const modeled = flow.Elements(1<<(flow.MaxModeledElement+1) - 2)

// maxV3Size bounds a V3 record with every modeled element: the header and
// the sum of elemLen.
const maxV3Size = flow.MaxV3Size

// v3Layout is the encoded frame of a V3 record for one element set: the
// record header and every element header in place, values zero. Flows from
// one template share their element set, so the writer builds the frame
// once and then per flow only copies it and fills in the values.
type v3Layout struct {
	elems flow.Elements
	size  int
	n     int
	ids   [flow.MaxModeledElement + 1]uint8
	offs  [flow.MaxModeledElement + 1]uint16
	frame [maxV3Size]byte
}

// build makes l the layout of e.
func (l *v3Layout) build(e flow.Elements) {
	l.elems = e
	l.frame = [maxV3Size]byte{}
	b := l.frame[:]
	off, count := v3HeaderSize, 0
	for m := e & modeled; m != 0; m &= m - 1 {
		id := bits.TrailingZeros64(uint64(m))
		n := elemLen[id]
		le.PutUint16(b[off:], uint16(id))
		le.PutUint16(b[off+2:], uint16(n))
		l.ids[count] = uint8(id)
		l.offs[count] = uint16(off)
		off += n
		count++
	}
	le.PutUint16(b[0:], recV3)
	le.PutUint16(b[2:], uint16(off))
	le.PutUint16(b[4:], uint16(count))
	l.size, l.n = off, count
}

// appendV3 appends r as a V3 record carrying the elements r needs, in
// ascending element order as nfcapd writes them. l caches the frame of the
// last element set; a zero l works.
func appendV3(dst []byte, r *flow.Record, l *v3Layout) []byte {
	if e := r.NeededElements(); e != l.elems || l.size == 0 {
		l.build(e)
	}
	size := l.size
	// A labelled flow gets EXlabel last, as nfdump writes it: the label
	// and its NUL byte, not padded.
	label := 0
	if r.Label != "" {
		label = elemHdrSize + len(r.Label) + 1
	}
	start := len(dst)
	if cap(dst)-start < size+label {
		nd := make([]byte, start, 2*cap(dst)+size+label)
		copy(nd, dst)
		dst = nd
	}
	b := dst[start : start+size+label]
	copy(b, l.frame[:size])
	if label > 0 {
		p := b[size:]
		le.PutUint16(p[0:], flow.ElemLabel)
		le.PutUint16(p[2:], uint16(label))
		copy(p[elemHdrSize:], r.Label)
		p[label-1] = 0
		le.PutUint16(b[2:], uint16(size+label))
		le.PutUint16(b[4:], uint16(l.n+1))
	}
	b[6] = r.EngineType
	b[7] = r.EngineID
	le.PutUint16(b[8:], r.ExporterID)
	b[10] = r.Flags
	b[11] = r.NFVersion
	// The elements of nearly every flow a router exports are encoded
	// here, inlined; encodeElement is a call and a second switch.
	for i := 0; i < l.n; i++ {
		id := int(l.ids[i])
		p := b[int(l.offs[i])+elemHdrSize:]
		switch id {
		case flow.ElemGeneric:
			encodeGeneric((*[48]byte)(p), r)
		case flow.ElemIPv4:
			encodeIPv4((*[8]byte)(p), r)
		case flow.ElemMisc:
			encodeMisc((*[16]byte)(p), r)
		default:
			encodeElement(id, p[:elemLen[id]-elemHdrSize], r)
		}
	}
	return dst[:start+size+label]
}

func encodeGeneric(p *[48]byte, r *flow.Record) {
	le.PutUint64(p[0:], r.First)
	le.PutUint64(p[8:], r.Last)
	le.PutUint64(p[16:], r.Received)
	le.PutUint64(p[24:], r.InPackets)
	le.PutUint64(p[32:], r.InBytes)
	le.PutUint16(p[40:], r.SrcPort)
	le.PutUint16(p[42:], r.DstPort)
	p[44] = r.Proto
	p[45] = r.TCPFlags
	p[46] = r.FwdStatus
	p[47] = r.SrcTos
}

func encodeIPv4(p *[8]byte, r *flow.Record) {
	putAddr4(p[0:], r.SrcAddr)
	putAddr4(p[4:], r.DstAddr)
}

func encodeMisc(p *[16]byte, r *flow.Record) {
	le.PutUint32(p[0:], r.Input)
	le.PutUint32(p[4:], r.Output)
	p[8] = r.SrcMask
	p[9] = r.DstMask
	p[10] = r.Dir
	p[11] = r.DstTos
	p[12] = r.BiFlowDir
	p[13] = r.EndReason
	p[14] = r.RevTCPFlags
}

func encodeElement(id int, p []byte, r *flow.Record) {
	switch id {
	case flow.ElemGeneric:
		encodeGeneric((*[48]byte)(p), r)
	case flow.ElemIPv4:
		encodeIPv4((*[8]byte)(p), r)
	case flow.ElemIPv6:
		putAddr6(p[0:], r.SrcAddr)
		putAddr6(p[16:], r.DstAddr)
	case flow.ElemMisc:
		encodeMisc((*[16]byte)(p), r)
	case flow.ElemCounters:
		le.PutUint64(p[0:], r.Flows)
		le.PutUint64(p[8:], r.OutPackets)
		le.PutUint64(p[16:], r.OutBytes)
	case flow.ElemVLAN:
		le.PutUint32(p[0:], r.SrcVLAN)
		le.PutUint32(p[4:], r.DstVLAN)
	case flow.ElemAS:
		le.PutUint32(p[0:], r.SrcAS)
		le.PutUint32(p[4:], r.DstAS)
	case flow.ElemBGPNextHopV4:
		putAddr4(p, r.BGPNextHop)
	case flow.ElemBGPNextHopV6:
		putAddr6(p, r.BGPNextHop)
	case flow.ElemIPNextHopV4:
		putAddr4(p, r.IPNextHop)
	case flow.ElemIPNextHopV6:
		putAddr6(p, r.IPNextHop)
	case flow.ElemExporterIPv4:
		putAddr4(p, r.Exporter)
	case flow.ElemExporterIPv6:
		putAddr6(p, r.Exporter)
	case flow.ElemMPLS:
		for i, v := range r.MPLS {
			le.PutUint32(p[4*i:], v)
		}
	case flow.ElemMAC:
		le.PutUint64(p[0:], r.InSrcMAC)
		le.PutUint64(p[8:], r.OutDstMAC)
		le.PutUint64(p[16:], r.InDstMAC)
		le.PutUint64(p[24:], r.OutSrcMAC)
	case flow.ElemAdjacentAS:
		le.PutUint32(p[0:], r.NextAS)
		le.PutUint32(p[4:], r.PrevAS)
	case flow.ElemLatency:
		le.PutUint64(p[0:], r.ClientNwDelay)
		le.PutUint64(p[8:], r.ServerNwDelay)
		le.PutUint64(p[16:], r.ApplLatency)
	}
}
