package output

import (
	"slices"
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
	keys    *jsonKeys // the layout's keys, made at the first record
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

// The keys of a record, in the order printed. Each key's text is kept
// with the separator before it (the end of the value before it, for
// all but the first), in a fixed array of jsonKeyRoom bytes, and appended
// with one copy of that constant size, which the compiler makes two
// 16-byte moves: appending the key in three parts and its end in a fourth,
// each through a call to memmove as the key is no constant in a shared
// function, took 17% of godump -o json's CPU.
const (
	jType = iota
	jSampled
	jExportSysid
	jFirst
	jLast
	jReceived
	jInPackets
	jInBytes
	jProto
	jICMPType
	jICMPCode
	jTCPFlags
	jSrcPort
	jDstPort
	jSrcTos
	jSrc4Addr
	jDst4Addr
	jSrc6Addr
	jDst6Addr
	jInputSNMP
	jOutputSNMP
	jSrcMask
	jDstMask
	jSrcNet
	jDstNet
	jFwdStatus
	jDirection
	jDstTos
	jOutPackets
	jOutBytes
	jAggrFlows
	jSrcVLAN
	jDstVLAN
	jSrcAS
	jDstAS
	jBGP4NextHop
	jBGP6NextHop
	jIP4NextHop
	jIP6NextHop
	jIP4Router
	jIP6Router
	jMPLS1 // and the nine after it: mpls_1 to mpls_10
	_
	_
	_
	_
	_
	_
	_
	_
	_
	jInSrcMAC
	jOutDstMAC
	jInDstMAC
	jOutSrcMAC
	jNextAS
	jPrevAS
	jCliLatency
	jSrvLatency
	jAppLatency
	jLabel
	jKeys // how many
)

var jsonKeyNames = [jKeys]string{
	jType: "type", jSampled: "sampled", jExportSysid: "export_sysid",
	jFirst: "first", jLast: "last", jReceived: "received",
	jInPackets: "in_packets", jInBytes: "in_bytes", jProto: "proto",
	jICMPType: "icmp_type", jICMPCode: "icmp_code", jTCPFlags: "tcp_flags",
	jSrcPort: "src_port", jDstPort: "dst_port", jSrcTos: "src_tos",
	jSrc4Addr: "src4_addr", jDst4Addr: "dst4_addr", jSrc6Addr: "src6_addr", jDst6Addr: "dst6_addr",
	jInputSNMP: "input_snmp", jOutputSNMP: "output_snmp", jSrcMask: "src_mask", jDstMask: "dst_mask",
	jSrcNet: "src_net", jDstNet: "dst_net", jFwdStatus: "fwd_status", jDirection: "direction", jDstTos: "dst_tos",
	jOutPackets: "out_packets", jOutBytes: "out_bytes", jAggrFlows: "aggr_flows",
	jSrcVLAN: "src_vlan", jDstVLAN: "dst_vlan", jSrcAS: "src_as", jDstAS: "dst_as",
	jBGP4NextHop: "bgp4_next_hop", jBGP6NextHop: "bgp6_next_hop",
	jIP4NextHop: "ip4_next_hop", jIP6NextHop: "ip6_next_hop",
	jIP4Router: "ip4_router", jIP6Router: "ip6_router",
	jMPLS1: "mpls_1", jMPLS1 + 1: "mpls_2", jMPLS1 + 2: "mpls_3", jMPLS1 + 3: "mpls_4", jMPLS1 + 4: "mpls_5",
	jMPLS1 + 5: "mpls_6", jMPLS1 + 6: "mpls_7", jMPLS1 + 7: "mpls_8", jMPLS1 + 8: "mpls_9", jMPLS1 + 9: "mpls_10",
	jInSrcMAC: "in_src_mac", jOutDstMAC: "out_dst_mac", jInDstMAC: "in_dst_mac", jOutSrcMAC: "out_src_mac",
	jNextAS: "next_as", jPrevAS: "prev_as",
	jCliLatency: "cli_latency", jSrvLatency: "srv_latency", jAppLatency: "app_latency",
	jLabel: "label",
}

// jsonKeyRoom is the room of a key's text: the longest, nfdump's
// ",\n\t\"bgp4_next_hop\" : ", takes 21 bytes.
const jsonKeyRoom = 32

// jsonKeys are the texts of the keys of one of the two layouts.
type jsonKeys struct {
	text [jKeys][jsonKeyRoom]byte
	n    [jKeys]uint8
}

// makeJSONKeys makes the keys of -o json, or of -o ndjson with nd.
func makeJSONKeys(nd bool) *jsonKeys {
	k := new(jsonKeys)
	for i, name := range jsonKeyNames {
		var b []byte
		switch {
		case nd && i == jType:
			b = append(b, "{\""...)
		case nd:
			b = append(b, ",\""...)
		case i == jType:
			b = append(b, "{\n\t\""...)
		default:
			b = append(b, ",\n\t\""...)
		}
		b = append(b, name...)
		if nd {
			b = append(b, "\":"...)
		} else {
			b = append(b, "\" : "...)
		}
		k.n[i] = uint8(copy(k.text[i][:], b))
	}
	return k
}

// key appends key k with the separator before it.
func (p *jsonPrinter) key(b []byte, k int) []byte {
	n := len(b)
	if cap(b)-n < jsonKeyRoom {
		b = slices.Grow(b, jsonKeyRoom)
	}
	*(*[jsonKeyRoom]byte)(b[n : n+jsonKeyRoom]) = p.keys.text[k]
	return b[:n+int(p.keys.n[k])]
}

func (p *jsonPrinter) num(b []byte, k int, v uint64) []byte {
	return appendDec(p.key(b, k), v)
}

func (p *jsonPrinter) addr(b []byte, k int, x ip, v6 bool) []byte {
	b = append(p.key(b, k), '"')
	b = appendAddr(b, x, v6)
	return append(b, '"')
}

func (p *jsonPrinter) time(b []byte, k int, msec uint64) []byte {
	b = append(p.key(b, k), '"')
	b = p.clk.appendMsec(b, msec, 'T')
	return append(b, '"')
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
	if p.keys == nil {
		p.keys = makeJSONKeys(p.nd)
	}
	e := elements(r)
	v6 := e.Has(flow.ElemIPv6)
	b = p.key(b, jType)
	if r.Flags&flow.FlagEvent != 0 {
		b = append(b, "\"EVENT\""...)
	} else {
		b = append(b, "\"FLOW\""...)
	}
	b = p.num(b, jSampled, uint64(r.Flags&flow.FlagSampled>>1))
	b = p.num(b, jExportSysid, uint64(r.ExporterID))
	for id := 1; id <= flow.MaxModeledElement; id++ {
		// Under an -A list nfdump has no elements left to print.
		if !e.Has(id) || masked(r) {
			continue
		}
		switch id {
		case flow.ElemGeneric:
			b = p.time(b, jFirst, r.First)
			b = p.time(b, jLast, r.Last)
			b = p.time(b, jReceived, r.Received)
			b = p.num(b, jInPackets, r.InPackets)
			b = p.num(b, jInBytes, r.InBytes)
			b = p.num(b, jProto, uint64(r.Proto))
			if r.IsICMP() {
				b = p.num(b, jICMPType, uint64(r.ICMPType()))
				b = p.num(b, jICMPCode, uint64(r.ICMPCode()))
			} else {
				b = append(p.key(b, jTCPFlags), '"')
				b = append(appendFlags(b, r.TCPFlags), '"')
				b = p.num(b, jSrcPort, uint64(r.SrcPort))
				b = p.num(b, jDstPort, uint64(r.DstPort))
			}
			b = p.num(b, jSrcTos, uint64(r.SrcTos))
		case flow.ElemIPv4:
			b = p.addr(b, jSrc4Addr, ipOf(r.SrcAddr), false)
			b = p.addr(b, jDst4Addr, ipOf(r.DstAddr), false)
		case flow.ElemIPv6:
			b = p.addr(b, jSrc6Addr, ipOf(r.SrcAddr), true)
			b = p.addr(b, jDst6Addr, ipOf(r.DstAddr), true)
		case flow.ElemMisc:
			b = p.num(b, jInputSNMP, uint64(r.Input))
			b = p.num(b, jOutputSNMP, uint64(r.Output))
			b = p.num(b, jSrcMask, uint64(r.SrcMask))
			b = p.num(b, jDstMask, uint64(r.DstMask))
			nets := r.SrcMask != 0 || r.DstMask != 0
			b = append(p.key(b, jSrcNet), '"')
			if nets {
				b = jsonNet(b, ipOf(r.SrcAddr), r.SrcMask, v6)
			}
			b = append(p.key(append(b, '"'), jDstNet), '"')
			if nets {
				b = jsonNet(b, ipOf(r.DstAddr), r.DstMask, v6)
			}
			b = append(b, '"')
			b = p.num(b, jFwdStatus, uint64(r.FwdStatus))
			b = p.num(b, jDirection, uint64(r.Dir))
			b = p.num(b, jDstTos, uint64(r.DstTos))
		case flow.ElemCounters:
			b = p.num(b, jOutPackets, r.OutPackets)
			b = p.num(b, jOutBytes, r.OutBytes)
			b = p.num(b, jAggrFlows, r.AggrFlows())
		case flow.ElemVLAN:
			b = p.num(b, jSrcVLAN, uint64(uint16(r.SrcVLAN)))
			b = p.num(b, jDstVLAN, uint64(uint16(r.DstVLAN)))
		case flow.ElemAS:
			b = p.num(b, jSrcAS, uint64(r.SrcAS))
			b = p.num(b, jDstAS, uint64(r.DstAS))
		case flow.ElemBGPNextHopV4:
			b = p.addr(b, jBGP4NextHop, ipOf(r.BGPNextHop), false)
		case flow.ElemBGPNextHopV6:
			b = p.addr(b, jBGP6NextHop, ipOf(r.BGPNextHop), true)
		case flow.ElemIPNextHopV4:
			b = p.addr(b, jIP4NextHop, ipOf(r.IPNextHop), false)
		case flow.ElemIPNextHopV6:
			b = p.addr(b, jIP6NextHop, ipOf(r.IPNextHop), true)
		case flow.ElemExporterIPv4:
			b = p.addr(b, jIP4Router, ipOf(r.Exporter), false)
		case flow.ElemExporterIPv6:
			b = p.addr(b, jIP6Router, ipOf(r.Exporter), true)
		case flow.ElemMPLS:
			for i, l := range r.MPLS {
				b = append(p.key(b, jMPLS1+i), '"')
				b = append(appendMPLS(b, l, 0), '"')
			}
		case flow.ElemMAC:
			for i, m := range [...]uint64{r.InSrcMAC, r.OutDstMAC, r.InDstMAC, r.OutSrcMAC} {
				b = append(p.key(b, jInSrcMAC+i), '"')
				b = append(appendMAC(b, m), '"')
			}
		case flow.ElemAdjacentAS:
			b = p.num(b, jNextAS, uint64(r.NextAS))
			b = p.num(b, jPrevAS, uint64(r.PrevAS))
		case flow.ElemLatency:
			for i, l := range [...]uint64{r.ClientNwDelay, r.ServerNwDelay, r.ApplLatency} {
				b = p.key(b, jCliLatency+i)
				b = strconv.AppendFloat(b, float64(l)/1000.0, 'f', 6, 64)
			}
		}
	}
	b = p.key(b, jLabel)
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
