package filter

import (
	"math/rand/v2"
	"os"
	"path/filepath"
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
