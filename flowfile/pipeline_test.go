package flowfile

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readPiped reads paths in order through one Pipeline, opening each file
// while the one before is read, as godump does, and returns what each
// read delivered (as readVisiting does) and whether its reader took the
// pipeline. It checks that Release gets back every visitor once.
func readPiped(t *testing.T, paths []string, opts ReadOptions, visit bool) ([]visitResult, []bool) {
	t.Helper()
	made := map[*recordingVisitor]int{}
	if visit {
		opts.Visit = func() BlockVisitor {
			v := &recordingVisitor{slow: true}
			made[v] = 0
			return v
		}
		opts.Release = func(b BlockVisitor) { made[b.(*recordingVisitor)]++ }
	}
	p := NewPipeline(2, opts)
	opts.Pipeline = p
	open := func(path string) *Reader {
		r, err := Open(path, opts)
		require.NoError(t, err)
		return r
	}
	var res []visitResult
	var piped []bool
	next := open(paths[0])
	for i := range paths {
		r := next
		if i+1 < len(paths) {
			next = open(paths[i+1])
		}
		var got visitResult
		for r.Next() {
			switch r.Kind() {
			case KindFlow:
				t.Fatal("a counting reader hands out no flows")
			case KindBlock:
				got.flows = append(got.flows, r.Block().(*recordingVisitor).flows...)
			default:
				got.kinds = append(got.kinds, r.Kind())
			}
		}
		got.tally = r.Tally()
		if r.Err() != nil {
			got.err = r.Err().Error()
		}
		got.skipped, got.bytes = r.Skipped(), r.BytesRead()
		piped = append(piped, r.Pipelined())
		require.NoError(t, r.Close())
		res = append(res, got)
	}
	p.Close()
	assert.LessOrEqual(t, len(made), 16, "a few visitors for the pipeline and the readers of their own")
	for v, n := range made {
		assert.Equal(t, 1, n, "visitor %p released once", v)
	}
	return res, piped
}

// pipelineFiles writes files of every compression, a damaged one between
// them, for the pipeline tests.
func pipelineFiles(t *testing.T) []string {
	rng := rand.New(rand.NewPCG(41, 42))
	dir := t.TempDir()
	var paths []string
	for i, comp := range slices.Concat(allCompressions, []Compression{LZ4, LZ4}) {
		f := randomFile(rng, 8000+3000*i)
		p := filepath.Join(dir, "f"+string(rune('a'+i)))
		writeTestFile(t, p, WriteOptions{Compression: comp}, &f)
		paths = append(paths, p)
	}
	// The one before last has a block of garbage: reading it ends with
	// an error there, and the next file is read whole.
	data, err := os.ReadFile(paths[len(paths)-2])
	require.NoError(t, err)
	offs := blockOffsets(t, data)
	require.GreaterOrEqual(t, len(offs), 4)
	bad := bytes.Clone(data)
	for i := offs[2] + blockHeaderSize; i < offs[3]; i += 5 {
		bad[i] ^= 0xa5
	}
	require.NoError(t, os.WriteFile(paths[len(paths)-2], bad, 0o644))
	return paths
}

// TestPipelineLikeReading: files read one after the other through a
// Pipeline deliver, file by file, what each file read on its own does:
// the visitors' flows in file order, the other records, the sums, the
// errors and the counts, with and without visitors; the compressed files
// take the pipeline, the one stored plain reads on its own.
func TestPipelineLikeReading(t *testing.T) {
	paths := pipelineFiles(t)
	for _, visit := range []bool{true, false} {
		got, piped := readPiped(t, paths, ReadOptions{Tally: true}, visit)
		require.Len(t, got, len(paths))
		for i, path := range paths {
			opts := ReadOptions{Workers: 2}
			want := readVisiting(t, path, opts, visit, false)
			if !visit {
				want.flows = nil
			}
			assert.Equal(t, want, got[i], "%s, visitors %v", filepath.Base(path), visit)
			r, err := Open(path, ReadOptions{})
			require.NoError(t, err)
			assert.Equal(t, r.Header().Compression != None, piped[i], "%s takes the pipeline", filepath.Base(path))
			require.NoError(t, r.Close())
		}
		assert.Contains(t, got[len(got)-2].err, "block 2 at offset")
	}
}

// TestPipelineCloseEarly closes readers in the middle of their files, the
// next one already opened: the pipeline still stops, and every visitor
// comes back through Release once.
func TestPipelineCloseEarly(t *testing.T) {
	paths := pipelineFiles(t)
	for stop := 0; stop < 6; stop++ {
		made, released := 0, 0
		opts := ReadOptions{
			Visit:   func() BlockVisitor { made++; return &recordingVisitor{slow: true} },
			Release: func(BlockVisitor) { released++ },
		}
		p := NewPipeline(2, opts)
		opts.Pipeline = p
		r1, err := Open(paths[len(paths)-1], opts)
		require.NoError(t, err)
		r2, err := Open(paths[1], opts)
		require.NoError(t, err)
		for j := 0; j < stop && r1.Next(); j++ {
		}
		require.NoError(t, r1.Close())
		assert.False(t, r1.Next())
		if stop%2 == 1 {
			r2.Next()
		}
		require.NoError(t, r2.Close())
		// Every job came back, and the next file reads through the
		// pipeline whole.
		assert.Len(t, p.free, len(p.jobs), "stop after %d: the pipeline's jobs", stop)
		want := readVisiting(t, paths[3], ReadOptions{Workers: 2}, true, false)
		r3, err := Open(paths[3], opts)
		require.NoError(t, err)
		require.True(t, r3.Pipelined())
		var flows int
		for r3.Next() {
			if r3.Kind() == KindBlock {
				flows += len(r3.Block().(*recordingVisitor).flows)
			}
		}
		require.NoError(t, r3.Err())
		assert.Equal(t, len(want.flows), flows, "stop after %d", stop)
		require.NoError(t, r3.Close())
		p.Close()
		assert.Equal(t, made, released, "stop after %d", stop)
	}
}
