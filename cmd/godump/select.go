package main

import (
	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/timewindow"
)

// selector is what the reader selects the flows with, in nfdump's order:
// the -t window, then the filter. nil lets every flow pass. The reader runs
// it in its workers for every job, and counts the flows processed and
// passed and stops at -c, so nothing else in godump decides which flows
// pass.
func selector(o *options) flowfile.Selector {
	var window flowfile.Selector
	if o.window != nil {
		window = windowSelector{o.window}
	}
	return flowfile.AllOf(window, o.match)
}

// windowSelector passes the flows that lie entirely inside the -t window,
// as nfdump's time filter does.
type windowSelector struct{ w *timewindow.Window }

func (s windowSelector) Match(r *flow.Record) bool { return s.w.Contains(r.First, r.Last) }

// Reads returns the generic element, which holds the times.
func (windowSelector) Reads() flow.Elements { return 1 << flow.ElemGeneric }
