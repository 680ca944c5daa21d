package output

import (
	"io"

	"github.com/nfgo/nftools/flow"
)

// nfcapdLastPrinted is the last element nfcapd 1.7.1 -E prints: its
// printer knows the elements up to EXipReceivedV6 only. Later ones (MPLS,
// MAC addresses, adjacent AS, latency) are listed on the Elements line but
// print nothing.
const nfcapdLastPrinted = flow.ElemExporterIPv6

// CollectorPrinter prints records the way nfcapd 1.7.1 prints every record
// it receives with -E (or -vvv): nfdump's raw layout, with the differences
// of the collector's own printer:
//
//   - no RecordCount line;
//   - no lines for the elements after EXipReceivedV6 (see above);
//   - the ICMP type and code come out swapped: that printer reads them
//     through a byte overlay of the destination port, which on a
//     little-endian machine puts the code first (echo request 8.0 prints
//     as "0.8");
//   - the elements are those the record is stored with.
//
// Like raw, "dst tos" shows the source ToS, as both nfcapd printers do.
// Records are buffered; Flush writes them out. A CollectorPrinter is not
// safe for concurrent use.
type CollectorPrinter struct {
	p rawPrinter
}

// NewCollectorPrinter returns a printer writing to w.
func NewCollectorPrinter(w io.Writer) *CollectorPrinter {
	return &CollectorPrinter{p: rawPrinter{base: base{w: w, buf: make([]byte, 0, flushSize+4096)}, nfcapd: true}}
}

// Print appends r; the buffer is written out when it is full.
func (c *CollectorPrinter) Print(r *flow.Record) error {
	c.p.buf = c.p.appendRecord(c.p.buf, r, 0)
	return c.p.maybeFlush()
}

// Flush writes out what is buffered.
func (c *CollectorPrinter) Flush() error { return c.p.flush() }
