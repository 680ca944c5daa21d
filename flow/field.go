package flow

import (
	"encoding/binary"
	"net/netip"
	"strings"
)

// Field names one value of a flow as nfdump 1.7.1's master record holds it.
// The filter, the -s statistics and the -A aggregation all read flows
// through this one table, so they agree on which V3 element holds a value
// and on how a value reads when its element is absent: as 0, the way
// nfdump expands every record into a zeroed master record first.
type Field uint8

// The fields. Numbers read with Field.Value; the address fields (Kind
// KindAddr) read with Field.Addr and Field.AddrWords.
const (
	FieldNone Field = iota

	FieldFirst    // first packet, msec since the epoch
	FieldLast     // last packet, msec since the epoch
	FieldReceived // when the collector received the flow, msec
	FieldDuration // Last - First in msec, wrapping as nfdump's unsigned subtraction does

	FieldInPackets
	FieldInBytes
	FieldOutPackets
	FieldOutBytes
	FieldFlows // aggregated flows; a record without a count stands for 1

	FieldSrcPort
	FieldDstPort
	FieldICMPType // the upper byte of the destination port, for every protocol
	FieldICMPCode // the lower byte of the destination port
	FieldProto
	FieldTCPFlags
	FieldFwdStatus
	FieldSrcTos
	FieldDstTos

	FieldNFVersion
	FieldRecordFlags // FlagEvent, FlagSampled, FlagAnon
	FieldIPv6        // 1 when the flow carries IPv6 addresses
	FieldEngineType
	FieldEngineID
	FieldExporterID // the exporter's sysid

	FieldInIf
	FieldOutIf
	FieldSrcMask
	FieldDstMask
	FieldDir
	FieldBiFlowDir
	FieldEndReason
	FieldRevTCPFlags

	FieldSrcVLAN // nfdump keeps VLAN ids in 16 bits
	FieldDstVLAN
	FieldSrcAS
	FieldDstAS
	FieldNextAS
	FieldPrevAS

	FieldInSrcMAC // a MAC as a number: aa:bb:cc:dd:ee:ff is 0xaabbccddeeff
	FieldOutDstMAC
	FieldInDstMAC
	FieldOutSrcMAC

	FieldMPLS1 // label stack entries label<<4 | exp<<1 | bottom-of-stack; FieldMPLS1+i is entry i+1
	FieldMPLS2
	FieldMPLS3
	FieldMPLS4
	FieldMPLS5
	FieldMPLS6
	FieldMPLS7
	FieldMPLS8
	FieldMPLS9
	FieldMPLS10

	FieldClientLatency // usec
	FieldServerLatency
	FieldApplLatency

	FieldSrcAddr
	FieldDstAddr
	FieldIPNextHop
	FieldBGPNextHop
	FieldRouter // the exporter's address as the collector saw it

	NumFields
)

// FieldKind says how a field's value reads and prints.
type FieldKind uint8

// Field kinds.
const (
	KindNumber  FieldKind = iota
	KindAddr              // read with Field.Addr
	KindMAC               // a number that prints as a MAC address
	KindMPLS              // a number that prints as an MPLS label stack entry
	KindLatency           // a number of microseconds that prints as milliseconds
)

type fieldInfo struct {
	name  string
	elems Elements
	kind  FieldKind
}

const (
	elemAddr    = Elements(1<<ElemIPv4 | 1<<ElemIPv6)
	elemGeneric = Elements(1 << ElemGeneric)
	elemMisc    = Elements(1 << ElemMisc)
)

// fields holds each field's name and the V3 elements it lives in. The
// names are those of godump's -s and -A where it has them.
var fields = [NumFields]fieldInfo{
	FieldNone:          {"", 0, KindNumber},
	FieldFirst:         {"first", elemGeneric, KindNumber},
	FieldLast:          {"last", elemGeneric, KindNumber},
	FieldReceived:      {"received", elemGeneric, KindNumber},
	FieldDuration:      {"duration", elemGeneric, KindNumber},
	FieldInPackets:     {"inpackets", elemGeneric, KindNumber},
	FieldInBytes:       {"inbytes", elemGeneric, KindNumber},
	FieldOutPackets:    {"outpackets", 1 << ElemCounters, KindNumber},
	FieldOutBytes:      {"outbytes", 1 << ElemCounters, KindNumber},
	FieldFlows:         {"flows", 1 << ElemCounters, KindNumber},
	FieldSrcPort:       {"srcport", elemGeneric, KindNumber},
	FieldDstPort:       {"dstport", elemGeneric, KindNumber},
	FieldICMPType:      {"icmptype", elemGeneric, KindNumber},
	FieldICMPCode:      {"icmpcode", elemGeneric, KindNumber},
	FieldProto:         {"proto", elemGeneric, KindNumber},
	FieldTCPFlags:      {"flags", elemGeneric, KindNumber},
	FieldFwdStatus:     {"fwdstat", elemGeneric, KindNumber},
	FieldSrcTos:        {"srctos", elemGeneric, KindNumber},
	FieldDstTos:        {"dsttos", elemMisc, KindNumber},
	FieldNFVersion:     {"nfversion", 0, KindNumber},
	FieldRecordFlags:   {"recflags", 0, KindNumber},
	FieldIPv6:          {"ipv6", elemAddr, KindNumber},
	FieldEngineType:    {"engtype", 0, KindNumber},
	FieldEngineID:      {"engid", 0, KindNumber},
	FieldExporterID:    {"sysid", 0, KindNumber},
	FieldInIf:          {"inif", elemMisc, KindNumber},
	FieldOutIf:         {"outif", elemMisc, KindNumber},
	FieldSrcMask:       {"srcmask", elemMisc, KindNumber},
	FieldDstMask:       {"dstmask", elemMisc, KindNumber},
	FieldDir:           {"dir", elemMisc, KindNumber},
	FieldBiFlowDir:     {"bidir", elemMisc, KindNumber},
	FieldEndReason:     {"endreason", elemMisc, KindNumber},
	FieldRevTCPFlags:   {"revflags", elemMisc, KindNumber},
	FieldSrcVLAN:       {"srcvlan", 1 << ElemVLAN, KindNumber},
	FieldDstVLAN:       {"dstvlan", 1 << ElemVLAN, KindNumber},
	FieldSrcAS:         {"srcas", 1 << ElemAS, KindNumber},
	FieldDstAS:         {"dstas", 1 << ElemAS, KindNumber},
	FieldNextAS:        {"nextas", 1 << ElemAdjacentAS, KindNumber},
	FieldPrevAS:        {"prevas", 1 << ElemAdjacentAS, KindNumber},
	FieldInSrcMAC:      {"insrcmac", 1 << ElemMAC, KindMAC},
	FieldOutDstMAC:     {"outdstmac", 1 << ElemMAC, KindMAC},
	FieldInDstMAC:      {"indstmac", 1 << ElemMAC, KindMAC},
	FieldOutSrcMAC:     {"outsrcmac", 1 << ElemMAC, KindMAC},
	FieldMPLS1:         {"mpls1", 1 << ElemMPLS, KindMPLS},
	FieldMPLS2:         {"mpls2", 1 << ElemMPLS, KindMPLS},
	FieldMPLS3:         {"mpls3", 1 << ElemMPLS, KindMPLS},
	FieldMPLS4:         {"mpls4", 1 << ElemMPLS, KindMPLS},
	FieldMPLS5:         {"mpls5", 1 << ElemMPLS, KindMPLS},
	FieldMPLS6:         {"mpls6", 1 << ElemMPLS, KindMPLS},
	FieldMPLS7:         {"mpls7", 1 << ElemMPLS, KindMPLS},
	FieldMPLS8:         {"mpls8", 1 << ElemMPLS, KindMPLS},
	FieldMPLS9:         {"mpls9", 1 << ElemMPLS, KindMPLS},
	FieldMPLS10:        {"mpls10", 1 << ElemMPLS, KindMPLS},
	FieldClientLatency: {"cl", 1 << ElemLatency, KindLatency},
	FieldServerLatency: {"sl", 1 << ElemLatency, KindLatency},
	FieldApplLatency:   {"al", 1 << ElemLatency, KindLatency},
	FieldSrcAddr:       {"srcip", elemAddr, KindAddr},
	FieldDstAddr:       {"dstip", elemAddr, KindAddr},
	FieldIPNextHop:     {"nhip", 1<<ElemIPNextHopV4 | 1<<ElemIPNextHopV6, KindAddr},
	FieldBGPNextHop:    {"nhbip", 1<<ElemBGPNextHopV4 | 1<<ElemBGPNextHopV6, KindAddr},
	FieldRouter:        {"router", 1<<ElemExporterIPv4 | 1<<ElemExporterIPv6, KindAddr},
}

// Name returns the field's name ("srcport", "srcip", ...).
func (f Field) Name() string {
	if f >= NumFields {
		return ""
	}
	return fields[f].name
}

// Elements returns the V3 elements a reader must decode for the field to
// hold its value. Fields of the record header (version, engine, sysid)
// need none.
func (f Field) Elements() Elements {
	if f >= NumFields {
		return 0
	}
	return fields[f].elems
}

// Kind returns how the field's value reads.
func (f Field) Kind() FieldKind {
	if f >= NumFields {
		return KindNumber
	}
	return fields[f].kind
}

// FieldByName finds a field by its name, case-insensitively.
func FieldByName(name string) (Field, bool) {
	for f := Field(1); f < NumFields; f++ {
		if strings.EqualFold(fields[f].name, name) {
			return f, true
		}
	}
	return FieldNone, false
}

// Value returns a number field's value as nfdump's master record holds
// it. An address field returns the lower 64 bits of AddrWords, which is
// the whole address for IPv4.
func (f Field) Value(r *Record) uint64 {
	switch f {
	case FieldFirst:
		return r.First
	case FieldLast:
		return r.Last
	case FieldReceived:
		return r.Received
	case FieldDuration:
		return r.Last - r.First
	case FieldInPackets:
		return r.InPackets
	case FieldInBytes:
		return r.InBytes
	case FieldOutPackets:
		return r.OutPackets
	case FieldOutBytes:
		return r.OutBytes
	case FieldFlows:
		return r.AggrFlows()
	case FieldSrcPort:
		return uint64(r.SrcPort)
	case FieldDstPort:
		return uint64(r.DstPort)
	case FieldICMPType:
		return uint64(r.DstPort >> 8)
	case FieldICMPCode:
		return uint64(r.DstPort & 0xff)
	case FieldProto:
		return uint64(r.Proto)
	case FieldTCPFlags:
		return uint64(r.TCPFlags)
	case FieldFwdStatus:
		return uint64(r.FwdStatus)
	case FieldSrcTos:
		return uint64(r.SrcTos)
	case FieldDstTos:
		return uint64(r.DstTos)
	case FieldNFVersion:
		return uint64(r.NFVersion)
	case FieldRecordFlags:
		return uint64(r.Flags)
	case FieldIPv6:
		if r.IsIPv6() {
			return 1
		}
		return 0
	case FieldEngineType:
		return uint64(r.EngineType)
	case FieldEngineID:
		return uint64(r.EngineID)
	case FieldExporterID:
		return uint64(r.ExporterID)
	case FieldInIf:
		return uint64(r.Input)
	case FieldOutIf:
		return uint64(r.Output)
	case FieldSrcMask:
		return uint64(r.SrcMask)
	case FieldDstMask:
		return uint64(r.DstMask)
	case FieldDir:
		return uint64(r.Dir)
	case FieldBiFlowDir:
		return uint64(r.BiFlowDir)
	case FieldEndReason:
		return uint64(r.EndReason)
	case FieldRevTCPFlags:
		return uint64(r.RevTCPFlags)
	case FieldSrcVLAN:
		return uint64(uint16(r.SrcVLAN))
	case FieldDstVLAN:
		return uint64(uint16(r.DstVLAN))
	case FieldSrcAS:
		return uint64(r.SrcAS)
	case FieldDstAS:
		return uint64(r.DstAS)
	case FieldNextAS:
		return uint64(r.NextAS)
	case FieldPrevAS:
		return uint64(r.PrevAS)
	case FieldInSrcMAC:
		return r.InSrcMAC
	case FieldOutDstMAC:
		return r.OutDstMAC
	case FieldInDstMAC:
		return r.InDstMAC
	case FieldOutSrcMAC:
		return r.OutSrcMAC
	case FieldMPLS1, FieldMPLS2, FieldMPLS3, FieldMPLS4, FieldMPLS5,
		FieldMPLS6, FieldMPLS7, FieldMPLS8, FieldMPLS9, FieldMPLS10:
		return uint64(r.MPLS[f-FieldMPLS1])
	case FieldClientLatency:
		return r.ClientNwDelay
	case FieldServerLatency:
		return r.ServerNwDelay
	case FieldApplLatency:
		return r.ApplLatency
	case FieldSrcAddr, FieldDstAddr, FieldIPNextHop, FieldBGPNextHop, FieldRouter:
		_, lo := AddrWords(f.Addr(r))
		return lo
	}
	return 0
}

// KeyValue returns a number field's value as nfdump 1.7.1's -s and -A
// tables take it into their keys: the value under the field's key mask.
// Only the MPLS entries have one: on a little-endian machine nfdump's
// masks keep 12 label bits of entries 1, 3, 5, 7 and 9 and the 20 label
// bits of the others (exp and bottom-of-stack dropped in both).
// Reproduced as observed.
func (f Field) KeyValue(r *Record) uint64 {
	return f.Value(r) & keyMasks[f]
}

// keyMasks holds each field's key mask, all ones but for the MPLS entries.
var keyMasks = func() (m [256]uint64) {
	for f := range m {
		m[f] = ^uint64(0)
	}
	for i := 0; i < 10; i += 2 {
		m[FieldMPLS1+Field(i)] = 0xfff0
		m[FieldMPLS1+Field(i+1)] = 0xfffff0
	}
	return m
}()

// Set stores v in a number field of r, as Value reads it back. Fields
// that Value derives from others (duration, ICMP type and code, IPv6,
// flows) and the address fields are not stored: Set leaves r as it is.
func (f Field) Set(r *Record, v uint64) {
	switch f {
	case FieldFirst:
		r.First = v
	case FieldLast:
		r.Last = v
	case FieldReceived:
		r.Received = v
	case FieldInPackets:
		r.InPackets = v
	case FieldInBytes:
		r.InBytes = v
	case FieldOutPackets:
		r.OutPackets = v
	case FieldOutBytes:
		r.OutBytes = v
	case FieldSrcPort:
		r.SrcPort = uint16(v)
	case FieldDstPort:
		r.DstPort = uint16(v)
	case FieldProto:
		r.Proto = uint8(v)
	case FieldTCPFlags:
		r.TCPFlags = uint8(v)
	case FieldFwdStatus:
		r.FwdStatus = uint8(v)
	case FieldSrcTos:
		r.SrcTos = uint8(v)
	case FieldDstTos:
		r.DstTos = uint8(v)
	case FieldNFVersion:
		r.NFVersion = uint8(v)
	case FieldRecordFlags:
		r.Flags = uint8(v)
	case FieldEngineType:
		r.EngineType = uint8(v)
	case FieldEngineID:
		r.EngineID = uint8(v)
	case FieldExporterID:
		r.ExporterID = uint16(v)
	case FieldInIf:
		r.Input = uint32(v)
	case FieldOutIf:
		r.Output = uint32(v)
	case FieldSrcMask:
		r.SrcMask = uint8(v)
	case FieldDstMask:
		r.DstMask = uint8(v)
	case FieldDir:
		r.Dir = uint8(v)
	case FieldBiFlowDir:
		r.BiFlowDir = uint8(v)
	case FieldEndReason:
		r.EndReason = uint8(v)
	case FieldRevTCPFlags:
		r.RevTCPFlags = uint8(v)
	case FieldSrcVLAN:
		r.SrcVLAN = uint32(uint16(v))
	case FieldDstVLAN:
		r.DstVLAN = uint32(uint16(v))
	case FieldSrcAS:
		r.SrcAS = uint32(v)
	case FieldDstAS:
		r.DstAS = uint32(v)
	case FieldNextAS:
		r.NextAS = uint32(v)
	case FieldPrevAS:
		r.PrevAS = uint32(v)
	case FieldInSrcMAC:
		r.InSrcMAC = v
	case FieldOutDstMAC:
		r.OutDstMAC = v
	case FieldInDstMAC:
		r.InDstMAC = v
	case FieldOutSrcMAC:
		r.OutSrcMAC = v
	case FieldMPLS1, FieldMPLS2, FieldMPLS3, FieldMPLS4, FieldMPLS5,
		FieldMPLS6, FieldMPLS7, FieldMPLS8, FieldMPLS9, FieldMPLS10:
		r.MPLS[f-FieldMPLS1] = uint32(v)
	case FieldClientLatency:
		r.ClientNwDelay = v
	case FieldServerLatency:
		r.ServerNwDelay = v
	case FieldApplLatency:
		r.ApplLatency = v
	}
}

// SetAddr stores a in an address field of r; other fields are left as
// they are.
func (f Field) SetAddr(r *Record, a netip.Addr) {
	switch f {
	case FieldSrcAddr:
		r.SrcAddr = a
	case FieldDstAddr:
		r.DstAddr = a
	case FieldIPNextHop:
		r.IPNextHop = a
	case FieldBGPNextHop:
		r.BGPNextHop = a
	case FieldRouter:
		r.Exporter = a
	}
}

// Addr returns an address field's value; the zero Addr when the flow
// carries no such address (or f is not an address field).
func (f Field) Addr(r *Record) netip.Addr {
	switch f {
	case FieldSrcAddr:
		return r.SrcAddr
	case FieldDstAddr:
		return r.DstAddr
	case FieldIPNextHop:
		return r.IPNextHop
	case FieldBGPNextHop:
		return r.BGPNextHop
	case FieldRouter:
		return r.Exporter
	}
	return netip.Addr{}
}

// AddrWords returns an address as nfdump's master record holds it: the
// upper and lower 64 bits of the IPv6 address, and an IPv4 address in the
// low 32 bits with everything else 0. An unset address is 0, 0.
func AddrWords(a netip.Addr) (hi, lo uint64) {
	switch {
	case !a.IsValid():
		return 0, 0
	case a.Is4():
		v := a.As4()
		return 0, uint64(binary.BigEndian.Uint32(v[:]))
	}
	v := a.As16()
	return binary.BigEndian.Uint64(v[:8]), binary.BigEndian.Uint64(v[8:])
}
