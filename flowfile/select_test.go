package flowfile

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/testutil"
)

// protoSelector passes the flows of one protocol, like the filter "proto 6".
type protoSelector struct{ proto uint8 }

func (s protoSelector) Match(r *flow.Record) bool { return r.Proto == s.proto }
func (protoSelector) Reads() flow.Elements        { return 1 << flow.ElemGeneric }

// oddInputSelector passes the flows whose input interface is odd: it reads
// an element the summary does not.
type oddInputSelector struct{}

func (oddInputSelector) Match(r *flow.Record) bool { return r.Input%2 == 1 }
func (oddInputSelector) Reads() flow.Elements      { return 1 << flow.ElemMisc }

// everyThird passes every third flow by its running number, like the
// filter "count" would; Match must never be called.
type everyThird struct{ matchCalls *atomic.Int64 }

func (s everyThird) Match(*flow.Record) bool { s.matchCalls.Add(1); return false }
func (everyThird) Reads() flow.Elements      { return 0 }
func (everyThird) MatchNumbered(_ *flow.Record, n uint64) bool {
	return n%3 == 0
}

// selectCase is a selector and what it should pass: want gets the flow
// fully decoded and its running number.
type selectCase struct {
	name string
	sel  Selector
	want func(r *flow.Record, n uint64) bool
}

func selectCases() []selectCase {
	calls := new(atomic.Int64)
	return []selectCase{
		{"all", nil, func(*flow.Record, uint64) bool { return true }},
		{"tcp", protoSelector{6}, func(r *flow.Record, _ uint64) bool { return r.Proto == 6 }},
		{"none", protoSelector{250}, func(*flow.Record, uint64) bool { return false }},
		{"tcp and odd input", AllOf(protoSelector{6}, nil, oddInputSelector{}),
			func(r *flow.Record, _ uint64) bool { return r.Proto == 6 && r.Input%2 == 1 }},
		{"every third", everyThird{calls}, func(_ *flow.Record, n uint64) bool { return n%3 == 0 }},
		{"udp and every third", AllOf(protoSelector{17}, everyThird{calls}),
			func(r *flow.Record, n uint64) bool { return r.Proto == 17 && n%3 == 0 }},
	}
}

// plainRead is a read without selection: the flows as opts decode them
// and fully decoded, and, in order, the other records with the number of
// flows before each.
type plainRead struct {
	flows  []flow.Record
	full   []flow.Record
	kinds  []Kind
	before []int // flows before kinds[i]
	err    string
}

func readPlain(t *testing.T, path string, opts ReadOptions) plainRead {
	t.Helper()
	var p plainRead
	for _, full := range []bool{false, true} {
		o := opts
		if full {
			o.Elements = 0
		}
		r, err := Open(path, o)
		require.NoError(t, err)
		for r.Next() {
			switch {
			case r.Kind() == KindFlow && full:
				p.full = append(p.full, *r.Flow())
			case r.Kind() == KindFlow:
				p.flows = append(p.flows, *r.Flow())
			case !full:
				p.kinds = append(p.kinds, r.Kind())
				p.before = append(p.before, len(p.flows))
			}
		}
		if r.Err() != nil && !full {
			p.err = r.Err().Error()
		}
		require.NoError(t, r.Close())
	}
	require.Equal(t, len(p.flows), len(p.full))
	return p
}

// selected is what a selecting read delivered.
type selected struct {
	flows             []flow.Record
	numbers           []uint64 // of the flows Next handed out
	kinds             []Kind
	tally             flow.Totals
	processed, passed uint64
	err               string
}

// expect applies c to a plain read as the reader should, numbering the
// flows on from base and stopping after limit flows passed.
func (p *plainRead) expect(c selectCase, base, limit uint64) selected {
	var s selected
	stop := -1 // the flows read when the limit was reached
	for i := range p.flows {
		s.processed++
		if !c.want(&p.full[i], base+uint64(i)+1) {
			continue
		}
		s.passed++
		s.flows = append(s.flows, p.flows[i])
		s.numbers = append(s.numbers, base+uint64(i)+1)
		s.tally.Add(&p.full[i])
		if s.passed == limit {
			stop = i + 1
			break
		}
	}
	for i, k := range p.kinds {
		// Reading ends right after the flow that reached the limit.
		if stop < 0 || p.before[i] < stop {
			s.kinds = append(s.kinds, k)
		}
	}
	if stop < 0 {
		s.err = p.err
	}
	return s
}

// readSelected reads path with opts, collecting the flows from Next or
// from the visitors.
func readSelected(t *testing.T, path string, opts ReadOptions) selected {
	t.Helper()
	visit := opts.Visit != nil
	r, err := Open(path, opts)
	require.NoError(t, err)
	defer r.Close()
	var s selected
	var handed flow.Totals
	for r.Next() {
		switch r.Kind() {
		case KindFlow:
			s.flows = append(s.flows, *r.Flow())
			s.numbers = append(s.numbers, r.Number())
			handed.Add(r.Flow())
		case KindBlock:
			s.flows = append(s.flows, r.Block().(*recordingVisitor).flows...)
		default:
			s.kinds = append(s.kinds, r.Kind())
		}
	}
	if r.Err() != nil {
		s.err = r.Err().Error()
	}
	s.tally, s.processed, s.passed = r.Tally(), r.Processed(), r.Passed()
	if !opts.Tally && !visit {
		assert.Equal(t, handed, s.tally, "Tally sums the flows handed out")
	}
	return s
}

// checkSelect reads path with each selector, limit and number base, in
// every mode (flows handed out with one to three workers, Tally, Visit),
// and wants what filtering a plain read gives.
func checkSelect(t *testing.T, path string, opts ReadOptions) {
	t.Helper()
	plain := readPlain(t, path, opts)
	n := uint64(len(plain.flows))
	for _, c := range selectCases() {
		for _, limit := range []uint64{0, 1, n / 3, n} {
			for _, base := range []uint64{0, 7} {
				if _, numbered := c.sel.(NumberedSelector); base > 0 && !numbered {
					continue // the same as base 0
				}
				want := plain.expect(c, base, limit)
				modes := []struct {
					name string
					opts ReadOptions
				}{
					{"next, 1 worker", ReadOptions{Workers: 1}},
					{"next, 3 workers", ReadOptions{Workers: 3}},
					{"tally, 2 workers", ReadOptions{Workers: 2, Tally: true}},
					{"visit, 3 workers", ReadOptions{Workers: 3, Visit: func() BlockVisitor { return &recordingVisitor{slow: true} }}},
				}
				for _, m := range modes {
					if m.opts.Visit != nil && opts.Elements != 0 {
						// Visitors get what the selector and the sums
						// read decoded too.
						continue
					}
					o := m.opts
					o.Recover, o.Elements = opts.Recover, opts.Elements
					o.Select, o.Limit, o.Number = c.sel, limit, base
					got := readSelected(t, path, o)
					if o.Tally {
						// No flows come out; compare the sums.
						got.flows = want.flows
					}
					if o.Tally || o.Visit != nil {
						got.numbers = want.numbers
					}
					if !sameSelected(t, want, got, fmt.Sprintf("%s: %s, limit %d, base %d, %s", filepath.Base(path), c.name, limit, base, m.name)) {
						return
					}
				}
			}
		}
	}
}

// sameSelected compares two reads, and on a difference says where it
// starts rather than printing every flow.
func sameSelected(t *testing.T, want, got selected, what string) bool {
	t.Helper()
	ok := assert.Equal(t, len(want.flows), len(got.flows), "%s: flows", what)
	for i := 0; ok && i < len(want.flows); i++ {
		ok = assert.Equal(t, want.flows[i], got.flows[i], "%s: flow %d", what, i)
	}
	want.flows, got.flows = nil, nil
	return assert.Equal(t, want, got, what) && ok
}

func TestSelectLikeFiltering(t *testing.T) {
	root := filepath.Join(testutil.RepoRoot(), "..", "shared", "testdata", "nfcapd-1.7.1")
	for _, name := range []string{"sample-nfcapd-uncompressed", "sample-nfcapd-lz4", "sample-nfcapd-sampled",
		"flows/2026/11/24/nfcapd.202611242140"} {
		p := filepath.Join(root, name)
		if _, err := os.Stat(p); err == nil {
			checkSelect(t, p, ReadOptions{})
		}
	}
	rng := rand.New(rand.NewPCG(41, 42))
	f := randomFile(rng, 20000)
	for _, comp := range []Compression{None, LZ4} {
		p := filepath.Join(t.TempDir(), "f")
		writeTestFile(t, p, WriteOptions{Compression: comp}, &f)
		checkSelect(t, p, ReadOptions{})
		if comp == LZ4 {
			// Decoding only some elements for the caller does not
			// change what the selector sees.
			checkSelect(t, p, ReadOptions{Elements: 1 << flow.ElemIPv4})
		}
	}
}

// TestSelectDamagedAndCrashedFiles: with a selector, a damaged record
// still ends reading after the flows before it, unless the limit came
// first, and a crashed file reads up to the crash.
func TestSelectDamagedAndCrashedFiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	f := randomFile(rng, 30000)
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	writeTestFile(t, plain, WriteOptions{Compression: None}, &f)
	data, err := os.ReadFile(plain)
	require.NoError(t, err)
	offs := blockOffsets(t, data)
	require.GreaterOrEqual(t, len(offs), 3)
	bad := bytes.Clone(data)
	pos := int(offs[1]) + blockHeaderSize
	for i := 0; i < 100; i++ {
		pos += int(le.Uint16(bad[pos+2:]))
	}
	le.PutUint16(bad[pos+2:], 3) // record 100 of block 1: size 3
	p := filepath.Join(dir, "badrec")
	require.NoError(t, os.WriteFile(p, bad, 0o644))
	require.Contains(t, readPlain(t, p, ReadOptions{}).err, "record 100 at payload offset")
	checkSelect(t, p, ReadOptions{})

	_, crashed, _, _ := crashedFile(t, 45, 4244)
	checkSelect(t, crashed, ReadOptions{Recover: true})
}

// TestSelectRunsInWorkers: while the caller sits on the first flow, the
// workers go on selecting the flows of the blocks after it, so selection
// runs on other cores than the caller's, for every mode.
func TestSelectRunsInWorkers(t *testing.T) {
	rng := rand.New(rand.NewPCG(47, 48))
	f := randomFile(rng, 40000)
	f.exporters, f.samplers, f.stats = nil, nil, nil // blocks of flows only
	p := filepath.Join(t.TempDir(), "f")
	writeTestFile(t, p, WriteOptions{Compression: LZ4}, &f)
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	perBlock := flowsPerBlock(t, data)
	require.GreaterOrEqual(t, len(perBlock), 4)
	for _, numbered := range []bool{false, true} {
		for _, visit := range []bool{false, true} {
			calls := new(atomic.Int64)
			var sel Selector = &countingSelector{calls: calls}
			if numbered {
				sel = &countingNumbered{countingSelector{calls: calls}}
			}
			opts := ReadOptions{Workers: 2, Select: sel}
			if visit {
				opts.Visit = func() BlockVisitor { return &recordingVisitor{} }
			}
			r, err := Open(p, opts)
			require.NoError(t, err)
			require.True(t, r.Next())
			// The first block's flows and those of the next one, which a
			// worker selects while this goroutine waits.
			ahead := int64(perBlock[0] + perBlock[1])
			deadline := time.Now().Add(20 * time.Second)
			for calls.Load() < ahead && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			assert.GreaterOrEqual(t, calls.Load(), ahead, "numbered %v, visit %v", numbered, visit)
			require.NoError(t, r.Close())
		}
	}
}

// countingSelector passes every flow and counts its calls.
type countingSelector struct{ calls *atomic.Int64 }

func (s *countingSelector) Match(*flow.Record) bool { s.calls.Add(1); return true }
func (*countingSelector) Reads() flow.Elements      { return 1 << flow.ElemGeneric }

type countingNumbered struct{ countingSelector }

func (s *countingNumbered) MatchNumbered(*flow.Record, uint64) bool { s.calls.Add(1); return true }

func TestAllOf(t *testing.T) {
	calls := new(atomic.Int64)
	assert.Nil(t, AllOf())
	assert.Nil(t, AllOf(nil, nil))
	tcp := protoSelector{6}
	assert.Equal(t, Selector(tcp), AllOf(nil, tcp))
	both := AllOf(tcp, oddInputSelector{})
	_, numbered := both.(NumberedSelector)
	assert.False(t, numbered)
	assert.Equal(t, flow.Elements(1<<flow.ElemGeneric|1<<flow.ElemMisc), both.Reads())
	for _, tc := range []struct {
		r    flow.Record
		want bool
	}{
		{flow.Record{Proto: 6, Input: 1}, true},
		{flow.Record{Proto: 6, Input: 2}, false},
		{flow.Record{Proto: 17, Input: 1}, false},
	} {
		assert.Equal(t, tc.want, both.Match(&tc.r), fmt.Sprint(tc.r.Proto, tc.r.Input))
	}
	n, ok := AllOf(tcp, everyThird{calls}).(NumberedSelector)
	require.True(t, ok)
	assert.True(t, n.MatchNumbered(&flow.Record{Proto: 6}, 3))
	assert.False(t, n.MatchNumbered(&flow.Record{Proto: 6}, 4))
	assert.False(t, n.MatchNumbered(&flow.Record{Proto: 17}, 3))
	assert.Zero(t, calls.Load(), "a numbered selector is asked with its number")
}

// identSelector passes the flows of files whose ident is want, like the
// filter "ident want"; unbound it passes nothing, as for a file without
// an ident.
type identSelector struct {
	want  string
	bound bool
	ok    bool
}

func (s identSelector) Match(*flow.Record) bool { return s.bound && s.ok }
func (identSelector) Reads() flow.Elements      { return 0 }
func (s identSelector) ForIdent(ident string, ok bool) Selector {
	return identSelector{want: s.want, bound: true, ok: ok && ident == s.want}
}

// TestIdentSelector: the reader binds a selector to its file's ident
// before it selects, also inside AllOf and with a numbered selector.
func TestIdentSelector(t *testing.T) {
	dir := t.TempDir()
	write := func(name, ident string) string {
		p := filepath.Join(dir, name)
		w, err := Create(p, WriteOptions{Ident: ident})
		require.NoError(t, err)
		for i := 0; i < 50; i++ {
			r := flow.Record{Proto: uint8(6 + 11*(i%2)), First: 1000, Last: 2000}
			require.NoError(t, w.WriteFlow(&r))
		}
		require.NoError(t, w.Close())
		return p
	}
	lab, other := write("lab", "lab"), write("other", "other")
	calls := new(atomic.Int64)
	for _, tc := range []struct {
		path string
		sel  Selector
		want uint64
	}{
		{lab, identSelector{want: "lab"}, 50},
		{other, identSelector{want: "lab"}, 0},
		{lab, AllOf(protoSelector{6}, identSelector{want: "lab"}), 25},
		{other, AllOf(protoSelector{6}, identSelector{want: "lab"}), 0},
		{lab, AllOf(everyThird{calls}, identSelector{want: "lab"}), 16},
	} {
		for _, opts := range []ReadOptions{{Select: tc.sel}, {Select: tc.sel, Tally: true}} {
			r, err := Open(tc.path, opts)
			require.NoError(t, err)
			for r.Next() {
			}
			require.NoError(t, r.Err())
			assert.Equal(t, tc.want, r.Passed(), "%s %T tally %v", filepath.Base(tc.path), tc.sel, opts.Tally)
			r.Close()
		}
	}
	_, isIdent := AllOf(protoSelector{6}, identSelector{}).(IdentSelector)
	assert.True(t, isIdent)
	_, isIdent = AllOf(protoSelector{6}, oddInputSelector{}).(IdentSelector)
	assert.False(t, isIdent)
	assert.Zero(t, calls.Load())
}
