package flowfile

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDirectWritesTheSameFile writes the same content with and without
// WriteOptions.Direct, in full blocks and in small ones that Flush cuts
// (so that blocks end anywhere in a page), and expects the same bytes.
func TestDirectWritesTheSameFile(t *testing.T) {
	created := time.Unix(1_800_000_000, 0)
	for _, comp := range []Compression{None, LZ4} {
		for _, n := range []int{0, 1, 20000} {
			for _, flushEvery := range []int{0, 7, 333} {
				name := comp.String() + "/n" + strconv.Itoa(n) + "/flush" + strconv.Itoa(flushEvery)
				t.Run(name, func(t *testing.T) {
					rng := rand.New(rand.NewPCG(uint64(n), 3))
					f := randomFile(rng, n)
					dir := t.TempDir()
					write := func(path string, direct bool) []byte {
						w, err := Create(path, WriteOptions{Compression: comp, Ident: "direct", Created: created, Direct: direct})
						require.NoError(t, err)
						if direct && w.direct == nil {
							t.Logf("%s: the file system refuses O_DIRECT; the page cache is used", dir)
						}
						for i := range f.exporters {
							require.NoError(t, w.WriteExporter(&f.exporters[i]))
						}
						for i := range f.flows {
							require.NoError(t, w.WriteFlow(&f.flows[i]))
							if flushEvery > 0 && i%flushEvery == flushEvery-1 {
								require.NoError(t, w.Flush())
							}
						}
						require.NoError(t, w.WriteExporterStats(f.stats))
						require.NoError(t, w.Close())
						b, err := os.ReadFile(path)
						require.NoError(t, err)
						return b
					}
					plain := write(filepath.Join(dir, "plain"), false)
					direct := write(filepath.Join(dir, "direct"), true)
					require.Equal(t, len(plain), len(direct))
					assert.True(t, string(plain) == string(direct), "the same bytes")
					c := readAll(t, filepath.Join(dir, "direct"))
					assert.Len(t, c.flows, n)
				})
			}
		}
	}
}
