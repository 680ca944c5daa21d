package flowfile

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeInParts writes f's flows in parts of part flows, flushing after
// each (blocks of Flush, whose tails go through the page cache), and
// checks after each Flush that the file holds every flow written so far
// for a reader that recovers an unfinished file, as a crash would leave
// it.
func writeInParts(t *testing.T, w *Writer, path string, f *testFile, part int) {
	t.Helper()
	for i := range f.exporters {
		require.NoError(t, w.WriteExporter(&f.exporters[i]))
	}
	for i := range f.samplers {
		require.NoError(t, w.WriteSampler(&f.samplers[i]))
	}
	for i := range f.flows {
		require.NoError(t, w.WriteFlow(&f.flows[i]))
		if (i+1)%part != 0 {
			continue
		}
		require.NoError(t, w.Flush())
		queued := w.Queued()
		require.Eventually(t, func() bool { return w.Written() == queued }, 10*time.Second, time.Millisecond)
		r, err := Open(path, ReadOptions{Recover: true})
		require.NoError(t, err)
		n := 0
		for r.Next() {
			if r.Kind() == KindFlow {
				n++
			}
		}
		r.Close()
		require.Equal(t, i+1, n, "flows on disk after a Flush")
	}
	require.NoError(t, w.WriteExporterStats(f.stats))
}

// writeBoth writes f once past the page cache and once through it and
// returns both files' bytes; setup, if set, changes the direct writer
// before it writes.
func writeBoth(t *testing.T, f *testFile, part int, setup func(w *Writer, path string)) (direct, buffered []byte) {
	t.Helper()
	created := time.Unix(1700000000, 0)
	opts := WriteOptions{Compression: None, Ident: "direct", Created: created}
	dir := t.TempDir()
	for _, off := range []bool{false, true} {
		noDirect = off
		path := filepath.Join(dir, "nfcapd."+strconv.FormatBool(off))
		w, err := Create(path, opts)
		noDirect = false
		require.NoError(t, err)
		if !off {
			if w.directFd < 0 {
				w.Close()
				t.Skip("the file system of t.TempDir takes no O_DIRECT")
			}
			if setup != nil {
				setup(w, path)
			}
		} else {
			require.Equal(t, -1, w.directFd)
		}
		writeInParts(t, w, path, f, part)
		require.NoError(t, w.Close())
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		if off {
			buffered = b
		} else {
			direct = b
		}
	}
	return direct, buffered
}

func openReadOnly(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	fd, err := dupFd(f)
	f.Close()
	require.NoError(t, err)
	return fd
}

// TestDirectWritesLikeBuffered: a file written past the page cache is
// byte for byte the one written through it, with blocks of every size
// (full ones of 1 MiB, Flush's of a flow or a few, within one page and
// across pages), and what a Flush handed over is on disk for a recovering
// reader at once. It fails when a block's first page loses the bytes of
// the block before, or a Flush's tail stays in memory.
func TestDirectWritesLikeBuffered(t *testing.T) {
	for _, c := range []struct{ n, part int }{{1, 1}, {7, 2}, {300, 41}, {30000, 7000}, {30000, 30001}} {
		t.Run(strconv.Itoa(c.n)+"/"+strconv.Itoa(c.part), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(c.n), uint64(c.part)))
			f := randomFile(rng, c.n)
			direct, buffered := writeBoth(t, &f, c.part, nil)
			require.Equal(t, len(buffered), len(direct))
			require.True(t, string(buffered) == string(direct), "the files differ")
			path := filepath.Join(t.TempDir(), "nfcapd.test")
			require.NoError(t, os.WriteFile(path, direct, 0o644))
			checkRoundTrip(t, path, "direct", &f)
		})
	}
}

// TestDirectFallsBack: when a direct write fails, the writer writes the
// held tail and the block through the page cache and goes on that way;
// the file is the same.
func TestDirectFallsBack(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	f := randomFile(rng, 20000)
	direct, buffered := writeBoth(t, &f, 5000, func(w *Writer, path string) {
		ro := openReadOnly(t, path)
		closeDirect(w.directFd)
		w.directFd = ro
	})
	assert.True(t, string(buffered) == string(direct), "the files differ")
}

// TestDirectAndCachedBlocks: blocks written through the page cache while
// the writer is behind, between direct ones, leave the same file; every
// order of the two kinds of writes, and of full and Flush's blocks, comes
// up.
func TestDirectAndCachedBlocks(t *testing.T) {
	for _, pattern := range []string{"cd", "dc", "ccd", "cdd", "dcdd"} {
		t.Run(pattern, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(len(pattern))))
			// Parts of some 2.5 MB: full blocks, and a Flush's after them.
			f := randomFile(rng, 60000)
			direct, buffered := writeBoth(t, &f, 25001, func(w *Writer, _ string) {
				n := 0
				w.cachedWhen = func() bool {
					n++
					return pattern[n%len(pattern)] == 'c'
				}
			})
			require.Equal(t, len(buffered), len(direct))
			assert.True(t, string(buffered) == string(direct), "the files differ")
		})
	}
}

// slowFailingAfter returns a Writer.failWhen whose direct writes each
// take 20 ms, so that the next block's goes into flight meanwhile, and
// fail from the (at+1)th on.
func slowFailingAfter(at int) func(int64) bool {
	var mu sync.Mutex
	n := 0
	return func(int64) bool {
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		n++
		return n > at
	}
}

// TestDirectFailsInFlight: a direct write that fails while others are in
// flight behind it (the writer keeps maxFlight going) sends the writer
// back to the page cache for the rest of the file, with the block that
// failed and every block in flight written again through it: the file is
// the same. The failures come at the third direct write and at once.
func TestDirectFailsInFlight(t *testing.T) {
	for _, at := range []int{0, 2} {
		t.Run(strconv.Itoa(at), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, uint64(at)))
			// Full blocks of 1 MiB in parts of some 3 MB, each ended
			// by a Flush's block.
			f := randomFile(rng, 80000)
			direct, buffered := writeBoth(t, &f, 30001, func(w *Writer, _ string) {
				w.failWhen = slowFailingAfter(at)
			})
			require.Equal(t, len(buffered), len(direct))
			assert.True(t, string(buffered) == string(direct), "the files differ")
		})
	}
}

// TestDirectBuffersReused: a writer past the page cache that stops gives
// its block buffers back, the next writer takes them (no new region at
// every file), and the stopped writer's V3Space lies outside them, so a
// caller that still encodes into it writes over nobody's block. The
// second file is the one a buffered writer leaves. It fails when Close
// keeps the buffers, or leaves V3Space in one it gave back.
func TestDirectBuffersReused(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	f := randomFile(rng, 20000)
	dir := t.TempDir()
	opts := WriteOptions{Compression: None, Ident: "direct", Created: time.Unix(1700000000, 0)}
	first, err := Create(filepath.Join(dir, "first"), opts)
	require.NoError(t, err)
	if first.directFd < 0 {
		first.Close()
		t.Skip("the file system of t.TempDir takes no O_DIRECT")
	}
	writeInParts(t, first, filepath.Join(dir, "first"), &f, 20000)
	bufs := map[*byte]bool{unsafe.SliceData(first.cur.base): true}
	for range len(first.free) {
		j := <-first.free
		if j.base != nil {
			require.True(t, j.pooled, "a direct writer's block buffer from directBufs")
			bufs[unsafe.SliceData(j.base)] = true
		}
		first.free <- j
	}
	require.NotEmpty(t, bufs)
	require.NoError(t, first.Close())
	room := first.V3Space()
	require.GreaterOrEqual(t, len(room), 64*1024, "a stopped writer's V3Space")
	for b := range bufs {
		start := uintptr(unsafe.Pointer(b))
		at := uintptr(unsafe.Pointer(unsafe.SliceData(room)))
		assert.False(t, at+uintptr(len(room)) > start && at < start+directBufSize, "V3Space in a buffer given back")
	}

	direct, buffered := writeBoth(t, &f, 7000, func(w *Writer, _ string) {
		assert.True(t, bufs[unsafe.SliceData(w.cur.base)], "the next writer's block in a buffer given back")
	})
	assert.True(t, string(buffered) == string(direct), "the files differ")
}

// TestParkedBuffersReused: at a rotation a collector parks its file and
// opens the next before the old one is finished (by its closer, later).
// Park gives the old writer's idle block buffers back at once and those
// of its blocks in flight as their writes end, so after any number of
// rotations the buffers of the region the first file mapped serve every
// file, and each parked file holds the bytes a writer that was never
// parked leaves. It fails when Park keeps the buffers until Finish (the
// next writer then maps a second region).
func TestParkedBuffersReused(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	f := randomFile(rng, 30000)
	dir := t.TempDir()
	opts := WriteOptions{Compression: None, Ident: "parked", Created: time.Unix(1700000000, 0)}
	write := func(w *Writer) {
		for i := range f.exporters {
			require.NoError(t, w.WriteExporter(&f.exporters[i]))
		}
		for i := range f.flows {
			require.NoError(t, w.WriteFlow(&f.flows[i]))
		}
		require.NoError(t, w.WriteExporterStats(f.stats))
	}

	noDirect = true
	want := filepath.Join(dir, "buffered")
	w, err := Create(want, opts)
	noDirect = false
	require.NoError(t, err)
	write(w)
	require.NoError(t, w.Close())
	wantBytes, err := os.ReadFile(want)
	require.NoError(t, err)

	const rotations = 6
	var prev *Writer
	var regions int
	for i := range rotations {
		path := filepath.Join(dir, "file"+strconv.Itoa(i))
		w, err := Create(path, opts)
		require.NoError(t, err)
		if w.directFd < 0 {
			w.Close()
			t.Skip("the file system of t.TempDir takes no O_DIRECT")
		}
		if prev != nil {
			// The closer finishes the old file after the next began.
			require.NoError(t, prev.Close())
		}
		write(w)
		require.Greater(t, w.Queued(), uint64(directBufsPerRegion), "every block buffer of a region in use")
		if i == 0 {
			directBufs.Lock()
			regions = directBufs.regions
			directBufs.Unlock()
		}
		w.Park()
		assert.Error(t, w.WriteFlow(&f.flows[0]), "a write to a parked writer")
		prev = w
	}
	require.NoError(t, prev.Close())
	directBufs.Lock()
	assert.Equal(t, regions, directBufs.regions, "regions mapped after %d rotations", rotations)
	assert.Zero(t, directBufs.parked, "buffers of parked writers not given back")
	directBufs.Unlock()
	for i := range rotations {
		got, err := os.ReadFile(filepath.Join(dir, "file"+strconv.Itoa(i)))
		require.NoError(t, err)
		assert.True(t, string(got) == string(wantBytes), "file %d differs from the buffered writer's", i)
	}
}

// TestParkedFailsInFlight: a writer parked while its direct writes are
// slow, with blocks in flight, and failing from the third on or at once,
// leaves the file a buffered writer leaves (the blocks in flight are
// written again through the page cache before their buffers go back),
// and the next writer, made at once, waits for one of those buffers
// rather than map a region.
func TestParkedFailsInFlight(t *testing.T) {
	for _, at := range []int{0, 2, 1000} {
		t.Run(strconv.Itoa(at), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, uint64(at)))
			f := randomFile(rng, 80000)
			dir := t.TempDir()
			opts := WriteOptions{Compression: None, Ident: "parked", Created: time.Unix(1700000000, 0)}
			paths := []string{filepath.Join(dir, "buffered"), filepath.Join(dir, "parked")}
			var files [2][]byte
			for i, path := range paths {
				noDirect = i == 0
				w, err := Create(path, opts)
				noDirect = false
				require.NoError(t, err)
				if i == 1 {
					if w.directFd < 0 {
						w.Close()
						t.Skip("the file system of t.TempDir takes no O_DIRECT")
					}
					w.failWhen = slowFailingAfter(at)
				}
				for j := range f.flows {
					require.NoError(t, w.WriteFlow(&f.flows[j]))
				}
				if i == 1 {
					directBufs.Lock()
					regions := directBufs.regions
					directBufs.Unlock()
					w.Park()
					next, err := Create(filepath.Join(dir, "next"), opts)
					require.NoError(t, err)
					require.NoError(t, w.Close())
					require.NoError(t, next.Close())
					directBufs.Lock()
					assert.Equal(t, regions, directBufs.regions, "regions mapped by the next writer")
					assert.Zero(t, directBufs.parked, "buffers of parked writers not given back")
					directBufs.Unlock()
				} else {
					require.NoError(t, w.Close())
				}
				files[i], err = os.ReadFile(path)
				require.NoError(t, err)
			}
			require.Equal(t, len(files[0]), len(files[1]))
			assert.True(t, string(files[0]) == string(files[1]), "the files differ")
		})
	}
}

// TestHeldBlockHandedOver: a writer past the page cache holds a full
// block back for the next (hand) only for so long: with no more records
// and no Flush, every block handed over reaches the disk; a Flush hands
// the held block over at once, before its own. The file is the one a
// writer without pairs leaves. It fails when a held block waits for the
// next block or the writer's end.
func TestHeldBlockHandedOver(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	f := randomFile(rng, 45000)
	dir := t.TempDir()
	opts := WriteOptions{Compression: None, Ident: "pairs", Created: time.Unix(1700000000, 0)}
	write := func(path string) *Writer {
		w, err := Create(path, opts)
		require.NoError(t, err)
		if w.directFd < 0 {
			w.Close()
			t.Skip("the file system of t.TempDir takes no O_DIRECT")
		}
		for i := range f.flows {
			require.NoError(t, w.WriteFlow(&f.flows[i]))
		}
		return w
	}
	path := filepath.Join(dir, "paired")
	w := write(path)
	require.True(t, w.pairs)
	require.GreaterOrEqual(t, w.Queued(), uint64(3), "full blocks")
	queued := w.Queued()
	require.Eventually(t, func() bool { return w.Written() == queued }, 10*time.Second, time.Millisecond,
		"blocks handed over without a Flush on disk")
	for i := range f.flows {
		require.NoError(t, w.WriteFlow(&f.flows[i]))
	}
	require.NoError(t, w.Flush())
	w.waitMu.Lock()
	assert.Nil(t, w.waiting, "a block held back after a Flush")
	w.waitMu.Unlock()
	queued = w.Queued()
	require.Eventually(t, func() bool { return w.Written() == queued }, 10*time.Second, time.Millisecond)
	require.NoError(t, w.Close())

	requireAsWithoutPairs(t, path, opts, &f, 2)
}

// requireAsWithoutPairs requires the file at path to be the one a writer
// without pairs of blocks (noPairs) leaves when it writes f's flows times
// times with opts.
func requireAsWithoutPairs(t *testing.T, path string, opts WriteOptions, f *testFile, times int) {
	t.Helper()
	noPairs = true
	again, err := Create(path+".again", opts)
	noPairs = false
	require.NoError(t, err)
	require.False(t, again.pairs)
	for range times {
		for i := range f.flows {
			require.NoError(t, again.WriteFlow(&f.flows[i]))
		}
	}
	require.NoError(t, again.Close())
	want, err := os.ReadFile(path + ".again")
	require.NoError(t, err)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, len(want), len(got))
	assert.True(t, string(want) == string(got), "the files differ")
}

// TestBehindSparesThePairsJob: the job that pairs add (start) does not
// make a writer behind: with maxFlight direct writes in flight, one block
// waiting is that job's, and only a second sends blocks through the page
// cache. Without pairs, one is enough. It fails when a drain's blocks go
// through the page cache for the pairs' job (13 of 460 did).
func TestBehindSparesThePairsJob(t *testing.T) {
	for _, pairs := range []bool{false, true} {
		w := &Writer{pairs: pairs, order: make(chan *writeJob, 4)}
		for range maxFlight {
			w.flight = append(w.flight, &writeJob{direct: true})
		}
		assert.False(t, w.behind(), "pairs %v, no block waiting", pairs)
		w.order <- &writeJob{}
		assert.Equal(t, !pairs, w.behind(), "pairs %v, one block waiting", pairs)
		w.order <- &writeJob{}
		assert.True(t, w.behind(), "pairs %v, two blocks waiting", pairs)
		w.flight = w.flight[:maxFlight-1]
		assert.False(t, w.behind(), "pairs %v, a write in flight less", pairs)
	}
}

// TestWriteHere: a writer whose caller writes full blocks itself when the
// disk has nothing else to do (WriteOptions.WriteHere) leaves the file a
// writer through the page cache leaves, and so it does when a direct
// write fails (the first, or the third) and the rest goes through the
// page cache, in the caller or the write goroutine. It fails when a
// block written in the caller goes to the wrong place, or a failure
// there loses a block or a tail.
func TestWriteHere(t *testing.T) {
	defer func(g time.Duration) { hereGap = g }(hereGap)
	hereGap = 0
	for _, at := range []int{-1, 0, 2} {
		t.Run(strconv.Itoa(at), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(17, uint64(at+1)))
			// Full blocks of 1 MiB in parts of some 3 MB, each ended
			// by a Flush's block.
			f := randomFile(rng, 80000)
			var w *Writer
			direct, buffered := writeBoth(t, &f, 30001, func(d *Writer, _ string) {
				w = d
				w.opts.WriteHere = true
				if at >= 0 {
					w.failWhen = slowFailingAfter(at)
				}
			})
			require.Equal(t, len(buffered), len(direct))
			assert.True(t, string(buffered) == string(direct), "the files differ")
			assert.Positive(t, w.here, "blocks written in the caller")
		})
	}
}

// TestWriteHereOnlyWhenIdle: a caller writes a block itself only when
// every block handed over before is written: with a write of the write
// goroutine's in flight, or a failure kept, it hands the block over.
func TestWriteHereOnlyWhenIdle(t *testing.T) {
	w := &Writer{directFd: -1, queued: 3}
	w.written.Store(1)
	j := &writeJob{}
	assert.False(t, w.writeHere(nil, j, time.Now()), "a block before not written")
	w.written.Store(2)
	w.ioMu.Lock()
	assert.False(t, w.writeHere(nil, j, time.Now()), "the write goroutine at work")
	w.ioMu.Unlock()
	assert.False(t, w.writeHere(nil, j, time.Now()), "no direct writes")
	w.directFd = 1
	w.failure = os.ErrInvalid
	assert.False(t, w.writeHere(nil, j, time.Now()), "a failure kept")
	w.failure = nil
	w.hereAfter = time.Now().Add(time.Hour)
	assert.False(t, w.writeHere(nil, j, time.Now()), "after a slow write")
	assert.Zero(t, w.here)
	assert.True(t, w.ioMu.TryLock(), "ioMu left locked")
}

// TestWriteHereTakesTheHeldBlock: a full block held back for the next
// (hand) when the caller may write blocks itself is written there with
// the next, first. The file is the one a writer without pairs leaves. It
// fails when the held block is lost or written after the next.
func TestWriteHereTakesTheHeldBlock(t *testing.T) {
	// Every full block comes steadily, and the caller may write it
	// whenever the disk is idle, however slow the machine: the test
	// does not hang on the clock.
	defer func(g, h time.Duration) { hereGap, holdFor = g, h }(hereGap, holdFor)
	hereGap, holdFor = 0, time.Hour
	rng := rand.New(rand.NewPCG(19, 20))
	f := randomFile(rng, 60000)
	dir := t.TempDir()
	opts := WriteOptions{Compression: None, Ident: "here", Created: time.Unix(1700000000, 0)}
	path := filepath.Join(dir, "here")
	w := createDirect(t, path, opts)
	held := false
	for i := range f.flows {
		require.NoError(t, w.WriteFlow(&f.flows[i]))
		if held {
			continue
		}
		w.waitMu.Lock()
		held = w.waiting != nil
		w.waitMu.Unlock()
		if held {
			w.opts.WriteHere = true
			continue
		}
		// A block is held only when every block before is written (the
		// write goroutine idle): on a loaded machine (CI) blocks were
		// filled faster than written and none was held. Each block
		// handed over is let be written before the next is filled.
		require.Eventually(t, func() bool { return w.written.Load() == w.queued }, 10*time.Second, time.Millisecond)
	}
	require.True(t, held, "a block held back")
	require.Positive(t, w.here, "blocks written in the caller")
	require.NoError(t, w.Close())
	requireAsWithoutPairs(t, path, opts, &f, 1)
}

// TestWriteHereNotInABurst: blocks that come faster than hereGap apart
// are the write goroutine's, even with WriteHere; only the first, with no
// full block before it, may be the caller's. It fails when a caller
// filling blocks as fast as it can writes them itself (a drain: the
// disk's time then adds to the filling's).
func TestWriteHereNotInABurst(t *testing.T) {
	defer func(g time.Duration) { hereGap = g }(hereGap)
	hereGap = time.Hour
	rng := rand.New(rand.NewPCG(21, 22))
	f := randomFile(rng, 40000)
	direct, buffered := writeBoth(t, &f, 40001, func(w *Writer, _ string) {
		w.opts.WriteHere = true
		t.Cleanup(func() { assert.LessOrEqual(t, w.here, 1, "blocks written in the caller") })
	})
	assert.True(t, string(buffered) == string(direct), "the files differ")
}

// TestWriteHereNotAfterASlowWrite: after a write in the caller that took
// longer than hereStall, the next blocks (for hereOff) are the write
// goroutine's, and the file is the same. It fails when a stalled disk
// stops the caller at every block.
func TestWriteHereNotAfterASlowWrite(t *testing.T) {
	defer func(g, s time.Duration) { hereGap, hereStall = g, s }(hereGap, hereStall)
	hereGap, hereStall = 0, 0
	rng := rand.New(rand.NewPCG(23, 24))
	f := randomFile(rng, 40000)
	direct, buffered := writeBoth(t, &f, 40001, func(w *Writer, _ string) {
		w.opts.WriteHere = true
		t.Cleanup(func() {
			assert.Equal(t, 1, w.here, "blocks written in the caller")
			assert.Greater(t, w.Queued(), uint64(2), "blocks")
		})
	})
	assert.True(t, string(buffered) == string(direct), "the files differ")
}

// TestWriteHereBeforeTheWriteGoroutine: a caller may write its first
// full block itself (writeHere) before the write goroutine has first run
// (the goroutine held back here, as a loaded machine does); the file is
// the one a writer through the page cache leaves. It fails when the
// offset of the next block is set by the write goroutine as it starts:
// the caller's block then went over the file's header, and the next
// block over the caller's.
func TestWriteHereBeforeTheWriteGoroutine(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	f := randomFile(rng, 30000)
	dir := t.TempDir()
	opts := WriteOptions{Compression: None, Ident: "here", Created: time.Unix(1700000000, 0)}
	write := func(name string, direct bool) []byte {
		path := filepath.Join(dir, name)
		start := make(chan struct{})
		if direct {
			writeStarts = func() { <-start }
			defer func() { writeStarts = nil }()
		} else {
			noDirect = true
			close(start)
		}
		w, err := Create(path, opts)
		noDirect = false
		require.NoError(t, err)
		if direct && w.directFd < 0 {
			close(start)
			w.Close()
			t.Skip("the file system of t.TempDir takes no O_DIRECT")
		}
		w.opts.WriteHere = direct
		for i := range f.flows {
			require.NoError(t, w.WriteFlow(&f.flows[i]))
			if direct && w.here > 0 {
				select {
				case <-start:
				default:
					close(start) // the write goroutine may run now
				}
			}
		}
		if direct {
			require.Positive(t, w.here, "a block written in the caller")
		}
		require.NoError(t, w.Close())
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		return b
	}
	direct := write("direct", true)
	buffered := write("buffered", false)
	require.Equal(t, len(buffered), len(direct))
	assert.True(t, string(buffered) == string(direct), "the files differ")
}

// TestPairWriteFails: a caller that writes blocks itself (WriteHere)
// writes a pair of full blocks in one write (issue); when that write
// fails at the pair's first block, or at its second after the first is
// on disk, the writer goes back to the page cache with both blocks and
// the tail before them, and the file is the one a writer through the
// page cache leaves, every Flush's blocks on disk at once; so it is
// when a writeDirect goroutine writes the pairs (asyncBatches, as when
// other writes are in flight). It fails when a failed pair loses a block
// or the tail before it.
func TestPairWriteFails(t *testing.T) {
	for _, async := range []bool{false, true} {
		t.Run("async="+strconv.FormatBool(async), func(t *testing.T) {
			defer func(a bool) { asyncBatches = a }(asyncBatches)
			asyncBatches = async
			testPairWriteFails(t)
		})
	}
}

// testPairWriteFails is TestPairWriteFails with pairs written in the
// caller or, with asyncBatches, by a writeDirect goroutine (through the
// ring where there is one).
func testPairWriteFails(t *testing.T) {
	defer func(g, p time.Duration) { hereGap, pairGap = g, p }(hereGap, pairGap)
	hereGap, pairGap = 0, time.Hour
	failed := map[int32]bool{}
	// The nth direct write of a block fails, from the second on: the
	// first is alone (no full block before it), then come pairs.
	for at := 1; at <= 4; at++ {
		t.Run(strconv.Itoa(at), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(25, uint64(at)))
			f := randomFile(rng, 80000)
			var w *Writer
			direct, buffered := writeBoth(t, &f, 30001, func(d *Writer, _ string) {
				w = d
				w.opts.WriteHere = true
				var mu sync.Mutex
				n := 0
				w.failWhen = func(int64) bool {
					mu.Lock()
					defer mu.Unlock()
					n++
					return n > at
				}
			})
			require.Equal(t, len(buffered), len(direct))
			assert.True(t, string(buffered) == string(direct), "the files differ")
			assert.Positive(t, w.batches, "pairs written in one write")
			failed[w.batchFailed.Load()] = true
		})
	}
	assert.True(t, failed[1], "a pair's write failed at its first block")
	assert.True(t, failed[2], "a pair's write failed at its second block")
}

// TestHandHeld: a full block held back for the caller to write with the
// next (pairGap), which does not come, reaches the disk by HandHeld once
// holdFor old, not before, with no Flush and no timer. It fails when such
// a block waits for the next or for the writer's end.
func TestHandHeld(t *testing.T) {
	defer func(g, p time.Duration) { hereGap, pairGap = g, p }(hereGap, pairGap)
	hereGap, pairGap = 0, time.Hour
	rng := rand.New(rand.NewPCG(27, 28))
	f := randomFile(rng, 30000)
	dir := t.TempDir()
	opts := WriteOptions{Compression: None, Ident: "held", Created: time.Unix(1700000000, 0), WriteHere: true}
	path := filepath.Join(dir, "held")
	w := createDirect(t, path, opts)
	// Up to the second full block, the first written alone.
	n := 0
	for w.Queued() < 2 {
		require.Less(t, n, len(f.flows), "two full blocks")
		require.NoError(t, w.WriteFlow(&f.flows[n]))
		n++
	}
	f.flows = f.flows[:n]
	w.waitMu.Lock()
	held, at := w.waiting, w.heldAt
	w.waitMu.Unlock()
	require.NotNil(t, held, "the second block held back")
	w.HandHeld(at.Add(holdFor - 1))
	w.waitMu.Lock()
	assert.Same(t, held, w.waiting, "a block held less than holdFor stays")
	w.waitMu.Unlock()
	w.HandHeld(at.Add(holdFor))
	w.waitMu.Lock()
	assert.Nil(t, w.waiting, "handed over")
	w.waitMu.Unlock()
	require.Eventually(t, func() bool { return w.Written() == 2 }, 10*time.Second, time.Millisecond,
		"the held block on disk")
	require.NoError(t, w.Close())
	requireAsWithoutPairs(t, path, opts, &f, 1)
}

// createDirect creates a writer of opts at path, and skips the test when
// the file system of t.TempDir takes no O_DIRECT.
func createDirect(t *testing.T, path string, opts WriteOptions) *Writer {
	t.Helper()
	w, err := Create(path, opts)
	require.NoError(t, err)
	if w.directFd < 0 {
		w.Close()
		t.Skip("the file system of t.TempDir takes no O_DIRECT")
	}
	return w
}
