// Package stats counts and ranks what godump's -s option asks for, the way
// nfdump 1.7.1 does: per element value (source address, port, AS, ...)
// the flows, packets and bytes of the flows that passed, and the top N of
// those values or of the flow records themselves.
//
// The package has one job, the numbers: it parses -s, -l and -L, keeps the
// tables and selects the rows. Printing them is the output package's job
// (output/stat.go); a Table hands over output.StatBlock values, which is why
// stats imports output and not the other way round.
//
// A Table is a hash index from a fixed-size key to a slice of counters,
// so counting a flow allocates nothing; memory grows only with the number
// of distinct values.
package stats

import (
	"encoding/binary"
	"net/netip"
	"strings"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/output"
)

// keyFunc returns the element value of a flow as nfdump's stat key holds
// it: the upper and lower 64 bits of an address, or the value in lo; and
// whether it is an IPv6 address, which nfdump's key does not say (so
// nfdump 1.7.1 prints ::1 as 0.0.0.1, notes section 13 item 8).
type keyFunc func(r *flow.Record) (hi, lo uint64, v6 bool)

// Element is one -s element: its name, the title of its column, how its
// value prints and where the value comes from. Elements such as ip or port
// count each flow once per key function (source and destination).
type Element struct {
	Name   string
	Header string
	Kind   output.StatKind
	keys   []keyFunc
}

// fastKind is one of the common elements, which Table.Add counts without
// calling their key functions.
type fastKind uint8

const (
	fastNone fastKind = iota
	fastSrcIP
	fastDstIP
	fastIP
	fastSrcPort
	fastDstPort
	fastPort
	fastProto
)

// fastKinds are the elements Table.Add counts directly, by name.
var fastKinds = map[string]fastKind{
	"srcip": fastSrcIP, "dstip": fastDstIP, "ip": fastIP,
	"srcport": fastSrcPort, "dstport": fastDstPort, "port": fastPort, "proto": fastProto,
}

// addrKey is an address as nfdump's master record holds it: IPv4 in the
// low 32 bits, an unset address as 0; and whether it is IPv6.
func addrKey(a netip.Addr) (hi, lo uint64, v6 bool) {
	switch {
	case !a.IsValid():
		return 0, 0, false
	case a.Is4():
		v := a.As4()
		return 0, uint64(binary.BigEndian.Uint32(v[:])), false
	}
	v := a.As16()
	return binary.BigEndian.Uint64(v[:8]), binary.BigEndian.Uint64(v[8:]), true
}

func num(f func(r *flow.Record) uint64) keyFunc {
	return func(r *flow.Record) (uint64, uint64, bool) { return 0, f(r), false }
}

// zero is the key of the elements our record model has no field for
// (geo without a geo database, nbar, ja3, observation ids, NSEL): nfdump
// finds them zero in every flow of such files, and so one row holds all
// flows.
func zero(*flow.Record) (uint64, uint64, bool) { return 0, 0, false }

// mplsOdd and mplsEven are nfdump 1.7.1's keys for the MPLS labels: on a
// little-endian machine its masks keep 12 label bits of labels 1, 3, 5, 7
// and 9 (exp and bottom-of-stack dropped), and for labels 2, 4, 6, 8 and 10
// the label and exp bits left shifted by 32, which then print as a huge
// label. Reproduced as observed.
func mplsOdd(i int) keyFunc {
	return func(r *flow.Record) (uint64, uint64, bool) { return 0, uint64(r.MPLS[i]) & 0xfff0, false }
}

func mplsEven(i int) keyFunc {
	return func(r *flow.Record) (uint64, uint64, bool) { return 0, (uint64(r.MPLS[i]) & 0x00fffff0) << 32, false }
}

var (
	srcIP   keyFunc = func(r *flow.Record) (uint64, uint64, bool) { return addrKey(r.SrcAddr) }
	dstIP   keyFunc = func(r *flow.Record) (uint64, uint64, bool) { return addrKey(r.DstAddr) }
	srcPort         = num(func(r *flow.Record) uint64 { return uint64(r.SrcPort) })
	dstPort         = num(func(r *flow.Record) uint64 { return uint64(r.DstPort) })
	srcAS           = num(func(r *flow.Record) uint64 { return uint64(r.SrcAS) })
	dstAS           = num(func(r *flow.Record) uint64 { return uint64(r.DstAS) })
	inIf            = num(func(r *flow.Record) uint64 { return uint64(r.Input) })
	outIf           = num(func(r *flow.Record) uint64 { return uint64(r.Output) })
	srcMask         = num(func(r *flow.Record) uint64 { return uint64(r.SrcMask) })
	dstMask         = num(func(r *flow.Record) uint64 { return uint64(r.DstMask) })
	// nfdump keeps VLAN ids in 16 bits.
	srcVLAN   = num(func(r *flow.Record) uint64 { return uint64(uint16(r.SrcVLAN)) })
	dstVLAN   = num(func(r *flow.Record) uint64 { return uint64(uint16(r.DstVLAN)) })
	inSrcMAC  = num(func(r *flow.Record) uint64 { return r.InSrcMAC })
	outDstMAC = num(func(r *flow.Record) uint64 { return r.OutDstMAC })
	inDstMAC  = num(func(r *flow.Record) uint64 { return r.InDstMAC })
	outSrcMAC = num(func(r *flow.Record) uint64 { return r.OutSrcMAC })
	srcTos    = num(func(r *flow.Record) uint64 { return uint64(r.SrcTos) })
)

// elements are nfdump 1.7.1's -s elements (an NSEL build), in its order.
// record is not among them: it ranks flows, not values (see ParseSpec).
var elements = []*Element{
	{"srcip", "Src IP Addr", output.StatIPAddr, []keyFunc{srcIP}},
	{"dstip", "Dst IP Addr", output.StatIPAddr, []keyFunc{dstIP}},
	{"ip", "IP Addr", output.StatIPAddr, []keyFunc{srcIP, dstIP}},
	{"srcgeo", "Src Geo", output.StatGeo, []keyFunc{zero}},
	{"dstgeo", "Dst Geo", output.StatGeo, []keyFunc{zero}},
	{"geo", "Geo", output.StatGeo, []keyFunc{zero, zero}},
	{"nhip", "Nexthop IP", output.StatIPAddr, []keyFunc{func(r *flow.Record) (uint64, uint64, bool) { return addrKey(r.IPNextHop) }}},
	{"nhbip", "Nexthop BGP IP", output.StatIPAddr, []keyFunc{func(r *flow.Record) (uint64, uint64, bool) { return addrKey(r.BGPNextHop) }}},
	{"router", "Router IP", output.StatIPAddr, []keyFunc{func(r *flow.Record) (uint64, uint64, bool) { return addrKey(r.Exporter) }}},
	{"srcport", "Src Port", output.StatNumber, []keyFunc{srcPort}},
	{"dstport", "Dst Port", output.StatNumber, []keyFunc{dstPort}},
	{"port", "Port", output.StatNumber, []keyFunc{srcPort, dstPort}},
	{"proto", "Protocol", output.StatNumber, []keyFunc{num(func(r *flow.Record) uint64 { return uint64(r.Proto) })}},
	{"tos", "Tos", output.StatNumber, []keyFunc{srcTos}},
	{"srctos", "Tos", output.StatNumber, []keyFunc{srcTos}},
	{"dsttos", "Dst Tos", output.StatNumber, []keyFunc{num(func(r *flow.Record) uint64 { return uint64(r.DstTos) })}},
	{"dir", "Dir", output.StatNumber, []keyFunc{num(func(r *flow.Record) uint64 { return uint64(r.Dir) })}},
	{"srcas", "Src AS", output.StatNumber, []keyFunc{srcAS}},
	{"dstas", "Dst AS", output.StatNumber, []keyFunc{dstAS}},
	{"prevas", "Prev AS", output.StatNumber, []keyFunc{num(func(r *flow.Record) uint64 { return uint64(r.PrevAS) })}},
	{"nextas", "Next AS", output.StatNumber, []keyFunc{num(func(r *flow.Record) uint64 { return uint64(r.NextAS) })}},
	{"as", "AS", output.StatNumber, []keyFunc{srcAS, dstAS}},
	{"inif", "Input If", output.StatNumber, []keyFunc{inIf}},
	{"outif", "Output If", output.StatNumber, []keyFunc{outIf}},
	{"if", "In/Out If", output.StatNumber, []keyFunc{inIf, outIf}},
	{"srcmask", "Src Mask", output.StatNumber, []keyFunc{srcMask}},
	{"dstmask", "Dst Mask", output.StatNumber, []keyFunc{dstMask}},
	{"mask", "Mask", output.StatNumber, []keyFunc{srcMask, dstMask}},
	{"srcvlan", "Src Vlan", output.StatNumber, []keyFunc{srcVLAN}},
	{"dstvlan", "Dst Vlan", output.StatNumber, []keyFunc{dstVLAN}},
	{"vlan", "Vlan", output.StatNumber, []keyFunc{srcVLAN, dstVLAN}},
	{"insrcmac", "In Src Mac", output.StatMAC, []keyFunc{inSrcMAC}},
	{"outdstmac", "Out Dst Mac", output.StatMAC, []keyFunc{outDstMAC}},
	{"indstmac", "In Dst Mac", output.StatMAC, []keyFunc{inDstMAC}},
	{"outsrcmac", "Out Src Mac", output.StatMAC, []keyFunc{outSrcMAC}},
	{"srcmac", "Src Mac", output.StatMAC, []keyFunc{inSrcMAC, outSrcMAC}},
	{"dstmac", "Dst Mac", output.StatMAC, []keyFunc{outDstMAC, inDstMAC}},
	// nfdump 1.7.1 declares inmac with one element, so only the in
	// source MAC counts.
	{"inmac", "In Src Mac", output.StatMAC, []keyFunc{inSrcMAC}},
	{"outmac", "Out Src Mac", output.StatMAC, []keyFunc{outSrcMAC, outDstMAC}},
	{"mpls1", " MPLS lab 1", output.StatMPLS, []keyFunc{mplsOdd(0)}},
	{"mpls2", " MPLS lab 2", output.StatMPLS, []keyFunc{mplsEven(1)}},
	{"mpls3", " MPLS lab 3", output.StatMPLS, []keyFunc{mplsOdd(2)}},
	{"mpls4", " MPLS lab 4", output.StatMPLS, []keyFunc{mplsEven(3)}},
	{"mpls5", " MPLS lab 5", output.StatMPLS, []keyFunc{mplsOdd(4)}},
	{"mpls6", " MPLS lab 6", output.StatMPLS, []keyFunc{mplsEven(5)}},
	{"mpls7", " MPLS lab 7", output.StatMPLS, []keyFunc{mplsOdd(6)}},
	{"mpls8", " MPLS lab 8", output.StatMPLS, []keyFunc{mplsEven(7)}},
	{"mpls9", " MPLS lab 9", output.StatMPLS, []keyFunc{mplsOdd(8)}},
	{"mpls10", "MPLS lab 10", output.StatMPLS, []keyFunc{mplsEven(9)}},
	{"cl", "Client Latency", output.StatLatency, []keyFunc{num(func(r *flow.Record) uint64 { return r.ClientNwDelay })}},
	{"sl", "Server Latency", output.StatLatency, []keyFunc{num(func(r *flow.Record) uint64 { return r.ServerNwDelay })}},
	{"al", "  Appl Latency", output.StatLatency, []keyFunc{num(func(r *flow.Record) uint64 { return r.ApplLatency })}},
	{"nbar", "nbar", output.StatNbar, []keyFunc{zero}},
	{"ja3", "                             ja3", output.StatJA3, []keyFunc{zero}},
	{"odid", "obs domainID", output.StatHexNumber, []keyFunc{zero}},
	{"opid", " obs PointID", output.StatHexNumber, []keyFunc{zero}},
	{"event", " Event", output.StatEvent, []keyFunc{zero}},
	{"nevent", " Event", output.StatEvent, []keyFunc{zero}},
	{"xevent", "X-Event", output.StatNumber, []keyFunc{zero}},
	{"xsrcip", "X-Src IP Addr", output.StatIPAddr, []keyFunc{zero}},
	{"xdstip", "X-Dst IP Addr", output.StatIPAddr, []keyFunc{zero}},
	{"xsrcport", " X-Src Port", output.StatNumber, []keyFunc{zero}},
	{"xdstport", " X-Dst Port", output.StatNumber, []keyFunc{zero}},
	{"iacl", "Ingress ACL", output.StatHex, []keyFunc{zero}},
	{"iace", "Ingress ACE", output.StatHex, []keyFunc{zero}},
	{"ixace", "Ingress xACE", output.StatHex, []keyFunc{zero}},
	{"eacl", "Egress ACL", output.StatHex, []keyFunc{zero}},
	{"eace", "Egress ACE", output.StatHex, []keyFunc{zero}},
	{"exace", "Egress xACE", output.StatHex, []keyFunc{zero}},
	{"ivrf", " I-vrf-ID", output.StatNumber, []keyFunc{zero}},
	{"evrf", " E-vrf-ID", output.StatNumber, []keyFunc{zero}},
	{"nsrcip", "X-Src IP Addr", output.StatIPAddr, []keyFunc{zero}},
	{"ndstip", "X-Dst IP Addr", output.StatIPAddr, []keyFunc{zero}},
	{"nsrcport", " X-Src Port", output.StatNumber, []keyFunc{zero}},
	{"ndstport", " X-Dst Port", output.StatNumber, []keyFunc{zero}},
}

// Elements returns the names of the -s elements, in nfdump's order.
func Elements() []string {
	names := make([]string, len(elements))
	for i, e := range elements {
		names[i] = e.Name
	}
	return names
}

// lookupElement finds an element by name, case-insensitively.
func lookupElement(name string) *Element {
	for _, e := range elements {
		if strings.EqualFold(e.Name, name) {
			return e
		}
	}
	return nil
}

// elementReads are the V3 elements, beyond the generic one, that the
// element with a name reads; the names not listed read only the generic
// element or none.
var elementReads = map[string]flow.Elements{
	"srcip": ipElems, "dstip": ipElems, "ip": ipElems,
	"nhip":   1<<flow.ElemIPNextHopV4 | 1<<flow.ElemIPNextHopV6,
	"nhbip":  1<<flow.ElemBGPNextHopV4 | 1<<flow.ElemBGPNextHopV6,
	"router": 1<<flow.ElemExporterIPv4 | 1<<flow.ElemExporterIPv6,
	"dsttos": 1 << flow.ElemMisc, "dir": 1 << flow.ElemMisc,
	"inif": 1 << flow.ElemMisc, "outif": 1 << flow.ElemMisc, "if": 1 << flow.ElemMisc,
	"srcmask": 1 << flow.ElemMisc, "dstmask": 1 << flow.ElemMisc, "mask": 1 << flow.ElemMisc,
	"srcas": 1 << flow.ElemAS, "dstas": 1 << flow.ElemAS, "as": 1 << flow.ElemAS,
	"prevas": 1 << flow.ElemAdjacentAS, "nextas": 1 << flow.ElemAdjacentAS,
	"srcvlan": 1 << flow.ElemVLAN, "dstvlan": 1 << flow.ElemVLAN, "vlan": 1 << flow.ElemVLAN,
	"insrcmac": macElems, "outdstmac": macElems, "indstmac": macElems, "outsrcmac": macElems,
	"srcmac": macElems, "dstmac": macElems, "inmac": macElems, "outmac": macElems,
	"cl": 1 << flow.ElemLatency, "sl": 1 << flow.ElemLatency, "al": 1 << flow.ElemLatency,
}

const (
	ipElems  = flow.Elements(1<<flow.ElemIPv4 | 1<<flow.ElemIPv6)
	macElems = flow.Elements(1 << flow.ElemMAC)
)

// Reads returns the V3 elements whose fields counting the spec reads: the
// generic and counter elements (times, counters) and those of its value.
func (s Spec) Reads() flow.Elements {
	e := flow.Elements(1<<flow.ElemGeneric | 1<<flow.ElemCounters)
	if s.Element == nil {
		return ^flow.Elements(0)
	}
	if strings.HasPrefix(s.Element.Name, "mpls") {
		e |= 1 << flow.ElemMPLS
	}
	return e | elementReads[s.Element.Name]
}
