package output

import (
	"strconv"

	"github.com/nfgo/nftools/flow"
)

// pipePrinter prints -o pipe: no header, no summary.
type pipePrinter struct{ base }

func (p *pipePrinter) Begin() error { return nil }

func (p *pipePrinter) Print(r *flow.Record) error {
	p.buf = appendPipe(p.buf, r)
	return p.maybeFlush()
}

func (p *pipePrinter) PrintCounted(r *flow.Record, n uint64) error { return p.Print(r) }

func (p *pipePrinter) End(s *Summary) error {
	p.noMatch(s)
	return p.flush()
}

func bar(b []byte, v uint64) []byte {
	b = append(b, '|')
	return strconv.AppendUint(b, v, 10)
}

func appendPipe(b []byte, r *flow.Record) []byte {
	af := uint64(2)
	if elements(r).Has(flow.ElemIPv6) {
		af = 10
	}
	b = strconv.AppendUint(b, af, 10)
	b = bar(b, r.First)
	b = bar(b, r.Last)
	b = bar(b, uint64(r.Proto))
	s := ipOf(r.SrcAddr)
	b = bar(b, s.hi>>32)
	b = bar(b, s.hi&0xffffffff)
	b = bar(b, s.lo>>32)
	b = bar(b, s.lo&0xffffffff)
	b = bar(b, uint64(r.SrcPort))
	d := ipOf(r.DstAddr)
	b = bar(b, d.hi>>32)
	b = bar(b, d.hi&0xffffffff)
	b = bar(b, d.lo>>32)
	b = bar(b, d.lo&0xffffffff)
	b = bar(b, uint64(r.DstPort))
	b = bar(b, uint64(r.SrcAS))
	b = bar(b, uint64(r.DstAS))
	b = bar(b, uint64(r.Input))
	b = bar(b, uint64(r.Output))
	b = bar(b, uint64(r.TCPFlags))
	b = bar(b, uint64(r.SrcTos))
	b = bar(b, r.InPackets)
	b = bar(b, r.InBytes)
	return append(b, '\n')
}
