// Package output prints flow records the way nfdump 1.7.1 does, for every
// -o mode: raw, line, long, extended, biline, bilong, nsel, nel, csv, json,
// pipe, null and fmt:<tokens>, each with the 6 suffix for full IPv6, plus
// ndjson. It also prints the summary lines that close a listing.
//
// Deliberate differences from nfdump 1.7.1 are listed in COMPATIBILITY.md.
package output

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/nfgo/nftools/flow"
)

// Options say how to print.
type Options struct {
	Mode         string // the -o value, e.g. "line", "extended6", "csv", "fmt:%ts %sa"
	IPv6Long     bool   // -6: IPv6 addresses in full length
	Quiet        bool   // -q: no header, no summary
	PlainNumbers bool   // -N: no M/G scaling, protocol as a number
	NfSen        bool   // -T: a Ctrl-A before every IP address
}

// Summary is what the lines after the records report.
type Summary struct {
	// Of the records that passed the filter: the sums of the summary line
	// and the span of the average rates.
	flow.Totals
	// Time window: from the files' stat records, clamped by -t; zero
	// means unknown.
	WindowFirst, WindowLast uint64 // msec
	Processed, Passed       uint64
	BlocksSkipped           uint64
	BytesRead               uint64
	Wall, User, Sys         time.Duration // for the timing line
}

// Printer prints one listing: Begin, one Print per record, End.
type Printer interface {
	Begin() error
	Print(r *flow.Record) error
	End(s *Summary) error
}

// CountedPrinter is implemented by every Printer of this package. nfdump
// numbers records by the count processed before the filter (%cnt and raw's
// RecordCount); Print numbers them 1, 2, 3 as they are printed, which is the
// same without a filter. PrintCounted prints r with its processed number n.
type CountedPrinter interface {
	Printer
	PrintCounted(r *flow.Record, n uint64) error
}

// UnknownModeError is an -o value that names no mode. Its text is nfdump's
// message; nfdump exits 1.
type UnknownModeError struct{ Mode string }

func (e *UnknownModeError) Error() string { return fmt.Sprintf("Unknown output mode '%s'", e.Mode) }

// Report returns what nfdump 1.7.1 prints on stderr for the error.
func (e *UnknownModeError) Report() string { return e.Error() + "\n\n" }

// flushSize is how much output is buffered before it is written.
const flushSize = 64 << 10

// base holds what every printer shares: the writer, the buffer records are
// appended to, the options and the record counter.
type base struct {
	w     io.Writer
	buf   []byte
	o     Options
	count uint64
	clk   clock
}

func (b *base) flush() error {
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.w.Write(b.buf)
	b.buf = b.buf[:0]
	return err
}

func (b *base) maybeFlush() error {
	if len(b.buf) >= flushSize {
		return b.flush()
	}
	return nil
}

// noMatch appends nfdump's line for a listing where nothing passed.
func (b *base) noMatch(s *Summary) {
	if s.Passed == 0 {
		b.buf = append(b.buf, "No matching flows\n"...)
	}
}

// endPlain ends a plain-text listing (fmt modes, raw, null).
func (b *base) endPlain(s *Summary) error {
	b.noMatch(s)
	if !b.o.Quiet {
		b.buf = appendPlainSummary(b.buf, s, b.o.PlainNumbers, &b.clk)
	}
	return b.flush()
}

// New returns the printer for o.Mode, or an error for an unknown mode or a
// bad fmt: format (a *UnknownModeError or a *FormatError, whose texts are
// nfdump's messages).
func New(w io.Writer, o Options) (Printer, error) {
	mode := o.Mode
	if mode == "" {
		mode = "line"
	}
	v6long := o.IPv6Long
	if len(mode) >= 4 && strings.EqualFold(mode[:4], "fmt:") || strings.HasPrefix(mode, "%") {
		f := mode
		if !strings.HasPrefix(mode, "%") {
			f = mode[4:]
		}
		if f == "" {
			return nil, &FormatError{Msg: "Missing format description for user defined output format!", blankLine: true}
		}
		return newFmt(w, o, f, v6long)
	}
	if len(mode) > 2 && mode[len(mode)-1] == '6' {
		v6long = true
		mode = mode[:len(mode)-1]
	}
	name := strings.ToLower(mode)
	if len(name) > 16 {
		name = name[:16]
	}
	b := base{w: w, o: o, buf: make([]byte, 0, flushSize+4096)}
	switch name {
	case "raw":
		return &rawPrinter{base: b}, nil
	case "csv":
		return &csvPrinter{base: b}, nil
	case "pipe":
		return &pipePrinter{base: b}, nil
	case "json":
		return &jsonPrinter{base: b}, nil
	case "ndjson":
		return &jsonPrinter{base: b, nd: true}, nil
	case "null":
		return &nullPrinter{base: b}, nil
	}
	for _, p := range predefined {
		if p.name == name && p.format != "" {
			return newFmt(w, o, p.format, v6long)
		}
	}
	return nil, &UnknownModeError{Mode: o.Mode}
}

func newFmt(w io.Writer, o Options, f string, v6long bool) (Printer, error) {
	items, hdr, err := parseFormat(f, v6long)
	if err != nil {
		return nil, err
	}
	return &fmtPrinter{
		base:   base{w: w, o: o, buf: make([]byte, 0, flushSize+4096)},
		items:  items,
		header: hdr,
		v6long: v6long,
		plain:  o.PlainNumbers,
		tag:    o.NfSen,
	}, nil
}

// nullPrinter prints no records, only the summary.
type nullPrinter struct{ base }

// ReadsRecords reports whether p looks at the records it prints. A printer
// that does not (-o null) lets the caller decode only what it needs itself,
// such as flow.TotalsElements.
func ReadsRecords(p Printer) bool {
	_, null := p.(*nullPrinter)
	return !null
}

func (p *nullPrinter) Begin() error                                { return nil }
func (p *nullPrinter) Print(r *flow.Record) error                  { return nil }
func (p *nullPrinter) PrintCounted(r *flow.Record, n uint64) error { return nil }
func (p *nullPrinter) End(s *Summary) error                        { return p.endPlain(s) }

// keyTokens are the fmt tokens that read of a record only what an
// aggregation table keeps of a key without its first flow: the times and
// counters it sums, the TCP flags it ORs, the addresses, ports and
// protocol of -a's key, and the record's version and flags.
var keyTokens = [...]tokenID{
	tLiteral, tVersion, tCount, tFirst, tFirstRaw, tLast, tLastRaw, tDuration, tDurationSec,
	tProto, tSrcAddr, tDstAddr, tSrcAddrPort, tDstAddrPort, tSrcPort, tDstPort,
	tICMPType, tICMPCode, tInPackets, tOutPackets, tInBytes, tOutBytes, tFlows, tFlags,
	tBps, tPps, tBpp, tNewLine,
}

// PrintsKeyFields reports whether p prints of each record only its times,
// counters, TCP flags, version, protocol, addresses and ports (the line and
// biline modes, or a fmt: of those tokens): an -a, -b or -B table then
// needs to keep no more of a key's first flow (aggregate.NewPrintingKeys).
// -o null prints no record at all.
func PrintsKeyFields(p Printer) bool {
	switch p := p.(type) {
	case *nullPrinter:
		return true
	case *fmtPrinter:
		for i := range p.items {
			if !slices.Contains(keyTokens[:], p.items[i].id) {
				return false
			}
		}
		return true
	}
	return false
}
