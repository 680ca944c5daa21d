package flowfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/nfgo/nftools/flow"
)

// WriteOptions say how a file is written.
type WriteOptions struct {
	Compression Compression
	// Level is the method's level (lz4:1..9 selects LZ4 HC, bz2:1..9,
	// zstd:1..22); 0 means the method's default.
	Level int
	// Ident is stored in the appendix and printed by nfdump -I. nfcapd's
	// default is "none".
	Ident string
	// Created is the header's creation time; zero means now.
	Created time.Time
	// Workers is the number of goroutines that compress blocks; 0 means
	// one per CPU.
	Workers int
	// Count says how WriteFlow counts the flows into the stat record:
	// nfdump's way by default.
	Count Counting
	// WriteHere lets the caller write a full uncompressed block itself
	// when the disk has nothing else to do (hand): a caller that fills
	// blocks at a steady pace and would otherwise wake the write
	// goroutine for each (a collector).
	WriteHere bool
}

// Writer writes one flow file. Records are packed into blocks of at most
// WriteBlockSize bytes, which are compressed in the background and written
// in order. Close writes the appendix and the final header. A Writer is not
// safe for concurrent use.
//
// When a block cannot be written (a full disk), the blocks after it are
// not written either and every later write returns the error. Finish then
// cuts the file after the last block written whole and rewrites the header
// to count those blocks, so the file reads like one a crash left (Recover,
// and nfdump, read it); it tells how many blocks were kept, so the caller
// can set the stat record to what they hold before Close writes it. A
// Close whose appendix does not fit leaves the file that way, open, and
// may be called again later.
type Writer struct {
	dst  io.WriterAt
	file *os.File // set when the Writer created the file
	path string
	opts WriteOptions
	hdr  Header
	stat Stat

	// layout is the V3 frame of the last flow's element set.
	layout v3Layout

	cur    *writeJob
	queued uint64 // blocks handed to the pipeline
	work   chan *writeJob
	order  chan *writeJob
	free   chan *writeJob
	older  []*writeJob // takeFree's scratch, cap(free)
	wg     sync.WaitGroup

	mu      sync.Mutex // guards werr and off, shared with the write goroutine
	werr    error
	off     int64
	broken  atomic.Bool   // set with werr, so the hot path need not lock
	written atomic.Uint64 // blocks on disk

	// Uncompressed blocks go to the disk past the page cache (O_DIRECT)
	// through directFd, or -1; see put. aligned: the writer began that
	// way (directFd is the write goroutine's).
	directFd int
	aligned  bool
	// nextOff is where the block being filled will lie in the file
	// (the encoder's side; reset places its memory to match).
	nextOff int64
	// The write goroutine's: the bytes from tailOff (directAlign-aligned)
	// to the end of the last block written, not written past the page
	// cache yet (they share their page with what follows), and whether
	// they are in the page cache already (tailKept); prevOff is where
	// the last block written begins.
	tail     [directAlign]byte
	tailN    int
	tailOff  int64
	tailKept bool
	prevOff  int64
	// cachedWhen, when set, replaces behind; failWhen makes the direct
	// writes it picks fail (for the tests).
	cachedWhen func() bool
	failWhen   func(woff int64) bool
	// The write goroutine's: where the next block will lie (w.off is
	// where the blocks written so far end), the blocks handed to the
	// disk and not yet counted as written, in file order (some of them
	// direct writes in flight), and the first error of one of them.
	next    int64
	flight  []*writeJob
	failure error
	// io takes direct writes to the goroutines that make them (putAsync).
	io chan *writeJob
	// gather: the next block's write follows at once (a pair), so put
	// adds this one's to batch, for issue to write both in one.
	gather   bool
	batch    []*writeJob
	batchArr [maxBatch]*writeJob
	// pairs: full blocks go to the write goroutine two at a time (hand);
	// waiting is a full block held back for the next, which holdTimer
	// hands over alone after holdFor; lastFull is when the last full
	// block was handed. waiting is under waitMu, shared with holdTimer.
	pairs     bool
	waitMu    sync.Mutex
	waiting   *writeJob
	holdTimer *time.Timer
	lastFull  time.Time
	// heldAt: when waiting was held back (HandHeld).
	heldAt time.Time
	// ioMu: the write goroutine's state (next, flight, the tail, failure)
	// belongs to whoever holds it, the write goroutine or a caller that
	// writes a block itself (writeHere); hereAfter: not before then
	// (a write that took long).
	ioMu      sync.Mutex
	hereAfter time.Time
	inCaller  bool // writeHere is writing
	here      int  // blocks written in the caller (for the tests)
	// For the tests: writes of several blocks issued, and the block of
	// one whose failWhen failed (its index + 1, 0 none).
	batches     int
	batchFailed atomic.Int32

	// parked: Park handed the writer on; nothing more is written.
	// giveBack (the write goroutine's, under parkMu): retire gives a
	// job's block buffer back to directBufs; held counts the buffers
	// the writer has from there (reset), under parkMu once parked.
	parked   bool
	parkMu   sync.Mutex
	giveBack bool
	held     int

	finished bool // the pipeline has stopped (Finish)
	acked    bool // Finish returned the write error to the caller
	closed   bool
}

// writeJob is one block on its way from the encoder to the disk.
type writeJob struct {
	payload []byte // uncompressed records, after the header's room in buf
	buf     []byte
	// base holds buf from at on: with direct writes, at places buf's
	// first byte at the alignment of the block's offset in the file,
	// with room before it for the bytes of the block's first page that
	// belong to the blocks before (put).
	base []byte
	at   int
	// pooled: base is directBufs', given back when the writer stops.
	pooled bool
	// pair: the first of two blocks handed over together (hand): the
	// write goroutine writes both in one write (issue).
	pair bool
	// batch: the blocks of a write of several that a writeDirect
	// goroutine makes (issue), this one first.
	batch    []*writeJob
	batchArr [maxBatch]*writeJob
	// short: handed over by Flush, not for being full.
	short bool
	nrec  uint32
	// block is what goes to disk: the block header's room, then data. One
	// write a block, not one for the header and one for the data: on a
	// virtual machine a system call costs some microseconds.
	block []byte
	data  []byte
	out   []byte // compressed payload buffer, after the header's room
	err   error
	ready chan struct{}
	// A direct write (putAsync): base[from:from+n] goes to the file at
	// woff through fd, its first lead bytes the tail of the block
	// before; done tells how it went. off is where the block lies.
	off     int64
	direct  bool
	from    int
	lead, n int
	woff    int64
	fd      int
	done    chan error
}

// Create creates (or truncates) the file at path.
func Create(path string, opts WriteOptions) (*Writer, error) {
	if err := CheckIdent(opts.Ident); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	direct := -1
	if opts.Compression == None && !noDirect {
		direct = openDirect(path)
	}
	w, err := newWriter(f, path, opts, direct)
	if err != nil {
		if direct >= 0 {
			closeDirect(direct)
		}
		f.Close()
		os.Remove(path)
		return nil, err
	}
	w.file = f
	return w, nil
}

// NewWriter writes a flow file to dst, which must start out empty; name is
// used in errors. Close does not close dst.
func NewWriter(dst io.WriterAt, name string, opts WriteOptions) (*Writer, error) {
	return newWriter(dst, name, opts, -1)
}

// newWriter is NewWriter, writing the blocks through direct (an O_DIRECT
// descriptor of dst's file) when it is not -1.
func newWriter(dst io.WriterAt, name string, opts WriteOptions, direct int) (*Writer, error) {
	if err := CheckIdent(opts.Ident); err != nil {
		return nil, err
	}
	if opts.Compression > ZSTD {
		return nil, fmt.Errorf("unknown compression %d", opts.Compression)
	}
	if opts.Level < 0 || opts.Level > maxLevel(opts.Compression) {
		return nil, fmt.Errorf("compression level %d out of range for %s", opts.Level, opts.Compression)
	}
	created := opts.Created
	if created.IsZero() {
		created = time.Now()
	}
	w := &Writer{dst: dst, path: name, opts: opts, off: HeaderSize, directFd: direct, aligned: direct >= 0, nextOff: HeaderSize}
	w.hdr = Header{Magic: Magic, Version: LayoutVersion2, NFDVersion: NFDVersion,
		Created: created.Unix(), Compression: opts.Compression}
	// Like nfcapd, put a provisional header in place at once; Close
	// rewrites it with the block count and the appendix offset.
	var hb [HeaderSize]byte
	w.hdr.marshal(hb[:])
	if _, err := dst.WriteAt(hb[:], 0); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	// The header is the first page's first bytes, already in the page
	// cache.
	w.tailN, w.tailKept = copy(w.tail[:], hb[:]), true
	if err := w.start(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Writer) start() error {
	workers := w.opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if w.opts.Compression == None {
		workers = 0
	}
	// The block being filled, one a compressing worker, the one being
	// written, and one more: without compression, two left the collector's
	// receive loop no free block while the writer wrote one (Ready), and
	// it handed its datagrams to its worker for every block written (366
	// of some 3 600 batches in 5 s of 800 000 v5 flows/s, each a wake-up;
	// with three, none or two).
	jobs := workers + 3
	if w.directFd >= 0 && !noPairs {
		// One more for the block held back (hand): without it, while
		// the pair is written the block being filled is the last, and
		// a collector's receive loop finds the writer not Ready.
		w.pairs = true
		jobs++
		w.holdTimer = time.AfterFunc(time.Hour, w.release)
		w.holdTimer.Stop()
	}
	if w.directFd >= 0 {
		// No more blocks for the direct writes in flight: one more took
		// 1.1 MB of peak RSS more.
		w.io = make(chan *writeJob, maxFlight)
		for range maxFlight {
			w.wg.Add(1)
			go w.writeDirect()
		}
	}
	w.work = make(chan *writeJob, jobs)
	w.order = make(chan *writeJob, jobs)
	w.free = make(chan *writeJob, jobs)
	w.older = make([]*writeJob, 0, jobs)
	for i := 0; i < jobs; i++ {
		w.free <- &writeJob{ready: make(chan struct{}, 1), done: make(chan error, 1)}
	}
	for i := 0; i < workers; i++ {
		c, err := newCompressor(w.opts.Compression, w.opts.Level)
		if err != nil {
			return err
		}
		w.wg.Add(1)
		go w.compress(c)
	}
	// Set here, not by the write goroutine: a caller that writes a block
	// itself (writeHere) may take ioMu before that goroutine first runs,
	// and found next still 0 (the block went over the file's header), or
	// had it set back under its feet (TestWriteHere under load).
	w.next = w.off
	w.wg.Add(1)
	go w.write()
	w.cur = <-w.free
	w.reset(w.cur)
	return nil
}

// reset empties j for the next block, which will lie at w.nextOff.
func (w *Writer) reset(j *writeJob) {
	const size = blockHeaderSize + WriteBlockSize + 64*1024
	if j.base == nil {
		if w.aligned {
			j.base, j.pooled = takeDirectBuf(), true
			w.held++
		} else {
			j.base = make([]byte, size+2*directAlign)
		}
	}
	j.at = 0
	if w.aligned {
		// directAlign bytes and more before buf, its first byte at the
		// alignment of the block's offset.
		j.at = directAlign + (int(w.nextOff%directAlign)-addrMod(j.base)+directAlign)%directAlign
	}
	j.buf = j.base[j.at : j.at+blockHeaderSize : j.at+size]
	j.payload = j.buf[blockHeaderSize:blockHeaderSize]
	j.nrec = 0
	j.err = nil
	j.short = false
	j.pair = false
	j.batch = nil
}

func (w *Writer) compress(c blockCompressor) {
	defer w.wg.Done()
	for j := range w.work {
		j.out, j.err = c.compress(append(j.out[:0], make([]byte, blockHeaderSize)...), j.payload)
		j.block = j.out
		j.data = j.out[blockHeaderSize:]
		j.ready <- struct{}{}
	}
}

// write puts finished blocks on disk in the order they were filled, and
// counts them as written in that order once their writes are done (direct
// writes may be in flight, maxFlight of them, while it goes on).
func (w *Writer) write() {
	defer w.wg.Done()
	if w.io != nil {
		defer close(w.io)
	}
	if writeStarts != nil {
		writeStarts()
	}
	w.ioMu.Lock()
	defer w.ioMu.Unlock()
	order := w.order
	for order != nil || len(w.flight) > 0 {
		var done chan error
		if len(w.flight) > 0 {
			h := w.flight[0]
			if !h.direct {
				w.retire(h.err)
				continue
			}
			done = h.done
		}
		w.ioMu.Unlock()
		select {
		case err := <-done:
			w.ioMu.Lock()
			w.retire(err)
		case j, ok := <-order:
			w.ioMu.Lock()
			if !ok {
				order = nil
				continue
			}
			if j.pair {
				// Its partner follows at once (hand): the two go to
				// the disk in one write (issue).
				w.gather = true
				w.begin(j)
				w.gather = false
				if k, ok := <-order; ok {
					w.begin(k)
				} else {
					order = nil
				}
			} else {
				w.begin(j)
			}
			w.issue()
		}
	}
}

// begin starts writing block j, the next in the file, and queues it to be
// counted (retire).
func (w *Writer) begin(j *writeJob) {
	<-j.ready
	err := w.failure
	if err == nil {
		err = j.err
	}
	if err == nil && len(j.data) > maxBlockSize {
		err = fmt.Errorf("compressed block of %d bytes exceeds %d", len(j.data), maxBlockSize)
	}
	j.off, j.direct = w.next, false
	if err == nil {
		bh := blockHeader{NumRecords: j.nrec, Size: uint32(len(j.data)), Type: blockTypeV3}
		bh.marshal(j.block)
		err = w.put(j, j.off)
	}
	if !w.gather {
		w.issue()
	}
	if err == nil {
		w.next = j.off + blockHeaderSize + int64(len(j.data))
	} else if w.failure == nil {
		w.failure = err
	}
	j.err = err
	w.flight = append(w.flight, j)
}

// retire counts the first block handed to the disk, whose write ended
// with err, as written, or keeps the error, and frees the block.
func (w *Writer) retire(err error) {
	j := w.flight[0]
	if j.direct {
		j.direct = false
		if err != nil {
			err = w.fallBack(err)
		}
	}
	n := copy(w.flight, w.flight[1:])
	w.flight[n] = nil
	w.flight = w.flight[:n]
	w.mu.Lock()
	if err == nil && w.werr != nil {
		// A block after one that failed: the file ends before it.
		err = w.werr
	}
	if err != nil && w.werr == nil {
		w.werr = fmt.Errorf("%s: block %d: %w", w.path, w.hdr.NumBlocks, err)
		w.broken.Store(true)
	}
	if err == nil {
		w.prevOff = j.off
		w.off = j.off + blockHeaderSize + int64(len(j.data))
		w.hdr.NumBlocks++
		w.written.Add(1)
	}
	w.mu.Unlock()
	w.parkMu.Lock()
	if w.giveBack && j.pooled {
		w.giveBuf(j)
		parkedBufBack()
	}
	w.free <- j
	w.parkMu.Unlock()
}

// settle waits until every block handed to the disk is written and
// counted.
func (w *Writer) settle() {
	w.issue()
	for len(w.flight) > 0 {
		h := w.flight[0]
		if !h.direct {
			w.retire(h.err)
			continue
		}
		w.retire(<-h.done)
	}
}

// inFlight returns how many direct writes may be under way: those
// handed to the disk and not counted yet.
func (w *Writer) inFlight() int {
	n := 0
	for _, j := range w.flight {
		if j.direct {
			n++
		}
	}
	return n
}

// fallBack handles the failure (err) of the first block's direct write:
// once the other direct writes in flight are done, the writer goes back
// to the page cache for good and writes the first block's lead (the tail
// of the block before, not on disk yet) and every block in flight whole
// through it. It returns the first block's error: that of its lead
// (then the block before is not whole on disk either and no longer
// counts, tailLost), or of the block; a later block's error stays with
// it.
func (w *Writer) fallBack(err error) error {
	for _, k := range w.flight[1:] {
		if k.direct {
			<-k.done
			k.direct = false
		}
	}
	if w.directFd >= 0 {
		closeDirect(w.directFd)
		w.directFd = -1
	}
	// Every block in flight is written whole below: the tail of the last
	// is in the page cache then.
	w.tailKept = true
	h := w.flight[0]
	err = nil
	if h.lead > 0 {
		if _, lerr := w.dst.WriteAt(h.base[h.from:h.from+h.lead], h.woff); lerr != nil {
			err = w.tailLost(lerr)
		}
	}
	if err == nil {
		_, err = w.dst.WriteAt(h.block, h.off)
	}
	failed := err
	for _, k := range w.flight[1:] {
		if k.err == nil && failed == nil {
			_, k.err = w.dst.WriteAt(k.block, k.off)
			failed = k.err
		}
	}
	if failed != nil && w.failure == nil {
		w.failure = failed
	}
	return err
}

// writeDirect makes the direct writes that putAsync hands it.
func (w *Writer) writeDirect() {
	defer w.wg.Done()
	for j := range w.io {
		if len(j.batch) > 1 {
			// A block's done may free it (retire) for reset and a
			// batch of its own: the batch is read before.
			var ks [maxBatch]*writeJob
			b := ks[:copy(ks[:], j.batch)]
			err := w.writeBatch(b, true)
			for _, k := range b {
				k.done <- err
			}
			continue
		}
		j.done <- w.pwrite(j.fd, j.base[j.from:j.from+j.n], j.woff, true)
	}
}

// pwrite writes b at off through the O_DIRECT descriptor fd; async: a
// write that overlaps others (putAsync), which waits for the disk in the
// network poller (direct_uring_linux.go), not in a system call.
func (w *Writer) pwrite(fd int, b []byte, off int64, async bool) error {
	if w.failWhen != nil && w.failWhen(off) {
		return syscall.EIO
	}
	if !async && w.inCaller {
		return pwriteDirectRaw(fd, b, off)
	}
	return pwriteDirect(fd, b, off, async)
}

// maxFlight is how many direct writes may be in flight at once: a direct
// write waits for the disk, and two overlap there (dd of 400 MiB in 1 MiB
// O_DIRECT writes took 0.30-0.33 s, two of 200 MiB side by side
// 0.24-0.27 s).
const maxFlight = 2

// directAlign is the alignment of an O_DIRECT write's memory, offset and
// length: a page, which covers the logical block size of common disks.
const directAlign = 4096

// noDirect turns direct writes off (a variable for the tests).
var noDirect = false

// put writes block j at off. Uncompressed blocks go past the page cache
// (O_DIRECT), when the file system takes it: the kernel then moves the
// block from the writer's memory to the disk without copying it into the
// page cache first. On this project's 2-core VM that copy and ext4's
// delayed allocation of every page took a quarter of gocapd's CPU time at
// 800 000 v5 flows/s (perf: some 30 ns of 120 a flow); dd of 400 MiB in
// 1 MiB writes took 0.31 s of system time through the page cache, 0.04 s
// past it.
//
// A direct write covers whole pages, so each block's write begins at the
// page holding the end of the block before: those bytes (the tail) are
// copied into the room reset left before the block, and the block's own
// last partial page becomes the next tail. A tail is written through the
// page cache as well when the block came from Flush (a collector's bound
// on what a crash loses) and when the writer stops. When a direct write
// fails, the writer goes back to the page cache for good and writes the
// tail and the block that way, so a full disk is handled as before.
func (w *Writer) put(j *writeJob, off int64) error {
	if w.directFd < 0 {
		_, err := w.dst.WriteAt(j.block, off)
		return err
	}
	if w.behind() {
		// The pair's first block, if gathered, goes to the disk
		// before this one's tail goes past it (a crash must not
		// leave a hole of zeros before a block).
		w.issue()
		return w.putCached(j, off)
	}
	w.awaitSlot()
	if w.directFd < 0 {
		// A direct write failed meanwhile (fallBack), which wrote the
		// tail through the page cache.
		_, err := w.dst.WriteAt(j.block, off)
		return err
	}
	lead := int(off - w.tailOff)
	if lead != w.tailN || unsafe.SliceData(j.block) != &j.base[j.at] || addrMod(j.block) != int(off%directAlign) {
		// Not where reset put it (moved by a record too large for the
		// block's slack: never with records of 64 KiB at the most).
		w.settle()
		return w.undirect(j, off)
	}
	from := j.at - lead
	copy(j.base[from:j.at], w.tail[:lead])
	total := lead + len(j.block)
	n := total &^ (directAlign - 1)
	if n > 0 && (w.gather || len(w.batch) > 0) {
		// A block of a pair: issue writes it with the other.
		j.direct, j.from, j.lead, j.n, j.woff, j.fd = true, from, lead, n, w.tailOff, w.directFd
		w.tailOff += int64(n)
		w.batch = append(w.batch, j)
	} else if n > 0 {
		pending := len(w.order)
		if j.pair {
			pending--
		}
		if pending > 0 || w.inFlight() > 0 {
			w.putAsync(j, from, lead, n)
		} else {
			// Nothing to overlap with: the write goroutine writes the
			// block itself, sparing the two hand-offs to and from a
			// writeDirect goroutine. At 800 000 v5 flows/s (a block
			// every 12 ms; 6 paired 4 s runs against the writer
			// before direct writes in flight, load 3-7) the CPU time
			// was 1.065 of before with every write handed off, 1.00
			// this way.
			if err := w.pwrite(w.directFd, j.base[from:from+n], w.tailOff, false); err != nil {
				return w.undirect(j, off)
			}
			w.tailOff += int64(n)
		}
	}
	if !w.gather {
		// Before a Flush's tail goes past it (keepTail).
		w.issue()
	}
	w.tailN = copy(w.tail[:], j.base[from+n:from+total])
	w.tailKept = false
	if j.short {
		return w.keepTail()
	}
	return nil
}

// awaitSlot waits until fewer than maxFlight direct writes are in
// flight, counting the blocks written meanwhile.
func (w *Writer) awaitSlot() {
	for w.inFlight() >= maxFlight {
		w.issue()
		h := w.flight[0]
		if !h.direct {
			w.retire(h.err)
			continue
		}
		w.retire(<-h.done)
	}
}

// putAsync hands the direct write of j's n bytes from base[from] on to a
// writeDirect goroutine (awaitSlot made room); retire learns how it went.
// The pages it writes are the block's whole ones and no other write's:
// the block's last partial page goes with the next block's write (or
// through the page cache, keepTail).
func (w *Writer) putAsync(j *writeJob, from, lead, n int) {
	j.direct, j.from, j.lead, j.n, j.woff, j.fd, j.batch = true, from, lead, n, w.tailOff, w.directFd, nil
	w.tailOff += int64(n)
	w.io <- j
}

// maxBatch is how many blocks one write takes at the most (issue): a
// pair's.
const maxBatch = 2

// asyncBatches hands every write of several blocks to a writeDirect
// goroutine (for the tests).
var asyncBatches = false

// issue makes the write of the blocks put gathered (batch), if any: one
// pwritev(2) of their pages, which lie one after the other in the file,
// and for the disk one request, one doorbell (a VM exit on this
// project's VM) and one extending ext4 write, where a write each made
// two of all. Made here (in the caller, with writeHere) when nothing
// else is in flight or waits, else by a writeDirect goroutine, through
// the ring. Each block learns how it went through done, as a block of
// putAsync does, and a failure goes back to the page cache (fallBack)
// with every block of the write written again through it.
//
// gocapd against the build before (pairs written one block a write),
// alternating pairs of 5 s runs, load 0.4-1.2: CPU a flow at 800 000 v5
// flows/s 0.98 (18 pairs in three runs, medians 0.91, 0.97 and 0.99,
// pairs 0.80-1.26), at 4 M 0.99 (10 pairs, 0.94-1.02), at 200 000
// 1.00 (no pairs there), v9 at 800 000 1.01; context switches 0.85 at
// 800 000 (856 against 1 011) and 0.93 at 4 M; drains (3 pairs) v9
// 1.03 of the rate at 0.99 of the CPU a flow, v5 1.06 at 0.94. perf at
// 800 000 v5 flows/s (10 s each): the write path 252 samples of 2 809
// against 424 of 3 112, the doorbell (iowrite16) 81 against 150; v9 303
// of 3 431 against 402 of 3 487. What is left of a write: the doorbell,
// ext4's block allocation, the pinning of the buffers' small pages.
func (w *Writer) issue() {
	b := w.batch
	if len(b) == 0 {
		return
	}
	w.batch = w.batchArr[:0]
	if len(b) > 1 {
		w.batches++
	}
	// The writes in flight besides the batch's (put may issue it
	// before its last block is in flight).
	others := 0
	for _, k := range w.flight {
		if k.direct && !slices.Contains(b, k) {
			others++
		}
	}
	first := b[0]
	if len(w.order) > 0 || others > 0 || asyncBatches && len(b) > 1 {
		first.batch = append(first.batchArr[:0], b...)
		clear(w.batchArr[:])
		w.io <- first
		return
	}
	err := w.writeBatch(b, false)
	for _, k := range b {
		k.done <- err
	}
	clear(w.batchArr[:])
}

// writeBatch writes the blocks of b (a direct write each, as putAsync
// sets them) in one write, async as pwrite's.
func (w *Writer) writeBatch(b []*writeJob, async bool) error {
	if len(b) == 1 {
		j := b[0]
		return w.pwrite(j.fd, j.base[j.from:j.from+j.n], j.woff, async)
	}
	var bufs [maxBatch][]byte
	for i, j := range b {
		bufs[i] = j.base[j.from : j.from+j.n]
	}
	if w.failWhen != nil {
		for i, j := range b {
			if w.failWhen(j.woff) {
				// As a write that fails at block i: those before
				// it are on disk.
				if i > 0 {
					pwritevDirect(b[0].fd, bufs[:i], b[0].woff, false, false)
				}
				w.batchFailed.Store(int32(i + 1))
				return syscall.EIO
			}
		}
	}
	return pwritevDirect(b[0].fd, bufs[:len(b)], b[0].woff, async, !async && w.inCaller)
}

// behind reports whether the disk is behind: maxFlight direct writes are
// in flight and more blocks wait. Then the block goes through the page
// cache, which takes a burst faster than the disk may (a direct write
// waits for the disk). Drains of 4 M flows from a full socket, 3 runs
// each at a load of 7-9: with every block direct and one write in flight
// gocapd waited for the disk, at 23-89% of a core (IPFIX 1.6-5.9 M
// flows/s against 3.1-5.1 M of nfcapd's).
//
// The job that pairs add (start) does not count: with it, in a drain
// (the encoder waiting for a free block, two writes in flight) one more
// block waited, and 13 of 460 blocks went through the page cache where
// none did before (strace of 8 M v5 flows at 4 M/s); 6 drains of v9 and
// v5 each against the build before: 0.86-0.90 of its rate at 1.06-1.10
// of its CPU a flow.
func (w *Writer) behind() bool {
	if w.cachedWhen != nil {
		return w.cachedWhen()
	}
	spare := 0
	if w.pairs {
		spare = 1
	}
	return w.inFlight() >= maxFlight && len(w.order) > spare
}

// putCached writes the tail and block j at off through the page cache,
// and keeps the block's last partial page as the next tail (in the page
// cache already), for the next direct write.
func (w *Writer) putCached(j *writeJob, off int64) error {
	if err := w.keepTail(); err != nil {
		return w.tailLost(err)
	}
	if _, err := w.dst.WriteAt(j.block, off); err != nil {
		return err
	}
	end := off + int64(len(j.block))
	at := end &^ (directAlign - 1)
	var t [directAlign]byte
	if at < off {
		// The page holds the end of the tail as well.
		copy(t[copy(t[:], w.tail[at-w.tailOff:w.tailN]):], j.block)
	} else {
		copy(t[:], j.block[at-off:])
	}
	w.tail, w.tailN, w.tailOff, w.tailKept = t, int(end-at), at, true
	return nil
}

// keepTail writes the tail through the page cache.
func (w *Writer) keepTail() error {
	if w.tailKept || w.tailN == 0 {
		return nil
	}
	if _, err := w.dst.WriteAt(w.tail[:w.tailN], w.tailOff); err != nil {
		return err
	}
	w.tailKept = true
	return nil
}

// undirect stops direct writes and writes the tail, then block j at off,
// through the page cache. When the tail cannot be written, the last block
// written is not whole on disk and no longer counts.
func (w *Writer) undirect(j *writeJob, off int64) error {
	if err := w.stopDirect(); err != nil {
		return err
	}
	_, err := w.dst.WriteAt(j.block, off)
	return err
}

// stopDirect writes the tail through the page cache and closes the
// direct descriptor; when the tail cannot be written, the last block
// written no longer counts, and its error is kept and returned.
func (w *Writer) stopDirect() error {
	if w.directFd < 0 {
		return nil
	}
	closeDirect(w.directFd)
	w.directFd = -1
	if err := w.keepTail(); err != nil {
		return w.tailLost(err)
	}
	return nil
}

// tailLost handles a tail that could not be written: the last block
// written is not whole on disk and no longer counts; the error is kept
// and returned.
func (w *Writer) tailLost(err error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.werr == nil {
		w.werr = fmt.Errorf("%s: block %d: %w", w.path, w.hdr.NumBlocks-1, err)
		w.broken.Store(true)
	}
	if w.hdr.NumBlocks > 0 && w.off > w.prevOff {
		w.off = w.prevOff
		w.hdr.NumBlocks--
		w.written.Add(^uint64(0))
	}
	return err
}

// failed returns the write error, if a block could not be written; the
// check of the flag is inlined into the hot path, the lock is not.
func (w *Writer) failed() error {
	if !w.broken.Load() {
		return nil
	}
	return w.writeErr()
}

func (w *Writer) writeErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.werr
}

// flush hands the current block to the pipeline and starts a new one.
func (w *Writer) flush() {
	if w.cur.nrec == 0 {
		return
	}
	w.hand()
	w.cur = w.takeFree()
	w.reset(w.cur)
}

// takeFree returns the free job freed last (w.free is first in, first
// out), waiting for one when none is free: its block's memory is the
// one most likely still in the processor's caches. A full block's
// memory is written once more only after the other jobs' (four buffers
// of 1.1 MB each past the page cache, more than a core's 2 MiB second-
// level cache here), and the encoder's stores into lines that had left
// the caches were a tenth of gocapd's CPU at 800 000 v5 flows/s
// (netflow's prefetchStores). Since the receive loop writes a steady
// load's blocks itself (WriteHere), the block just written is free
// again when the next is needed, and it is the one taken. gocapd
// against the build before (first in, first out), 5 alternating pairs
// of 5 s runs each, load 1: CPU a flow 0.95 and, in a first run, 0.97
// at 800 000 v5 flows/s (54 against 56 ns; 9 of 10 pairs lower); 0.94
// at 200 000 (pairs 0.79-1.22, noise); 1.00 at 4 M (the blocks go to
// the write goroutine there, in flight while the next fill).
func (w *Writer) takeFree() *writeJob {
	j := <-w.free
	// Under parkMu, as retire gives jobs back and Park walks them.
	w.parkMu.Lock()
	defer w.parkMu.Unlock()
	older := w.older[:0]
	for range len(w.free) {
		older = append(older, <-w.free)
	}
	if n := len(older); n > 0 {
		// The first out goes back first, the others in their order.
		w.free <- j
		j, older = older[n-1], older[:n-1]
		for _, k := range older {
			w.free <- k
		}
	}
	clear(w.older[:cap(w.older)])
	return j
}

// holdFor is how long hand holds a full block back for the next at the
// most, and how soon after the last full block the next must come for
// hand to hold it: a steady load of some 100 000 v5 flows/s or more (a
// block holds some 10 000). (A variable for the tests.)
var holdFor = 100 * time.Millisecond

// noPairs turns the pairs of blocks off (a variable for the tests).
var noPairs = false

// writeStarts, when set, runs as a write goroutine starts, before it
// takes ioMu (for the tests: one that comes late).
var writeStarts func()

// hand hands the current block, which holds records, to the pipeline.
//
// A writer past the page cache under a steady load holds every other full
// block back and hands it over with the next, and the write goroutine
// writes both, one after the other, for one wake-up: each hand-over
// readies it, and the runtime wakes a thread for it that spins and goes
// back to sleep once the write is done (7-8% of gocapd's CPU at 800 000
// v5 flows/s, some 75 blocks a second, before). gocapd against the
// build before, 6 alternating pairs of 5 s runs each (load 0.4-1):
// CPU a flow 0.90 at 800 000 v5 flows/s (pairs 0.855-0.971), 0.95 at
// 200 000 (0.926-1.035), context switches 2 066 against 2 459 at
// 800 000; peak RSS up to 1.1 MB more, for the block held (one more job,
// start). Drains (3 pairs) unchanged: v9 1.06 of the rate at 0.99 of
// the CPU a flow, v5 1.00 at 0.96.
//
// The pair goes to the disk in one write (issue). A writer whose caller
// writes blocks itself (WriteHere) holds a block only when it came
// within pairGap of the one before, and without holdTimer (see
// pairGap); the caller then writes the pair itself (writeHere) when
// blocks come hereGap or more apart.
//
// A block of Flush, Park or stop takes the held one with it, and
// holdTimer (HandHeld with WriteHere) hands it over alone when the next
// does not come within holdFor. A block is held only when it filled
// within holdFor of the last full one, so its records reach the disk
// within twice holdFor of their arrival (holdFor and the caller's period
// of HandHeld with WriteHere): what a crash may lose stays what the
// caller's Flush bounds (a collector's, flushAfter, 10 s).
func (w *Writer) hand() {
	j := w.cur
	w.queued++
	if w.pairs {
		w.prepare(j)
		now := time.Now()
		gap := now.Sub(w.lastFull)
		steady := gap < holdFor
		full := !j.short && !w.parked
		if full {
			w.lastFull = now
		}
		// Every block handed before written: the write goroutine is
		// idle, and would be woken for this one. In a burst (a drain)
		// it is busy: holding a block back there only made it wait.
		idle := w.written.Load() == w.queued-1
		w.waitMu.Lock()
		a := w.waiting
		if a == nil && full && w.opts.WriteHere && gap < pairGap && (idle || len(w.order) == 0) {
			// Held for the next, without holdTimer (see pairGap):
			// the caller writes both (writeHere), or the write
			// goroutine does when they come faster than hereGap
			// (4 M v5 flows/s: a block every 2.5 ms, the block
			// before often still in flight, but none waiting).
			w.waiting, w.heldAt = j, now
			w.waitMu.Unlock()
			return
		}
		if full && w.opts.WriteHere && gap >= hereGap && w.writeHere(a, j, now) {
			w.waitMu.Unlock()
			if a != nil {
				w.holdTimer.Stop()
			}
			return
		}
		if a == nil && full && steady && idle && !w.opts.WriteHere {
			w.waiting, w.heldAt = j, now
			w.waitMu.Unlock()
			w.holdTimer.Reset(holdFor)
			return
		}
		w.waiting = nil
		if a != nil {
			a.pair = true
			w.order <- a
		}
		w.order <- j
		w.waitMu.Unlock()
		if a != nil {
			w.holdTimer.Stop()
		}
		return
	}
	w.order <- j
	if w.opts.Compression == None {
		w.prepare(j)
	} else {
		w.work <- j
	}
}

// writeHere writes the full block j, after a (held back, or nil), in the
// caller, when every block handed before is written and no one else
// writes (the caller holds waitMu), and returns true; false: hand them
// over. That spares the write goroutine's wake-ups: each readies it, the
// runtime wakes a thread that makes the write as a plain system call
// (which wakes the runtime's monitor when it sleeps, and lets the monitor
// take the caller's processor while it waits), spins and goes back to
// sleep. The caller's write is a raw system call (pwriteDirectRaw): the
// scheduler sees the caller running throughout.
//
// A disk that stalls during such a write stops the caller, not the
// write goroutine: a collector's receive loop then reads nothing, and
// the datagrams wait in the socket (half of -B: 16 MiB with gocapd's
// default, some 0.25 s of 800 000 v5 flows/s), where handed over they
// would wait there and in the collector's 16 MiB of chunks (some 0.4 s
// more) once no block was free. A write that took longer than hereStall
// hands the blocks of the next hereOff over as before, so a slow disk
// stops the caller once, not at every block. A stop of the world (the
// garbage collector's) waits for the write as well.
func (w *Writer) writeHere(a, j *writeJob, now time.Time) bool {
	prior := w.queued - 1
	if a != nil {
		prior--
	}
	if now.Before(w.hereAfter) || w.written.Load() != prior || !w.ioMu.TryLock() {
		return false
	}
	if w.directFd < 0 || w.failure != nil || len(w.flight) > 0 {
		w.ioMu.Unlock()
		return false
	}
	w.waiting = nil
	w.inCaller = true
	if a != nil {
		// One write for both (issue).
		w.gather = true
		w.begin(a)
		w.gather = false
	}
	w.begin(j)
	w.settle()
	w.inCaller = false
	w.ioMu.Unlock()
	w.here++
	if d := time.Since(now); d > hereStall {
		w.hereAfter = now.Add(d + hereOff)
	}
	return true
}

// hereGap is how long after the last full block the next must come for
// the caller to write it (writeHere): at most 200 blocks of 1 MiB a second
// (some 2 M v5 flows/s), of which the caller then waits for the disk a
// fifth of the time or less. Blocks that come faster (a drain of a full
// socket, a burst) are written by the write goroutine while the caller
// fills the next. Without this bound, in drains the caller wrote nearly
// every block itself (the write goroutine, at 0.6-1.2 GB/s, was done
// with the one before by the time the next was full), filling none
// meanwhile, and v9 drains ran at 0.42-0.99 of the rate (3 pairs).
// (A variable for the tests.)
var hereGap = 5 * time.Millisecond

// hereStall is how long a write in the caller (writeHere) may take before
// the writer hands the blocks of the next hereOff to the write goroutine
// instead: a direct write of 1 MiB takes about a millisecond on this
// project's VM (dd: 400 MiB in 0.30-0.33 s). (Variables for the tests.)
var (
	hereStall = 50 * time.Millisecond
	hereOff   = 10 * time.Second
)

// pairGap is how soon after the last full block the next must come for
// a caller that writes blocks itself (writeHere) to hold it back and
// write it with the next, in one write (issue): some 400 000 v5 flows/s
// or more (a block every 12 ms at 800 000). No timer hands such a block
// over alone: arming one for each pair woke the runtime's netpoller
// (the loop holding every other block with a Go timer of its own: 1.03
// of the CPU a flow at 200 000 v5 flows/s, 730 context switches a run
// against 660). The next block takes it, or a Flush, Park or stop, or
// the caller's HandHeld once it is holdFor old: a collector's, once a
// second, so what a crash may lose stays what its Flush bounds. Below
// this rate (200 000 v5 flows/s: a block every 48 ms) each block is
// written alone, as before. (A variable for the tests.)
var pairGap = 25 * time.Millisecond

// HandHeld hands over a full block held back for the next one (hand)
// since holdFor before now or longer, if any: a caller whose blocks may
// stop coming calls it from time to time (a collector, once a second).
func (w *Writer) HandHeld(now time.Time) {
	w.waitMu.Lock()
	if j := w.waiting; j != nil && now.Sub(w.heldAt) >= holdFor {
		w.waiting = nil
		w.order <- j
	}
	w.waitMu.Unlock()
}

// release hands the block held back (hand) to the pipeline, if any.
func (w *Writer) release() {
	w.waitMu.Lock()
	if j := w.waiting; j != nil {
		w.waiting = nil
		w.order <- j
	}
	w.waitMu.Unlock()
}

// prepare readies the uncompressed block j for the write goroutine.
func (w *Writer) prepare(j *writeJob) {
	// The records follow the header's room in buf, unless a record
	// too large for the block's slack moved them (never, as added
	// keeps a block within WriteBlockSize and a record within 64
	// KiB; but then they are copied, not lost).
	if unsafe.SliceData(j.payload) != unsafe.SliceData(j.buf[blockHeaderSize:]) {
		j.buf = append(j.buf[:blockHeaderSize], j.payload...)
		j.payload = j.buf[blockHeaderSize:]
	}
	j.block = j.buf[:blockHeaderSize+len(j.payload)]
	j.data = j.block[blockHeaderSize:]
	w.nextOff += int64(len(j.block))
	j.ready <- struct{}{}
}

// added finishes a record appended at start: if it pushed the block past
// WriteBlockSize, the record moves to a new block.
func (w *Writer) added(start int) {
	if len(w.cur.payload) > WriteBlockSize && start > 0 {
		w.moveLast(start)
	}
	w.cur.nrec++
}

// moveLast moves the records from start on, the last of the current
// block (64 KiB at the most), into a new block, and hands the old one to
// the disk.
//
// The records are copied from the old block's buffer once the old block
// has left: nothing writes to a block's buffer between its hand-over and
// its return through free (the compressor and the disk only read it, and
// only up to start), and when the new block is the old one come back,
// the copy moves the records down within the buffer. Copied out to a
// stack array of 64 KiB first and back, the array was zeroed at every
// block (perf of gocapd at 800 000 v5 flows/s: some 0.3% of its samples
// in moveLast itself).
func (w *Writer) moveLast(start int) {
	j := w.cur
	moved := j.payload[start:]
	j.payload = j.payload[:start]
	w.flush()
	w.cur.payload = append(w.cur.payload, moved...)
}

func (w *Writer) check() error {
	if w.finished {
		return errors.New("flowfile: write to a finished writer")
	}
	if w.parked {
		return errors.New("flowfile: write to a parked writer")
	}
	return w.failed()
}

// WriteFlow appends a flow record and counts it in the file's statistics.
func (w *Writer) WriteFlow(r *flow.Record) error {
	if err := w.check(); err != nil {
		return err
	}
	switch w.opts.Count {
	case CountNfdump:
		w.stat.AddNfdump(r)
	case CountNfcapd:
		w.stat.AddNfcapd(r)
	}
	start := len(w.cur.payload)
	w.cur.payload = appendV3(w.cur.payload, r, &w.layout)
	w.added(start)
	return nil
}

// WriteV3 appends a flow that is already a V3 record (a collector's
// decoder encodes the flows of common templates itself): rec must be
// exactly what WriteFlow writes for the flow, as it is not checked. It
// counts nothing into the file's statistics, whatever WriteOptions.Count
// says.
func (w *Writer) WriteV3(rec []byte) error {
	return w.CommitV3(copy(w.V3Space(), rec))
}

// V3Space returns the room after the records of the current block, at
// least 64 KiB, for a V3 record to be encoded in place and then appended
// by CommitV3: a collector's decoder encodes its records there rather
// than into a buffer of its own that WriteV3 would copy (a copy of every
// flow's bytes, a sixth of the decoder's time). Bytes written past the
// record are ignored. The room is valid until the next call that writes
// or flushes.
func (w *Writer) V3Space() []byte {
	// added keeps a block at most WriteBlockSize long, and a block's
	// buffer holds 64 KiB more (reset).
	p := w.cur.payload
	return p[len(p):cap(p)]
}

// CommitV3 appends the V3 record of n bytes at the start of V3Space, as
// WriteV3 appends one.
func (w *Writer) CommitV3(n int) error {
	if err := w.check(); err != nil {
		return err
	}
	start := len(w.cur.payload)
	w.cur.payload = w.cur.payload[:start+n]
	w.added(start)
	return nil
}

// FitsV3s reports whether CommitV3s(ends) would keep all the records in
// the block being filled: when not, it hands that block to the disk, and
// the bytes V3Space held are no longer the caller's to read.
func (w *Writer) FitsV3s(ends []uint32) bool {
	n := len(ends)
	return n == 0 || len(w.cur.payload)+int(ends[n-1]) <= WriteBlockSize
}

// CommitV3s appends the len(ends) V3 records at the start of V3Space,
// back to back, record i ending at ends[i], as CommitV3 appends them one by
// one: the records from the first that would take the block past
// WriteBlockSize on move to a new block. It returns how many stayed in the
// block being filled before: len(ends) when no new block began.
func (w *Writer) CommitV3s(ends []uint32) (int, error) {
	if err := w.check(); err != nil {
		return 0, err
	}
	n := len(ends)
	if n == 0 {
		return 0, nil
	}
	start := len(w.cur.payload)
	w.cur.payload = w.cur.payload[:start+int(ends[n-1])]
	if len(w.cur.payload) <= WriteBlockSize {
		w.cur.nrec += uint32(n)
		return n, nil
	}
	// The first record that ends past the limit moves, unless it would
	// leave the block empty: as CommitV3 keeps a record alone in a block
	// whatever its size.
	i, at := 0, start
	for start+int(ends[i]) <= WriteBlockSize {
		at = start + int(ends[i])
		i++
	}
	if at == 0 {
		at = int(ends[0])
		i++
	}
	w.cur.nrec += uint32(i)
	if i < n {
		w.moveLast(at)
		w.cur.nrec += uint32(n - i)
	}
	return i, nil
}

// WriteExporter appends an exporter info record. Flows, samplers and stats
// that refer to its SysID must come after it.
func (w *Writer) WriteExporter(e *flow.Exporter) error {
	if err := w.check(); err != nil {
		return err
	}
	start := len(w.cur.payload)
	w.cur.payload = appendExporter(w.cur.payload, e)
	w.added(start)
	return nil
}

// WriteSampler appends a sampler record.
func (w *Writer) WriteSampler(s *flow.Sampler) error {
	if err := w.check(); err != nil {
		return err
	}
	start := len(w.cur.payload)
	w.cur.payload = appendSampler(w.cur.payload, s)
	w.added(start)
	return nil
}

// WriteExporterStats appends exporter statistics, split into as many
// records as the 64 KiB record size needs.
func (w *Writer) WriteExporterStats(stats []flow.ExporterStat) error {
	for len(stats) > 0 {
		if err := w.check(); err != nil {
			return err
		}
		n := min(len(stats), maxExporterStats)
		start := len(w.cur.payload)
		w.cur.payload = appendExporterStats(w.cur.payload, stats[:n])
		w.added(start)
		stats = stats[n:]
	}
	return nil
}

// Copy writes every record r has left, in order: flows, exporters,
// exporter stats and samplers. It returns the error that ended reading, if
// any, or the first write error. The statistics and ident of r's file are
// not copied; set them with Stat and SetIdent.
func (w *Writer) Copy(r *Reader) error {
	for r.Next() {
		var err error
		switch r.Kind() {
		case KindFlow:
			err = w.WriteFlow(r.Flow())
		case KindExporter:
			err = w.WriteExporter(r.Exporter())
		case KindExporterStat:
			err = w.WriteExporterStats(r.ExporterStats())
		case KindSampler:
			err = w.WriteSampler(r.Sampler())
		}
		if err != nil {
			return err
		}
	}
	return r.Err()
}

// Flush hands the records written so far to the disk as a block of their
// own, if there are any, without waiting for the write. A collector calls
// it every few seconds, so that a crash loses at most the records of that
// time: Recover reads the blocks of a file that was never closed.
func (w *Writer) Flush() error {
	if err := w.check(); err != nil {
		return err
	}
	w.cur.short = w.cur.nrec > 0
	w.flush()
	w.release()
	return nil
}

// Queued returns how many blocks the writer has handed to the disk so far,
// full ones and those of Flush: a caller that sees it change knows that
// the records it wrote before are in blocks of their own.
func (w *Writer) Queued() uint64 { return w.queued }

// Ready reports whether the next block can be handed to the disk without
// waiting for the write or compression of an earlier one: a caller that
// must not wait (a collector's receive loop) writes at most a block's
// worth of records while it is.
//
// At 4 M v5 flows/s the receive loop found a writer not Ready before 31-39%
// of its batches (a pair in flight, one held, one filling), and those
// went to the worker through a chunk. Tried and not kept (gocapd against
// the build before, 5 alternating pairs of 5 s runs each): Ready also
// while the block being filled has 64 KiB of room left, 1.02 at 4 M and
// at 800 000; two more jobs (and five buffers a region), 1.03 and 1.08,
// peak RSS 0.8-1.1 MB more; two more jobs alone, 0.97 at 4 M for 3.5 MB
// more peak RSS.
func (w *Writer) Ready() bool { return len(w.free) > 0 }

// Written returns how many blocks are on disk; it may be read while the
// blocks are written.
func (w *Writer) Written() uint64 { return w.written.Load() }

// Finish hands the last block to the disk, waits until every block is
// written and stops the writer's goroutines; nothing can be written
// afterwards, and Close completes the file. When a block could not be
// written, Finish cuts the file after the last block written whole,
// rewrites the header to count those blocks (without an appendix, so the
// file reads like one a crash left) and returns the write error. It
// returns the number of blocks in the file: the first of those Queued
// counted; the records of the others are lost.
func (w *Writer) Finish() (uint64, error) {
	err := w.stop()
	if err != nil {
		w.acked = true
	}
	return uint64(w.hdr.NumBlocks), err
}

// stop is Finish without telling the caller.
func (w *Writer) stop() error {
	if !w.finished {
		if !w.parked {
			w.flush()
			w.release()
			w.free <- w.cur
		}
		if w.holdTimer != nil {
			w.holdTimer.Stop()
		}
		close(w.work)
		close(w.order)
		w.wg.Wait()
		w.stopDirect()
		w.finished = true
		w.giveBufs()
		if w.werr != nil {
			if err := w.salvage(); err != nil {
				w.werr = fmt.Errorf("%w; %v", w.werr, err)
			}
		}
	}
	return w.werr
}

// salvage cuts the file after its last whole block and rewrites the header
// to count the blocks, without an appendix.
func (w *Writer) salvage() error {
	if t, ok := w.dst.(interface{ Truncate(int64) error }); ok {
		if err := t.Truncate(w.off); err != nil {
			return fmt.Errorf("%s: truncate: %w", w.path, err)
		}
	}
	w.hdr.AppendixBlocks, w.hdr.OffAppendix = 0, 0
	var hb [HeaderSize]byte
	w.hdr.marshal(hb[:])
	if _, err := w.dst.WriteAt(hb[:], 0); err != nil {
		return fmt.Errorf("%s: header: %w", w.path, err)
	}
	return nil
}

// Stat returns the statistics that Close will store. WriteFlow counts every
// flow into it as WriteOptions.Count says; a caller may add to it
// (sequence failures) or set it (with CountNone).
func (w *Writer) Stat() *Stat { return &w.stat }

// SetIdent changes the ident that Close will store.
func (w *Writer) SetIdent(ident string) error {
	if err := CheckIdent(ident); err != nil {
		return err
	}
	w.opts.Ident = ident
	return nil
}

// Name returns the path the file is being written to.
func (w *Writer) Name() string { return w.path }

// Close finishes the file (see Finish), writes the appendix (ident and
// stat) and the final header, syncs the file to disk and closes it. It
// returns the error of a block that could not be written, unless Finish
// already returned it. When the appendix cannot be written, the file is
// left as Finish leaves a failed one, still open, and Close may be called
// again.
func (w *Writer) Close() error {
	if w.closed {
		return errors.New("flowfile: writer already closed")
	}
	werr := w.stop()
	if w.acked {
		werr = nil
	}
	if err := w.finish(); err != nil {
		if serr := w.salvage(); serr != nil {
			err = fmt.Errorf("%w; %v", err, serr)
		}
		if werr != nil {
			err = fmt.Errorf("%w; %v", werr, err)
		}
		return err
	}
	w.closed = true
	if w.file != nil {
		err := w.file.Sync()
		if cerr := w.file.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return werr
}

// finish writes the appendix block and the final header.
func (w *Writer) finish() error {
	c, err := newCompressor(w.opts.Compression, w.opts.Level)
	if err != nil {
		return err
	}
	payload := appendIdent(nil, w.opts.Ident)
	payload = appendStat(payload, &w.stat)
	data, err := c.compress(nil, payload)
	if err != nil {
		return fmt.Errorf("%s: appendix: %w", w.path, err)
	}
	var bh [blockHeaderSize]byte
	(&blockHeader{NumRecords: 2, Size: uint32(len(data)), Type: blockTypeV3}).marshal(bh[:])
	if _, err := w.dst.WriteAt(bh[:], w.off); err != nil {
		return fmt.Errorf("%s: appendix: %w", w.path, err)
	}
	if _, err := w.dst.WriteAt(data, w.off+blockHeaderSize); err != nil {
		return fmt.Errorf("%s: appendix: %w", w.path, err)
	}
	w.hdr.AppendixBlocks = 1
	w.hdr.OffAppendix = w.off
	var hb [HeaderSize]byte
	w.hdr.marshal(hb[:])
	if _, err := w.dst.WriteAt(hb[:], 0); err != nil {
		return fmt.Errorf("%s: header: %w", w.path, err)
	}
	return nil
}

// Rename moves the file being written to path on the same file system;
// writing goes on into it. A collector moves its open file aside at a
// rotation so that the next file can take the nfcapd.current name at once,
// and closes it later with CloseAs.
func (w *Writer) Rename(path string) error {
	if w.file == nil {
		return errors.New("flowfile: Rename needs a writer made by Create")
	}
	if err := os.Rename(w.path, path); err != nil {
		return err
	}
	// The write goroutine names the file in its errors.
	w.mu.Lock()
	w.path = path
	w.mu.Unlock()
	return nil
}

// CloseAs closes the file and renames it to final, so that a reader never
// sees a half-written file under its final name: collectors write to
// nfcapd.current.<pid> and close into nfcapd.YYYYMMDDhhmm. The directory is
// synced so the rename survives a crash.
func (w *Writer) CloseAs(final string) error {
	if err := w.Close(); err != nil {
		return err
	}
	return Replace(w.path, final)
}

// Replace renames the finished file src to final, replacing what final
// held at once, and syncs the directory so the rename survives a crash.
func Replace(src, final string) error {
	if err := os.Rename(src, final); err != nil {
		return err
	}
	return syncDir(filepath.Dir(final))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// CurrentName is the name a collector writes its open file under,
// nfcapd.current.<pid>; nfdump skips such files when reading directories.
func CurrentName(pid int) string { return fmt.Sprintf("nfcapd.current.%d", pid) }

// IsCurrentName reports whether path names a collector's open file (its
// base name starts with nfcapd.current, as nfdump tests it).
func IsCurrentName(path string) bool {
	return strings.HasPrefix(filepath.Base(path), "nfcapd.current")
}

// Park hands the block being filled to the disk, if it holds records,
// and gives the block buffers of the writer's idle blocks back to
// directBufs at once, and those of the blocks still on their way to the
// disk as their writes end, without waiting for them: nothing more is
// written, and Finish and Close end the file as before (they may run in
// another goroutine, after this one handed the writer over). A
// collector parks its file at a rotation before it opens the next,
// whose writer then takes the same buffers: with the buffers given back
// only when the closer finished the old file, the next writer found
// none free and mapped a second region, 3.4 MB that gocapd kept for
// good from its first rotation on.
func (w *Writer) Park() {
	if w.parked || w.finished {
		return
	}
	w.parked = true
	if w.cur.nrec > 0 {
		w.hand()
	} else {
		w.free <- w.cur
	}
	w.release()
	w.cur = &writeJob{payload: make([]byte, 0, 64*1024), ready: make(chan struct{}, 1)}
	w.parkMu.Lock()
	w.giveBack = true
	for range len(w.free) {
		j := <-w.free
		if j.pooled {
			w.giveBuf(j)
		}
		w.free <- j
	}
	// The others come back through retire.
	parkedBufs(w.held)
	w.parkMu.Unlock()
}

// giveBuf gives job j's block buffer back to directBufs.
func (w *Writer) giveBuf(j *writeJob) {
	giveDirectBuf(j.base)
	j.base, j.buf, j.payload, j.block, j.data, j.pooled = nil, nil, nil, nil, nil, false
	w.held--
}

// giveBufs gives the block buffers of a stopped writer's jobs, all idle,
// back to directBufs. V3Space's room lies in the current job's buffer, so
// the writer keeps a small one of its own there, for a caller that asks
// after it stopped.
func (w *Writer) giveBufs() {
	for range len(w.free) {
		j := <-w.free
		if j.pooled {
			w.giveBuf(j)
		}
		w.free <- j
	}
	if w.cur.payload == nil {
		w.cur = &writeJob{payload: make([]byte, 0, 64*1024), ready: make(chan struct{}, 1)}
	}
}
