package stats

import (
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/internal/flowgen"
)

// TestReads checks Spec.Reads for every element: a table fed with flows
// read with only those elements decoded ranks what one fed with whole
// flows ranks.
func TestReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nfcapd.test")
	w, err := flowfile.Create(path, flowfile.WriteOptions{})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		r := flowgen.Random(rng)
		require.NoError(t, w.WriteFlow(&r))
	}
	require.NoError(t, w.Close())

	count := func(spec Spec, want flow.Elements) *Table {
		r, err := flowfile.Open(path, flowfile.ReadOptions{Elements: want})
		require.NoError(t, err)
		defer r.Close()
		tab := NewTable(spec)
		for r.Next() {
			if r.Kind() == flowfile.KindFlow {
				tab.Add(r.Flow())
			}
		}
		require.NoError(t, r.Err())
		return tab
	}
	for _, name := range Elements() {
		for _, s := range []string{name, name + ":p"} {
			spec := mustSpec(t, s+"/bytes")
			all, some := count(spec, 0), count(spec, spec.Reads())
			assert.Equal(t, all.Top(spec.Orders[0], 0, Limit{}, Limit{}), some.Top(spec.Orders[0], 0, Limit{}, Limit{}), s)
		}
	}
}
