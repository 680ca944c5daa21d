package output

import (
	"strconv"

	"github.com/nfgo/nftools/flow"
)

// rawPrinter prints -o raw: every element of a record, one field a line.
// With nfcapd set it prints the variant nfcapd -E prints as it receives
// records (see CollectorPrinter).
type rawPrinter struct {
	base
	nfcapd bool
}

func (p *rawPrinter) Begin() error { return nil }

func (p *rawPrinter) Print(r *flow.Record) error {
	p.count++
	return p.PrintCounted(r, p.count)
}

func (p *rawPrinter) PrintCounted(r *flow.Record, n uint64) error {
	p.buf = p.appendRecord(p.buf, r, n)
	return p.maybeFlush()
}

func (p *rawPrinter) End(s *Summary) error { return p.endPlain(s) }

// elemSize is the on-disk size of each modelled V3 element with its
// header; a record's size is the 12-byte record header plus these.
var elemSize = [flow.MaxModeledElement + 1]uint64{
	flow.ElemGeneric: 52, flow.ElemIPv4: 12, flow.ElemIPv6: 36, flow.ElemMisc: 20,
	flow.ElemCounters: 28, flow.ElemVLAN: 12, flow.ElemAS: 12,
	flow.ElemBGPNextHopV4: 8, flow.ElemBGPNextHopV6: 20,
	flow.ElemIPNextHopV4: 8, flow.ElemIPNextHopV6: 20,
	flow.ElemExporterIPv4: 8, flow.ElemExporterIPv6: 20,
	flow.ElemMPLS: 44, flow.ElemMAC: 36, flow.ElemAdjacentAS: 12, flow.ElemLatency: 28,
}

// field appends "  <label> =" with the label as nfdump pads it (13 wide)
// and sp blanks.
func field(b []byte, label string, sp int) []byte {
	b = append(b, "  "...)
	b = padRightStr(b, label, 13)
	b = append(b, '=')
	return spaces(b, sp)
}

func (p *rawPrinter) rawTime(b []byte, label string, msec uint64, zeroUnknown bool) []byte {
	b = field(b, label, 5)
	b = appendU(b, msec, 13)
	b = append(b, " ["...)
	switch {
	case msec/1000 == 0 && zeroUnknown:
		b = append(b, "<unknown>"...)
	case msec == 0 && !zeroUnknown:
		b = append(b, '0')
	default:
		b = p.clk.appendTime(b, int64(msec/1000), ' ')
	}
	b = append(b, '.')
	b = appendI(b, int64(msec%1000), 3, true)
	return append(b, "]\n"...)
}

func rawAddr(b []byte, label string, x ip, v6 bool) []byte {
	b = field(b, label, 2)
	var t [48]byte
	b = padLeft(b, appendAddr(t[:0], x, v6), 16)
	return append(b, '\n')
}

func rawU(b []byte, label string, sp int, v uint64, w int) []byte {
	b = field(b, label, sp)
	b = appendU(b, v, w)
	return append(b, '\n')
}

func rawHex(b []byte, label string, v uint8, text string) []byte {
	b = field(b, label, 14)
	b = append(b, "0x"...)
	b = hex2(b, v)
	b = append(b, ' ')
	b = append(b, text...)
	return append(b, '\n')
}

func biFlowString(v uint8) string {
	switch v {
	case 0:
		return ""
	case 1:
		return "initiator"
	case 2:
		return "reverseInitiator"
	case 3:
		return "perimeter"
	}
	return "undef"
}

func endString(v uint8) string {
	switch v {
	case 0:
		return ""
	case 1:
		return "idle timeout"
	case 2:
		return "active timeout"
	case 3:
		return "end of Flow detected"
	case 4:
		return "forced end"
	case 5:
		return "lack of resources"
	}
	return "undef"
}

func (p *rawPrinter) appendRecord(b []byte, r *flow.Record, n uint64) []byte {
	e := elements(r)
	if p.nfcapd {
		// nfcapd prints the record it is about to store.
		e = r.NeededElements()
	}
	v6 := e.Has(flow.ElemIPv6)
	b = append(b, "\nFlow Record: \n"...)
	if uint32(n) != 0 {
		b = rawU(b, "RecordCount", 13, uint64(uint32(n)), 5)
	}
	var typ string
	var ver []byte
	var vb [8]byte
	switch {
	case r.Flags&flow.FlagEvent != 0:
		typ = "EVENT"
	case r.NFVersion == 0:
		typ = "FLOW"
	default:
		ver = strconv.AppendUint(append(vb[:0], " v"...), uint64(r.NFVersion&0x0f), 10)
		switch {
		case r.NFVersion&0x80 != 0:
			typ = "SFLOW"
		case r.NFVersion&0x40 != 0:
			typ = "PCAP"
		default:
			typ = "NETFLOW"
		}
	}
	b = field(b, "Flags", 14)
	b = append(b, "0x"...)
	b = hex2(b, r.Flags)
	b = append(b, ' ')
	b = append(b, typ...)
	b = append(b, ver...)
	if r.Flags&flow.FlagAnon != 0 {
		b = append(b, " Anonymized"...)
	}
	if r.Flags&flow.FlagSampled != 0 {
		b = append(b, ", Sampled\n"...)
	} else {
		b = append(b, ", Unsampled\n"...)
	}
	num, size := 0, uint64(12)
	for id := 1; id <= flow.MaxModeledElement; id++ {
		if e.Has(id) {
			num++
			size += elemSize[id]
		}
	}
	if e.Has(flow.ElemLabel) {
		// EXlabel: its header and the label with its NUL byte.
		num++
		size += 4 + uint64(len(r.Label)) + 1
	}
	b = field(b, "Elements", 13)
	b = appendU(b, uint64(num), 5)
	b = append(b, ": "...)
	for id := 1; id <= flow.MaxModeledElement; id++ {
		switch {
		case !e.Has(id):
		case masked(r):
			// nfdump's aggregation mask has cleared the element list
			// but not its length: every number prints as 0, and no
			// element follows the header.
			b = append(b, "0 "...)
		default:
			b = strconv.AppendUint(b, uint64(id), 10)
			b = append(b, ' ')
		}
	}
	switch {
	case !e.Has(flow.ElemLabel):
	case masked(r):
		b = append(b, "0 "...)
	default:
		b = strconv.AppendUint(b, flow.ElemLabel, 10)
		b = append(b, ' ')
	}
	b = append(b, '\n')
	b = rawU(b, "size", 13, size, 5)
	b = rawU(b, "engine type", 13, uint64(r.EngineType), 5)
	b = rawU(b, "engine ID", 13, uint64(r.EngineID), 5)
	b = rawU(b, "export sysid", 13, uint64(r.ExporterID), 5)
	if r.Label != "" {
		b = field(b, "Label", 2)
		b = padLeftStr(b, r.Label, 16)
		b = append(b, '\n')
	}
	for id := 1; id <= flow.MaxModeledElement; id++ {
		if !e.Has(id) || masked(r) || p.nfcapd && id > nfcapdLastPrinted {
			continue
		}
		switch id {
		case flow.ElemGeneric:
			b = p.rawTime(b, "first", r.First, true)
			b = p.rawTime(b, "last", r.Last, true)
			b = p.rawTime(b, "received at", r.Received, false)
			b = field(b, "proto", 15)
			b = appendU(b, uint64(r.Proto), 3)
			b = append(b, ' ')
			b = appendProto(b, r.Proto, false)
			b = append(b, '\n')
			var f uint8
			if r.Proto == flow.ProtoTCP {
				f = r.TCPFlags
			}
			var t [8]byte
			b = rawHex(b, "tcp flags", f, string(appendFlags(t[:0], f)))
			// nfdump 1.7.1 does not take the reverse flags out of
			// EXflowMisc, so it never prints them for a file's records
			// (measured with random records); it prints those an -a, -b
			// or -B table sets, as 0 for a protocol other than TCP.
			if r.Elements&flow.MarkReverseFlags != 0 && r.RevTCPFlags != 0 {
				var rf uint8
				if r.Proto == flow.ProtoTCP {
					rf = r.RevTCPFlags
				}
				b = rawHex(b, "revtcp flags", rf, string(appendFlags(t[:0], rf)))
			}
			if r.IsICMP() {
				typ, code := r.ICMPType(), r.ICMPCode()
				if p.nfcapd {
					typ, code = code, typ
				}
				b = field(b, "ICMP", 14)
				b = appendU(b, uint64(typ), 2)
				b = append(b, '.')
				b = appendUL(b, uint64(code), 2)
				b = append(b, " type.code\n"...)
			} else {
				b = rawU(b, "src port", 13, uint64(r.SrcPort), 5)
				b = rawU(b, "dst port", 13, uint64(r.DstPort), 5)
				b = rawU(b, "src tos", 15, uint64(r.SrcTos), 3)
			}
			b = rawU(b, "in packets", 8, r.InPackets, 10)
			b = rawU(b, "in bytes", 8, r.InBytes, 10)
		case flow.ElemIPv4, flow.ElemIPv6:
			b = rawAddr(b, "src addr", ipOf(r.SrcAddr), v6)
			b = rawAddr(b, "dst addr", ipOf(r.DstAddr), v6)
		case flow.ElemMisc:
			b = rawU(b, "input", 10, uint64(r.Input), 8)
			b = rawU(b, "output", 10, uint64(r.Output), 8)
			for _, m := range [...]struct {
				label string
				a     ip
				bits  uint8
			}{{"src mask", ipOf(r.SrcAddr), r.SrcMask}, {"dst mask", ipOf(r.DstAddr), r.DstMask}} {
				b = field(b, m.label, 13)
				b = appendU(b, uint64(m.bits), 5)
				b = append(b, ' ')
				if m.bits != 0 {
					b = appendAddr(b, netMask(m.a, m.bits, v6), v6)
				}
				b = append(b, '/')
				b = strconv.AppendUint(b, uint64(m.bits), 10)
				b = append(b, '\n')
			}
			b = rawU(b, "fwd status", 15, uint64(r.FwdStatus), 3)
			// nfdump prints the source ToS as dst tos.
			b = rawU(b, "dst tos", 15, uint64(r.SrcTos), 3)
			b = rawU(b, "direction", 15, uint64(r.Dir), 3)
			b = rawHex(b, "biFlow Dir", r.BiFlowDir, biFlowString(r.BiFlowDir))
			b = rawHex(b, "end reason", r.EndReason, endString(r.EndReason))
		case flow.ElemCounters:
			b = rawU(b, "out packets", 8, r.OutPackets, 10)
			b = rawU(b, "out bytes", 8, r.OutBytes, 10)
			b = rawU(b, "aggr flows", 8, r.AggrFlows(), 10)
		case flow.ElemVLAN:
			b = rawU(b, "src vlan", 13, uint64(uint16(r.SrcVLAN)), 5)
			b = rawU(b, "dst vlan", 13, uint64(uint16(r.DstVLAN)), 5)
		case flow.ElemAS:
			b = rawU(b, "src as", 13, uint64(r.SrcAS), 5)
			b = rawU(b, "dst as", 13, uint64(r.DstAS), 5)
		case flow.ElemBGPNextHopV4, flow.ElemBGPNextHopV6:
			b = rawAddr(b, "bgp next hop", ipOf(r.BGPNextHop), id == flow.ElemBGPNextHopV6)
		case flow.ElemIPNextHopV4, flow.ElemIPNextHopV6:
			b = rawAddr(b, "ip next hop", ipOf(r.IPNextHop), id == flow.ElemIPNextHopV6)
		case flow.ElemExporterIPv4, flow.ElemExporterIPv6:
			b = rawAddr(b, "ip exporter", ipOf(r.Exporter), id == flow.ElemExporterIPv6)
		case flow.ElemMPLS:
			for i, l := range r.MPLS {
				if l == 0 {
					continue
				}
				b = append(b, "  MPLS Lbl "...)
				b = appendU(b, uint64(i+1), 2)
				b = append(b, "  =      "...)
				b = appendMPLS(b, l, 8)
				b = append(b, '\n')
			}
		case flow.ElemMAC:
			for _, m := range [...]struct {
				label string
				v     uint64
			}{{"in src mac", r.InSrcMAC}, {"out dst mac", r.OutDstMAC}, {"in dst mac", r.InDstMAC}, {"out src mac", r.OutSrcMAC}} {
				b = field(b, m.label, 1)
				b = appendMAC(b, m.v)
				b = append(b, '\n')
			}
		case flow.ElemAdjacentAS:
			b = rawU(b, "bgp next as", 13, uint64(r.NextAS), 5)
			b = rawU(b, "bgp prev as", 13, uint64(r.PrevAS), 5)
		case flow.ElemLatency:
			for _, l := range [...]struct {
				label string
				v     uint64
			}{{"cli latency", r.ClientNwDelay}, {"srv latency", r.ServerNwDelay}, {"app latency", r.ApplLatency}} {
				b = field(b, l.label, 9)
				b = appendF(b, float64(l.v)/1000.0, 3, 9, false)
				b = append(b, " ms\n"...)
			}
		}
	}
	return b
}

// netMask is nfdump's inet_ntop_mask/inet6_ntop_mask: the address with its
// network mask applied (used only for a mask other than 0).
func netMask(x ip, bits uint8, v6 bool) ip {
	if !v6 {
		m := uint64(0xffffffff) << ((32 - uint64(bits)) & 63)
		x.lo = uint64(uint32(x.lo & m))
		return x
	}
	if bits <= 64 {
		x.hi &= ^uint64(0) << ((64 - uint64(bits)) & 63)
		x.lo = 0
	} else {
		x.lo &= ^uint64(0) << ((128 - uint64(bits)) & 63)
	}
	return x
}
