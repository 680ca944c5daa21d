package main

import (
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/internal/testutil"
)

// protoSelector stands in for the compiled filter "proto N".
type protoSelector struct{ proto uint8 }

func (s protoSelector) Match(r *flow.Record) bool { return r.Proto == s.proto }
func (protoSelector) Reads() flow.Elements        { return 1 << flow.ElemGeneric }

// passSelector passes every flow, as the filter "any" does, but through
// the reader's selection.
type passSelector struct{}

func (passSelector) Match(*flow.Record) bool { return true }
func (passSelector) Reads() flow.Elements    { return 0 }

// countSelector stands in for "count > lo and count < hi": it passes the
// flows by their running number over the whole run.
type countSelector struct{ lo, hi uint64 }

func (countSelector) Match(*flow.Record) bool { return false }
func (countSelector) Reads() flow.Elements    { return 0 }
func (s countSelector) MatchNumbered(_ *flow.Record, n uint64) bool {
	return n > s.lo && n < s.hi
}

// selectorJobs are the jobs that read flows, each on the sample folder and
// on the generated lab file, which has several blocks.
func selectorJobs(lab string) (exact, unordered, stat, write []string) {
	for _, in := range []string{"-R flows", "-r " + lab} {
		exact = append(exact, in+" -o line", in+" -o fmt:%cnt|%ts|%byt -q", in+" -o csv -c 7", in+" -o null", in+" -o null -c 9",
			in+" -o line -t 2026/11/24.21:30:50-2026/11/24.21:30:52", in+" -o fmt:%byt -O bytes -q -N -n 7",
			in+" -I")
		unordered = append(unordered, in+" -a -o line", in+" -A srcip,dstport", in+" -b", in+" -B -c 40", in+" -A proto -o null")
		stat = append(stat, in+" -s srcip/bytes -n 10", in+" -B -s srcip/bytes -s dstip/bytes -s proto/bytes -n 10",
			in+" -s dstport -c 30", in+" -s record/bytes -n 5 -o line", in+" -s proto -t 2026/11/24.21:30:50-2026/11/24.21:30:52")
		write = append(write, in, in+" -c 11", in+" -a", in+" -O bytes")
	}
	return exact, unordered, stat, write
}

// TestSelectorLikeNfdumpFilter: with a selector in place of the compiled
// filter, every job that reads flows (printing, sorting, -s, -a/-A/-b/-B,
// -w, -I) gives what nfdump gives with the filter the selector stands
// for, and with a selector that passes everything what it gives without
// one; also with -t and -c, which the reader applies with the selector.
func TestSelectorLikeNfdumpFilter(t *testing.T) {
	testutil.RequireTool(t, "nfdump")
	lab, _ := statFiles(t)
	inSamples(t)
	dir := t.TempDir()
	defer func() { testFilter = nil }()
	exact, unordered, stat, write := selectorJobs(lab)
	for ci, c := range []struct {
		filter string
		sel    flowfile.Selector
	}{
		{"", passSelector{}},
		{"proto tcp", protoSelector{6}},
		{"proto 47", protoSelector{47}},
		{"count > 10 and count < 2000", countSelector{10, 2000}},
	} {
		withFilter := func(cl string) []string {
			args := strings.Fields(cl)
			if c.filter != "" {
				args = append(args, c.filter)
			}
			return args
		}
		run := func(cl string) (want, got result) {
			testFilter = nil
			want = nfdump(t, withFilter(cl)...)
			testFilter = c.sel
			return want, godump(strings.Fields(cl)...)
		}
		for _, cl := range exact {
			want, got := run(cl)
			assert.Equal(t, want, got, "godump %s, selecting %q", cl, c.filter)
		}
		for _, cl := range unordered {
			want, got := run(cl)
			assert.Equal(t, want.code, got.code, cl)
			assert.Equal(t, want.stderr, got.stderr, cl)
			wh, wr, wt := split(want.stdout, !strings.Contains(cl, "null"))
			gh, gr, gt := split(got.stdout, !strings.Contains(cl, "null"))
			slices.Sort(wr)
			slices.Sort(gr)
			assert.Equal(t, []any{wh, wr, wt}, []any{gh, gr, gt}, "godump %s, selecting %q", cl, c.filter)
		}
		for _, cl := range stat {
			want, got := run(cl)
			sameStats(t, want, got, "bytes", cl+", selecting "+c.filter)
		}
		for i, cl := range write {
			ours, theirs := filepath.Join(dir, fmt.Sprintf("ours%d-%d", ci, i)), filepath.Join(dir, fmt.Sprintf("theirs%d-%d", ci, i))
			testFilter = nil
			want := nfdump(t, withFilter(cl+" -w "+theirs)...)
			testFilter = c.sel
			got := godump(append(strings.Fields(cl), "-w", ours)...)
			assert.Equal(t, want, got, "godump %s -w, selecting %q", cl, c.filter)
			if want.stdout != "" {
				continue // no file
			}
			for _, check := range []string{"-o raw -q", "-I"} {
				a := nfdump(t, append([]string{"-r", theirs}, strings.Fields(check)...)...)
				b := nfdump(t, append([]string{"-r", ours}, strings.Fields(check)...)...)
				// Aggregated and sorted records come in another order
				// (the hash table's; ties).
				_, ar, at := split(a.stdout, false)
				_, br, bt := split(b.stdout, false)
				slices.Sort(ar)
				slices.Sort(br)
				assert.Equal(t, []any{ar, at}, []any{br, bt}, "%s -w, then %s, selecting %q", cl, check, c.filter)
			}
		}
	}
}

// goroutineSelector passes every flow and notes the goroutines it runs on.
type goroutineSelector struct {
	mu  sync.Mutex
	ids map[uint64]bool
}

func (s *goroutineSelector) Match(*flow.Record) bool {
	id := goroutineID()
	s.mu.Lock()
	s.ids[id] = true
	s.mu.Unlock()
	return true
}

func (*goroutineSelector) Reads() flow.Elements { return 1 << flow.ElemGeneric }

// goroutineID reads the calling goroutine's number from its stack trace's
// first line, "goroutine N [running]:".
func goroutineID() uint64 {
	var buf [64]byte
	f := strings.Fields(string(buf[:runtime.Stack(buf[:], false)]))
	id, _ := strconv.ParseUint(f[1], 10, 64)
	return id
}

// TestSelectorRunsInTheReader: in every job the selector runs in the
// reader's goroutines, never on the one that prints or counts, so a
// filter keeps the parallel paths (-o null counting and -s tables in the
// workers).
func TestSelectorRunsInTheReader(t *testing.T) {
	lab, _ := statFiles(t)
	defer func() { testFilter = nil }()
	for _, cl := range []string{"-o line", "-o null", "-s srcip/bytes", "-s record/bytes", "-A srcip", "-O bytes", "-w " + filepath.Join(t.TempDir(), "w")} {
		sel := &goroutineSelector{ids: map[uint64]bool{}}
		testFilter = sel
		got := godump(append([]string{"-r", lab}, strings.Fields(cl)...)...)
		assert.Equal(t, 0, got.code, got.stderr)
		assert.NotEmpty(t, sel.ids, cl)
		assert.False(t, sel.ids[goroutineID()], "godump -r lab %s: the selector ran on the caller's goroutine", cl)
	}
}
