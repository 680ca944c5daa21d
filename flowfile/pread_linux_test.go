package flowfile

import (
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestCachedFileReadsLikeFile reads a file through cachedFile at many
// offsets and lengths, with the file in the page cache and evicted from
// it (so that preadv2 with RWF_NOWAIT refuses and the ordinary read takes
// over), and across and past its end, and checks each read gives what
// os.File gives: the same bytes, count and io.EOF.
func TestCachedFileReadsLikeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data")
	rng := rand.New(rand.NewPCG(21, 22))
	data := make([]byte, 3<<20+123)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	require.NoError(t, os.WriteFile(path, data, 0o644))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	cf, ok := newCachedFile(f).(*cachedFile)
	require.True(t, ok, "a regular file is read through cachedFile")
	for _, evict := range []bool{false, true} {
		if evict {
			// Written back first, so that the pages can go.
			require.NoError(t, unix.Fdatasync(int(cf.fd)))
			require.NoError(t, unix.Fadvise(int(cf.fd), 0, 0, unix.FADV_DONTNEED))
		}
		for i := 0; i < 200; i++ {
			off := rng.Int64N(int64(len(data)) + 100)
			n := rng.IntN(600 << 10)
			got := make([]byte, n)
			want := make([]byte, n)
			gn, gerr := cf.ReadAt(got, off)
			wn, werr := f.ReadAt(want, off)
			require.Equal(t, wn, gn, "read %d at %d (evicted %v)", n, off, evict)
			require.Equal(t, werr, gerr, "read %d at %d (evicted %v)", n, off, evict)
			require.Equal(t, want[:wn], got[:gn])
		}
	}
	// Reading the last bytes exactly ends without io.EOF, as os.File does.
	b := make([]byte, 10)
	n, err := cf.ReadAt(b, int64(len(data)-10))
	require.Equal(t, 10, n)
	require.NoError(t, err)
	n, err = cf.ReadAt(b, int64(len(data)))
	require.Zero(t, n)
	require.ErrorIs(t, err, io.EOF)
}

// TestCachedFileTruncated reads a flow file that is cut short after the
// reader opened it: the reader reports the truncated block as it does for
// a file that was short from the start.
func TestCachedFileTruncated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nfcapd.cut")
	writeGenerated(t, path, LZ4, 50_000)
	r, err := Open(path, ReadOptions{Tally: true})
	require.NoError(t, err)
	defer r.Close()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(path, fi.Size()/2))
	for r.Next() {
	}
	require.Error(t, r.Err())
	require.Contains(t, r.Err().Error(), "truncated")
}

// TestMappedFileCutWhileRead reads LZ4 and LZO files, whose blocks the
// workers decompress from the file's mapping, cut short after Open mapped
// them: at a page boundary inside block 1's payload, so that the
// decompressor reads good data up to it and faults (SIGBUS) on the next
// page, and one byte into block 1's last page, whose rest reads as zeros.
// Handing the flows out, tallying them, and through a Pipeline, the reader
// delivers block 0's flows and then an error that names the file and the
// block, and the program goes on.
func TestMappedFileCutWhileRead(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	f := randomFile(rng, 30000)
	f.exporters, f.samplers, f.stats = nil, nil, nil // only flows, so records = flows
	page := int64(os.Getpagesize())
	for _, comp := range []Compression{LZ4, LZO} {
		dir := t.TempDir()
		good := filepath.Join(dir, "good")
		writeTestFile(t, good, WriteOptions{Compression: comp}, &f)
		data, err := os.ReadFile(good)
		require.NoError(t, err)
		offs := blockOffsets(t, data)
		require.GreaterOrEqual(t, len(offs), 3)
		perBlock := flowsPerBlock(t, data)
		// The first page boundary a page into block 1's payload.
		atPage := (offs[1]+blockHeaderSize+page-1)/page*page + page
		require.Less(t, atPage+page, offs[2], "block 1 spans pages past the cut")
		for _, cut := range []struct {
			name  string
			at    int64
			fault bool
		}{{"at a page boundary", atPage, true}, {"inside a page", atPage + 1, false}} {
			for _, mode := range []string{"flows", "tally", "pipeline"} {
				t.Run(comp.String()+"/"+cut.name+"/"+mode, func(t *testing.T) {
					path := filepath.Join(dir, "cut")
					require.NoError(t, os.WriteFile(path, data, 0o644))
					opts := ReadOptions{Tally: mode != "flows"}
					var held []*readJob
					if mode == "pipeline" {
						p := NewPipeline(2, opts)
						defer p.Close()
						opts.Pipeline = p
						// The reader starts reading as it opens: its
						// producer waits for a job until the file is cut.
						for len(p.free) > 0 {
							held = append(held, <-p.free)
						}
						defer func() {
							for _, j := range held {
								p.free <- j
							}
						}()
					}
					faults := mapFaults.Load()
					r, err := Open(path, opts)
					require.NoError(t, err)
					defer r.Close()
					require.NotNil(t, r.mapped, "the file is mapped")
					require.Equal(t, mode == "pipeline", r.Pipelined())
					require.NoError(t, os.Truncate(path, cut.at))
					for _, j := range held {
						opts.Pipeline.free <- j
					}
					held = nil
					n := 0
					for r.Next() {
						if r.Kind() == KindFlow {
							n++
						}
					}
					err = r.Err()
					require.Error(t, err)
					require.ErrorIs(t, err, ErrCorrupt)
					require.Contains(t, err.Error(), path)
					require.Contains(t, err.Error(), "block 1 at offset")
					require.Contains(t, err.Error(), "truncated")
					if mode == "flows" {
						require.Equal(t, perBlock[0], n)
					} else {
						require.Equal(t, uint64(perBlock[0]), r.Processed())
					}
					if cut.fault {
						require.Greater(t, mapFaults.Load(), faults, "the decompressor faulted")
					}
				})
			}
		}
	}
}

// TestMappedFileReadsLikeRead reads files through Open, which maps the
// LZ4 and LZO ones, and through NewReader on the same bytes, which reads
// them, and compares the flows; None and ZSTD stand for the compressions
// Open reads (BZ2's writer took minutes under the race detector). The
// file is evicted from the page cache first, so that the mapped blocks
// come from the disk (willNeed).
func TestMappedFileReadsLikeRead(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	f := randomFile(rng, 25000)
	for _, comp := range []Compression{None, LZO, LZ4, ZSTD} {
		t.Run(comp.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			writeTestFile(t, path, WriteOptions{Compression: comp}, &f)
			evict(t, path)
			mapped, err := Open(path, ReadOptions{})
			require.NoError(t, err)
			defer mapped.Close()
			require.Equal(t, mapsBlocks(comp), mapped.mapped != nil)
			file, err := os.Open(path)
			require.NoError(t, err)
			defer file.Close()
			fi, err := file.Stat()
			require.NoError(t, err)
			read, err := NewReader(file, fi.Size(), path, ReadOptions{})
			require.NoError(t, err)
			defer read.Close()
			require.Nil(t, read.mapped)
			n := 0
			for mapped.Next() {
				require.True(t, read.Next())
				require.Equal(t, read.Kind(), mapped.Kind())
				if mapped.Kind() == KindFlow {
					// Compared with == first: require.Equal on every
					// flow took minutes under the race detector.
					if *read.Flow() != *mapped.Flow() {
						require.Equal(t, *read.Flow(), *mapped.Flow(), "flow %d", n)
					}
					n++
				}
			}
			require.NoError(t, mapped.Err())
			require.False(t, read.Next())
			require.NoError(t, read.Err())
			require.Equal(t, len(f.flows), n)
			require.Equal(t, read.Tally(), mapped.Tally())
			require.Equal(t, read.BytesRead(), mapped.BytesRead())
		})
	}
}

// evict writes path back and drops it from the page cache.
func evict(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, unix.Fdatasync(int(f.Fd())))
	require.NoError(t, unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED))
}

// TestMappedBlocksLeaveNoResidentMemory: a block decompressed from a
// file's mapping leaves its pages out of the process's resident memory
// (doneWith), so that reading a file of many megabytes costs godump a few
// pages, not the file: with the pages kept, -o null over the filter
// bench's archive peaked at 52 MB against nfdump's 11 MB.
func TestMappedBlocksLeaveNoResidentMemory(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	f := randomFile(rng, 60000)
	path := filepath.Join(t.TempDir(), "f")
	writeTestFile(t, path, WriteOptions{Compression: LZ4}, &f)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	blocks := len(blockOffsets(t, data))
	// A block's fault maps the pages of the kernel's fault-around window
	// about it (fault_around_bytes, 64 KiB by default), which may hold
	// the end of the block before it and the start of the one after:
	// doneWith drops whole windows, so none stays behind, whatever the
	// order the workers finish in. Two windows leave room for a kernel
	// that maps a little more. Dropping only each block's own pages left
	// 388 KB here, up to a window a block.
	bound := 2 * faultAround
	require.Greater(t, blocks, 8, "blocks enough to leave more than the bound")
	require.Greater(t, len(data), 4*bound, "the file is larger than what may stay")
	for _, tally := range []bool{false, true} {
		r, err := Open(path, ReadOptions{Tally: tally})
		require.NoError(t, err)
		require.NotNil(t, r.mapped, "the file is mapped")
		n := 0
		for r.Next() {
			n++
		}
		require.NoError(t, r.Err())
		require.Positive(t, n)
		rss := mappingRSS(t, unsafe.Pointer(unsafe.SliceData(r.mapped)))
		assert.LessOrEqual(t, rss, bound, "tally %v: resident bytes of the %d-byte file's mapping", tally, len(data))
		require.NoError(t, r.Close())
	}
}

// TestDropperOutOfOrder: a dropper gives back the pages of blocks done
// out of order at once, holds those done in order back only up to
// dropBatch, and leaves nothing of the file resident once every block is
// done, whatever the order.
func TestDropperOutOfOrder(t *testing.T) {
	const blocks, size = 64, 100 << 10
	path := filepath.Join(t.TempDir(), "blocks")
	data := make([]byte, blocks*size)
	for i := range data {
		data[i] = byte(i)
	}
	require.NoError(t, os.WriteFile(path, data, 0o644))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	mapped := mapFile(f, blocks*size)
	require.NotNil(t, mapped)
	defer unmapFile(mapped)
	for i := 0; i < len(mapped); i += os.Getpagesize() {
		require.Equal(t, byte(i), mapped[i]) // faults every page in
	}
	base := unsafe.Pointer(unsafe.SliceData(mapped))
	require.Greater(t, mappingRSS(t, base), blocks*size/2, "the pages were faulted in")
	job := func(i int) *readJob {
		j := &readJob{offset: int64(i * size), seq: uint64(i)}
		j.hdr.Size = size - blockHeaderSize
		return j
	}
	d := dropper{last: blocks * size}
	// Blocks 1 to 9 before block 0: each dropped as it is done.
	for i := 1; i < 10; i++ {
		d.done(mapped, job(i))
	}
	rss := mappingRSS(t, base)
	assert.LessOrEqual(t, rss, blocks*size-9*size+2*faultAround, "blocks done ahead of block 0 stay resident")
	// Block 0, then the rest in pairs swapped: what is held back in
	// order never exceeds a batch and a block.
	d.done(mapped, job(0))
	for i := 10; i < blocks; i += 2 {
		d.done(mapped, job(i+1))
		d.done(mapped, job(i))
		// The blocks not done yet are resident: the rest is what the
		// dropper holds.
		held := mappingRSS(t, base) - (blocks-i-2)*size
		assert.LessOrEqual(t, held, dropBatch+size+2*faultAround, "held after block %d", i+1)
	}
	assert.Equal(t, uint64(blocks), d.next, "every block done in order")
	assert.LessOrEqual(t, mappingRSS(t, base), 2*faultAround, "resident after every block was done")
}

// mappingRSS returns the resident bytes of the mapping that starts at p,
// from /proc/self/smaps.
func mappingRSS(t *testing.T, p unsafe.Pointer) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/smaps")
	require.NoError(t, err)
	start := strconv.FormatUint(uint64(uintptr(p)), 16) + "-"
	in := false
	for line := range strings.Lines(string(b)) {
		switch {
		case strings.HasPrefix(line, start):
			in = true
		case in && strings.HasPrefix(line, "Rss:"):
			kb, err := strconv.Atoi(strings.Fields(line)[1])
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatalf("no mapping at %p in /proc/self/smaps", p)
	return 0
}
