package filter

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/flowgen"
)

// countRun walks f's code for r as run does, counting each op's outcomes.
func countRun(f *Filter, r *flow.Record, counts [][2]uint32) {
	var st walkState
	for idx := f.entry; idx >= firstOp; {
		o := f.code[idx]
		one := *f
		one.code = []op{{}, {}, o}
		one.code[firstOp].next = [2]uint32{reject, accept}
		one.entry = firstOp
		ev := one.run(r, 0)
		_ = st
		if ev {
			counts[idx][1]++
			idx = o.next[1]
		} else {
			counts[idx][0]++
			idx = o.next[0]
		}
	}
}

// TestReorderLikeCode: reordering the code's chains with any counts
// leaves every filter of the corpus answering as before, on flows of every
// element and random ones.
func TestReorderLikeCode(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	g := flowgen.NewFull(2, 1_795_555_903_000)
	recs := make([]flow.Record, 600)
	for i := range recs {
		if i%3 == 0 {
			recs[i] = flowgen.Random(rng)
		} else {
			g.Next(&recs[i])
		}
	}
	home := flowgen.New(1, 1_795_555_903_000)
	for range 400 {
		var r flow.Record
		home.Next(&r)
		recs = append(recs, r)
	}
	moved := 0
	for _, expr := range corpusExprs(t) {
		f, err := Compile(expr, Options{})
		require.NoError(t, err, expr)
		for k := range 3 {
			counts := make([][2]uint32, len(f.code))
			switch k {
			case 0:
				for _, r := range recs {
					countRun(f, &r, counts)
				}
			default:
				for i := range counts {
					counts[i] = [2]uint32{rng.Uint32N(100), rng.Uint32N(100)}
				}
			}
			g := *f
			g.code, g.entry = reorder(f.code, f.entry, counts)
			if g.entry != f.entry || !sameCode(f.code, g.code) {
				moved++
			}
			for i := range recs {
				require.Equal(t, f.Match(&recs[i]), g.Match(&recs[i]), "%s, counts %d, flow %+v", expr, k, recs[i])
			}
		}
	}
	require.Greater(t, moved, 100, "reorderings that changed the code")
}

// corpusExprs returns the expressions of testdata/corpus.txt and the
// bench's filters.
func corpusExprs(t *testing.T) []string {
	b, err := os.ReadFile(filepath.Join("testdata", "corpus.txt"))
	require.NoError(t, err)
	exprs := flowgen.BenchFilters()
	for _, s := range strings.Split(string(b), "\n") {
		if s == "" || s[0] == '#' {
			continue
		}
		if len(s) > 3 && s[1] == ':' && s[2] == ' ' {
			s = s[3:]
		}
		exprs = append(exprs, s)
	}
	return exprs
}

func sameCode(a, b []op) bool {
	return unsafe.SliceData(a) == unsafe.SliceData(b) || len(a) == len(b) && func() bool {
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}()
}

// TestFlatTable: code of a few cheap tests runs flat, and its table gives
// the walk's answer for every combination of outcomes; longer code, and
// code with a costly test among others, is walked.
func TestFlatTable(t *testing.T) {
	for _, c := range []struct {
		expr string
		flat bool
	}{
		{"proto tcp", true},
		{"bps > 1000", true}, // one test always runs
		{"proto tcp and (dst port 80 or dst port 443) and not src net 10.0.0.0/8", true},
		{"proto tcp and (dst port 80 or dst port 443) and not src net 10.0.0.0/8 or proto udp", true},
		{"proto tcp and (dst port 80 or dst port 443 or dst port 8080 or dst port 8443) and not src net 10.0.0.0/8 or proto udp", false},
		{"proto tcp and bps > 1000", false},
		{"any", false},
	} {
		f, err := Compile(c.expr, Options{})
		require.NoError(t, err, c.expr)
		fp := flatten(f.code, f.entry)
		require.Equal(t, c.flat, fp != nil, c.expr)
		if fp == nil {
			continue
		}
		code, entry := compact(f.code, f.entry)
		n := len(fp.eqs) + len(fp.loads) + len(fp.rest)
		require.Equal(t, len(code)-int(firstOp), n, c.expr)
		// The ops in the flat order: equality tests of a field, the
		// other tests of a field, the rest.
		var order []op
		for _, group := range []func(o op) bool{
			func(o op) bool { return o.kind == kLoad && o.pass == passBits[cmpEQ] },
			func(o op) bool { return o.kind == kLoad && o.pass != passBits[cmpEQ] },
			func(o op) bool { return o.kind != kLoad },
		} {
			for _, o := range code[firstOp:] {
				if group(o) {
					order = append(order, o)
				}
			}
		}
		for v := uint64(0); v < 1<<n; v++ {
			idx := entry
			for idx >= firstOp {
				k := slices.Index(order, code[idx])
				idx = code[idx].next[v>>uint(k)&1]
			}
			require.Equal(t, idx == accept, fp.table>>v&1 != 0, "%s: outcomes %b", c.expr, v)
		}
	}
}
