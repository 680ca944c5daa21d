package capture

import (
	"bufio"
	"io"
	"runtime"
	"sync/atomic"
)

// A capture file is read ahead on a goroutine of its own: goprobe --read
// spent about a third of its time in read(2), the kernel copying the file
// into the read buffer, and that time now overlaps with the decoding and
// counting of the frames read before, on another processor. The frames
// are still handed out of the buffers the file was read into, without a
// copy. With a single processor for Go (GOMAXPROCS=1) there is nothing
// to overlap, and the file is read where its frames are read.
//
// Mapping the file instead costs more, even with MAP_POPULATE filling a
// window's page tables in one call (windows of 128 KiB to 4 MiB, paired
// runs on 1 M packets of few flows): 1.9 times the processor time. The
// read(2) copy leaves each chunk in the processor's cache, reused chunk
// after chunk; a mapped page is met cold, and a record's header can only
// be loaded once the one before it has given its length, so every record
// waits for memory (the load of the length took nine tenths of the
// reading function's samples). Neither touching each window's lines on
// the reading goroutine first nor prefetching 1 to 16 KiB ahead of the
// record helped: on the virtual machine measured, the first touch of
// each newly mapped page is what costs, and the reused read buffers
// never pay it.
//
// The reader fills chunks of aheadChunk bytes in turn; each has headroom
// before its data, where the start of a record that the chunk before cut
// is moved, so that every record up to aheadHeadroom bytes is whole in
// one chunk. Longer ones are read through Read, as bufio's are. Waking
// the goroutine that reads costs its user some 10 µs on a virtual
// machine (an interrupt to the other processor), so it is woken to fill
// two chunks at a time, while the other two still hold data: against
// three chunks filled one at a time, 0.86x the processor time and 0.85x
// the elapsed time (goprobe --read, 1 M packets of few flows, paired
// medians under SCHED_FIFO), for 144 KiB more. Sixteen chunks woken
// twelve at a time (2.3 MiB) cut the context switches of a run from 1400
// to 430 but not its processor time (1.06x, paired medians of 20 on a
// busy machine). Three chunks of which two are filled with one readv(2)
// call (130 KiB less) starved the frames' reader: it waits for a chunk
// whenever the two-chunk call takes longer than the reading of one,
// 1.37 times the processor time and 1.7 times the elapsed time on few
// flows (paired runs under SCHED_FIFO; on a busy machine without it the
// difference hid in the noise). Smaller chunks would save less than
// they cost: on the virtual machine measured a page fault costs some 16
// µs and a read(2) call 2 µs, so chunks of 64 KiB would add 1100 calls
// (2.2 ms) to a capture of 143 MB to save 64 faults (1 ms) and 256 KiB
// (measured: 160 KiB less at the peak for 1.09 times the processor time
// and 1.18 times the elapsed time on few flows, paired runs under
// SCHED_FIFO); the copy itself took the same 36 ms with chunks of 64 to
// 256 KiB.
const (
	aheadChunk    = 128 << 10
	aheadHeadroom = 16 << 10
	aheadChunks   = 4 // one being read from, one ready and two being filled, or three ready
	aheadWake     = 2 // the goroutine is woken to fill this many in a row
)

// A file opened by OpenFileShared is read ahead into the same chunks but
// without a goroutine of its own: goprobe --read's decoding and counting
// goroutines fill the next chunk whenever they would wait for each
// other, so that each keeps a processor of the two and the copy goes to
// whichever has room, where the reading goroutine kept one for itself
// while the other two shared the other (see probe/decoder.go).

// reader is what fileSource reads through: a *bufio.Reader, or an
// aheadReader for a file.
type reader interface {
	Peek(n int) ([]byte, error)
	Discard(n int) (int, error)
	Read(p []byte) (int, error)
}

// aheadReader reads r ahead, on a goroutine of its own, with bufio's
// semantics: what Peek and Read return is valid until the next call.
//
// The chunks go to the reader's user through a channel, but come back
// through a counter (released) that the reading goroutine waits on in
// the kernel (waitFree), outside Go's scheduler: that goroutine is faster
// than its user and so waits for a chunk every time it has filled the
// others, and parked on a channel, every one of its wake-ups made Go's
// scheduler wake a thread for it, whose search for work put it to sleep
// again (usleep and futex calls, two to four context switches a chunk:
// 1900 for 1 M packets, which on the virtual machine measured cost more
// processor time than the copy the goroutine takes off its user). It
// reads with the raw system call for the same reason: a read(2) of a
// chunk in the page cache takes some 30 µs, and made the scheduler hand
// its processor to another thread on the way (see rawfile_linux.go).
// Waiting in the kernel, the goroutine keeps its processor (P); Go's
// other goroutines share the others, so only a program with two at
// least reads ahead (newAheadReader reads in Peek's goroutine
// otherwise).
type aheadReader struct {
	full   chan []byte   // chunks read, in order: headroom, then data
	chunks [][]byte      // the chunks, filled in turn; only the goroutine reads it
	err    error         // why the reading ended, once full is closed
	closed atomic.Bool   // Close was called: the goroutine stops
	done   chan struct{} // closed by the goroutine as it ends

	// released counts the chunks given back; the goroutine may fill
	// chunk k while k < released+len(chunks). A futex word: 32 bits,
	// compared as a difference so that it may wrap.
	released atomic.Uint32
	sleeping atomic.Bool   // the goroutine waits on released in the kernel
	wakeAt   atomic.Uint32 // for released to reach this
	waker                  // the system's way of waiting on released

	// The frames' reader's, written for every frame: on cache lines of
	// their own, away from those of the goroutines that fill chunks.
	_        [64]byte
	cur      []byte // the chunk being read from
	pos, end int    // its unread bytes
	ended    bool   // full is closed: err says why
	_        [64]byte

	r io.Reader // what the chunks are read from
	// sync: with one processor the file is read in Peek's goroutine,
	// into the one chunk.
	sync bool

	// shared: no goroutine of its own; the chunks are filled by whoever
	// calls fillOne, the frames' reader when it finds none ready and the
	// other goroutines of its user when they have a moment (see
	// OpenFileShared). filling is held by the one filling chunk k; eof,
	// set under it, says the input has ended and full is closed.
	shared  bool
	filling atomic.Bool
	k       atomic.Uint32 // written under filling, read by anyone
	eof     bool
}

// newAheadReader reads r ahead, on a goroutine of its own where Go may
// run two goroutines at once.
func newAheadReader(r io.Reader) *aheadReader {
	r = rawReader(r)
	if runtime.GOMAXPROCS(0) < 2 {
		return &aheadReader{sync: true, r: r, chunks: [][]byte{make([]byte, aheadHeadroom+aheadChunk)}}
	}
	a := &aheadReader{r: r, full: make(chan []byte, aheadChunks), done: make(chan struct{}),
		chunks: make([][]byte, aheadChunks)}
	a.initWaker()
	fillers.Add(1)
	go a.fill()
	return a
}

// fillers counts the goroutines reading files ahead (fill) that have not
// ended yet: a Close returns after its goroutine left the count. The
// tests read it, as runtime.NumGoroutine also counts goroutines of
// theirs that are still on their way out (a subtest's, which t.Run no
// longer waits for once it has reported).
var fillers atomic.Int32

// newSharedReader reads r ahead in the calls of fillOne, from any
// goroutine, where Go may run two at once (newAheadReader's reading in
// Peek's goroutine otherwise).
func newSharedReader(r io.Reader) *aheadReader {
	if runtime.GOMAXPROCS(0) < 2 {
		return newAheadReader(r)
	}
	return &aheadReader{r: rawReader(r), full: make(chan []byte, aheadChunks), chunks: make([][]byte, aheadChunks),
		shared: true}
}

// fillOne fills the next chunk if it is free and nobody else is filling
// one, and reports whether it did. Any goroutine may call it.
func (a *aheadReader) fillOne() bool {
	// Looked at before the swap, which would take the flag's line from
	// the other processor every time.
	if !a.shared || a.filling.Load() || a.k.Load()-a.released.Load() >= uint32(len(a.chunks)) ||
		!a.filling.CompareAndSwap(false, true) {
		return false
	}
	k := a.k.Load()
	if a.eof || k-a.released.Load() >= uint32(len(a.chunks)) {
		a.filling.Store(false)
		return false
	}
	err := a.readChunk(k)
	a.k.Store(k + 1)
	if err != nil {
		a.err, a.eof = err, true
		close(a.full)
	}
	a.filling.Store(false)
	return true
}

// readChunk reads a.r into chunk k, made when it is first filled (a
// capture of a few packets, read at every start by the benchmark's
// start-up test, or by a script, pays for one), and hands what it read
// on. The error is io.EOF at the end of a.r.
func (a *aheadReader) readChunk(k uint32) error {
	i := k % uint32(len(a.chunks))
	b := a.chunks[i]
	if b == nil {
		b = make([]byte, aheadHeadroom+aheadChunk)
		a.chunks[i] = b
	}
	n, err := io.ReadFull(a.r, b[aheadHeadroom:])
	if n > 0 {
		a.full <- b[:aheadHeadroom+n] // never waits: it has room for every chunk
	}
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return err
}

// fill reads a.r into the chunks, in turn, until it ends or fails or
// Close is called.
func (a *aheadReader) fill() {
	defer close(a.done)
	defer fillers.Add(-1)
	defer close(a.full)
	for k := uint32(0); ; k++ {
		if !a.waitFree(k) {
			return
		}
		if err := a.readChunk(k); err != nil {
			a.err = err
			return
		}
	}
}

// waitFree waits until chunk k may be filled: at once if it is free,
// else until aheadWake chunks from k on are, to fill them in a row.
// False when Close was called.
func (a *aheadReader) waitFree(k uint32) bool {
	if k-a.released.Load() < uint32(len(a.chunks)) {
		return true
	}
	at := k - uint32(len(a.chunks)) + aheadWake // released then
	a.wakeAt.Store(at)
	for !a.closed.Load() {
		a.sleeping.Store(true)
		// The user gives a chunk back before it looks at sleeping: either
		// it sees sleeping and wakes the goroutine, or this sees released
		// moved, or the kernel does not let the goroutine sleep on the
		// count it moved from.
		r := a.released.Load()
		if int32(r-at) >= 0 {
			a.sleeping.Store(false)
			return true
		}
		if !a.closed.Load() && !a.sleep(r) {
			// Woken by a signal or after a while: a goroutine that waits
			// in the kernel cannot be stopped by Go's runtime (for a
			// collection, say) until it is back in Go and yields.
			runtime.Gosched()
		}
		a.sleeping.Store(false)
	}
	return false
}

// release gives the chunk read from back to the goroutine.
func (a *aheadReader) release() {
	n := a.released.Add(1)
	if a.sleeping.Load() && int32(n-a.wakeAt.Load()) >= 0 {
		a.wake()
	}
}

// next moves to the next chunk read, keeping the unread bytes of the
// current one (no more than its headroom) in front of its data. It
// returns false when there is none: a.err says why.
func (a *aheadReader) next() bool {
	if a.ended {
		return false
	}
	left := a.end - a.pos
	if a.sync {
		b := a.chunks[0]
		copy(b[aheadHeadroom-left:], b[a.pos:a.end])
		n, err := io.ReadFull(a.r, b[aheadHeadroom:])
		if n == 0 {
			if err == nil || err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			a.err, a.ended = err, true
			return false
		}
		a.cur, a.pos, a.end = b, aheadHeadroom-left, aheadHeadroom+n
		return true
	}
	var b []byte
	var ok bool
	if a.shared {
		b, ok = a.take()
	} else {
		b, ok = <-a.full
	}
	if !ok {
		a.ended = true
		return false
	}
	copy(b[aheadHeadroom-left:], a.cur[a.pos:a.end])
	if a.cur != nil {
		a.release()
	}
	a.cur, a.pos, a.end = b, aheadHeadroom-left, len(b)
	return true
}

// take returns the next chunk of a shared reader, filling it here when
// nobody else has: false at the end of the input.
func (a *aheadReader) take() ([]byte, bool) {
	for spins := 0; ; {
		select {
		case b, ok := <-a.full:
			return b, ok
		default:
		}
		if a.fillOne() {
			continue
		}
		// Another goroutine is filling the chunk: a read(2) of some 30
		// µs, which it sends on full when it is done.
		if spins++; spins > takeSpins {
			b, ok := <-a.full
			return b, ok
		}
	}
}

// takeSpins is how many times take looks for the chunk another goroutine
// is filling before it parks until it comes: a goroutine that the system
// took the processor from in the middle of its read would otherwise be
// waited for for as long as it stays off.
const takeSpins = 1 << 12

// Peek returns the next n bytes (n at most aheadHeadroom) without taking
// them; at the end of the file, what is left and io.EOF or the error that
// ended it.
func (a *aheadReader) Peek(n int) ([]byte, error) {
	if n > aheadHeadroom {
		return nil, bufio.ErrBufferFull
	}
	for a.end-a.pos < n {
		if !a.next() {
			return a.cur[a.pos:a.end], a.err
		}
	}
	return a.cur[a.pos : a.pos+n], nil
}

// Discard takes n bytes that Peek returned.
func (a *aheadReader) Discard(n int) (int, error) {
	a.pos += n
	return n, nil
}

// Read reads what the current chunk holds, or the next one's.
func (a *aheadReader) Read(p []byte) (int, error) {
	if a.pos == a.end && !a.next() {
		return 0, a.err
	}
	n := copy(p, a.cur[a.pos:a.end])
	a.pos += n
	return n, nil
}

// Close stops the goroutine and waits until it has.
func (a *aheadReader) Close() {
	if a.sync || a.shared {
		return
	}
	a.closed.Store(true)
	a.wake()
	for range a.full {
	}
	<-a.done
}
