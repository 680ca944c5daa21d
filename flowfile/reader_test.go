package flowfile

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/testutil"
)

// blockOffsets walks the data blocks of a file and returns where each
// starts, so tests can damage a chosen block.
func blockOffsets(t *testing.T, data []byte) []int64 {
	t.Helper()
	var h Header
	h.unmarshal(data)
	off := int64(HeaderSize)
	var offs []int64
	for i := 0; i < int(h.NumBlocks); i++ {
		offs = append(offs, off)
		var bh blockHeader
		bh.unmarshal(data[off:])
		off += blockHeaderSize + int64(bh.Size)
	}
	return offs
}

// countUntilError reads a file and returns the flows delivered and the
// error that ended reading.
func countUntilError(t *testing.T, path string) (int, error) {
	t.Helper()
	r, err := Open(path, ReadOptions{})
	if err != nil {
		return 0, err
	}
	defer r.Close()
	n := 0
	for r.Next() {
		if r.Kind() == KindFlow {
			n++
		}
	}
	checkTally(t, path)
	return n, r.Err()
}

// readResult is what a read delivered, compared between the modes of the
// reader.
type readResult struct {
	tally   flow.Totals
	kinds   []Kind // the records other than flows, in order
	err     string
	skipped Skipped
	bytes   uint64
}

// readWith reads path with opts; without Tally it sums the flows delivered
// itself.
func readWith(t *testing.T, path string, opts ReadOptions) readResult {
	t.Helper()
	r, err := Open(path, opts)
	require.NoError(t, err)
	defer r.Close()
	var res readResult
	for r.Next() {
		if r.Kind() == KindFlow {
			require.False(t, opts.Tally, "a tallying reader hands out no flows")
			res.tally.Add(r.Flow())
			continue
		}
		res.kinds = append(res.kinds, r.Kind())
	}
	if opts.Tally {
		res.tally = r.Tally()
	}
	if r.Err() != nil {
		res.err = r.Err().Error()
	}
	res.skipped, res.bytes = r.Skipped(), r.BytesRead()
	return res
}

// checkTally reads path with ReadOptions.Tally, with one and two workers,
// and with only the summary's elements decoded, and checks that each gives
// what a plain read gives: the same sums, other records, error and counts;
// then the same for ReadOptions.Visit (checkVisit).
func checkTally(t *testing.T, path string) {
	t.Helper()
	want := readWith(t, path, ReadOptions{})
	for _, workers := range []int{1, 2} {
		assert.Equal(t, want, readWith(t, path, ReadOptions{Workers: workers, Tally: true}), "tally, %d workers", workers)
	}
	assert.Equal(t, want, readWith(t, path, ReadOptions{Elements: flow.TotalsElements}), "summary elements only")
	checkVisit(t, path, ReadOptions{})
}

func TestTallyLikeReading(t *testing.T) {
	root := filepath.Join(testutil.RepoRoot(), "..", "shared", "testdata", "nfcapd-1.7.1")
	for _, name := range []string{"sample-nfcapd-uncompressed", "sample-nfcapd-lz4", "sample-nfcapd-lzo",
		"sample-nfcapd-bz2", "sample-nfcapd-sampled", "flows/2026/11/24/nfcapd.202611242140"} {
		p := filepath.Join(root, name)
		if _, err := os.Stat(p); err == nil {
			checkTally(t, p)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	f := randomFile(rng, 30000)
	for _, comp := range allCompressions {
		p := filepath.Join(t.TempDir(), "f")
		writeTestFile(t, p, WriteOptions{Compression: comp}, &f)
		checkTally(t, p)
	}
}

// TestDecodeOverPreviousRecord decodes records with changing elements one
// over the other, as the reader does, and checks each against a decode into
// a zero Record.
func TestDecodeOverPreviousRecord(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	f := randomFile(rng, 5000)
	for _, want := range []flow.Elements{allElements, flow.TotalsElements, 1<<flow.ElemIPv6 | 1<<flow.ElemMisc} {
		var over flow.Record
		for i := range f.flows {
			b := appendV3(nil, &f.flows[i], new(v3Layout))
			_, err := decodeV3(b, &over, want)
			require.NoError(t, err)
			var fresh flow.Record
			_, err = decodeV3(b, &fresh, want)
			require.NoError(t, err)
			require.Equal(t, fresh, over, "record %d", i)
		}
		// A damaged record leaves the zero Record.
		_, err := decodeV3([]byte{11, 0, 12, 0, 1, 0}, &over, want)
		require.Error(t, err)
		require.Equal(t, flow.Record{}, over)
	}
}

// flowsPerBlock counts the flows of each data block of a good file.
func flowsPerBlock(t *testing.T, data []byte) []int {
	t.Helper()
	var counts []int
	for _, off := range blockOffsets(t, data) {
		var bh blockHeader
		bh.unmarshal(data[off:])
		counts = append(counts, int(bh.NumRecords))
	}
	return counts
}

func TestDamagedFiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	f := randomFile(rng, 20000)
	f.exporters, f.samplers, f.stats = nil, nil, nil // only flows, so records = flows
	for _, comp := range allCompressions {
		t.Run(comp.String(), func(t *testing.T) {
			dir := t.TempDir()
			good := filepath.Join(dir, "good")
			writeTestFile(t, good, WriteOptions{Compression: comp}, &f)
			data, err := os.ReadFile(good)
			require.NoError(t, err)
			offs := blockOffsets(t, data)
			require.GreaterOrEqual(t, len(offs), 3)
			perBlock := flowsPerBlock(t, data)
			before2 := perBlock[0] + perBlock[1]

			damage := func(name string, edit func(b []byte) []byte) string {
				b := edit(bytes.Clone(data))
				p := filepath.Join(dir, name)
				require.NoError(t, os.WriteFile(p, b, 0o644))
				return p
			}
			tests := []struct {
				name string
				path string
				want string // part of the error
			}{
				{"truncated in block 2", damage("truncated", func(b []byte) []byte { return b[:offs[2]+20] }), "truncated"},
				{"truncated in block 2 header", damage("truncated-hdr", func(b []byte) []byte { return b[:offs[2]+5] }), "block header missing"},
				{"absurd length", damage("absurd", func(b []byte) []byte {
					le.PutUint32(b[offs[2]+4:], 0xffffffff)
					return b
				}), "exceeds"},
				{"block larger than 5 MiB", damage("big", func(b []byte) []byte {
					le.PutUint32(b[offs[2]+4:], maxBlockSize+1)
					return b
				}), "exceeds"},
				{"zero records", damage("zero", func(b []byte) []byte {
					le.PutUint32(b[offs[2]:], 0)
					return b
				}), "no records"},
				{"too many records", damage("many", func(b []byte) []byte {
					le.PutUint32(b[offs[2]:], 0x7fffffff)
					return b
				}), "runs past the block"},
				{"corrupt payload", damage("corrupt", func(b []byte) []byte {
					for i := offs[2] + blockHeaderSize; i < offs[3]; i += 7 {
						b[i] ^= 0x5a
					}
					return b
				}), "block 2 at offset"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					n, err := countUntilError(t, tt.path)
					require.Error(t, err)
					assert.ErrorIs(t, err, ErrCorrupt)
					assert.Contains(t, err.Error(), tt.path, "the error names the file")
					assert.Contains(t, err.Error(), "offset", "the error names the offset")
					assert.Contains(t, err.Error(), tt.want)
					// Everything before the damaged block is delivered.
					assert.GreaterOrEqual(t, n, before2)
					assert.Less(t, n, len(f.flows))
				})
			}
		})
	}
}

func TestBadHeaders(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	rng := rand.New(rand.NewPCG(5, 6))
	f := randomFile(rng, 10)
	writeTestFile(t, good, WriteOptions{Compression: LZ4, Ident: "x"}, &f)
	data, err := os.ReadFile(good)
	require.NoError(t, err)
	tests := []struct {
		name string
		edit func([]byte) []byte
		want string
	}{
		{"empty file", func(b []byte) []byte { return nil }, "too short"},
		{"short file", func(b []byte) []byte { return b[:10] }, "too short"},
		{"wrong magic", func(b []byte) []byte { b[0], b[1] = b[1], b[0]; return b }, "bad magic: 0xCA5"},
		{"text file", func(b []byte) []byte { return []byte("root:x:0:0:root:/root:/bin/bash\n" + string(make([]byte, 40))) }, "bad magic: 0x6F72"},
		{"layout 1", func(b []byte) []byte { b[2] = 1; return b }, "layout version 1"},
		{"unknown compression", func(b []byte) []byte { b[16] = 7; return b }, "Unknown compression: 7"},
		{"encrypted", func(b []byte) []byte { b[17] = 1; return b }, "Unknown encryption: 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, "bad")
			require.NoError(t, os.WriteFile(p, tt.edit(bytes.Clone(data)), 0o644))
			_, err := Open(p, ReadOptions{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), p)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestDamagedAppendixKeepsFlows(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	rng := rand.New(rand.NewPCG(7, 8))
	f := randomFile(rng, 50)
	writeTestFile(t, p, WriteOptions{Compression: LZO, Ident: "lost"}, &f)
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	var h Header
	h.unmarshal(data)
	// Cut the file inside the appendix: flows stay readable, ident is lost.
	require.NoError(t, os.WriteFile(p, data[:h.OffAppendix+14], 0o644))
	r, err := Open(p, ReadOptions{})
	require.NoError(t, err)
	defer r.Close()
	require.Len(t, r.Warnings(), 1)
	assert.Contains(t, r.Warnings()[0].Error(), "appendix")
	_, ok := r.Ident()
	assert.False(t, ok)
	n := 0
	for r.Next() {
		if r.Kind() == KindFlow {
			n++
		}
	}
	require.NoError(t, r.Err())
	assert.Equal(t, 50, n)
}

// buildFile assembles a file from raw block payloads (uncompressed), with
// no appendix, for records this package never writes itself.
func buildFile(blocks ...[]byte) []byte {
	return buildTypedFile(blockTypeV3, blocks...)
}

func buildTypedFile(typ uint16, blocks ...[]byte) []byte {
	h := Header{Magic: Magic, Version: LayoutVersion2, NFDVersion: NFDVersion, NumBlocks: uint32(len(blocks))}
	out := make([]byte, HeaderSize)
	h.marshal(out)
	for _, p := range blocks {
		n := uint32(0)
		for pos := 0; pos+4 <= len(p); pos += int(le.Uint16(p[pos+2:])) {
			n++
			if le.Uint16(p[pos+2:]) == 0 {
				break
			}
		}
		var bh [blockHeaderSize]byte
		(&blockHeader{NumRecords: n, Size: uint32(len(p)), Type: typ}).marshal(bh[:])
		out = append(out, bh[:]...)
		out = append(out, p...)
	}
	return out
}

func TestUnmodeledContentIsSkippedAndCounted(t *testing.T) {
	rec := flow.Record{Proto: 6, SrcAddr: netip.MustParseAddr("10.0.0.1"), DstAddr: netip.MustParseAddr("10.0.0.2"), InBytes: 99}
	v3 := appendV3(nil, &rec, new(v3Layout))
	// Element 18 (EXsamplerInfo, 16 bytes) and 33 (EXobservation, 20
	// bytes), which this package does not model.
	extra := []byte{18, 0, 16, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 4, 0,
		33, 0, 20, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0, 0, 0, 0, 0}
	v3 = append(v3, extra...)
	le.PutUint16(v3[2:], uint16(len(v3)))
	le.PutUint16(v3[4:], le.Uint16(v3[4:])+2)
	// An IfNameRecord (type 13) the reader does not hand out.
	ifname := []byte{13, 0, 12, 0, 1, 0, 4, 0, 'e', 't', 'h', '0'}
	payload := append(append([]byte{}, ifname...), v3...)

	p := filepath.Join(t.TempDir(), "f")
	data := append(buildFile(payload), buildTypedFile(4, ifname)[HeaderSize:]...)
	le.PutUint32(data[36:], 2)
	require.NoError(t, os.WriteFile(p, data, 0o644))
	r, err := Open(p, ReadOptions{})
	require.NoError(t, err)
	defer r.Close()
	require.True(t, r.Next())
	require.Equal(t, KindFlow, r.Kind())
	assert.Equal(t, uint64(99), r.Flow().InBytes)
	assert.False(t, r.Next())
	require.NoError(t, r.Err())
	assert.Equal(t, Skipped{Elements: 2, Records: 1, Blocks: 1}, r.Skipped())
}

func TestBadRecords(t *testing.T) {
	rec := flow.Record{Proto: 17}
	good := appendV3(nil, &rec, new(v3Layout))
	tests := []struct {
		name string
		edit func([]byte) []byte
		want string
	}{
		{"record size 0", func(b []byte) []byte { le.PutUint16(b[2:], 0); return b }, "inconsistent size 0"},
		{"record size past block", func(b []byte) []byte { le.PutUint16(b[2:], 9999); return b }, "inconsistent size"},
		{"element length 0", func(b []byte) []byte { le.PutUint16(b[14:], 0); return b }, "bad length 0"},
		{"element length wrong", func(b []byte) []byte { le.PutUint16(b[14:], 12); return b }, "length 12, want 52"},
		{"too many elements", func(b []byte) []byte { le.PutUint16(b[4:], 39); return b }, "39 elements"},
		{"sum of elements short", func(b []byte) []byte { le.PutUint16(b[4:], 1); return b }, "not equal to the sum"},
		{"exporter record size", func(b []byte) []byte {
			return []byte{7, 0, 8, 0, 1, 0, 0, 0}
		}, "corrupt exporter record"},
		{"exporter stat count", func(b []byte) []byte {
			return []byte{8, 0, 8, 0, 0, 0, 0, 0}
		}, "corrupt exporter stat"},
		{"sampler size", func(b []byte) []byte {
			return []byte{15, 0, 8, 0, 1, 0, 0, 0}
		}, "corrupt sampler"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "f")
			payload := tt.edit(bytes.Clone(good))
			data := buildFile(append(bytes.Clone(good), payload...))
			// NumRecords 2: the good record and the damaged one.
			le.PutUint32(data[HeaderSize:], 2)
			require.NoError(t, os.WriteFile(p, data, 0o644))
			n, err := countUntilError(t, p)
			require.Error(t, err)
			assert.Contains(t, err.Error(), p)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, 1, n, "the good record before the damage is delivered")
		})
	}
}

func TestCloseEarlyStopsReading(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	f := randomFile(rng, 30000)
	p := filepath.Join(t.TempDir(), "f")
	writeTestFile(t, p, WriteOptions{Compression: LZ4}, &f)
	for i := 0; i < 20; i++ {
		r, err := Open(p, ReadOptions{Workers: 2})
		require.NoError(t, err)
		for j := 0; j < i*100 && r.Next(); j++ {
		}
		require.NoError(t, r.Close())
		assert.False(t, r.Next())
	}
}

// FuzzReader feeds arbitrary bytes to the reader: it must never panic,
// hang or allocate without bound, whatever the file says.
func FuzzReader(f *testing.F) {
	root := filepath.Join(testutil.RepoRoot(), "..", "shared", "testdata", "nfcapd-1.7.1")
	for _, name := range []string{"sample-nfcapd-uncompressed", "sample-nfcapd-lz4", "sample-nfcapd-lzo",
		"sample-nfcapd-bz2", "sample-nfcapd-sampled", "flows/2026/11/24/nfcapd.202611242140"} {
		if data, err := os.ReadFile(filepath.Join(root, name)); err == nil {
			f.Add(data)
		}
	}
	rng := rand.New(rand.NewPCG(1, 1))
	tf := randomFile(rng, 20)
	for _, comp := range allCompressions {
		var buf memFile
		w, err := NewWriter(&buf, "seed", WriteOptions{Compression: comp, Ident: "seed"})
		if err != nil {
			f.Fatal(err)
		}
		if err := tf.write(w); err != nil {
			f.Fatal(err)
		}
		if err := w.Close(); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), int64(len(data)), "fuzz", ReadOptions{Workers: 1})
		if err != nil {
			return
		}
		defer r.Close()
		for r.Next() {
			switch r.Kind() {
			case KindFlow:
				_ = r.Flow().NeededElements()
			case KindExporterStat:
				_ = len(r.ExporterStats())
			}
		}
	})
}

// memFile is an in-memory io.WriterAt.
type memFile struct{ b []byte }

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if end := int(off) + len(p); end > len(m.b) {
		m.b = append(m.b, make([]byte, end-len(m.b))...)
	}
	return copy(m.b[off:], p), nil
}

// crashedFile writes a complete LZ4 file of random flows (good) and what a
// collector that died while writing its block 2 leaves behind (crashed):
// the provisional header (no blocks, no appendix), two whole blocks and a
// part of the third. It returns the flows written and the flows per block.
func crashedFile(t *testing.T, seed uint64, pid int) (good, crashed string, f testFile, perBlock []int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed+1))
	f = randomFile(rng, 20000)
	f.exporters, f.samplers, f.stats = nil, nil, nil
	dir := t.TempDir()
	good = filepath.Join(dir, "good")
	writeTestFile(t, good, WriteOptions{Compression: LZ4}, &f)
	data, err := os.ReadFile(good)
	require.NoError(t, err)
	offs := blockOffsets(t, data)
	perBlock = flowsPerBlock(t, data)
	cut := bytes.Clone(data[:offs[2]+100])
	le.PutUint32(cut[36:], 0) // NumBlocks
	le.PutUint16(cut[18:], 0) // appendixBlocks
	le.PutUint64(cut[24:], 0) // offAppendix
	crashed = filepath.Join(dir, CurrentName(pid))
	require.NoError(t, os.WriteFile(crashed, cut, 0o644))
	return good, crashed, f, perBlock
}

func TestRecoverCrashedCollectorFile(t *testing.T) {
	good, p, f, perBlock := crashedFile(t, 13, 4242)
	n, err := countUntilError(t, p)
	require.NoError(t, err)
	assert.Zero(t, n, "without Recover the header's zero block count is believed, as nfdump does")

	r, err := Open(p, ReadOptions{Recover: true})
	require.NoError(t, err)
	defer r.Close()
	n = 0
	for r.Next() {
		n++
	}
	require.NoError(t, r.Err())
	assert.Equal(t, perBlock[0]+perBlock[1], n)

	// A complete file read with Recover stops at the appendix.
	n, err = func() (int, error) {
		r, err := Open(good, ReadOptions{Recover: true})
		require.NoError(t, err)
		defer r.Close()
		n := 0
		for r.Next() {
			n++
		}
		return n, r.Err()
	}()
	require.NoError(t, err)
	assert.Equal(t, len(f.flows), n)
}

// countingReaderAt records the offsets read.
type countingReaderAt struct {
	r    *bytes.Reader
	offs []int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.offs = append(c.offs, off)
	return c.r.ReadAt(p, off)
}

func TestHeaderAndStatReadNoBlock(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	f := randomFile(rng, 20000)
	var buf memFile
	w, err := NewWriter(&buf, "mem", WriteOptions{Compression: LZ4, Ident: "lazy"})
	require.NoError(t, err)
	require.NoError(t, f.write(w))
	require.NoError(t, w.Close())

	src := &countingReaderAt{r: bytes.NewReader(buf.b)}
	r, err := NewReader(src, int64(len(buf.b)), "mem", ReadOptions{})
	require.NoError(t, err)
	ident, _ := r.Ident()
	assert.Equal(t, "lazy", ident)
	var want Stat
	for i := range f.flows {
		want.AddNfdump(&f.flows[i])
	}
	assert.Equal(t, want, r.Stat())
	require.NoError(t, r.Close())
	h := r.Header()
	for _, off := range src.offs {
		assert.True(t, off == 0 || off >= h.OffAppendix, "read at %d, before the appendix at %d", off, h.OffAppendix)
	}
}

func TestUncounted(t *testing.T) {
	good, crashed, _, _ := crashedFile(t, 33, 4245)
	data, err := os.ReadFile(good)
	require.NoError(t, err)
	offs := blockOffsets(t, data)
	require.GreaterOrEqual(t, len(offs), 3)
	var h Header
	h.unmarshal(data)
	n := uint32(len(offs))
	dir := t.TempDir()
	// unclosed is what a collector leaves when it stops after n whole
	// blocks and extra bytes of the next one: the provisional header.
	unclosed := func(name string, counted uint32, upTo int64) string {
		b := bytes.Clone(data[:upTo])
		le.PutUint32(b[36:], counted)
		le.PutUint16(b[18:], 0)
		le.PutUint64(b[24:], 0)
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	for _, tc := range []struct {
		name   string
		path   string
		blocks int
		cut    bool
	}{
		{"closed", good, 0, false},
		{"crashed in block 2", crashed, 2, true},
		{"header only", unclosed("header", 0, HeaderSize), 0, false},
		{"two whole blocks", unclosed("whole", 0, offs[2]), 2, false},
		{"one counted", unclosed("one", 1, h.OffAppendix), len(offs) - 1, false},
		{"all counted, cut after", unclosed("cut", n, h.OffAppendix+5), 0, true},
		{"cut in a counted block", unclosed("counted-cut", n, offs[2]+50), 0, false},
	} {
		r, err := Open(tc.path, ReadOptions{})
		require.NoError(t, err, tc.name)
		blocks, cut := r.Uncounted()
		assert.Equal(t, tc.blocks, blocks, tc.name)
		assert.Equal(t, tc.cut, cut, tc.name)
		require.NoError(t, r.Close())
	}
	assert.True(t, IsCurrentName("/var/cache/nfdump/nfcapd.current.4242"))
	assert.True(t, IsCurrentName(CurrentName(7)))
	assert.False(t, IsCurrentName("nfcapd.202611242140"))
}

// TestReadersShareBuffers reads the files of a set one after the other, as
// godump does, in each of the ways the workers keep block buffers (their
// own when they only count, the jobs' otherwise), and checks that the
// readers after the first reuse the first one's buffers instead of making
// new ones: each is a huge page of resident memory. The buffers are kept
// until the garbage collector runs, which the test holds off.
func TestReadersShareBuffers(t *testing.T) {
	runtime.GC() // no collection under way while the test runs
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	rng := rand.New(rand.NewPCG(9, 10))
	f := randomFile(rng, 20000)
	dir := t.TempDir()
	var paths []string
	for i := range 4 {
		p := filepath.Join(dir, "f"+strconv.Itoa(i))
		writeTestFile(t, p, WriteOptions{Compression: LZ4}, &f)
		paths = append(paths, p)
	}
	for _, opts := range []ReadOptions{{Workers: 2, Tally: true}, {Workers: 2}, {Workers: 1, Tally: true}} {
		want := readWith(t, paths[0], opts)
		made := bufsMade.Load()
		for _, p := range paths[1:] {
			assert.Equal(t, want, readWith(t, p, opts))
		}
		assert.Zero(t, bufsMade.Load()-made, "buffers made after the first file, %+v", opts)
	}
}
