package output

import (
	"strconv"

	"github.com/nfgo/nftools/flow"
)

// jsonPrinter prints -o json (nfdump's layout: one key a line, records
// separated by ",\n", the array closed by "]") or, with nd, -o ndjson: one
// compact object a line, nothing else.
type jsonPrinter struct {
	base
	nd      bool
	printed uint64
}

func (p *jsonPrinter) Begin() error {
	if !p.nd {
		// nfdump drops the brackets with -q, leaving invalid JSON; we
		// keep them (COMPATIBILITY.md).
		p.buf = append(p.buf, "[\n"...)
	}
	return p.flush()
}

func (p *jsonPrinter) Print(r *flow.Record) error {
	p.count++
	return p.PrintCounted(r, p.count)
}

func (p *jsonPrinter) PrintCounted(r *flow.Record, n uint64) error {
	if p.printed > 0 && !p.nd {
		p.buf = append(p.buf, ",\n"...)
	}
	p.printed++
	p.buf = p.appendRecord(p.buf, r)
	return p.maybeFlush()
}

func (p *jsonPrinter) End(s *Summary) error {
	if p.nd {
		return p.flush()
	}
	if !p.o.Quiet {
		p.noMatch(s)
	}
	p.buf = append(p.buf, "]\n"...)
	return p.flush()
}

// kv starts a key: nfdump's "\t\"key\" : " or ndjson's "\"key\":".
func (p *jsonPrinter) kv(b []byte, k string) []byte {
	if p.nd {
		if b[len(b)-1] != '{' {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, k...)
		return append(b, "\":"...)
	}
	b = append(b, "\t\""...)
	b = append(b, k...)
	return append(b, "\" : "...)
}

// end ends a value.
func (p *jsonPrinter) end(b []byte) []byte {
	if p.nd {
		return b
	}
	return append(b, ",\n"...)
}

func (p *jsonPrinter) num(b []byte, k string, v uint64) []byte {
	b = p.kv(b, k)
	return p.end(strconv.AppendUint(b, v, 10))
}

func (p *jsonPrinter) str(b []byte, k string, v []byte) []byte {
	b = p.kv(b, k)
	b = append(b, '"')
	b = append(b, v...)
	return p.end(append(b, '"'))
}

func (p *jsonPrinter) addr(b []byte, k string, x ip, v6 bool) []byte {
	b = p.kv(b, k)
	b = append(b, '"')
	b = appendAddr(b, x, v6)
	return p.end(append(b, '"'))
}

func (p *jsonPrinter) time(b []byte, k string, msec uint64) []byte {
	b = p.kv(b, k)
	b = append(b, '"')
	b = p.clk.appendMsec(b, msec, 'T')
	return p.end(append(b, '"'))
}

// jsonNet is nfdump 1.7.1's src_net/dst_net: for IPv4 the address with the
// mask applied, for IPv6 its own (wrong) masking that clears low bits.
func jsonNet(b []byte, x ip, mask uint8, v6 bool) []byte {
	if !v6 {
		m := uint64(0xffffffff) << ((32 - uint64(mask)) & 63)
		return appendIP4(b, uint32(x.lo&m))
	}
	if mask >= 64 {
		x.hi &= ^uint64(0) << ((uint64(mask) - 64) & 63)
		x.lo = 0
	} else {
		x.lo &= ^uint64(0) << (uint64(mask) & 63)
	}
	return appendIP6(b, x)
}

func (p *jsonPrinter) appendRecord(b []byte, r *flow.Record) []byte {
	e := elements(r)
	v6 := e.Has(flow.ElemIPv6)
	if p.nd {
		b = append(b, '{')
	} else {
		b = append(b, "{\n"...)
	}
	typ := "FLOW"
	if r.Flags&flow.FlagEvent != 0 {
		typ = "EVENT"
	}
	b = p.kv(b, "type")
	b = append(b, '"')
	b = append(b, typ...)
	b = p.end(append(b, '"'))
	b = p.num(b, "sampled", uint64(r.Flags&flow.FlagSampled>>1))
	b = p.num(b, "export_sysid", uint64(r.ExporterID))
	for id := 1; id <= flow.MaxModeledElement; id++ {
		// Under an -A list nfdump has no elements left to print.
		if !e.Has(id) || masked(r) {
			continue
		}
		switch id {
		case flow.ElemGeneric:
			b = p.time(b, "first", r.First)
			b = p.time(b, "last", r.Last)
			b = p.time(b, "received", r.Received)
			b = p.num(b, "in_packets", r.InPackets)
			b = p.num(b, "in_bytes", r.InBytes)
			b = p.num(b, "proto", uint64(r.Proto))
			if r.IsICMP() {
				b = p.num(b, "icmp_type", uint64(r.ICMPType()))
				b = p.num(b, "icmp_code", uint64(r.ICMPCode()))
			} else {
				var t [8]byte
				b = p.str(b, "tcp_flags", appendFlags(t[:0], r.TCPFlags))
				b = p.num(b, "src_port", uint64(r.SrcPort))
				b = p.num(b, "dst_port", uint64(r.DstPort))
			}
			b = p.num(b, "src_tos", uint64(r.SrcTos))
		case flow.ElemIPv4:
			b = p.addr(b, "src4_addr", ipOf(r.SrcAddr), false)
			b = p.addr(b, "dst4_addr", ipOf(r.DstAddr), false)
		case flow.ElemIPv6:
			b = p.addr(b, "src6_addr", ipOf(r.SrcAddr), true)
			b = p.addr(b, "dst6_addr", ipOf(r.DstAddr), true)
		case flow.ElemMisc:
			b = p.num(b, "input_snmp", uint64(r.Input))
			b = p.num(b, "output_snmp", uint64(r.Output))
			b = p.num(b, "src_mask", uint64(r.SrcMask))
			b = p.num(b, "dst_mask", uint64(r.DstMask))
			var sn, dn [48]byte
			s, d := sn[:0], dn[:0]
			if r.SrcMask != 0 || r.DstMask != 0 {
				s = jsonNet(s, ipOf(r.SrcAddr), r.SrcMask, v6)
				d = jsonNet(d, ipOf(r.DstAddr), r.DstMask, v6)
			}
			b = p.str(b, "src_net", s)
			b = p.str(b, "dst_net", d)
			b = p.num(b, "fwd_status", uint64(r.FwdStatus))
			b = p.num(b, "direction", uint64(r.Dir))
			b = p.num(b, "dst_tos", uint64(r.DstTos))
		case flow.ElemCounters:
			b = p.num(b, "out_packets", r.OutPackets)
			b = p.num(b, "out_bytes", r.OutBytes)
			b = p.num(b, "aggr_flows", r.AggrFlows())
		case flow.ElemVLAN:
			b = p.num(b, "src_vlan", uint64(uint16(r.SrcVLAN)))
			b = p.num(b, "dst_vlan", uint64(uint16(r.DstVLAN)))
		case flow.ElemAS:
			b = p.num(b, "src_as", uint64(r.SrcAS))
			b = p.num(b, "dst_as", uint64(r.DstAS))
		case flow.ElemBGPNextHopV4:
			b = p.addr(b, "bgp4_next_hop", ipOf(r.BGPNextHop), false)
		case flow.ElemBGPNextHopV6:
			b = p.addr(b, "bgp6_next_hop", ipOf(r.BGPNextHop), true)
		case flow.ElemIPNextHopV4:
			b = p.addr(b, "ip4_next_hop", ipOf(r.IPNextHop), false)
		case flow.ElemIPNextHopV6:
			b = p.addr(b, "ip6_next_hop", ipOf(r.IPNextHop), true)
		case flow.ElemExporterIPv4:
			b = p.addr(b, "ip4_router", ipOf(r.Exporter), false)
		case flow.ElemExporterIPv6:
			b = p.addr(b, "ip6_router", ipOf(r.Exporter), true)
		case flow.ElemMPLS:
			for i, l := range r.MPLS {
				var k [8]byte
				var t [32]byte
				key := append(append(k[:0], "mpls_"...), byte('0'+(i+1)%10))
				if i == 9 {
					key = append(k[:0], "mpls_10"...)
				}
				b = p.str(b, string(key), appendMPLS(t[:0], l, 0))
			}
		case flow.ElemMAC:
			var t [24]byte
			b = p.str(b, "in_src_mac", appendMAC(t[:0], r.InSrcMAC))
			b = p.str(b, "out_dst_mac", appendMAC(t[:0], r.OutDstMAC))
			b = p.str(b, "in_dst_mac", appendMAC(t[:0], r.InDstMAC))
			b = p.str(b, "out_src_mac", appendMAC(t[:0], r.OutSrcMAC))
		case flow.ElemAdjacentAS:
			b = p.num(b, "next_as", uint64(r.NextAS))
			b = p.num(b, "prev_as", uint64(r.PrevAS))
		case flow.ElemLatency:
			for _, l := range [...]struct {
				k string
				v uint64
			}{{"cli_latency", r.ClientNwDelay}, {"srv_latency", r.ServerNwDelay}, {"app_latency", r.ApplLatency}} {
				b = p.kv(b, l.k)
				b = p.end(strconv.AppendFloat(b, float64(l.v)/1000.0, 'f', 6, 64))
			}
		}
	}
	b = p.kv(b, "label")
	if r.Label == "" {
		b = append(b, "\"<none>\""...)
	} else {
		// Labels are filter words ([A-Za-z0-9_:.-]): nothing to escape.
		b = append(append(append(b, '"'), r.Label...), '"')
	}
	if p.nd {
		return append(b, "}\n"...)
	}
	return append(b, "\n}"...)
}
