package output

import (
	"io"
	"math/bits"
	"strconv"
	"strings"

	"github.com/nfgo/nftools/flow"
)

// This file prints the -s statistics: the element tables (top N source
// addresses, ports, ...) and the top N flow records. The counting and the
// ranking are the stats package's job; it hands over finished blocks of
// rows, and this file renders them as nfdump 1.7.1 does in each -o mode.

// StatKind says how the value of a -s element is rendered.
type StatKind uint8

// The kinds of element values nfdump 1.7.1 distinguishes.
const (
	StatNumber    StatKind = iota + 1 // decimal
	StatHexNumber                     // 0x%llx (observation domain and point)
	StatIPAddr                        // an address held as two 64-bit halves
	StatMAC                           // aa:bb:cc:dd:ee:ff
	StatMPLS                          // label-exp-eos
	StatLatency                       // microseconds printed as milliseconds
	StatEvent                         // NSEL firewall event name
	StatHex                           // 0x%llx (NSEL ACL ids)
	StatNbar                          // application id
	StatJA3                           // 32 hex digits
	StatGeo                           // country code; empty without a geo DB
)

// StatDir says which counters a stat order reads: the in counters, the
// out counters or both added up.
type StatDir uint8

// The counter selections of nfdump's stat orders.
const (
	StatIn StatDir = iota
	StatOut
	StatInOut
)

// StatRow is one line of an element table: the element value, its protocol
// (with a protocol split), and the counters summed over the flows that
// carried the value.
type StatRow struct {
	// Hi and Lo hold the value as nfdump's stat key does: an address as
	// its upper and lower 64 bits (IPv4 in the low 32 bits of Lo, Hi 0),
	// every other value in Lo.
	Hi, Lo uint64
	// IPv6 says an address is IPv6, which nfdump's key does not keep: it
	// takes an upper half of 0 for IPv4.
	IPv6       bool
	Proto      uint8
	Flows      uint64
	InPackets  uint64
	InBytes    uint64
	OutPackets uint64
	OutBytes   uint64
	First      uint64 // msec
	Last       uint64 // msec
}

// StatBlock is one element table: what is counted, in which order, and the
// rows to print, in print order.
type StatBlock struct {
	Header     string // the element's column title, e.g. "Src IP Addr"
	Kind       StatKind
	ProtoSplit bool   // rows are per protocol (:p, and always for proto)
	Order      string // the order's name, e.g. "bytes"
	Dir        StatDir
	TopN       uint64 // -n, for the title; 0 prints "Top <Header>"
	Rows       []StatRow
}

type statMode uint8

const (
	statPlain statMode = iota
	statCSV
	statPipe
	statJSON
)

// StatPrinter prints a statistics run: optional limit lines, "No matching
// flows", the -s record tables, the element tables and the closing lines.
// It shares the writer with the record printer it wraps (for -s record);
// each side flushes before the other writes.
type StatPrinter struct {
	base
	rec    Printer
	mode   statMode
	v6long bool
	// jsonRecords: -s record printed json records, which opened an array.
	jsonRecords bool
}

// NewStatPrinter returns the printer for a statistics run in the -o mode
// of o. Its errors are New's.
func NewStatPrinter(w io.Writer, o Options) (*StatPrinter, error) {
	rec, err := New(w, o)
	if err != nil {
		return nil, err
	}
	p := &StatPrinter{base: base{w: w, o: o, buf: make([]byte, 0, flushSize+4096)}, rec: rec, v6long: o.IPv6Long}
	switch r := rec.(type) {
	case *csvPrinter:
		p.mode = statCSV
	case *pipePrinter:
		p.mode = statPipe
	case *jsonPrinter:
		p.mode = statJSON
	case *fmtPrinter:
		p.v6long = p.v6long || r.v6long
	}
	// A mode name ending in 6 asks for long IPv6 addresses in every
	// mode, also those that are not fmt-based.
	if m := o.Mode; len(m) > 2 && m[len(m)-1] == '6' && !(len(m) >= 4 && strings.EqualFold(m[:4], "fmt:")) && m[0] != '%' {
		p.v6long = true
	}
	return p, nil
}

// AppendLimits appends the -L and -l lines nfdump prints before it reads
// (also with -q): a limit of 0 is no limit; less selects "<" over ">".
func AppendLimits(b []byte, bytes uint64, bytesLess bool, packets uint64, packetsLess bool) []byte {
	rel := func(less bool) byte {
		if less {
			return '<'
		}
		return '>'
	}
	if bytes != 0 {
		b = append(b, "Byte limit: "...)
		b = append(b, rel(bytesLess), ' ')
		b = strconv.AppendUint(b, bytes, 10)
		b = append(b, " bytes\n"...)
	}
	if packets != 0 {
		b = append(b, "Packet limit: "...)
		b = append(b, rel(packetsLess), ' ')
		b = strconv.AppendUint(b, packets, 10)
		b = append(b, " packets\n"...)
	}
	return b
}

// NoMatch prints "No matching flows" when nothing passed; nfdump prints it
// before the statistics, in every mode and also with -q.
func (p *StatPrinter) NoMatch(s *Summary) error {
	p.noMatch(s)
	return p.flush()
}

// Records prints one -s record table: the title (plain modes, not with
// -q), the mode's prolog (header line, csv header, json bracket), then the
// records.
func (p *StatPrinter) Records(order string, topN uint64, recs []flow.Record) error {
	if p.mode == statPlain && !p.o.Quiet {
		p.buf = append(p.buf, "Top "...)
		if topN != 0 {
			p.buf = strconv.AppendInt(p.buf, int64(int32(topN)), 10)
			p.buf = append(p.buf, ' ')
		}
		p.buf = append(p.buf, "flows ordered by "...)
		p.buf = append(p.buf, order...)
		p.buf = append(p.buf, ":\n"...)
	}
	if err := p.flush(); err != nil {
		return err
	}
	switch r := p.rec.(type) {
	case *jsonPrinter:
		// nfdump opens an array for every table and numbers the records
		// of each table from the start.
		r.printed = 0
		p.jsonRecords = true
		if r.nd {
			break
		}
		if err := r.Begin(); err != nil {
			return err
		}
	default:
		if err := r.Begin(); err != nil {
			return err
		}
	}
	// nfdump numbers these records 0, as those of an aggregation: raw
	// prints no RecordCount line and %cnt 0.
	cp, counted := p.rec.(CountedPrinter)
	for i := range recs {
		var err error
		if counted {
			err = cp.PrintCounted(&recs[i], 0)
		} else {
			err = p.rec.Print(&recs[i])
		}
		if err != nil {
			return err
		}
	}
	if f, ok := p.rec.(interface{ flush() error }); ok {
		return f.flush()
	}
	return nil
}

// Block prints one element table; totals are the flows, packets and bytes
// that passed, which the percentages refer to.
func (p *StatPrinter) Block(totals *Summary, blk *StatBlock) error {
	ip := blk.Kind == StatIPAddr
	switch p.mode {
	case statPlain:
		if !p.o.Quiet {
			p.buf = append(p.buf, "Top "...)
			if blk.TopN != 0 {
				p.buf = strconv.AppendInt(p.buf, int64(int32(blk.TopN)), 10)
				p.buf = append(p.buf, ' ')
			}
			p.buf = append(p.buf, blk.Header...)
			p.buf = append(p.buf, " ordered by "...)
			p.buf = append(p.buf, blk.Order...)
			p.buf = append(p.buf, ":\n"...)
			p.buf = append(p.buf, "Date first seen                 Duration Proto "...)
			w := 17
			if p.v6long && ip {
				w = 39
			}
			p.buf = padLeftStr(p.buf, blk.Header, w)
			p.buf = append(p.buf, "    Flows(%)     Packets(%)       Bytes(%)         pps      bps   bpp\n"...)
		}
	case statCSV:
		// nfdump prints the csv header of a table also with -q.
		switch blk.Dir {
		case StatIn:
			p.buf = append(p.buf, "ts,te,td,pr,val,fl,flP,ipkt,ipktP,ibyt,ibytP,ipps,ibps,ibpp\n"...)
		case StatOut:
			p.buf = append(p.buf, "ts,te,td,pr,val,fl,flP,opkt,opktP,obyt,obytP,opps,obps,obpp\n"...)
		default:
			p.buf = append(p.buf, "ts,te,td,pr,val,fl,flP,pkt,pktP,byt,bytP,pps,bps,bpp\n"...)
		}
	}
	for i := range blk.Rows {
		r := &blk.Rows[i]
		switch p.mode {
		case statPlain:
			p.buf = p.appendPlainRow(p.buf, totals, blk, r)
		case statCSV:
			p.buf = p.appendCSVRow(p.buf, totals, blk, r)
		case statPipe:
			p.buf = appendPipeRow(p.buf, blk, r)
		case statJSON:
			p.buf = append(p.buf, "Not yet implemented output format\n"...)
		}
		if err := p.maybeFlush(); err != nil {
			return err
		}
	}
	p.buf = append(p.buf, '\n')
	return p.flush()
}

// End prints the closing lines: the json bracket and the summary of the
// plain and csv modes, not with -q. "No matching flows" came before the
// tables (NoMatch).
func (p *StatPrinter) End(s *Summary) error {
	switch p.mode {
	case statPlain:
		if !p.o.Quiet {
			p.buf = appendPlainSummary(p.buf, s, p.o.PlainNumbers, &p.clk)
		}
	case statCSV:
		if !p.o.Quiet {
			p.buf = appendCSVSummary(p.buf, s)
		}
	case statJSON:
		nd := false
		if j, ok := p.rec.(*jsonPrinter); ok {
			nd = j.nd
		}
		// godump's json listing keeps its brackets with -q
		// (COMPATIBILITY.md); a table of records opened one, so it is
		// closed here too.
		if !nd && (!p.o.Quiet || p.jsonRecords) {
			p.buf = append(p.buf, "]\n"...)
		}
	}
	return p.flush()
}

// statCounts returns the flows, packets and bytes a row shows for dir.
func statCounts(r *StatRow, dir StatDir) (flows, packets, bytes uint64) {
	switch dir {
	case StatIn:
		return r.Flows, r.InPackets, r.InBytes
	case StatOut:
		return r.Flows, r.OutPackets, r.OutBytes
	}
	return r.Flows, r.InPackets + r.OutPackets, r.InBytes + r.OutBytes
}

// percent is nfdump's share of a total: the count times 100 in 64-bit
// integers (wrapping as in C), then divided as doubles; 0 of a 0 total.
func percent(n, total uint64) float64 {
	if total == 0 {
		return 0
	}
	return float64(n*100) / float64(total)
}

// statDuration is the row's span in seconds, computed from unsigned
// milliseconds as nfdump does (a last before first wraps).
func statDuration(r *StatRow) float64 { return float64(r.Last-r.First) / 1000.0 }

// appendStatProto appends the Proto column: "any" without a protocol
// split, else nfdump's ProtoString (a number with -N).
func (p *StatPrinter) appendStatProto(b []byte, blk *StatBlock, r *StatRow) []byte {
	if !blk.ProtoSplit {
		return append(b, "any"...)
	}
	return appendProto(b, r.Proto, p.o.PlainNumbers)
}

// appendStatValue appends the element value as nfdump renders it; csv
// leaves IPv6 addresses in full length.
func (p *StatPrinter) appendStatValue(b []byte, kind StatKind, r *StatRow, csv bool) []byte {
	switch kind {
	case StatNumber:
		return strconv.AppendUint(b, r.Lo, 10)
	case StatHexNumber, StatHex:
		b = append(b, "0x"...)
		return strconv.AppendUint(b, r.Lo, 16)
	case StatIPAddr:
		// nfdump 1.7.1 takes an upper half of 0 for IPv4, so it prints
		// IPv6 addresses such as ::1 as IPv4 (0.0.0.1); godump prints
		// them as IPv6 (COMPATIBILITY.md).
		if !r.IPv6 {
			return appendIP4(b, uint32(r.Lo))
		}
		n := len(b)
		b = appendIP6(b, ip{hi: r.Hi, lo: r.Lo})
		if !csv && !p.v6long {
			s := condense(b[n:])
			b = append(b[:n], s...)
		}
		return b
	case StatMAC:
		return appendMAC(b, r.Lo)
	case StatMPLS:
		b = appendU(b, r.Lo>>4, 8)
		b = append(b, '-')
		b = strconv.AppendUint(b, (r.Lo&0xf)>>1, 10)
		b = append(b, '-')
		return strconv.AppendUint(b, r.Lo&1, 10)
	case StatLatency:
		b = append(b, "      "...)
		return appendF(b, float64(r.Lo)/1000.0, 3, 9, false)
	case StatEvent:
		name := "UNKNOWN"
		switch r.Lo {
		case 0:
			name = "ignore"
		case 1:
			name = "CREATE"
		case 2:
			name = "DELETE"
		case 3:
			name = "DENIED"
		}
		b = append(b, "      "...)
		return padLeftStr(b, name, 6)
	case StatNbar:
		// The low byte of the 32-bit id, then the id with that byte
		// cleared in network byte order.
		v := uint32(r.Lo)
		b = appendU(b, uint64(v&0xff), 2)
		b = append(b, ".."...)
		return strconv.AppendUint(b, uint64(bits.ReverseBytes32(v&^0xff)), 10)
	case StatJA3:
		for _, w := range [2]uint64{r.Hi, r.Lo} {
			for i := 0; i < 8; i++ {
				b = hex2(b, uint8(w>>(8*uint(i))))
			}
		}
		return b
	case StatGeo:
		for i := 0; i < 8; i++ {
			c := byte(r.Lo >> (8 * uint(i)))
			if c == 0 {
				break
			}
			b = append(b, c)
		}
		return b
	}
	return b
}

// statRates are a row's packets and bits per second over dur seconds, as
// nfdump truncates them, and its bytes per packet.
func statRates(packets, bytes uint64, dur float64) (pps, bps uint64, bpp uint32) {
	if dur != 0 {
		pps = cU64(float64(packets) / dur)
		bps = cU64(float64(8*bytes) / dur)
	}
	if packets != 0 {
		bpp = uint32(bytes / packets)
	}
	return pps, bps, bpp
}

func (p *StatPrinter) appendPlainRow(b []byte, totals *Summary, blk *StatBlock, r *StatRow) []byte {
	flows, packets, bytes := statCounts(r, blk.Dir)
	ip := blk.Kind == StatIPAddr
	dur := statDuration(r)
	pps, bps, bpp := statRates(packets, bytes, dur)

	b = p.clk.appendMsec(b, r.First, ' ')
	b = append(b, ' ')
	var t [96]byte
	switch {
	case p.v6long && ip:
		b = appendF(b, dur, 3, 9, false)
	case p.o.PlainNumbers:
		b = padLeft(b, appendF(t[:0], dur, 3, 16, false), 9)
	default:
		b = padLeft(b, appendDuration(t[:0], dur), 9)
	}
	b = append(b, ' ')
	b = padRight(b, p.appendStatProto(t[:0], blk, r), 5)
	b = append(b, ' ')
	if ip && p.o.NfSen {
		b = append(b, 1)
	}
	w := 17
	if p.v6long && ip {
		w = 39
	}
	b = padLeft(b, p.appendStatValue(t[:0], blk.Kind, r, false), w)
	plain := p.o.PlainNumbers
	for _, c := range [3][2]uint64{{flows, totals.Flows}, {packets, totals.Packets}, {bytes, totals.Bytes}} {
		b = append(b, ' ')
		b = appendNum8(b, c[0], plain)
		b = append(b, '(')
		b = appendF(b, percent(c[0], c[1]), 1, 4, false)
		b = append(b, ')')
	}
	b = append(b, ' ')
	b = appendNum8(b, pps, plain)
	b = append(b, ' ')
	b = appendNum8(b, bps, plain)
	b = append(b, ' ')
	b = appendU(b, uint64(bpp), 5)
	return append(b, '\n')
}

func (p *StatPrinter) appendCSVRow(b []byte, totals *Summary, blk *StatBlock, r *StatRow) []byte {
	flows, packets, bytes := statCounts(r, blk.Dir)
	dur := statDuration(r)
	pps, bps, bpp := statRates(packets, bytes, dur)
	b = p.clk.appendTime(b, int64(r.First/1000), ' ')
	b = append(b, ',')
	b = p.clk.appendTime(b, int64(r.Last/1000), ' ')
	b = append(b, ',')
	b = strconv.AppendFloat(b, dur, 'f', 3, 64)
	b = append(b, ',')
	b = p.appendStatProto(b, blk, r)
	b = append(b, ',')
	// nfdump 1.7.1 leaves this column uninitialised for the kinds other
	// than numbers, addresses, MACs and MPLS labels; godump prints the
	// value as the plain layout does (COMPATIBILITY).
	b = p.appendStatValue(b, blk.Kind, r, true)
	for _, c := range [3][2]uint64{{flows, totals.Flows}, {packets, totals.Packets}, {bytes, totals.Bytes}} {
		b = comma(b, c[0])
		b = append(b, ',')
		b = strconv.AppendFloat(b, percent(c[0], c[1]), 'f', 1, 64)
	}
	b = comma(b, pps)
	b = comma(b, bps)
	b = comma(b, uint64(bpp))
	return append(b, '\n')
}

// cU32 converts like gcc's (uint32_t) cast of a double on x86-64: a 64-bit
// signed conversion whose low half is kept.
func cU32(f float64) uint32 {
	if f != f || f >= 9223372036854775808.0 || f <= -9223372036854775809.0 {
		return 0 // cvttsd2si gives 1<<63, whose low half is 0
	}
	return uint32(int64(f))
}

func appendPipeRow(b []byte, blk *StatBlock, r *StatRow) []byte {
	flows, packets, bytes := statCounts(r, blk.Dir)
	dur := statDuration(r)
	var pps, bps, bpp uint32
	if dur != 0 {
		pps = cU32(float64(packets) / dur)
		bps = cU32(float64(8*bytes) / dur)
	}
	if packets != 0 {
		bpp = uint32(bytes / packets)
	}
	af := uint64(0)
	if blk.Kind == StatIPAddr {
		af = 2
		if r.IPv6 {
			af = 10
		}
	}
	proto := uint64(0)
	if blk.ProtoSplit {
		proto = uint64(r.Proto)
	}
	b = strconv.AppendUint(b, af, 10)
	b = bar(b, r.First)
	b = bar(b, r.Last)
	b = bar(b, proto)
	if blk.Kind == StatIPAddr {
		hi, lo := r.Hi, r.Lo
		if af == 10 {
			// nfdump swaps the halves to network order and then reads
			// them as host-order 32-bit words.
			hi, lo = bits.ReverseBytes64(hi), bits.ReverseBytes64(lo)
		}
		b = bar(b, hi>>32)
		b = bar(b, hi&0xffffffff)
		b = bar(b, lo>>32)
		b = bar(b, lo&0xffffffff)
	} else {
		b = bar(b, r.Lo)
	}
	b = bar(b, flows)
	b = bar(b, packets)
	b = bar(b, bytes)
	b = bar(b, uint64(pps))
	b = bar(b, uint64(bps))
	b = bar(b, uint64(bpp))
	return append(b, '\n')
}
