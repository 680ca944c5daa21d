package output

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nfgo/nftools/flow"
)

// FormatError is a fmt: format nfdump would reject; its text is nfdump's
// message (nfdump exits 1 after printing it on stderr).
type FormatError struct {
	Msg string
	// blankLine: nfdump follows this message with an empty line.
	blankLine bool
}

func (e *FormatError) Error() string { return e.Msg }

// Report returns what nfdump 1.7.1 prints on stderr for the error.
func (e *FormatError) Report() string {
	if e.blankLine {
		return e.Msg + "\n\n"
	}
	return e.Msg + "\n"
}

// item is one piece of a parsed format: a token or a literal.
type item struct {
	id  tokenID
	lit string
}

// expandMacros replaces the first %name of each predefined format by its
// definition, as nfdump does before parsing.
func expandMacros(f string) string {
	for _, p := range predefined {
		if p.format == "" {
			continue
		}
		i := strings.Index(f, p.name)
		if i <= 0 || f[i-1] != '%' {
			continue
		}
		if j := i + len(p.name); j < len(f) && isAlpha(f[j]) {
			continue
		}
		f = f[:i-1] + p.format + f[i+len(p.name):]
	}
	return f
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// parseFormat cuts a format into tokens and literals and builds the header
// line, the way nfdump 1.7.1 does: the first table token followed by a
// non-letter wins, a literal becomes as many blanks in the header, and an
// address token's header gets 23 more blanks with long IPv6.
func parseFormat(f string, v6long bool) ([]item, string, error) {
	f = expandMacros(f)
	var items []item
	var hdr strings.Builder
	for c := f; c != ""; {
		if c[0] != '%' {
			n := strings.IndexByte(c, '%')
			if n < 0 {
				n = len(c)
			}
			items = append(items, item{id: tLiteral, lit: c[:n]})
			hdr.WriteString(strings.Repeat(" ", n))
			c = c[n:]
			continue
		}
		found := false
		for _, t := range tokenTable {
			n := len(t.name)
			if len(c) < n || (len(c) > n && isAlpha(c[n])) || c[:n] != t.name {
				continue
			}
			items = append(items, item{id: t.id})
			if v6long && t.isAddr {
				hdr.WriteString(strings.Repeat(" ", 23))
			}
			hdr.WriteString(t.header)
			c = c[n:]
			found = true
			break
		}
		if !found {
			return nil, "", &FormatError{Msg: fmt.Sprintf("Output format parse error at: %s", c)}
		}
	}
	return items, hdr.String(), nil
}

// fmtPrinter prints the fmt-based modes: line, long, extended, biline,
// bilong, nsel, nel and fmt:.
type fmtPrinter struct {
	base
	items  []item
	header string
	v6long bool
	plain  bool
	tag    bool

	// per-record state: the addresses %sn/%dn may mask in place for the
	// tokens after them, as nfdump's master record is changed.
	src, dst ip
}

func (p *fmtPrinter) Begin() error {
	if !p.o.Quiet {
		p.buf = append(p.buf, p.header...)
		p.buf = append(p.buf, '\n')
	}
	return p.flush()
}

func (p *fmtPrinter) Print(r *flow.Record) error {
	p.count++
	return p.print(r, p.count)
}

func (p *fmtPrinter) PrintCounted(r *flow.Record, n uint64) error { return p.print(r, n) }

func (p *fmtPrinter) print(r *flow.Record, n uint64) error {
	p.buf = p.appendRecord(p.buf, r, n)
	return p.maybeFlush()
}

func (p *fmtPrinter) End(s *Summary) error { return p.endPlain(s) }

// appendAddrCol appends an address column: optional Ctrl-A, the text
// (condensed unless long IPv6) right-aligned in 16 or 39 columns.
func (p *fmtPrinter) appendAddrCol(b []byte, x ip, v6 bool) []byte {
	if p.tag {
		b = append(b, 1)
	}
	var t [64]byte
	s := appendAddr(t[:0], x, v6)
	w := 16
	if p.v6long {
		w = 39
	} else if v6 {
		s = condense(s)
	}
	return padLeft(b, s, w)
}

// appendICMPPort appends the dst port, or type.code for ICMP.
func appendICMPPort(b []byte, r *flow.Record) []byte {
	if r.IsICMP() {
		typ, code := icmpTypeCode(r)
		b = strconv.AppendUint(b, uint64(typ), 10)
		b = append(b, '.')
		return strconv.AppendUint(b, uint64(code), 10)
	}
	return strconv.AppendUint(b, uint64(r.DstPort), 10)
}

func (p *fmtPrinter) appendRecord(b []byte, r *flow.Record, n uint64) []byte {
	e := elements(r)
	v6 := e.Has(flow.ElemIPv6)
	p.src, p.dst = ipOf(r.SrcAddr), ipOf(r.DstAddr)
	dur := float64(r.Last-r.First) / 1000.0
	for i := range p.items {
		it := &p.items[i]
		switch it.id {
		case tLiteral:
			b = append(b, it.lit...)
		case tVersion:
			switch {
			case r.Flags&flow.FlagEvent != 0:
				b = append(b, "EVT"...)
				b = strconv.AppendUint(b, uint64(r.NFVersion), 10)
			case r.NFVersion == 0:
				b = append(b, "FLO"...)
			default:
				switch {
				case r.NFVersion&0x80 != 0:
					b = append(b, "Sv"...)
				case r.NFVersion&0x40 != 0:
					b = append(b, "Pv"...)
				default:
					b = append(b, "Nv"...)
				}
				b = strconv.AppendUint(b, uint64(r.NFVersion&0x0f), 10)
			}
		case tCount:
			b = appendU(b, uint64(uint32(n)), 5)
		case tFirst:
			b = p.clk.appendMsec(b, r.First, ' ')
		case tLast:
			b = p.clk.appendMsec(b, r.Last, ' ')
		case tReceived:
			b = p.clk.appendMsec(b, r.Received, ' ')
		case tEventTime:
			b = p.clk.appendMsec(b, 0, ' ')
		case tFirstRaw:
			b = strconv.AppendUint(b, r.First/1000, 10)
			b = append(b, '.')
			b = appendI(b, int64(r.First%1000), 3, true)
		case tLastRaw:
			// nfdump 1.7.1 prints msecLast % 100 here; we print the
			// milliseconds (COMPATIBILITY.md).
			b = strconv.AppendUint(b, r.Last/1000, 10)
			b = append(b, '.')
			b = appendI(b, int64(r.Last%1000), 3, true)
		case tReceivedRaw:
			b = strconv.AppendFloat(b, float64(r.Received)/1000.0, 'f', 3, 64)
		case tDuration:
			if p.plain {
				b = appendF(b, dur, 3, 16, false)
			} else {
				b = appendDuration(b, dur)
			}
		case tDurationSec:
			b = appendF(b, dur, 3, 16, false)
		case tExpID:
			b = appendU(b, uint64(r.ExporterID), 6)
		case tProto:
			var t [8]byte
			b = padRight(b, appendProto(t[:0], r.Proto, p.plain), 5)
		case tSrcAddr:
			b = p.appendAddrCol(b, p.src, v6)
		case tDstAddr:
			b = p.appendAddrCol(b, p.dst, v6)
		case tSrcGeoAddr:
			b = append(p.appendAddrCol(b, p.src, v6), "(..)"...)
		case tDstGeoAddr:
			b = append(p.appendAddrCol(b, p.dst, v6), "(..)"...)
		case tSrcNet, tDstNet:
			mask := r.SrcMask
			x := &p.src
			if it.id == tDstNet {
				mask, x = r.DstMask, &p.dst
			}
			*x = maskNet(*x, mask, v6)
			b = p.appendAddrCol(b, *x, v6)
			b = append(b, '/')
			b = appendUL(b, uint64(mask), 2)
		case tNextHop:
			b = p.appendAddrCol(b, ipOf(r.IPNextHop), e.Has(flow.ElemIPNextHopV6))
		case tBGPNextHop:
			b = p.appendAddrCol(b, ipOf(r.BGPNextHop), e.Has(flow.ElemBGPNextHopV6))
		case tRouter:
			b = p.appendAddrCol(b, ipOf(r.Exporter), e.Has(flow.ElemExporterIPv6))
		case tSrcAddrPort, tSrcGeoAddrPort:
			b = p.appendAddrCol(b, p.src, v6)
			if it.id == tSrcGeoAddrPort {
				b = append(b, "(..)"...)
			}
			b = append(b, portChar(v6))
			b = appendUL(b, uint64(r.SrcPort), 5)
		case tDstAddrPort, tDstGeoAddrPort:
			b = p.appendAddrCol(b, p.dst, v6)
			if it.id == tDstGeoAddrPort {
				b = append(b, "(..)"...)
			}
			b = append(b, portChar(v6))
			var t [16]byte
			b = padRight(b, appendICMPPort(t[:0], r), 5)
		case tSrcPort:
			b = appendU(b, uint64(r.SrcPort), 6)
		case tDstPort:
			var t [16]byte
			b = padLeft(b, appendICMPPort(t[:0], r), 6)
		case tICMPType:
			var v uint8
			if r.IsICMP() {
				v, _ = icmpTypeCode(r)
			}
			b = appendU(b, uint64(v), 6)
		case tICMPCode:
			var v uint8
			if r.IsICMP() {
				_, v = icmpTypeCode(r)
			}
			b = appendU(b, uint64(v), 6)
		case tSrcAS:
			b = appendU(b, uint64(r.SrcAS), 6)
		case tDstAS:
			b = appendU(b, uint64(r.DstAS), 6)
		case tNextAS:
			b = append(b, ' ')
			b = appendU(b, uint64(r.NextAS), 6)
		case tPrevAS:
			b = append(b, ' ')
			b = appendU(b, uint64(r.PrevAS), 6)
		case tInput:
			b = appendU(b, uint64(r.Input), 6)
		case tOutput:
			b = appendU(b, uint64(r.Output), 6)
		case tInputName, tOutputName, tSrcLocation, tDstLocation, tIngressVRFName, tEgressVRFName:
			// no interface, VRF or location names without their records
		case tInPackets:
			b = appendNum8(b, r.InPackets, p.plain)
		case tOutPackets:
			b = appendNum8(b, r.OutPackets, p.plain)
		case tInBytes:
			b = appendNum8(b, r.InBytes, p.plain)
		case tOutBytes:
			b = appendNum8(b, r.OutBytes, p.plain)
		case tFlows:
			b = appendU(b, r.AggrFlows(), 5)
		case tFlags:
			var f uint8
			if r.Proto == flow.ProtoTCP {
				f = r.TCPFlags
			}
			b = appendFlags(b, f)
		case tTos:
			b = appendU(b, uint64(r.SrcTos), 3)
		case tSrcTos:
			b = appendU(b, uint64(r.SrcTos), 4)
		case tDstTos:
			b = appendU(b, uint64(r.DstTos), 4)
		case tDir:
			if r.Dir != 0 {
				b = append(b, "  E"...)
			} else {
				b = append(b, "  I"...)
			}
		case tSrcMask:
			b = appendU(b, uint64(r.SrcMask), 5)
		case tDstMask:
			b = appendU(b, uint64(r.DstMask), 5)
		case tFwd:
			b = appendU(b, uint64(r.FwdStatus), 3)
		case tBiFlowDir:
			b = appendU(b, uint64(r.BiFlowDir), 3)
		case tEndReason:
			b = appendU(b, uint64(r.EndReason), 3)
		case tSrcVLAN:
			b = appendU(b, uint64(uint16(r.SrcVLAN)), 5)
		case tDstVLAN:
			b = appendU(b, uint64(uint16(r.DstVLAN)), 5)
		case tInSrcMAC:
			b = appendMAC(b, r.InSrcMAC)
		case tOutDstMAC:
			b = appendMAC(b, r.OutDstMAC)
		case tInDstMAC:
			b = appendMAC(b, r.InDstMAC)
		case tOutSrcMAC:
			b = appendMAC(b, r.OutSrcMAC)
		case tMPLS1, tMPLS2, tMPLS3, tMPLS4, tMPLS5, tMPLS6, tMPLS7, tMPLS8, tMPLS9, tMPLS10:
			b = appendMPLS(b, r.MPLS[it.id-tMPLS1], 8)
		case tMPLSAll:
			for _, l := range r.MPLS {
				b = appendMPLS(b, l, 8)
				b = append(b, ' ')
			}
		case tBps:
			var v uint64
			if dur != 0 {
				v = cU64(float64(r.InBytes<<3) / dur)
			}
			b = appendNum8(b, v, p.plain)
		case tPps:
			var v uint64
			if dur != 0 {
				v = cU64(float64(r.InPackets) / dur)
			}
			b = appendNum8(b, v, p.plain)
		case tBpp:
			var v uint32
			if r.InPackets != 0 {
				v = uint32(r.InBytes / r.InPackets)
			}
			b = appendU(b, uint64(v), 6)
		case tEngine:
			b = appendU(b, uint64(r.EngineType), 3)
			b = append(b, '/')
			b = appendUL(b, uint64(r.EngineID), 3)
		case tLabel:
			if r.Label == "" {
				b = append(b, "          <none>"...)
			} else {
				b = padLeftStr(b, r.Label, 16)
			}
		case tSrcCountry, tDstCountry:
			b = append(b, ".."...)
		case tNewLine:
			b = append(b, '\n')
		case tInPayload, tOutPayload:
			// no payload: nfdump's DNS decoder still reports a short
			// packet for port 53, then the empty payload line.
			if r.SrcPort == 53 || r.DstPort == 53 {
				b = append(b, "DNS: <Short packet>\n"...)
			}
			b = append(b, '\n')
		case tNbarID:
			b = append(b, " 0..0"...)
		case tNbarName:
			b = append(b, "<no info>"...)
		case tJA3:
			b = spaces(b, 32)
		case tSNI:
			b = spaces(b, 6)
		case tObsDomain:
			b = append(b, "0x000000000"...)
		case tObsPoint:
			b = append(b, "0x0000000000"...)
		case tIngressVRF, tEgressVRF, tConnID:
			b = appendU(b, 0, 10)
		case tEvent:
			b = append(b, "INVALID"...)
		case tXEvent:
			b = append(b, " Ignore"...)
		case tSGT:
			b = appendU(b, 0, 5)
		case tEventMsec:
			b = appendU(b, 0, 13)
		case tIngressACL:
			b = append(b, "0x0        0x0        0x0       "...)
		case tEgressACL:
			b = append(b, "         0          0          0"...)
		case tXlateSrcAddr, tXlateDstAddr:
			b = p.appendAddrCol(b, ip{}, false)
		case tXlateSrcPort, tXlateDstPort:
			b = appendU(b, 0, 6)
		case tXlateSrcAddrPort, tXlateDstAddrPort:
			b = p.appendAddrCol(b, ip{}, false)
			b = append(b, ":0    "...)
		case tUserName:
			b = append(b, "<empty>"...)
		case tPBStart, tPBEnd, tPBStep, tPBSize:
			b = appendU(b, 0, 7)
		case tClientLatency:
			b = appendF(b, float64(r.ClientNwDelay)/1000.0, 3, 9, false)
		case tServerLatency:
			b = appendF(b, float64(r.ServerNwDelay)/1000.0, 3, 9, false)
		case tApplLatency:
			b = appendF(b, float64(r.ApplLatency)/1000.0, 3, 9, false)
		}
	}
	return append(b, '\n')
}

func portChar(v6 bool) byte {
	if v6 {
		return '.'
	}
	return ':'
}
