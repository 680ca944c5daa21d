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
// of distinct values. Elements read their values through flow's field
// table, which the filter and the aggregation read too.
package stats

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/output"
)

// Element is one -s element: its name, the title of its column, how its
// value prints and the fields of flow's field table it counts. Elements
// such as ip or port count each flow once per field (source and
// destination). An element whose value godump's record model does not
// hold (geo without a geo database, nbar, ja3, observation ids, NSEL)
// counts flow.FieldNone, which reads 0 in every flow: nfdump finds those
// zero in every flow of such files, and so one row holds all flows.
type Element struct {
	Name   string
	Header string
	Kind   output.StatKind
	fields []flow.Field
}

// fastKind is one of the common elements, which Table.Add counts without
// going through the field table.
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

// fastFields are the fields of the elements Table.Add counts straight
// from the record.
var fastFields = []struct {
	fields []flow.Field
	kind   fastKind
}{
	{[]flow.Field{flow.FieldSrcAddr}, fastSrcIP},
	{[]flow.Field{flow.FieldDstAddr}, fastDstIP},
	{[]flow.Field{flow.FieldSrcAddr, flow.FieldDstAddr}, fastIP},
	{[]flow.Field{flow.FieldSrcPort}, fastSrcPort},
	{[]flow.Field{flow.FieldDstPort}, fastDstPort},
	{[]flow.Field{flow.FieldSrcPort, flow.FieldDstPort}, fastPort},
	{[]flow.Field{flow.FieldProto}, fastProto},
}

// fast returns how Table.Add counts the element: directly from the record
// for the common ones.
func (e *Element) fast() fastKind {
	for _, f := range fastFields {
		if slices.Equal(f.fields, e.fields) {
			return f.kind
		}
	}
	return fastNone
}

// addrKey is an address as nfdump's master record holds it (flow.AddrWords)
// and whether it is IPv6, which nfdump's stat key does not say (so nfdump
// 1.7.1 prints ::1 as 0.0.0.1, notes section 13 item 8).
func addrKey(a netip.Addr) (hi, lo uint64, v6 bool) {
	hi, lo = flow.AddrWords(a)
	return hi, lo, a.Is6()
}

// fieldKey returns field f of r as nfdump's stat key holds it: the two
// halves of an address, or the value (flow.Field.KeyValue) in lo. nfdump
// 1.7.1 reads MPLS entries 2, 4, 6, 8 and 10 in the upper half of their
// 64-bit word, so their key is the masked value shifted left by 32, which
// then prints as a huge label. Reproduced as observed.
func fieldKey(f flow.Field, r *flow.Record) (hi, lo uint64, v6 bool) {
	switch f.Kind() {
	case flow.KindAddr:
		return addrKey(f.Addr(r))
	case flow.KindMPLS:
		if (f-flow.FieldMPLS1)%2 == 1 {
			return 0, f.KeyValue(r) << 32, false
		}
	}
	return 0, f.KeyValue(r), false
}

// statKinds is how the values of each kind of field print in a table.
var statKinds = [...]output.StatKind{
	flow.KindNumber:  output.StatNumber,
	flow.KindAddr:    output.StatIPAddr,
	flow.KindMAC:     output.StatMAC,
	flow.KindMPLS:    output.StatMPLS,
	flow.KindLatency: output.StatLatency,
}

// el is an element of fields, printed as the kind of its first field.
func el(name, header string, fields ...flow.Field) *Element {
	return &Element{name, header, statKinds[fields[0].Kind()], fields}
}

// none is an element of n keys that godump's records do not hold.
func none(name, header string, kind output.StatKind, n int) *Element {
	fields := []flow.Field{flow.FieldNone}
	if n == 2 {
		fields = append(fields, flow.FieldNone)
	}
	return &Element{name, header, kind, fields}
}

// elements are nfdump 1.7.1's -s elements (an NSEL build), in its order.
// record is not among them: it ranks flows, not values (see ParseSpec).
var elements = []*Element{
	el("srcip", "Src IP Addr", flow.FieldSrcAddr),
	el("dstip", "Dst IP Addr", flow.FieldDstAddr),
	el("ip", "IP Addr", flow.FieldSrcAddr, flow.FieldDstAddr),
	none("srcgeo", "Src Geo", output.StatGeo, 1),
	none("dstgeo", "Dst Geo", output.StatGeo, 1),
	none("geo", "Geo", output.StatGeo, 2),
	el("nhip", "Nexthop IP", flow.FieldIPNextHop),
	el("nhbip", "Nexthop BGP IP", flow.FieldBGPNextHop),
	el("router", "Router IP", flow.FieldRouter),
	el("srcport", "Src Port", flow.FieldSrcPort),
	el("dstport", "Dst Port", flow.FieldDstPort),
	el("port", "Port", flow.FieldSrcPort, flow.FieldDstPort),
	el("proto", "Protocol", flow.FieldProto),
	el("tos", "Tos", flow.FieldSrcTos),
	el("srctos", "Tos", flow.FieldSrcTos),
	el("dsttos", "Dst Tos", flow.FieldDstTos),
	el("dir", "Dir", flow.FieldDir),
	el("srcas", "Src AS", flow.FieldSrcAS),
	el("dstas", "Dst AS", flow.FieldDstAS),
	el("prevas", "Prev AS", flow.FieldPrevAS),
	el("nextas", "Next AS", flow.FieldNextAS),
	el("as", "AS", flow.FieldSrcAS, flow.FieldDstAS),
	el("inif", "Input If", flow.FieldInIf),
	el("outif", "Output If", flow.FieldOutIf),
	el("if", "In/Out If", flow.FieldInIf, flow.FieldOutIf),
	el("srcmask", "Src Mask", flow.FieldSrcMask),
	el("dstmask", "Dst Mask", flow.FieldDstMask),
	el("mask", "Mask", flow.FieldSrcMask, flow.FieldDstMask),
	el("srcvlan", "Src Vlan", flow.FieldSrcVLAN),
	el("dstvlan", "Dst Vlan", flow.FieldDstVLAN),
	el("vlan", "Vlan", flow.FieldSrcVLAN, flow.FieldDstVLAN),
	el("insrcmac", "In Src Mac", flow.FieldInSrcMAC),
	el("outdstmac", "Out Dst Mac", flow.FieldOutDstMAC),
	el("indstmac", "In Dst Mac", flow.FieldInDstMAC),
	el("outsrcmac", "Out Src Mac", flow.FieldOutSrcMAC),
	el("srcmac", "Src Mac", flow.FieldInSrcMAC, flow.FieldOutSrcMAC),
	el("dstmac", "Dst Mac", flow.FieldOutDstMAC, flow.FieldInDstMAC),
	// nfdump 1.7.1 declares inmac with one element, so only the in
	// source MAC counts.
	el("inmac", "In Src Mac", flow.FieldInSrcMAC),
	el("outmac", "Out Src Mac", flow.FieldOutSrcMAC, flow.FieldOutDstMAC),
	el("mpls1", " MPLS lab 1", flow.FieldMPLS1),
	el("mpls2", " MPLS lab 2", flow.FieldMPLS2),
	el("mpls3", " MPLS lab 3", flow.FieldMPLS3),
	el("mpls4", " MPLS lab 4", flow.FieldMPLS4),
	el("mpls5", " MPLS lab 5", flow.FieldMPLS5),
	el("mpls6", " MPLS lab 6", flow.FieldMPLS6),
	el("mpls7", " MPLS lab 7", flow.FieldMPLS7),
	el("mpls8", " MPLS lab 8", flow.FieldMPLS8),
	el("mpls9", " MPLS lab 9", flow.FieldMPLS9),
	el("mpls10", "MPLS lab 10", flow.FieldMPLS10),
	el("cl", "Client Latency", flow.FieldClientLatency),
	el("sl", "Server Latency", flow.FieldServerLatency),
	el("al", "  Appl Latency", flow.FieldApplLatency),
	none("nbar", "nbar", output.StatNbar, 1),
	none("ja3", "                             ja3", output.StatJA3, 1),
	none("odid", "obs domainID", output.StatHexNumber, 1),
	none("opid", " obs PointID", output.StatHexNumber, 1),
	none("event", " Event", output.StatEvent, 1),
	none("nevent", " Event", output.StatEvent, 1),
	none("xevent", "X-Event", output.StatNumber, 1),
	none("xsrcip", "X-Src IP Addr", output.StatIPAddr, 1),
	none("xdstip", "X-Dst IP Addr", output.StatIPAddr, 1),
	none("xsrcport", " X-Src Port", output.StatNumber, 1),
	none("xdstport", " X-Dst Port", output.StatNumber, 1),
	none("iacl", "Ingress ACL", output.StatHex, 1),
	none("iace", "Ingress ACE", output.StatHex, 1),
	none("ixace", "Ingress xACE", output.StatHex, 1),
	none("eacl", "Egress ACL", output.StatHex, 1),
	none("eace", "Egress ACE", output.StatHex, 1),
	none("exace", "Egress xACE", output.StatHex, 1),
	none("ivrf", " I-vrf-ID", output.StatNumber, 1),
	none("evrf", " E-vrf-ID", output.StatNumber, 1),
	none("nsrcip", "X-Src IP Addr", output.StatIPAddr, 1),
	none("ndstip", "X-Dst IP Addr", output.StatIPAddr, 1),
	none("nsrcport", " X-Src Port", output.StatNumber, 1),
	none("ndstport", " X-Dst Port", output.StatNumber, 1),
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

// Reads returns the V3 elements whose fields counting the spec reads: the
// generic and counter elements (times, counters) and those of its fields.
func (s Spec) Reads() flow.Elements {
	e := flow.Elements(1<<flow.ElemGeneric | 1<<flow.ElemCounters)
	if s.Element == nil {
		return ^flow.Elements(0)
	}
	for _, f := range s.Element.fields {
		e |= f.Elements()
	}
	return e
}
