package flowfile

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/flowgen"
)

var allCompressions = []Compression{None, LZO, BZ2, LZ4, ZSTD}

// nfdump171Compressions are the methods the real nfdump 1.7.1 reads.
var nfdump171Compressions = []Compression{None, LZO, BZ2, LZ4}

func writeTestFile(t *testing.T, path string, opts WriteOptions, f *testFile) {
	t.Helper()
	w, err := Create(path, opts)
	require.NoError(t, err)
	require.NoError(t, f.write(w))
	require.NoError(t, w.Close())
}

// checkRoundTrip reads path back and compares it with what was written.
func checkRoundTrip(t *testing.T, path string, ident string, f *testFile) fileContent {
	t.Helper()
	c := readAll(t, path)
	require.Equal(t, len(f.flows), len(c.flows))
	for i := range f.flows {
		if !assert.Equal(t, f.flows[i], c.flows[i], "flow %d", i) {
			break
		}
	}
	assert.Equal(t, f.exporters, c.exporters)
	assert.Equal(t, f.samplers, c.samplers)
	assert.Equal(t, f.stats, c.stats)
	assert.Equal(t, ident, c.ident)
	var want Stat
	for i := range f.flows {
		want.AddNfdump(&f.flows[i])
	}
	assert.Equal(t, want, c.stat)
	return c
}

func TestRoundTripAllCompressions(t *testing.T) {
	for _, comp := range allCompressions {
		for _, n := range []int{0, 1, 7, 20000} {
			t.Run(comp.String()+"/n"+strconv.Itoa(n), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(n), uint64(comp)))
				f := randomFile(rng, n)
				path := filepath.Join(t.TempDir(), "nfcapd.test")
				writeTestFile(t, path, WriteOptions{Compression: comp, Ident: "round-trip"}, &f)
				c := checkRoundTrip(t, path, "round-trip", &f)
				if n == 20000 {
					// 20000 random records need several 1 MiB blocks.
					r, err := Open(path, ReadOptions{})
					require.NoError(t, err)
					h := r.Header()
					r.Close()
					assert.Greater(t, h.NumBlocks, uint32(2))
					assert.Equal(t, comp, h.Compression)
				}
				assert.Zero(t, c.skipped)
			})
		}
	}
}

func TestRoundTripLevels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	f := randomFile(rng, 3000)
	for _, spec := range []string{"lz4:1", "lz4:9", "bz2:1", "zstd:1", "zstd:19"} {
		t.Run(spec, func(t *testing.T) {
			comp, level, err := ParseCompression(spec)
			require.NoError(t, err)
			path := filepath.Join(t.TempDir(), "f")
			writeTestFile(t, path, WriteOptions{Compression: comp, Level: level}, &f)
			checkRoundTrip(t, path, "", &f)
		})
	}
}

// TestWrittenFilesAcceptedByNfdump writes files with every compression
// nfdump 1.7.1 knows and checks that it verifies them and prints exactly
// the records written, with all their elements.
func TestWrittenFilesAcceptedByNfdump(t *testing.T) {
	for _, comp := range nfdump171Compressions {
		t.Run(comp.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(comp)))
			f := randomFile(rng, 12000) // several blocks
			path := filepath.Join(t.TempDir(), "nfcapd.202611242140")
			writeTestFile(t, path, WriteOptions{Compression: comp, Ident: "oracle"}, &f)

			verify := runNfdump(t, "-v", path)
			assert.Contains(t, verify, "Version    : 2 - "+map[Compression]string{
				None: "not compressed", LZO: "lzo compressed", BZ2: "bz2 compressed", LZ4: "lz4 compressed"}[comp])
			assert.NotContains(t, strings.ToLower(verify), "error")
			assert.Contains(t, verify, "Appdx blks : 1")

			c := checkRoundTrip(t, path, "oracle", &f)
			checkAgainstNfdump(t, path, c)
		})
	}
}

func TestCloseAsRenamesAtomically(t *testing.T) {
	dir := t.TempDir()
	cur := filepath.Join(dir, CurrentName(os.Getpid()))
	final := filepath.Join(dir, "nfcapd.202611242140")
	w, err := Create(cur, WriteOptions{Compression: LZ4, Ident: "x", Created: time.Unix(1795555907, 0)})
	require.NoError(t, err)
	rec := flow.Record{Proto: 6, InPackets: 1, InBytes: 40}
	require.NoError(t, w.WriteFlow(&rec))
	_, err = os.Stat(final)
	assert.True(t, os.IsNotExist(err), "the final name must not exist before close")
	require.NoError(t, w.CloseAs(final))
	_, err = os.Stat(cur)
	assert.True(t, os.IsNotExist(err), "the current file must be gone after close")
	r, err := Open(final, ReadOptions{})
	require.NoError(t, err)
	defer r.Close()
	assert.Equal(t, int64(1795555907), r.Header().Created)
	require.True(t, r.Next())
	assert.Equal(t, uint64(40), r.Flow().InBytes)
}

// TestRenameWhileWriting: a file moved aside while it is written keeps
// everything, before and after the move, and closes under its final name.
func TestRenameWhileWriting(t *testing.T) {
	dir := t.TempDir()
	cur := filepath.Join(dir, CurrentName(os.Getpid()))
	aside, final := cur+".1", filepath.Join(dir, "nfcapd.202611242140")
	rng := rand.New(rand.NewPCG(3, 4))
	f := randomFile(rng, 20000) // several blocks, some written before the move
	w, err := Create(cur, WriteOptions{Compression: LZ4, Ident: "aside"})
	require.NoError(t, err)
	half := len(f.flows) / 2
	for _, e := range f.exporters {
		require.NoError(t, w.WriteExporter(&e))
	}
	for _, s := range f.samplers {
		require.NoError(t, w.WriteSampler(&s))
	}
	for i := range f.flows[:half] {
		require.NoError(t, w.WriteFlow(&f.flows[i]))
	}
	require.NoError(t, w.Rename(aside))
	assert.Equal(t, aside, w.Name())
	assert.NoFileExists(t, cur)
	for i := range f.flows[half:] {
		require.NoError(t, w.WriteFlow(&f.flows[half+i]))
	}
	require.NoError(t, w.WriteExporterStats(f.stats))
	require.NoError(t, w.CloseAs(final))
	assert.NoFileExists(t, aside)
	checkRoundTrip(t, final, "aside", &f)
}

// TestFlushWritesABlockNow: the records before a Flush reach the file as a
// block of their own while the writer stays open, so a crash (nothing
// closed) keeps them for Recover; Close then counts both blocks.
func TestFlushWritesABlockNow(t *testing.T) {
	path := filepath.Join(t.TempDir(), CurrentName(os.Getpid()))
	rng := rand.New(rand.NewPCG(5, 6))
	f := randomFile(rng, 10)
	w, err := Create(path, WriteOptions{Compression: LZO, Ident: "flush"})
	require.NoError(t, err)
	for i := range f.flows[:7] {
		require.NoError(t, w.WriteFlow(&f.flows[i]))
	}
	assert.Zero(t, w.Queued())
	require.NoError(t, w.Flush())
	assert.Equal(t, uint64(1), w.Queued())
	require.NoError(t, w.Flush(), "nothing to flush")
	assert.Equal(t, uint64(1), w.Queued(), "an empty block is not written")
	// The write goroutine puts the block on disk in a moment.
	var recovered int
	require.Eventually(t, func() bool {
		r, err := Open(path, ReadOptions{Recover: true})
		if err != nil {
			return false
		}
		defer r.Close()
		recovered = 0
		for r.Next() {
			if r.Kind() == KindFlow {
				recovered++
			}
		}
		return recovered == 7
	}, 10*time.Second, 10*time.Millisecond, "recovered %d flows of 7", recovered)
	for i := range f.flows[7:] {
		require.NoError(t, w.WriteFlow(&f.flows[7+i]))
	}
	require.NoError(t, w.Close())
	r, err := Open(path, ReadOptions{})
	require.NoError(t, err)
	assert.Equal(t, uint32(2), r.Header().NumBlocks)
	r.Close()
	f.exporters, f.samplers, f.stats = nil, nil, nil
	checkRoundTrip(t, path, "flush", &f)
}

func TestWriterRejectsBadOptions(t *testing.T) {
	dir := t.TempDir()
	_, err := Create(filepath.Join(dir, "a"), WriteOptions{Ident: strings.Repeat("x", 123)})
	assert.ErrorContains(t, err, "longer than 122")
	_, err = Create(filepath.Join(dir, "b"), WriteOptions{Compression: 9})
	assert.ErrorContains(t, err, "unknown compression")
	_, err = Create(filepath.Join(dir, "c"), WriteOptions{Compression: LZ4, Level: 10})
	assert.ErrorContains(t, err, "out of range")
	_, err = Create(filepath.Join(dir, "no/such/dir/d"), WriteOptions{})
	assert.Error(t, err)
}

func TestParseCompression(t *testing.T) {
	tests := []struct {
		in    string
		comp  Compression
		level int
		err   bool
	}{
		{"lz4", LZ4, 0, false}, {"LZ4:9", LZ4, 9, false}, {"zstd:3", ZSTD, 3, false},
		{"bz2", BZ2, 0, false}, {"bzip2:5", BZ2, 5, false}, {"lzo", LZO, 0, false},
		{"0", None, 0, false}, {"1", LZO, 0, false}, {"2", BZ2, 0, false}, {"3", LZ4, 0, false}, {"4", ZSTD, 0, false},
		{"none", None, 0, false}, {"gzip", 0, 0, true}, {"lz4:x", 0, 0, true}, {"lz4:10", 0, 0, true},
		{"zstd:23", 0, 0, true}, {"lz4:-1", 0, 0, true}, {"", 0, 0, true},
	}
	for _, tt := range tests {
		c, l, err := ParseCompression(tt.in)
		if tt.err {
			assert.Error(t, err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.comp, c, tt.in)
		assert.Equal(t, tt.level, l, tt.in)
	}
}

func TestCopyKeepsEveryRecord(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	f := randomFile(rng, 3000)
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	writeTestFile(t, src, WriteOptions{Compression: BZ2, Ident: "source"}, &f)
	r, err := Open(src, ReadOptions{})
	require.NoError(t, err)
	defer r.Close()
	w, err := Create(dst, WriteOptions{Compression: ZSTD, Ident: "source"})
	require.NoError(t, err)
	require.NoError(t, w.Copy(r))
	require.NoError(t, w.Close())
	checkRoundTrip(t, dst, "source", &f)
}

// TestWriteV3LikeWriteFlow: a flow written as the V3 record appendV3
// makes of it (as a collector's decoder hands it over) lands in the file
// exactly as WriteFlow puts it there, across block boundaries, and WriteV3
// counts nothing into the stat record.
func TestWriteV3LikeWriteFlow(t *testing.T) {
	dir := t.TempDir()
	g := flowgen.New(3, 1_795_555_903_000)
	recs := make([]flow.Record, 30_000) // some three blocks
	for i := range recs {
		g.Next(&recs[i])
	}
	created := time.Unix(1_795_555_903, 0)
	write := func(name string, v3 bool) []byte {
		path := filepath.Join(dir, name)
		w, err := Create(path, WriteOptions{Compression: LZ4, Created: created, Count: CountNfdump})
		require.NoError(t, err)
		var l v3Layout
		var buf []byte
		for i := range recs {
			if v3 {
				buf = appendV3(buf[:0], &recs[i], &l)
				require.NoError(t, w.WriteV3(buf))
			} else {
				require.NoError(t, w.WriteFlow(&recs[i]))
			}
		}
		if v3 {
			assert.Zero(t, w.Stat().Flows, "WriteV3 counts nothing")
		} else {
			assert.EqualValues(t, len(recs), w.Stat().Flows)
		}
		*w.Stat() = Stat{}
		require.NoError(t, w.Close())
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		return b
	}
	want, got := write("flow", false), write("v3", true)
	assert.Greater(t, len(want), 3*HeaderSize)
	assert.True(t, bytes.Equal(want, got), "the files differ")
}

// v3Records gives n generated flows as V3 records (flowgen, seed).
func v3Records(seed uint64, n int) [][]byte {
	g := flowgen.New(seed, 1_795_555_903_000)
	recs := make([][]byte, n)
	var l v3Layout
	for i := range recs {
		var r flow.Record
		g.Next(&r)
		recs[i] = appendV3(nil, &r, &l)
	}
	return recs
}

// commitAll commits recs to w: one by one through CommitV3 (batch 0),
// or placed batch records at a time (placeV3s) and handed to commit,
// which commits them with the checks of its test.
func commitAll(t *testing.T, w *Writer, recs [][]byte, batch int, commit func(ends []uint32)) {
	t.Helper()
	for i := 0; i < len(recs); i += max(batch, 1) {
		if batch == 0 {
			copy(w.V3Space(), recs[i])
			require.NoError(t, w.CommitV3(len(recs[i])))
			continue
		}
		commit(placeV3s(w, recs[i:min(i+batch, len(recs))]))
	}
}

// placeV3s copies recs one after another into w's V3Space, as a
// collector places a datagram's records, and returns their ends for
// CommitV3s.
func placeV3s(w *Writer, recs [][]byte) []uint32 {
	ends := make([]uint32, 0, len(recs))
	room, off := w.V3Space(), 0
	for _, r := range recs {
		off += copy(room[off:], r)
		ends = append(ends, uint32(off))
	}
	return ends
}

// TestCommitV3sLikeOneByOne: records committed in batches (CommitV3s, as
// a collector hands over a v5 datagram's) land in the file exactly as
// committed one by one (CommitV3), the batches that cross the block size
// split where one by one would, and CommitV3s tells how many records of
// each batch stayed in the block filled before (FitsV3s, whether all
// would, before the commit).
func TestCommitV3sLikeOneByOne(t *testing.T) {
	dir := t.TempDir()
	recs := v3Records(5, 40_000) // some four blocks
	created := time.Unix(1_795_555_903, 0)
	write := func(name string, batch int) ([]byte, int) {
		path := filepath.Join(dir, name)
		w, err := Create(path, WriteOptions{Created: created, Count: CountNone})
		require.NoError(t, err)
		splits := 0
		commitAll(t, w, recs, batch, func(ends []uint32) {
			before := w.Queued()
			fits := w.FitsV3s(ends)
			kept, err := w.CommitV3s(ends)
			require.NoError(t, err)
			assert.Equal(t, fits, kept == len(ends), "FitsV3s tells whether CommitV3s keeps the batch in the block")
			if kept < len(ends) {
				splits++
				assert.Equal(t, before+1, w.Queued(), "a split hands the block filled before to the disk")
			} else {
				assert.Equal(t, before, w.Queued())
			}
		})
		require.NoError(t, w.Close())
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		return b, splits
	}
	want, _ := write("one", 0)
	for _, batch := range []int{1, 7, 30} {
		got, splits := write("batch"+strconv.Itoa(batch), batch)
		assert.GreaterOrEqual(t, splits, 3, "batches of %d crossing a block boundary", batch)
		assert.True(t, bytes.Equal(want, got), "batches of %d: the files differ", batch)
	}
}

// TestMoveLastIntoItsOwnBlock: when the block a split begins is the
// one it left, come back from the disk (the writer had no other free),
// the records that move go down within its buffer intact: the file is
// byte for byte that of records committed one by one with every block
// free, with and without compression.
func TestMoveLastIntoItsOwnBlock(t *testing.T) {
	dir := t.TempDir()
	recs := v3Records(7, 40_000) // some four blocks
	created := time.Unix(1_795_555_903, 0)
	for _, comp := range []Compression{None, LZ4} {
		write := func(name string, batch int) []byte {
			path := filepath.Join(dir, name)
			w, err := Create(path, WriteOptions{Compression: comp, Workers: 1, Created: created, Count: CountNone})
			require.NoError(t, err)
			var held []*writeJob
			if batch > 0 {
				// Every block but the one being filled out of reach.
				for len(w.free) > 0 {
					held = append(held, <-w.free)
				}
			}
			splits := 0
			commitAll(t, w, recs, batch, func(ends []uint32) {
				old := w.cur
				kept, err := w.CommitV3s(ends)
				require.NoError(t, err)
				if kept < len(ends) {
					splits++
					require.Same(t, old, w.cur, "the block filled next is the one that left")
				}
			})
			for _, j := range held {
				w.free <- j
			}
			if batch > 0 {
				assert.GreaterOrEqual(t, splits, 3)
			}
			require.NoError(t, w.Close())
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			return b
		}
		want := write("one"+comp.String(), 0)
		got := write("own"+comp.String(), 30)
		assert.True(t, bytes.Equal(want, got), "%s: the files differ", comp)
	}
}

// stallingDst holds every write but the header's (at offset 0) until
// released, and says when one began.
type stallingDst struct {
	began   chan struct{}
	release chan struct{}
}

func (d *stallingDst) WriteAt(p []byte, off int64) (int, error) {
	if off == 0 {
		return len(p), nil
	}
	select {
	case d.began <- struct{}{}:
	default:
	}
	<-d.release
	return len(p), nil
}

// TestWriterReadyWhileWriting: while the disk takes one block, the writer
// still has a free block for the next (Ready), with and without
// compression, so that a collector's receive loop goes on decoding
// instead of handing its datagrams to its worker for every block
// written.
func TestWriterReadyWhileWriting(t *testing.T) {
	for _, comp := range []Compression{None, LZ4} {
		dst := &stallingDst{began: make(chan struct{}, 1), release: make(chan struct{})}
		w, err := NewWriter(dst, "stall", WriteOptions{Compression: comp, Workers: 1, Count: CountNone})
		require.NoError(t, err)
		r := flow.Record{SrcAddr: netip.MustParseAddr("10.0.0.1"), DstAddr: netip.MustParseAddr("10.0.0.2"), Proto: 6, InPackets: 1, InBytes: 40}
		for w.Queued() < 1 {
			require.NoError(t, w.WriteFlow(&r))
		}
		select {
		case <-dst.began:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the first block was not written", comp)
		}
		assert.True(t, w.Ready(), "%s: a free block while the first is written", comp)
		close(dst.release)
		require.NoError(t, w.Close())
	}
}
