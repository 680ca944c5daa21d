package flowfile

import (
	"sync"

	"github.com/nfgo/nftools/flow"
)

// Selector picks the flow records a reader passes on (ReadOptions.Select):
// nfdump's -t window and its filter. The reader's workers run it while they
// decode a block, so that a selective read keeps every core busy whatever
// the caller does with the flows.
type Selector interface {
	// Match reports whether r passes. Workers call it concurrently, each
	// with a Record of its own: it must not keep r, and may change only
	// r.Label (a filter's flow label), which the reader hands out with
	// the flow that passed.
	Match(r *flow.Record) bool
	// Reads returns the V3 elements Match looks at; the workers decode
	// those before they call it. Zero means none (a selector on the
	// running number alone).
	Reads() flow.Elements
}

// NumberedSelector is a Selector that needs each record's running number,
// which nfdump's filter tests with count: the number of flow records
// processed up to and including this one, over every file of the run (see
// ReadOptions.Number). The reader calls MatchNumbered instead of Match;
// its workers learn a block's first number from the blocks before it, so
// the selection still runs on every core.
type NumberedSelector interface {
	Selector
	MatchNumbered(r *flow.Record, n uint64) bool
}

// IdentSelector is a Selector whose answer depends on the ident of the
// file it reads (nfdump's ident filter compares the file's ident). The
// reader selects with what ForIdent returns for its file, once it has read
// the ident; ok is false for a file without one.
type IdentSelector interface {
	Selector
	ForIdent(ident string, ok bool) Selector
}

// forIdent binds s to a file's ident when s depends on it.
func forIdent(s Selector, ident string, ok bool) Selector {
	if is, yes := s.(IdentSelector); yes {
		return is.ForIdent(ident, ok)
	}
	return s
}

// AllOf returns a Selector that passes the records every one of sels
// passes, testing them in order; nil entries are left out, and without any
// selector it returns nil (every record passes). It is a NumberedSelector
// when one of sels is, and an IdentSelector when one of sels is.
func AllOf(sels ...Selector) Selector {
	var all allOf
	numbered, ident := false, false
	for _, s := range sels {
		if s == nil {
			continue
		}
		all = append(all, s)
		if _, ok := s.(NumberedSelector); ok {
			numbered = true
		}
		if _, ok := s.(IdentSelector); ok {
			ident = true
		}
	}
	switch {
	case len(all) == 0:
		return nil
	case len(all) == 1:
		return all[0]
	case ident:
		return identAllOf{all}
	}
	return all.join(numbered)
}

func (a allOf) join(numbered bool) Selector {
	if numbered {
		return numberedAllOf{a}
	}
	return a
}

// identAllOf is AllOf over selectors of which some depend on the file's
// ident: bound to a file, it is AllOf over the bound selectors.
type identAllOf struct{ allOf }

func (a identAllOf) ForIdent(ident string, ok bool) Selector {
	bound := make(allOf, len(a.allOf))
	numbered := false
	for i, s := range a.allOf {
		bound[i] = forIdent(s, ident, ok)
		_, n := bound[i].(NumberedSelector)
		numbered = numbered || n
	}
	return bound.join(numbered)
}

type allOf []Selector

// RawMatcher tests records of layout l on their bytes as Match does, when
// every selector is a RawSelector with a test for l: the reader then
// selects with the -t window and a filter together before it decodes.
func (a allOf) RawMatcher(l *flow.Layout) func(rec []byte) bool {
	ms := make([]func([]byte) bool, len(a))
	for i, s := range a {
		rs, ok := s.(RawSelector)
		if !ok {
			return nil
		}
		if ms[i] = rs.RawMatcher(l); ms[i] == nil {
			return nil
		}
	}
	if len(ms) == 2 {
		// The window and a filter: two calls, no loop.
		m0, m1 := ms[0], ms[1]
		return func(rec []byte) bool { return m0(rec) && m1(rec) }
	}
	return func(rec []byte) bool {
		for _, m := range ms {
			if !m(rec) {
				return false
			}
		}
		return true
	}
}

func (a allOf) Match(r *flow.Record) bool {
	for _, s := range a {
		if !s.Match(r) {
			return false
		}
	}
	return true
}

func (a allOf) Reads() flow.Elements {
	var e flow.Elements
	for _, s := range a {
		e |= s.Reads()
	}
	return e
}

type numberedAllOf struct{ allOf }

func (a numberedAllOf) MatchNumbered(r *flow.Record, n uint64) bool {
	for _, s := range a.allOf {
		ok := false
		if ns, numbered := s.(NumberedSelector); numbered {
			ok = ns.MatchNumbered(r, n)
		} else {
			ok = s.Match(r)
		}
		if !ok {
			return false
		}
	}
	return true
}

// Span selects the flows that lie inside a time span, nfdump's -t test
// (timewindow.Window.Span gives the bounds): those whose first time is at
// or after Lo and whose last time is at or before Hi, in msec since the
// epoch. A flow without times (no generic element) has both at 0.
type Span struct{ Lo, Hi uint64 }

// Match reports whether r lies inside the span.
func (s Span) Match(r *flow.Record) bool { return r.First >= s.Lo && r.Last <= s.Hi }

// Reads returns the generic element, which holds the times.
func (Span) Reads() flow.Elements { return 1 << flow.ElemGeneric }

// RawMatcher reads the times where layout l stores them.
func (s Span) RawMatcher(l *flow.Layout) func(rec []byte) bool {
	first, last := l.Off[flow.FieldFirst], l.Off[flow.FieldLast]
	switch {
	case first == 0 && last == 0:
		in := s.Lo == 0 // both times are 0, and Hi >= 0
		return func([]byte) bool { return in }
	case first == 0 || last == 0:
		return nil // not the generic element's layout
	}
	lo, hi := s.Lo, s.Hi
	return func(rec []byte) bool {
		return le.Uint64(rec[first:]) >= lo && le.Uint64(rec[last:]) <= hi
	}
}

// sequencer hands the workers the running number of the flow before each
// block, for a NumberedSelector: blocks take their turn in file order
// (readJob.seq), each adding its count of flows. A worker waits only for
// the header walk of the blocks before its own, so the workers still decode
// and select in parallel.
type sequencer struct {
	mu   sync.Mutex
	cond sync.Cond
	next uint64 // the seq of the block whose turn it is
	base uint64 // the running number before that block
}

func newSequencer(base uint64) *sequencer {
	s := &sequencer{base: base}
	s.cond.L = &s.mu
	return s
}

// take waits for block seq's turn, returns the running number before it,
// and passes the turn on to the next block, which starts n flows later.
func (s *sequencer) take(seq, n uint64) uint64 {
	s.mu.Lock()
	for s.next != seq {
		s.cond.Wait()
	}
	base := s.base
	s.base += n
	s.next++
	s.mu.Unlock()
	s.cond.Broadcast()
	return base
}
