// Package flow holds the one record model that every part of the project
// shares: the collector decodes datagrams into a Record, the file layer
// stores and loads Records, and the reader filters, aggregates and prints
// them. Its fields cover everything the nfdump 1.7 V3 elements 1 to 17 can
// hold, so nothing a real nfcapd file carries in those elements is lost on
// the way through.
package flow

import "net/netip"

// Element numbers of the nfdump 1.7 V3 record. The Record keeps a set of the
// elements it carries (Record.Elements) so that a record read from a file is
// written back with the same elements, even when their values are all zero:
// nfdump prints different columns for a flow with or without, say, EXflowMisc.
const (
	ElemGeneric        = 1  // EXgenericFlow: times, counters, ports, proto, flags, ToS
	ElemIPv4           = 2  // EXipv4Flow
	ElemIPv6           = 3  // EXipv6Flow
	ElemMisc           = 4  // EXflowMisc: interfaces, masks, direction, dst ToS, end reason
	ElemCounters       = 5  // EXcntFlow: aggregated flows, out packets and bytes
	ElemVLAN           = 6  // EXvLan
	ElemAS             = 7  // EXasRouting
	ElemBGPNextHopV4   = 8  // EXbgpNextHopV4
	ElemBGPNextHopV6   = 9  // EXbgpNextHopV6
	ElemIPNextHopV4    = 10 // EXipNextHopV4
	ElemIPNextHopV6    = 11 // EXipNextHopV6
	ElemExporterIPv4   = 12 // EXipReceivedV4: address the datagram came from
	ElemExporterIPv6   = 13 // EXipReceivedV6
	ElemMPLS           = 14 // EXmplsLabel
	ElemMAC            = 15 // EXmacAddr
	ElemAdjacentAS     = 16 // EXasAdjacent
	ElemLatency        = 17 // EXlatency
	MaxModeledElement  = 17
	MaxElementsPerFlow = 38 // nfdump's MAXEXTENSIONS
)

// ElemSize is the on-disk size of each modeled V3 element, its 4-byte
// header included (nfdump 1.7.1's nfxV3.h): the one table the file codec
// (flowfile) and the decoders that write V3 records themselves (netflow's
// plans) share, since neither may import the other.
var ElemSize = [MaxModeledElement + 1]uint16{
	ElemGeneric:      52,
	ElemIPv4:         12,
	ElemIPv6:         36,
	ElemMisc:         20,
	ElemCounters:     28,
	ElemVLAN:         12,
	ElemAS:           12,
	ElemBGPNextHopV4: 8,
	ElemBGPNextHopV6: 20,
	ElemIPNextHopV4:  8,
	ElemIPNextHopV6:  20,
	ElemExporterIPv4: 8,
	ElemExporterIPv6: 20,
	ElemMPLS:         44,
	ElemMAC:          36,
	ElemAdjacentAS:   12,
	ElemLatency:      28,
}

// ElemLabel (EXlabel) holds a flow label (Record.Label). nfdump adds it
// to a labelled flow when it builds a record from its master record
// (aggregating, sorting, writing): see Record.LabelElement.
const ElemLabel = 28

// Elements is a set of V3 element numbers (bit n = element n).
type Elements uint64

// Has reports whether element id is in the set.
func (e Elements) Has(id int) bool { return id >= 0 && id < 64 && e&(1<<uint(id)) != 0 }

// With returns the set with element id added.
func (e Elements) With(id int) Elements { return e | 1<<uint(id) }

// Without returns the set with element id removed.
func (e Elements) Without(id int) Elements { return e &^ (1 << uint(id)) }

// Marks the aggregation engine sets in Record.Elements of the records it
// hands over for printing, on bits no V3 element uses (there is no element
// 0, and element numbers stop far below 63); the printers read them.
const (
	// MarkMasked marks a record printed under an -A list: nfdump's
	// aggregation mask clears the element list of the records it prints
	// (but not its length), so the raw and json modes show only the record
	// header, and its ICMP type and code, so the fmt modes show 0.0 while
	// csv and pipe show the port.
	MarkMasked = Elements(1)
	// MarkReverseFlags marks a record printed from an -a, -b or -B table:
	// nfdump sets its reverse TCP flags to the flags of the flows merged in
	// the opposite direction (none for -a), and -o raw prints them when they
	// are not zero. For a record read from a file nfdump never prints them,
	// so the printers need the mark to tell the two apart.
	MarkReverseFlags = Elements(1) << 63
	// Marks are all the marks, none of them an element.
	Marks = MarkMasked | MarkReverseFlags
)

// Record flags, as stored in the V3 record header.
const (
	FlagEvent   = 0x01 // NSEL/NEL event record
	FlagSampled = 0x02 // counters were scaled up by the sampling rate
	FlagAnon    = 0x04 // addresses were anonymised
)

// Record is one flow. Times are milliseconds since the Unix epoch, latencies
// microseconds. For ICMP and ICMPv6 the type and code travel in DstPort as
// type<<8 | code, the way nfdump keeps them.
//
// The zero Record is a valid, empty flow. Records are plain values: copying
// one copies everything, and decoding into a caller's Record never allocates.
type Record struct {
	// Elements lists the V3 elements this record carries. Readers fill it
	// from the file; producers may leave it zero and let the writer derive
	// the set from the values (see NeededElements).
	Elements Elements

	NFVersion  uint8  // 1, 5, 7, 9 or 10 (IPFIX); nfdump adds 0x80 for sFlow, 0x40 for pcap
	Flags      uint8  // FlagEvent, FlagSampled, FlagAnon
	EngineType uint8  // NetFlow v5/v9 engine type
	EngineID   uint8  // NetFlow v5/v9 engine id
	ExporterID uint16 // sysid of the Exporter this flow came from (1-based)

	First    uint64 // first packet, msec since epoch
	Last     uint64 // last packet, msec since epoch
	Received uint64 // when the collector received it, msec since epoch

	InPackets  uint64
	InBytes    uint64
	OutPackets uint64
	OutBytes   uint64
	Flows      uint64 // aggregated flow count; 0 means 1

	SrcAddr netip.Addr
	DstAddr netip.Addr
	SrcPort uint16
	DstPort uint16 // for ICMP: type<<8 | code

	Proto     uint8
	TCPFlags  uint8
	FwdStatus uint8
	SrcTos    uint8
	DstTos    uint8

	Input       uint32 // SNMP ifIndex in
	Output      uint32 // SNMP ifIndex out
	SrcMask     uint8
	DstMask     uint8
	Dir         uint8 // 0 ingress, 1 egress
	BiFlowDir   uint8
	EndReason   uint8
	RevTCPFlags uint8

	SrcVLAN uint32
	DstVLAN uint32

	SrcAS  uint32
	DstAS  uint32
	NextAS uint32 // next adjacent AS
	PrevAS uint32 // previous adjacent AS

	BGPNextHop netip.Addr
	IPNextHop  netip.Addr
	Exporter   netip.Addr // address the datagram was received from

	// MAC addresses, each the 6 bytes as a number: aa:bb:cc:dd:ee:ff is
	// 0xaabbccddeeff.
	InSrcMAC  uint64
	OutDstMAC uint64
	InDstMAC  uint64
	OutSrcMAC uint64

	// MPLS label stack entries as label<<4 | exp<<1 | bottom-of-stack;
	// unused entries are 0.
	MPLS [10]uint32

	ClientNwDelay uint64 // usec
	ServerNwDelay uint64 // usec
	ApplLatency   uint64 // usec

	// Label is the flow label the filter gave the flow (nfdump's
	// "(expr) %label"), "" for none. The filter sets it as it selects the
	// flow, and the label strings belong to the filter, so setting one
	// allocates nothing.
	Label string
}

// LabelElement returns the record's elements with ElemLabel when it has
// a label: nfdump adds EXlabel to a labelled flow whenever it builds a
// record from its master record (aggregating, sorting, writing), and
// then counts and prints it with the others, but not to a flow it prints
// straight from the file.
func (r *Record) LabelElement() Elements {
	if r.Label == "" {
		return r.Elements
	}
	return r.Elements.With(ElemLabel)
}

// IsIPv6 reports whether the flow's addresses are IPv6 (a flow is stored as
// one family; an IPv4-mapped IPv6 address counts as IPv6).
func (r *Record) IsIPv6() bool { return r.SrcAddr.Is6() || r.DstAddr.Is6() }

// IsICMP reports whether DstPort carries an ICMP type and code.
func (r *Record) IsICMP() bool { return r.Proto == ProtoICMP || r.Proto == ProtoICMPv6 }

// ICMPType returns the ICMP type of an ICMP flow.
func (r *Record) ICMPType() uint8 { return uint8(r.DstPort >> 8) }

// ICMPCode returns the ICMP code of an ICMP flow.
func (r *Record) ICMPCode() uint8 { return uint8(r.DstPort) }

// Sampled reports whether the counters were scaled up by a sampling rate.
func (r *Record) Sampled() bool { return r.Flags&FlagSampled != 0 }

// AggrFlows returns the number of flows this record stands for.
func (r *Record) AggrFlows() uint64 {
	if r.Flows == 0 {
		return 1
	}
	return r.Flows
}

// NeededElements returns the elements a writer must store for this record:
// those already in r.Elements plus those whose values are not all zero.
// EXgenericFlow is always needed, and exactly one address element matching
// the address family.
func (r *Record) NeededElements() Elements {
	e := r.Elements.With(ElemGeneric).Without(ElemIPv4).Without(ElemIPv6)
	if r.IsIPv6() {
		e = e.With(ElemIPv6)
	} else {
		e = e.With(ElemIPv4)
	}
	if r.Input != 0 || r.Output != 0 || r.SrcMask != 0 || r.DstMask != 0 || r.Dir != 0 ||
		r.DstTos != 0 || r.BiFlowDir != 0 || r.EndReason != 0 || r.RevTCPFlags != 0 {
		e = e.With(ElemMisc)
	}
	if r.Flows > 1 || r.OutPackets != 0 || r.OutBytes != 0 {
		e = e.With(ElemCounters)
	}
	if r.SrcVLAN != 0 || r.DstVLAN != 0 {
		e = e.With(ElemVLAN)
	}
	if r.SrcAS != 0 || r.DstAS != 0 {
		e = e.With(ElemAS)
	}
	e = withAddrElement(e, r.BGPNextHop, ElemBGPNextHopV4, ElemBGPNextHopV6)
	e = withAddrElement(e, r.IPNextHop, ElemIPNextHopV4, ElemIPNextHopV6)
	e = withAddrElement(e, r.Exporter, ElemExporterIPv4, ElemExporterIPv6)
	if r.MPLS != [10]uint32{} {
		e = e.With(ElemMPLS)
	}
	if r.InSrcMAC != 0 || r.OutDstMAC != 0 || r.InDstMAC != 0 || r.OutSrcMAC != 0 {
		e = e.With(ElemMAC)
	}
	if r.NextAS != 0 || r.PrevAS != 0 {
		e = e.With(ElemAdjacentAS)
	}
	if r.ClientNwDelay != 0 || r.ServerNwDelay != 0 || r.ApplLatency != 0 {
		e = e.With(ElemLatency)
	}
	return e
}

// withAddrElement picks the v4 or v6 element for an address that is set. An
// element of the other family is dropped, so a record never carries both
// forms of one address. An unset address leaves the set as it is: a reader
// always sets the address of an element it read, so only producers leave
// addresses unset, and they want no element for them.
func withAddrElement(e Elements, a netip.Addr, v4, v6 int) Elements {
	switch {
	case !a.IsValid():
		return e
	case a.Is4():
		return e.Without(v6).With(v4)
	default:
		return e.Without(v4).With(v6)
	}
}
