package output

import (
	"strconv"

	"github.com/nfgo/nftools/flow"
)

const csvHeader = "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr\n"

// csvPrinter prints -o csv.
type csvPrinter struct{ base }

func (p *csvPrinter) Begin() error {
	if !p.o.Quiet {
		p.buf = append(p.buf, csvHeader...)
	}
	return p.flush()
}

func (p *csvPrinter) Print(r *flow.Record) error {
	p.buf = p.appendRecord(p.buf, r)
	return p.maybeFlush()
}

func (p *csvPrinter) PrintCounted(r *flow.Record, n uint64) error { return p.Print(r) }

func (p *csvPrinter) End(s *Summary) error {
	p.noMatch(s)
	if !p.o.Quiet {
		p.buf = appendCSVSummary(p.buf, s)
	}
	return p.flush()
}

func comma(b []byte, v uint64) []byte {
	b = append(b, ',')
	return strconv.AppendUint(b, v, 10)
}

func (p *csvPrinter) appendRecord(b []byte, r *flow.Record) []byte {
	e := elements(r)
	v6 := e.Has(flow.ElemIPv6)
	b = p.clk.appendTime(b, int64(r.First/1000), ' ')
	b = append(b, ',')
	b = p.clk.appendTime(b, int64(r.Last/1000), ' ')
	b = append(b, ',')
	b = strconv.AppendFloat(b, float64(r.Last-r.First)/1000.0, 'f', 3, 64)
	b = append(b, ',')
	b = appendAddr(b, ipOf(r.SrcAddr), v6)
	b = append(b, ',')
	b = appendAddr(b, ipOf(r.DstAddr), v6)
	b = comma(b, uint64(r.SrcPort))
	b = comma(b, uint64(r.DstPort))
	b = append(b, ',')
	b = appendProto(b, r.Proto, false)
	b = append(b, ',')
	b = appendFlags(b, r.TCPFlags)
	b = comma(b, uint64(r.FwdStatus))
	b = comma(b, uint64(r.SrcTos))
	b = comma(b, r.InPackets)
	b = comma(b, r.InBytes)
	b = comma(b, r.OutPackets)
	b = comma(b, r.OutBytes)
	b = comma(b, uint64(r.Input))
	b = comma(b, uint64(r.Output))
	b = comma(b, uint64(r.SrcAS))
	b = comma(b, uint64(r.DstAS))
	b = comma(b, uint64(r.SrcMask))
	b = comma(b, uint64(r.DstMask))
	b = comma(b, uint64(r.DstTos))
	b = comma(b, uint64(r.Dir))
	b = append(b, ',')
	b = appendAddr(b, ipOf(r.IPNextHop), e.Has(flow.ElemIPNextHopV6))
	b = append(b, ',')
	// nfdump 1.7.1 prints the IP next hop here for an IPv6 BGP next hop;
	// we print the BGP next hop (COMPATIBILITY.md).
	b = appendAddr(b, ipOf(r.BGPNextHop), e.Has(flow.ElemBGPNextHopV6))
	b = comma(b, uint64(uint16(r.SrcVLAN)))
	b = comma(b, uint64(uint16(r.DstVLAN)))
	for _, m := range [...]uint64{r.InSrcMAC, r.OutDstMAC, r.InDstMAC, r.OutSrcMAC} {
		b = append(b, ',')
		b = appendMAC(b, m)
	}
	for _, l := range r.MPLS {
		b = append(b, ',')
		b = appendMPLS(b, l, 0)
	}
	for _, l := range [...]uint64{r.ClientNwDelay, r.ServerNwDelay, r.ApplLatency} {
		b = append(b, ',')
		b = appendF(b, float64(l)/1000.0, 3, 9, false)
	}
	b = append(b, ',')
	b = appendAddr(b, ipOf(r.Exporter), e.Has(flow.ElemExporterIPv6))
	b = comma(b, uint64(r.EngineType))
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(r.EngineID), 10)
	b = comma(b, uint64(r.ExporterID))
	b = append(b, ',')
	b = p.clk.appendMsec(b, r.Received, ' ')
	return append(b, '\n')
}
