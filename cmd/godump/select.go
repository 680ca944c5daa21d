package main

import (
	"github.com/nfgo/nftools/filter"
	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
)

// selector is what the reader selects the flows with, in nfdump's order:
// the -t window, then the filter. nil lets every flow pass. The reader runs
// it in its workers for every job, and counts the flows processed and
// passed and stops at -c, so nothing else in godump decides which flows
// pass.
func selector(o *options) flowfile.Selector {
	var window flowfile.Selector
	if o.window != nil {
		// The flows that lie entirely inside the window, as nfdump's
		// time filter passes them; the workers test them on the
		// records' bytes, with the filter.
		lo, hi := o.window.Span()
		window = flowfile.Span{Lo: lo, Hi: hi}
	}
	return flowfile.AllOf(window, o.match)
}

// filterSelector is how the reader selects with a compiled filter: a
// filter that tests count gets each flow's running number, one that tests
// ident is bound to each file's ident (flowfile.IdentSelector), and one
// with flow labels gives each flow that passes its label. A filter
// without labels selects with Match alone, as fast as before labels.
func filterSelector(f *filter.Filter) flowfile.Selector {
	switch {
	case f.HasLabels() && f.UsesCount():
		return numberedLabelFilter{labelFilter{f}}
	case f.HasLabels():
		return labelFilter{f}
	case f.UsesCount():
		return numberedFilter{f}
	}
	return plainFilter{f}
}

type plainFilter struct{ *filter.Filter }

func (p plainFilter) ForIdent(ident string, ok bool) flowfile.Selector {
	return plainFilter{bindIdent(p.Filter, ident, ok)}
}

type numberedFilter struct{ *filter.Filter }

func (n numberedFilter) MatchNumbered(r *flow.Record, count uint64) bool {
	return n.MatchCount(r, count)
}

func (n numberedFilter) ForIdent(ident string, ok bool) flowfile.Selector {
	return numberedFilter{bindIdent(n.Filter, ident, ok)}
}

// bindIdent binds f to a file's ident; a file without one keeps f, whose
// ident tests then fail, as in nfdump.
func bindIdent(f *filter.Filter, ident string, ok bool) *filter.Filter {
	if !ok {
		return f
	}
	return f.WithIdent(ident)
}

// labelFilter selects with a filter that has flow labels: it gives a flow
// the label of the term that let it pass (flow.Record.Label), which the
// reader hands out with the flow. A flow that passes without a labelled
// term keeps the label it was stored with, as in nfdump.
type labelFilter struct{ *filter.Filter }

func (l labelFilter) Match(r *flow.Record) bool { return l.label(r, 0) }

// Reads adds the stored label to what the filter reads, so that the
// label a flow passes with is its own.
func (l labelFilter) Reads() flow.Elements { return l.Filter.Reads() | 1<<flow.ElemLabel }

// label matches the flow with running number count and sets its label.
func (l labelFilter) label(r *flow.Record, count uint64) bool {
	ok, label := l.MatchLabel(r, count)
	switch {
	case label != "":
		r.Label = label
	case !r.Elements.Has(flow.ElemLabel):
		r.Label = "" // none stored, and none from an earlier flow
	}
	return ok
}

func (l labelFilter) ForIdent(ident string, ok bool) flowfile.Selector {
	return labelFilter{bindIdent(l.Filter, ident, ok)}
}

// numberedLabelFilter is a labelFilter for a filter that tests count.
type numberedLabelFilter struct{ labelFilter }

func (n numberedLabelFilter) MatchNumbered(r *flow.Record, count uint64) bool {
	return n.label(r, count)
}

func (n numberedLabelFilter) ForIdent(ident string, ok bool) flowfile.Selector {
	return numberedLabelFilter{labelFilter{bindIdent(n.Filter, ident, ok)}}
}
