package flowfile

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"unsafe"
	"weak"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/fileopen"
	"github.com/nfgo/nftools/internal/region"
)

// Kind says what the record at the reader's position is.
type Kind uint8

// The record kinds a Reader hands out. Records of other types are skipped
// and counted in Skipped.Records.
const (
	KindFlow         Kind = iota + 1 // a V3 flow record: Reader.Flow
	KindExporter                     // exporter info: Reader.Exporter
	KindExporterStat                 // exporter statistics: Reader.ExporterStats
	KindSampler                      // sampler: Reader.Sampler
	KindBlock                        // a block's visited flows: Reader.Block (ReadOptions.Visit)
)

// BlockVisitor sees the flow records of one data block in a reader's
// worker (see ReadOptions.Visit): a caller counts there what it would
// count from Reader.Flow, and merges the per-block results in file order
// when Next hands the visitor out.
type BlockVisitor interface {
	// Reset readies the visitor for a new block; it runs in a worker.
	Reset()
	// Flow is called in a worker for each good flow record of the block
	// that passed ReadOptions.Select, in file order. The Record belongs to the worker, which decodes the
	// next flow over it.
	Flow(r *flow.Record)
}

// RawVisitor is a BlockVisitor that can also take flow records from
// their bytes, which saves decoding them. For each record layout the
// workers meet they ask it once for a plan (RawPlan), and then hand each
// record of that layout to FlowRaw with the plan instead of decoding it
// for Flow; records of a layout it has no plan for, and some others (the
// first of each layout), still come decoded, through Flow.
type RawVisitor interface {
	BlockVisitor
	// RawPlan returns the visitor's plan for the V3 records stored as l
	// says, whose aggregated flow count (0 standing for 1) is the
	// little-endian 64-bit number at offset flows (0: they carry none,
	// each is one flow), or nil to have them decoded. It must not depend
	// on which of a reader's visitors (ReadOptions.Visit) is asked: the
	// plan serves them all.
	RawPlan(l *flow.Layout, flows uint16) any
	// FlowRaw does for rec, a whole record stored as the plan's layout
	// says, what Flow does for the record it decodes into.
	FlowRaw(plan any, rec []byte)
}

// Skipped counts what a reader passed over without failing: elements and
// records this package does not model, and blocks of types nfdump does not
// process either. When ReadOptions.Limit ends reading inside a block,
// Elements may count that whole block.
type Skipped struct {
	Elements uint64
	Records  uint64
	Blocks   uint64
}

// ReadOptions tune a Reader. The zero value is right for most callers.
type ReadOptions struct {
	// Workers is the number of goroutines that decompress blocks; 0 means
	// one per CPU.
	Workers int
	// Recover reads a file whose writer died: every complete block from
	// the header up to the end of the file (or to the appendix) is read,
	// whatever the header's block count says, and a block cut short by
	// the crash ends the file without an error. nfcapd leaves such files as
	// nfcapd.current.<pid>, with a provisional header that counts no block.
	Recover bool
	// Elements selects the V3 elements whose fields Flow fills, for a
	// caller that looks at a few fields only (a summary needs the generic
	// and counter elements): the others are still checked and listed in
	// Record.Elements, but not decoded, and their fields stay zero. Zero
	// means every element.
	Elements flow.Elements
	// Tally makes the reader count the flow records instead of handing
	// them out: the workers that decompress the blocks sum each block's
	// flows that pass as a summary needs them (flow.Totals), in parallel,
	// and Next returns only exporter, exporter stat and sampler records. A
	// damaged record ends reading after the flows before it were counted,
	// as without Tally.
	Tally bool
	// Visit makes the workers hand each flow record, as they decode it,
	// to a BlockVisitor of its block instead of the reader handing the
	// flows out, and implies Tally. Next returns KindBlock once for each
	// data block with good flow records, in file order, with Reader.Block
	// the block's visitor, which stays the caller's until the next call to
	// Next; the block's exporter, exporter stat and sampler records come
	// after it. A damaged record ends reading, as without Visit, after
	// the block of the flows before it. The reader calls Visit (on the
	// goroutine that calls Next) for each block buffer it uses, a few per
	// reader; Elements then selects what the workers decode, with at
	// least the elements flow.Totals reads.
	Visit func() BlockVisitor
	// Release, if set, gets back every visitor Visit made when the reader
	// closes (on the goroutine that calls Close), so that a caller can
	// reuse them with the next file.
	Release func(BlockVisitor)
	// Select, if set, picks the flow records that pass: Next hands out,
	// Tally sums and visitors see only those. The workers run it on the
	// elements it reads (in any mode, also when Next hands the flows out),
	// and Next decodes only the flows that passed; every flow record counts
	// as processed (Reader.Processed). Without it every flow passes.
	Select Selector
	// Limit ends reading once this many flow records passed (nfdump -c),
	// right after the last of them, in every mode; 0 means no limit.
	Limit uint64
	// Number is the running number of the flow before this file's first
	// one: the flows the caller's run processed in the files before. The
	// reader numbers this file's flows on from there (Reader.Number, and
	// the n a NumberedSelector gets).
	Number uint64
	// Pipeline, if set, carries the reader's blocks through workers that
	// go on to the next reader opened on it (see Pipeline): the reader
	// then starts reading as it opens, and Workers is the Pipeline's.
	Pipeline *Pipeline
}

// Reader reads one flow file. Records come out in file order through Next;
// the Flow, Exporter, ExporterStats and Sampler results stay valid until the
// next call to Next. A Reader is not safe for concurrent use.
type Reader struct {
	name     string
	src      io.ReaderAt
	mapped   []byte   // the file, mapped for the workers to decompress from (mapFile)
	file     *os.File // the file mapped, to tell a cut from damage (unpack)
	size     int64
	closer   io.Closer
	hdr      Header
	ident    string
	hasIdent bool
	stat     Stat
	warnings []error

	jobs      []*readJob    // every job, to give back to jobPool at Close
	order     chan *readJob // blocks in file order, filled by produce
	free      chan *readJob // jobs ready for reuse
	quit      chan struct{}
	closeOnce sync.Once
	closed    bool
	wg        sync.WaitGroup

	cur  *readJob
	pos  int
	left uint32

	kind  Kind
	rec   flow.Record
	exp   flow.Exporter
	stats []flow.ExporterStat
	smp   flow.Sampler

	skipped   Skipped
	bytesRead uint64
	err       error
	recover   bool
	opts      ReadOptions
	started   bool          // the block pipeline runs from the first Next on
	want      flow.Elements // the elements decodeV3 decodes
	dec       *v3Decoder    // decodes them in Next, from decoderPool when it does
	tallying  bool          // ReadOptions.Tally or ReadOptions.Visit
	loose     bool          // the workers own the block buffers (start)
	tally     flow.Totals   // of the flows that passed
	scanWant  flow.Elements // the elements the workers decode when they scan
	block     BlockVisitor  // the visitor Next handed out (KindBlock)

	// Selection: the workers scan every data block (scanBlock) when the
	// reader tallies or selects. Without Tally or Visit they only mark the
	// flows that pass, and Next decodes just those.
	sel       Selector
	nsel      NumberedSelector
	rsel      RawSelector // sel, when the workers may test the records' bytes
	seq       *sequencer  // the blocks' running numbers, for nsel
	scanning  bool
	marking   bool
	dataSeq   uint64 // the producer's count of data blocks, for seq
	processed uint64
	passed    uint64
	stopped   bool          // ReadOptions.Limit was reached
	scratch   *tallyScratch // for counting a block again up to the limit
	// Every scratch the reader took, to give back to scratchPool at
	// Close; the workers take theirs as they start.
	scratchMu sync.Mutex
	scratches []*tallyScratch

	// drop gives the mapped blocks' pages back once decompressed.
	drop dropper

	// With a Pipeline, the pipeline, and when the producer may start (the
	// reader before it has queued its blocks) and when it ended.
	pipe     *Pipeline
	after    <-chan struct{}
	produced chan struct{}
}

// readJob is one block on its way from the disk to the consumer.
type readJob struct {
	r       *Reader // whose block it is
	index   int
	offset  int64
	hdr     blockHeader
	buf     *blockBuf // the block's bytes, while the job has them
	payload []byte    // what the consumer walks: buf.out, or buf.raw when stored plain
	size    int       // the payload's length, also once a loose reader dropped it
	extra   []byte    // a loose reader's copy of the block's other records (keepOther)
	nother  uint32    // and their number
	skip    bool      // a block type nfdump does not process
	err     error
	ready   chan struct{}

	// When the workers scan, the worker's count of the block.
	tally     flow.Totals // of the flows that passed (Tally, Visit)
	pass      []uint64    // a bit per record that passed (marking)
	elements  uint64      // elements skipped
	good      uint32      // records before the first damaged one
	recErr    error       // the damaged record's error
	other     bool        // the good records include other than flows
	otherEnd  uint32      // the records up to the last of them
	processed uint64      // flow records
	passed    uint64      // flow records that passed
	seq       uint64      // the data block's index, for the sequencer
	base      uint64      // the running number before the block (numbered)
	// With ReadOptions.Visit, the block's visitor; it belongs to the
	// reader that set it, from start to Close.
	visitor BlockVisitor
	// labels holds, when marking, the flow label the selector gave each
	// record that passed (by record number), once one had a label: the
	// flow Next decodes again gets it back.
	labels  []string
	labeled bool
}

// tallyScratch holds what a worker decodes records into while it counts a
// block.
type tallyScratch struct {
	dec   v3Decoder
	rec   flow.Record
	exp   flow.Exporter
	stats []flow.ExporterStat
	smp   flow.Sampler
}

// jobPool keeps jobs between readers, and freeBufs their block buffers:
// reading a file set opens one reader per file, and fresh megabyte buffers
// for each would only be faulted in again (see carve). The buffers are
// kept in a list of their own, as a sync.Pool would keep one on each
// processor, out of reach of a reader taking buffers on another, which
// then maps a new one: a third megabyte buffer where two are enough.
// Like a sync.Pool's, they are kept until the garbage collector runs
// (weak pointers; carve's cleanup unmaps them), so that a long-running
// program (gocapd, which reads files when it starts) does not keep them
// resident.
var (
	jobPool  = sync.Pool{New: func() any { return &readJob{ready: make(chan struct{}, 1)} }}
	freeBufs struct {
		sync.Mutex
		list []weak.Pointer[blockBuf]
	}
)

// bufsMade counts the block buffers made, for the tests.
var bufsMade atomic.Int64

// blockBuf holds a block on its way through a worker: as stored (raw) and
// decompressed (out).
type blockBuf struct {
	mem []byte // where raw and out are carved from (carve)
	raw []byte
	out []byte
}

// newBuf takes a block buffer from freeBufs, carved for blocks of
// compression c, or a new one from the arena (see carve).
func newBuf(c Compression) *blockBuf {
	var b *blockBuf
	freeBufs.Lock()
	for b == nil && len(freeBufs.list) > 0 {
		n := len(freeBufs.list)
		b = freeBufs.list[n-1].Value()
		freeBufs.list = freeBufs.list[:n-1]
	}
	freeBufs.Unlock()
	if b == nil {
		b = new(blockBuf)
	}
	b.carve(c)
	return b
}

// putBuf gives b back to freeBufs.
func putBuf(b *blockBuf) {
	freeBufs.Lock()
	freeBufs.list = append(freeBufs.list, weak.Make(b))
	freeBufs.Unlock()
}

// outRoom is the room a job's buffers leave for a decompressed block: what
// a writer puts in one (WriteBlockSize), and an eighth more, as growing
// tries first.
const outRoom = WriteBlockSize + WriteBlockSize/8

// slotSize is the memory of a block buffer: room for a decompressed block
// (outRoom) and for the stored one, which LZ4 makes about 400 kB of a
// megabyte of flows.
const slotSize = outRoom + 512<<10

// arena is where the block buffers' slots are carved from: regions of two
// slots (arenaSize) in small pages (region.MapSmall).
var arena struct {
	sync.Mutex
	rest []byte // what is left of the last region
}

const arenaSize = 2 * slotSize

// carve points the buffers into their memory, a slot of slotSize bytes
// outside Go's heap that it takes from the arena the first time: on Go's
// heap, the megabytes of two blocks' buffers set off a garbage collection
// in a run that allocates little else. The slots take small pages, some 300
// page faults a slot (1.1-1.7 us each on the benchmark machine). A reader
// that only counted the flows took them from regions whose first 2 MiB were
// a huge page, one fault; but on the benchmark machine, a VM that hands
// free memory back to its host (region.MapSmall), a huge page's first touch
// took 0.25-0.6 ms when its memory had been freed lately and 3 to 48 ms
// when it had not, in the first block of a worker (a test program touching
// 2 MiB, runs 0.3 and 2.5 s apart). Over runs in turn of godump -o null on
// the border-shaped archive (in-process clocks, SCHED_FIFO, load 9), both
// workers had decompressed their first block after 1.71 ms with the huge
// page and 1.61 with small pages (median of 15), 24.2 and 1.8 at the most,
// and read the archive in 72.5 and 72.6 ms (median), 93.4 and 73.2 at the
// most; in a second set of 30 (load 6-9) in 84.6 and 78.1 ms (median), 93.5
// and 83.4 (mean). The first blocks of -s srcip/bytes there took 2.74 and
// 2.85 ms (median), 27.5 and 3.1 at the most; home's -o null read 58.1 and
// 58.2 ms (median), 64.4 and 58.7 at the most. With a job for each worker
// only, as -s has (Reader.start), the other worker waits meanwhile: in an
// execution trace of -s srcip/bytes 'proto tcp' over the filter bench's
// archive, one worker decompressed its first block into the huge page for
// 24.5 ms while the other, done with its own after 2 ms, waited for a job.
// Against the build with the huge page, the CPU time was 0.997 on border's
// -o null, 0.999 on home's and 1.010 on border's -s (task-clock, median of
// 40, 30 and 20 paired runs), and -o null peaked at 8.6 MB instead of 9.2
// on border, 8.4 instead of 9.0 on home (median of 9; nfdump: 10.7-10.9).
// The decompressed block takes the first outRoom bytes and the stored block
// the rest; a block too large for its place gets a buffer on the heap
// (readBlock, growing), and a file stored plain reads its blocks into the
// whole slot. Each slot is unmapped on its own when its buffer is
// collected.
func (b *blockBuf) carve(c Compression) {
	if b.mem == nil {
		bufsMade.Add(1)
		arena.Lock()
		if len(arena.rest) < slotSize {
			mem, mapped := region.MapSmall(arenaSize)
			if !mapped {
				mem = nil // Go's heap: a slot of its own below
			}
			arena.rest = mem
		}
		if len(arena.rest) >= slotSize {
			b.mem = arena.rest[:slotSize:slotSize]
			arena.rest = arena.rest[slotSize:]
			runtime.AddCleanup(b, region.Free, b.mem)
		} else {
			b.mem = make([]byte, slotSize)
		}
		arena.Unlock()
	}
	if c == None {
		b.raw, b.out = b.mem[:0], nil
		return
	}
	b.out, b.raw = b.mem[:0:outRoom], b.mem[outRoom:outRoom]
}

// Open opens the flow file at path.
func Open(path string, opts ReadOptions) (*Reader, error) {
	f, err := fileopen.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s: is a directory", path)
	}
	r, err := newReader(newCachedFile(f), fi.Size(), path, f, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// NewReader reads a flow file of size bytes from src; name is used in
// errors. Close stops its goroutines but does not close src.
func NewReader(src io.ReaderAt, size int64, name string, opts ReadOptions) (*Reader, error) {
	return newReader(src, size, name, nil, opts)
}

// newReader is NewReader for src, which Open opened as f (nil for
// NewReader's callers), which it maps if it can and the file's blocks
// are worth it.
func newReader(src io.ReaderAt, size int64, name string, f *os.File, opts ReadOptions) (*Reader, error) {
	r := &Reader{name: name, src: src, size: size}
	var hb [HeaderSize]byte
	if n, err := src.ReadAt(hb[:], 0); n < HeaderSize {
		if err == nil || err == io.EOF {
			return nil, r.formatErr(0, -1, fmt.Sprintf("file of %d bytes is too short for a flow file", size))
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	r.hdr.unmarshal(hb[:])
	if err := r.hdr.check(); err != nil {
		return nil, r.formatErr(0, -1, err.Error())
	}
	r.tallying = opts.Tally || opts.Visit != nil
	if r.hdr.AppendixBlocks > 0 {
		r.readAppendix()
	}
	r.recover = opts.Recover
	r.opts = opts
	r.want = opts.Elements
	if r.want == 0 {
		r.want = allElements
	}
	// Next sums the flows it hands out, and every flow comes with its
	// label (cheap: few flows carry one), so that no label stays on the
	// flows after a labelled one.
	r.want |= flow.TotalsElements | 1<<flow.ElemLabel
	r.sel = forIdent(opts.Select, r.ident, r.hasIdent)
	r.nsel, _ = r.sel.(NumberedSelector)
	r.rsel = rawSelector(r.sel)
	r.marking = r.sel != nil && !r.tallying
	r.scanning = r.tallying || r.marking
	if r.sel != nil {
		r.scanWant = r.sel.Reads()
	}
	if r.tallying {
		r.scanWant |= flow.TotalsElements
		if opts.Visit != nil {
			r.scanWant |= r.want
		}
	}
	if f != nil && mapsBlocks(r.hdr.Compression) {
		// Before the workers start: a Pipeline's start at once.
		if r.mapped = mapFile(f, size); r.mapped != nil {
			r.file = f
		}
	}
	if p := opts.Pipeline; p.takes(r, opts) {
		r.startPiped(p)
	}
	return r, nil
}

// mapsBlocks reports whether the workers decompress the blocks of files
// of compression c from the file's mapping (mapFile), where they can.
// LZ4 and LZO only: their decompressors keep no state from one block to
// the next, so one that a fault (a file cut short under the mapping)
// interrupts is as good as before. A file stored plain is walked by the
// producer and Next, which run on other goroutines (and the caller's), so
// it is read; BZ2 decompresses at a few MB/s, where the copy does not
// count, and ZSTD's decoder keeps state a fault could break.
func mapsBlocks(c Compression) bool { return c == LZ4 || c == LZO }

func (r *Reader) formatErr(off int64, block int, msg string) error {
	return &FormatError{File: r.name, Offset: off, Block: block, Msg: msg}
}

// Name returns the file name the reader was opened with.
func (r *Reader) Name() string { return r.name }

// Header returns the file header.
func (r *Reader) Header() Header { return r.hdr }

// Ident returns the file's ident string and whether the file has one.
func (r *Reader) Ident() (string, bool) { return r.ident, r.hasIdent }

// Stat returns the statistics record from the appendix (zero if the file
// has none).
func (r *Reader) Stat() Stat { return r.stat }

// Warnings returns problems that did not stop reading, such as a damaged
// appendix: the flows are still there, only the ident and stat are lost.
func (r *Reader) Warnings() []error { return r.warnings }

// Skipped returns what was passed over so far.
func (r *Reader) Skipped() Skipped { return r.skipped }

// BytesRead returns the uncompressed payload bytes of the data blocks read
// so far (nfdump's "Bytes read").
func (r *Reader) BytesRead() uint64 { return r.bytesRead }

// Kind returns the kind of the current record.
func (r *Reader) Kind() Kind { return r.kind }

// Flow returns the current flow record (valid when Kind is KindFlow). The
// Record belongs to the reader, which decodes the next flow over it: a
// caller may read it or copy it, but must not change it.
func (r *Reader) Flow() *flow.Record { return &r.rec }

// Exporter returns the current exporter record.
func (r *Reader) Exporter() *flow.Exporter { return &r.exp }

// ExporterStats returns the entries of the current exporter stat record.
func (r *Reader) ExporterStats() []flow.ExporterStat { return r.stats }

// Sampler returns the current sampler record.
func (r *Reader) Sampler() *flow.Sampler { return &r.smp }

// Block returns the visitor of the current block (valid when Kind is
// KindBlock, until the next call to Next).
func (r *Reader) Block() BlockVisitor { return r.block }

// Tally returns the sums of the flow records that passed so far: those
// Next handed out, or those the workers counted with ReadOptions.Tally or
// ReadOptions.Visit.
func (r *Reader) Tally() flow.Totals { return r.tally }

// Processed returns the number of flow records read so far, passed or not,
// up to the one that reached ReadOptions.Limit.
func (r *Reader) Processed() uint64 { return r.processed }

// Passed returns the number of flow records that passed so far.
func (r *Reader) Passed() uint64 { return r.passed }

// Number returns the running number of the current flow (ReadOptions.Number
// plus its place among this file's flow records), which nfdump prints as
// %cnt and tests with the count filter.
func (r *Reader) Number() uint64 { return r.opts.Number + r.processed }

// Pipelined reports whether the reader reads through its
// ReadOptions.Pipeline.
func (r *Reader) Pipelined() bool { return r.pipe != nil }

// Err returns the error that ended reading, if any. Records delivered
// before it are good.
func (r *Reader) Err() error { return r.err }

// readAppendix loads the ident and stat records. Problems here are only
// warnings: nfdump too reads the flows of a file whose appendix is lost.
func (r *Reader) readAppendix() {
	off := r.hdr.OffAppendix
	if off < HeaderSize || off >= r.size {
		r.warnings = append(r.warnings, r.formatErr(off, -1,
			fmt.Sprintf("invalid appendix offset %d (file size %d)", off, r.size)))
		return
	}
	dec, err := newDecompressor(r.hdr.Compression)
	if err != nil {
		r.warnings = append(r.warnings, r.formatErr(0, -1, err.Error()))
		return
	}
	// The appendix is a block of a few hundred bytes: buffers of its size
	// on the heap (readPayload, growing), not a block buffer of megabytes
	// to map and fault in (carve).
	j := jobPool.Get().(*readJob)
	j.buf = new(blockBuf)
	defer func() {
		j.buf = nil
		jobPool.Put(j)
	}()
	j.index = -1
	for i := 0; i < int(r.hdr.AppendixBlocks); i++ {
		j.offset = off
		if err := r.readBlock(j); err != nil {
			r.warnings = append(r.warnings, fmt.Errorf("appendix: %w", err))
			return
		}
		out, err := dec.decompress(j.buf.out, j.buf.raw)
		if err != nil {
			r.warnings = append(r.warnings, r.formatErr(off, -1, "appendix: "+err.Error()))
			return
		}
		j.buf.out = out
		if err := r.parseAppendix(out, j.hdr.NumRecords); err != nil {
			r.warnings = append(r.warnings, r.formatErr(off, -1, "appendix: "+err.Error()))
			return
		}
		off += blockHeaderSize + int64(j.hdr.Size)
	}
}

func (r *Reader) parseAppendix(b []byte, n uint32) error {
	pos := 0
	for i := uint32(0); i < n; i++ {
		if pos+recordHdrSize > len(b) {
			return fmt.Errorf("record %d runs past the block", i)
		}
		typ := le.Uint16(b[pos:])
		size := int(le.Uint16(b[pos+2:]))
		if size < recordHdrSize || pos+size > len(b) {
			return fmt.Errorf("record %d has bad size %d", i, size)
		}
		rec := b[pos : pos+size]
		switch typ {
		case recIdent:
			r.ident, r.hasIdent = decodeIdent(rec)
		case recStat:
			if size == statRecordSize {
				decodeStat(rec, &r.stat)
			}
		default:
			return fmt.Errorf("unexpected record type %d", typ)
		}
		pos += size
	}
	return nil
}

// readBlock reads the block at j.offset into j.buf.raw after checking its header
// against the limits nfdump enforces, so a lying length never makes us
// allocate more than maxBlockSize.
func (r *Reader) readBlock(j *readJob) error {
	if err := r.readHeader(j); err != nil {
		return err
	}
	return r.readPayload(j)
}

// readHeader reads the header of the block at j.offset into j.hdr and
// checks it as readBlock says.
func (r *Reader) readHeader(j *readJob) error {
	var hb [blockHeaderSize]byte
	if n, err := r.src.ReadAt(hb[:], j.offset); n < blockHeaderSize {
		if err == nil || err == io.EOF {
			return r.formatErr(j.offset, j.index, "file truncated: block header missing")
		}
		return fmt.Errorf("%s: block %d at offset %d: %w", r.name, j.index, j.offset, err)
	}
	j.hdr.unmarshal(hb[:])
	switch {
	case j.hdr.NumRecords == 0:
		return r.formatErr(j.offset, j.index, "corrupt block: no records")
	case j.hdr.Size == 0:
		return r.formatErr(j.offset, j.index, "corrupt block: size 0")
	case j.hdr.Size > maxBlockSize:
		return r.formatErr(j.offset, j.index, fmt.Sprintf("corrupt block: size %d exceeds %d", j.hdr.Size, maxBlockSize))
	case j.end() > r.size:
		return r.formatErr(j.offset, j.index, fmt.Sprintf("file truncated: block of %d bytes runs past the end (%d)", j.hdr.Size, r.size))
	}
	return nil
}

// stored returns the stored payload of the block whose header readHeader
// read: its bytes in the file's mapping, or read into j.buf.raw.
func (r *Reader) stored(j *readJob) ([]byte, error) {
	if r.mapped == nil {
		err := r.readPayload(j)
		return j.buf.raw, err
	}
	// readHeader checked that the block ends inside the file.
	from, to := j.span()
	return r.mapped[from:to:to], nil
}

// span returns where the stored payload of block j lies in the file, as
// its header (readHeader) says.
func (j *readJob) span() (from, to int64) {
	return j.end() - int64(j.hdr.Size), j.end()
}

// end returns where block j ends in the file, as its header says.
func (j *readJob) end() int64 { return j.offset + blockHeaderSize + int64(j.hdr.Size) }

// unpack decompresses in, the stored payload of block j, into j's
// buffer. Decompressing from the file's mapping, it turns a fault there
// (SIGBUS: the file was cut short after Open mapped it; the worker runs
// with faultsAsPanics) into an error; any other panic goes on.
func (r *Reader) unpack(dec blockDecompressor, j *readJob, in []byte) (out []byte, err error) {
	if r.mapped != nil {
		defer func() {
			if e := recover(); e != nil {
				if !r.inMapping(e) {
					panic(e)
				}
				mapFaults.Add(1)
				out, err = j.buf.out[:0], r.cutErr(j)
			}
		}()
	}
	out, err = dec.decompress(j.buf.out, in)
	if err != nil {
		err = r.formatErr(j.offset, j.index, err.Error())
		if r.mapped != nil && r.cut(j) {
			// The block's last page is still mapped, and past the file's
			// new end it reads as zeros, which the decompressor takes
			// for damage before it reaches the page that would fault.
			err = r.cutErr(j)
		}
	}
	return out, err
}

// dropper drops the stored blocks of a mapped file from the process's
// page tables (doneWith) as the workers finish decompressing them: the
// blocks that finish in file order a few together, at least dropBatch
// bytes (or up to the last block), and one that finishes before a block
// ahead of it on its own at once, so that no more than dropBatch bytes
// and the blocks in the workers stay mapped. Each MADV_DONTNEED flushes
// the other core's TLB too, an interrupt between virtual processors on a
// VM: a call for each block took 13 us (median), 3 to 4% of godump -o
// null's CPU time over the border-shaped benchmark archive (execution
// trace). In batches of dropBatch, godump -o null took 0.978 of the CPU
// time over that archive (median of 40 paired runs, load 3) and 0.99 over
// the home-shaped one and the filter bench's archive with one primitive
// (30 and 10 pairs), and peaked at 9.4 MB instead of 9.1 (nfdump: 10.8).
// Holding every block back until its batch was complete in order took up
// to 3.7 MB more: a worker taken off its processor held back the blocks
// the other finished after its own.
type dropper struct {
	mu       sync.Mutex
	from, to int64  // the range done in order, not yet dropped
	last     int64  // where the last block ends
	next     uint64 // the first data block (readJob.seq) not yet done
	ok       uint64 // bit k: block next+k is done (and was dropped)
}

// dropBatch is the least a dropper drops of the blocks done in order.
const dropBatch = 768 << 10

// done notes that data block j was decompressed and drops what it can.
func (d *dropper) done(mapped []byte, j *readJob) {
	from, to := j.span()
	d.mu.Lock()
	k := j.seq - d.next
	if k != 0 {
		// Ahead of a block not yet done: dropped now, and noted, so
		// that the blocks done in order go on past it.
		if k < 64 {
			d.ok |= 1 << k
		}
		d.mu.Unlock()
		doneWith(mapped, from, to)
		return
	}
	if d.from == d.to {
		d.from = from
	}
	d.to = to
	d.next++
	for d.ok >>= 1; d.ok&1 != 0; d.ok >>= 1 {
		// Dropped already, but the range goes on past it.
		d.next++
	}
	if d.to-d.from < dropBatch && d.to < d.last {
		d.mu.Unlock()
		return
	}
	from, to = d.from, d.to
	d.from = d.to
	d.mu.Unlock()
	doneWith(mapped, from, to)
}

// mapFaults counts the faults unpack turned into errors, for the tests.
var mapFaults atomic.Int64

// cut reports whether block j runs past the end of the mapped file now.
func (r *Reader) cut(j *readJob) bool {
	fi, err := r.file.Stat()
	return err == nil && j.end() > fi.Size()
}

// cutErr is the error for block j of a mapped file cut short while it
// was read.
func (r *Reader) cutErr(j *readJob) error {
	return r.formatErr(j.offset, j.index, "file truncated inside the block while it was read")
}

// inMapping reports whether e, a recovered panic, is a fault in the
// file's mapping.
func (r *Reader) inMapping(e any) bool {
	f, ok := e.(interface{ Addr() uintptr })
	if !ok {
		return false
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(r.mapped)))
	return f.Addr() >= base && f.Addr()-base < uintptr(len(r.mapped))
}

// faultsAsPanics makes a fault in the calling goroutine (SIGBUS in a
// mapped file cut short) a panic that unpack recovers, until the function
// it returns restores the goroutine's setting.
func faultsAsPanics() func() {
	old := debug.SetPanicOnFault(true)
	return func() { debug.SetPanicOnFault(old) }
}

// readPayload reads the stored payload of the block whose header
// readHeader read into j.buf.raw.
func (r *Reader) readPayload(j *readJob) error {
	b := j.buf
	if n := int(j.hdr.Size); cap(b.raw) < n {
		// The stored sizes of compressed blocks vary by a few percent:
		// room for an eighth more spares the reallocation (and garbage)
		// each time a block is a little larger than the largest so far.
		b.raw = make([]byte, n, min(n+n/8, maxBlockSize))
	}
	b.raw = b.raw[:j.hdr.Size]
	if n, err := r.src.ReadAt(b.raw, j.offset+blockHeaderSize); n < len(b.raw) {
		if err == nil || err == io.EOF {
			return r.formatErr(j.offset, j.index, "file truncated inside the block")
		}
		return fmt.Errorf("%s: block %d at offset %d: %w", r.name, j.index, j.offset, err)
	}
	return nil
}

// start launches the producer, which reads blocks in order, and the workers,
// which decompress them. At most len(jobs) blocks are in memory at once.
func (r *Reader) start(opts ReadOptions) {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if r.hdr.Compression == None {
		workers = 0
	}
	// One block for each worker and one for the consumer to walk; a
	// tallying consumer walks (almost) no block, so the workers' blocks
	// are enough, with one more for the producer to read ahead into when
	// there is a single worker. (A consumer of visitors holds its block
	// while it merges; a block of its own for that measured no faster,
	// and larger.)
	jobs := workers + 1
	if r.tallying && workers > 1 {
		jobs = workers
	}
	// Only summing the flows, the workers need a block's bytes no longer
	// than they scan it (but for the rare block with other records than
	// flows, which Next walks): each worker keeps its own buffers, and the
	// jobs only carry their counts to Next. Then a worker done with a
	// block takes the next at once, where with a job's buffers it would
	// wait for the block before its own to be merged, and a job costs
	// bytes instead of megabytes, so the producer reads further ahead.
	// With visitors too (-s), but with a job for each worker only, as
	// before: each job's visitor holds a block's table, and with more of
	// them the lab's triple on the border-shaped archive took 1.08 times
	// as long and 1.5 MB more. Owning their buffers, the workers no longer
	// wait for a job whose block is being merged before they read the
	// next one: -s srcip/bytes took 0.88 times as long on the home-shaped
	// archive and 0.96 on the 10 M-flow one, in the same memory (godump
	// against its build before, 10 runs each in turn, quiet machine).
	r.loose = r.tallying && opts.Limit == 0 && workers > 1
	if r.loose && opts.Visit == nil {
		jobs = 4 * workers
	}
	if r.nsel != nil && r.scanning {
		r.seq = newSequencer(opts.Number)
	}
	r.order = make(chan *readJob, jobs)
	r.free = make(chan *readJob, jobs)
	r.quit = make(chan struct{})
	for i := 0; i < jobs; i++ {
		j := jobPool.Get().(*readJob)
		if !r.loose {
			j.buf = newBuf(r.hdr.Compression)
		}
		if opts.Visit != nil {
			j.visitor = opts.Visit()
		}
		r.jobs = append(r.jobs, j)
		r.free <- j
	}
	work := make(chan *readJob, jobs)
	for i := 0; i < workers; i++ {
		dec, err := newDecompressor(r.hdr.Compression)
		r.wg.Add(1)
		go r.decompress(dec, err, work)
	}
	r.wg.Add(1)
	go r.produce(work)
}

// startPiped starts the producer of a reader on p (ReadOptions.Pipeline),
// which reads with p's workers and jobs once the reader before it has
// queued its blocks.
func (r *Reader) startPiped(p *Pipeline) {
	r.pipe, r.started, r.loose, r.scanning = p, true, true, true
	r.order = make(chan *readJob, len(p.jobs))
	r.free = p.free
	r.quit = make(chan struct{})
	r.produced = make(chan struct{})
	p.enter(r)
	r.wg.Add(1)
	go r.produce(p.work)
}

func (r *Reader) produce(work chan<- *readJob) {
	defer r.wg.Done()
	defer close(r.order)
	if r.pipe == nil {
		defer close(work)
	} else {
		defer close(r.produced)
		select {
		case <-r.after:
		case <-r.quit:
			return
		}
	}
	off := int64(HeaderSize)
	end := r.size
	if r.hdr.AppendixBlocks > 0 && r.hdr.OffAppendix >= HeaderSize && r.hdr.OffAppendix < end {
		end = r.hdr.OffAppendix
	}
	r.drop.last = end
	var scratch *tallyScratch
	for i := 0; r.recover || i < int(r.hdr.NumBlocks); i++ {
		select {
		case <-r.quit:
			return
		default:
		}
		if r.recover && off+blockHeaderSize > end {
			return
		}
		var j *readJob
		select {
		case j = <-r.free:
		case <-r.quit:
			return
		}
		j.r, j.index, j.offset, j.err, j.skip = r, i, off, nil, false
		// A compressed data block's payload is read by the worker that
		// decompresses it: the copy from the page cache takes a third of
		// what decompressing takes, and here it would hold back every
		// block behind it. A block of a type nfdump skips is not read.
		j.err = r.readHeader(j)
		if j.err == nil && r.mapped != nil && j.isData() {
			// Not read, the block would come from the disk a fault at a
			// time, in the worker: ask for all of it now.
			from, to := j.span()
			willNeed(r.mapped, from, to)
		}
		if j.err == nil && r.hdr.Compression == None && j.isData() {
			j.err = r.readPayload(j)
		}
		if r.recover && j.err != nil && j.end() > r.size {
			// The block the crash cut short: the file ends before it.
			r.free <- j
			return
		}
		switch {
		case j.err != nil:
		case !j.isData():
			j.skip = true
		case r.hdr.Compression == None:
			j.payload = j.buf.raw
			j.size = len(j.payload)
			if r.scanning {
				if scratch == nil {
					scratch = r.newScratch()
				}
				j.seq = r.dataSeq
				r.dataSeq++
				r.scanJob(j, scratch)
			}
		default:
			j.seq = r.dataSeq
			r.dataSeq++
			// Queue the block in order first, so the consumer waits for
			// it while a worker decompresses it.
			select {
			case r.order <- j:
			case <-r.quit:
				// The job goes back: a pipeline's next reader takes it.
				r.free <- j
				return
			}
			work <- j
			off += blockHeaderSize + int64(j.hdr.Size)
			continue
		}
		j.ready <- struct{}{}
		select {
		case r.order <- j:
		case <-r.quit:
			<-j.ready
			r.free <- j
			return
		}
		if j.err != nil {
			return
		}
		off += blockHeaderSize + int64(j.hdr.Size)
	}
}

func (r *Reader) decompress(dec blockDecompressor, decErr error, work <-chan *readJob) {
	defer r.wg.Done()
	var scratch *tallyScratch
	if r.scanning {
		scratch = r.newScratch()
	}
	defer faultsAsPanics()()
	var own *blockBuf // the worker's buffers (loose)
	if r.loose {
		own = newBuf(r.hdr.Compression)
		defer func() { putBuf(own) }()
	}
	for j := range work {
		r.work(j, dec, decErr, scratch, own)
	}
}

// work reads, decompresses and scans block j in a worker, with the
// worker's decompressor (or the error that made none), scratch and, for a
// loose reader, buffers.
func (r *Reader) work(j *readJob, dec blockDecompressor, decErr error, scratch *tallyScratch, own *blockBuf) {
	if r.loose {
		j.buf = own
	}
	if decErr != nil {
		j.err = r.formatErr(j.offset, j.index, decErr.Error())
	} else if in, err := r.stored(j); err != nil {
		j.err = err
	} else if out, err := r.unpack(dec, j, in); err != nil {
		j.err = err
	} else {
		if r.mapped != nil {
			// Decompressed: its stored bytes need not stay in the
			// process's resident memory (doneWith, a few at a time).
			r.drop.done(r.mapped, j)
		}
		j.buf.out = out
		j.payload = out
		j.size = len(out)
		if r.scanning {
			// Scan the block while it is still in this core's cache.
			r.scanJob(j, scratch)
		}
	}
	if j.err != nil && r.seq != nil {
		// Reading ends at this block; the blocks after it still
		// take their turn.
		r.seq.take(j.seq, 0)
	}
	if r.loose {
		j.buf, j.payload = nil, nil
		if j.err == nil && j.other {
			j.keepOther(own.out)
		}
	}
	j.ready <- struct{}{}
}

// keepOther copies the records other than flows among the good ones of
// payload, the block the worker scanned, to j.extra for Next to walk
// (loose readers): they are few, and the worker keeps its buffers. The
// walk ends at the last of them: a collector writes its exporter records
// ahead of the flows of a file's first block, and walking the rest of
// that block (ten thousand flows) too took 0.3% of godump -s's CPU time
// on the home-shaped benchmark archive.
func (j *readJob) keepOther(payload []byte) {
	j.extra = j.extra[:0]
	j.nother = 0
	pos := 0
	for i := uint32(0); i < min(j.good, j.otherEnd); i++ {
		// The worker checked these records: their sizes are good.
		size := int(le.Uint16(payload[pos+2:]))
		if le.Uint16(payload[pos:]) != recV3 {
			j.extra = append(j.extra, payload[pos:pos+size]...)
			j.nother++
		}
		pos += size
	}
	j.payload = j.extra
}

// isData reports whether the job's block is one nfdump reads records from.
func (j *readJob) isData() bool {
	return j.hdr.Type == blockTypeV3 || j.hdr.Type == blockTypeV2
}

// scratchPool keeps the workers' scratch space between readers: a reader
// of each file of a set would otherwise allocate, and fault in, ten
// kilobytes of fresh memory for each of its workers.
var scratchPool = sync.Pool{New: func() any { return new(tallyScratch) }}

// decoderPool keeps the decoders Next decodes flows with between readers.
var decoderPool = sync.Pool{New: func() any { return new(v3Decoder) }}

// newScratch returns what a worker decodes into when it scans blocks; the
// reader gives it back when it closes.
func (r *Reader) newScratch() *tallyScratch {
	s := scratchPool.Get().(*tallyScratch)
	s.dec.reset(r.scanWant)
	s.rec = flow.Record{}
	r.scratchMu.Lock()
	r.scratches = append(r.scratches, s)
	r.scratchMu.Unlock()
	return s
}

// scanJob scans a decompressed data block in a worker, after it learned
// the running number before the block when the selector needs it.
func (r *Reader) scanJob(j *readJob, s *tallyScratch) {
	j.base = 0
	if r.seq != nil {
		j.base = r.seq.take(j.seq, countFlows(j))
	}
	r.scanBlock(j, s, 0)
}

// countFlows counts the V3 records of j's payload up to the first
// malformed record header: a damaged record ends reading, so the blocks
// after it need no exact number.
func countFlows(j *readJob) uint64 {
	b := j.payload
	pos := 0
	var n uint64
	for i := uint32(0); i < j.hdr.NumRecords && pos+recordHdrSize <= len(b); i++ {
		size := int(le.Uint16(b[pos+2:]))
		if size < recordHdrSize || pos+size > len(b) {
			break
		}
		if le.Uint16(b[pos:]) == recV3 {
			n++
		}
		pos += size
	}
	return n
}

// match runs the selector on the flow with running number n.
func (r *Reader) match(rec *flow.Record, n uint64) bool {
	switch {
	case r.nsel != nil:
		return r.nsel.MatchNumbered(rec, n)
	case r.sel != nil:
		return r.sel.Match(rec)
	}
	return true
}

// scanBlock walks the records of j's payload, checking each as Next would
// and noting where the first damaged one is. It selects the flows, and
// counts those that pass into j.tally and hands them to j's visitor when
// the reader tallies, or marks them in j.pass when Next hands them out.
// With limit > 0 it stops right after the limit-th flow that passed.
func (r *Reader) scanBlock(j *readJob, s *tallyScratch, limit uint64) {
	j.tally, j.elements, j.recErr, j.other, j.otherEnd = flow.Totals{}, 0, nil, false, 0
	j.processed, j.passed = 0, 0
	v := j.visitor
	if v != nil {
		v.Reset()
	}
	if r.marking {
		n := int(j.hdr.NumRecords+63) / 64
		if cap(j.pass) < n {
			j.pass = make([]uint64, n)
		}
		j.pass = j.pass[:n]
		clear(j.pass)
		if j.labeled {
			clear(j.labels)
			j.labeled = false
		}
	}
	// Only summing the flows, without a selector or a visitor, the workers
	// take the sums from the records' bytes (v3Shape.total) where they
	// can; without a selector, runs of records of known shapes take a
	// loop of their own (sumShaped), with or without a visitor, and so do
	// they with a selector that tests the bytes (selectShaped), also when
	// they only mark the flows that pass.
	sumOnly := !r.marking && v == nil && r.sel == nil
	runs := !r.marking && r.sel == nil || r.rsel != nil
	var mark []uint64
	if r.marking {
		mark = j.pass
	}
	misses := 0
	b := j.payload
	pos := 0
	for i := uint32(0); i < j.hdr.NumRecords; i++ {
		if runs {
			// The record that ends a run takes the way below.
			left := j.hdr.NumRecords - i
			var n, passed uint32
			var used int
			var skipped uint64
			if r.rsel != nil {
				n, passed, used, skipped = s.dec.selectShaped(b[pos:], left, limit-min(limit, j.passed), r.rsel, mark, i, &j.tally, &s.rec, v)
				if n == 0 {
					runs = rawMiss(&misses)
				}
			} else {
				if limit > 0 {
					left = min(left, uint32(limit-j.passed))
				}
				n, used, skipped = s.dec.sumShaped(b[pos:], left, &j.tally, &s.rec, v)
				passed = n
			}
			j.processed += uint64(n)
			j.passed += uint64(passed)
			j.elements += skipped
			pos += used
			i += n
			if limit > 0 && j.passed == limit {
				j.good = i
				return
			}
			if i == j.hdr.NumRecords {
				break
			}
		}
		var typ uint16
		var size int
		var err error
		if pos <= len(b)-recordHdrSize {
			// recordAt's check, here so that it is inlined; recordAt
			// words the error.
			typ, size = le.Uint16(b[pos:]), int(le.Uint16(b[pos+2:]))
		}
		if size < recordHdrSize || size > len(b)-pos {
			_, _, err = r.recordAt(j, pos, i)
		}
		if err == nil {
			rec := b[pos : pos+size]
			switch typ {
			case recV3:
				var sh *v3Shape
				if sumOnly {
					sh = s.dec.find(rec)
				}
				var skipped int
				if sh != nil {
					sh.total(rec, &j.tally)
					skipped = sh.skipped
				} else {
					skipped, err = s.dec.decode(rec, &s.rec)
				}
				j.elements += uint64(skipped)
				if err != nil {
					break
				}
				j.processed++
				if sh == nil && r.sel != nil && !r.match(&s.rec, j.base+j.processed) {
					break
				}
				j.passed++
				switch {
				case r.marking:
					j.pass[i/64] |= 1 << (i % 64)
					if s.rec.Label != "" {
						j.keepLabel(i, s.rec.Label)
					}
				case sh == nil:
					j.tally.Add(&s.rec)
					if v != nil {
						v.Flow(&s.rec)
					}
				}
				if j.passed == limit {
					j.good = i + 1
					return
				}
			case recExporterInfo:
				j.other, j.otherEnd = true, i+1
				err = decodeExporter(rec, &s.exp)
			case recExporterStat:
				j.other, j.otherEnd = true, i+1
				s.stats, err = decodeExporterStats(rec, s.stats)
			case recSampler:
				j.other, j.otherEnd = true, i+1
				err = decodeSampler(rec, &s.smp)
			default:
				j.other, j.otherEnd = true, i+1
			}
			if err != nil {
				err = r.recordErr(j, pos, i, err)
			}
		}
		if err != nil {
			j.good, j.recErr = i, err
			return
		}
		pos += size
	}
	j.good = j.hdr.NumRecords
}

// keepLabel notes the flow label of record i, which passed.
func (j *readJob) keepLabel(i uint32, label string) {
	if n := int(j.hdr.NumRecords); len(j.labels) < n {
		j.labels = make([]string, n)
	}
	j.labels[i] = label
	j.labeled = true
}

// Next advances to the next record of a kind the reader hands out. It
// returns false at the end of the file or on an error (see Err).
func (r *Reader) Next() bool {
	if r.err != nil || r.closed {
		return false
	}
	if !r.started {
		// Start reading blocks only now: a caller that wants the header,
		// ident or stat record (nfdump -I) reads no block at all.
		r.started = true
		if !r.tallying {
			r.dec = decoderPool.Get().(*v3Decoder)
			r.dec.reset(r.want)
		}
		r.start(r.opts)
	}
	for {
		if r.cur != nil && r.left > 0 {
			ok, err := r.parse()
			if err != nil {
				r.fail(err)
				return false
			}
			if ok {
				return true
			}
			continue
		}
		if r.cur != nil {
			if r.cur.recErr != nil && !r.stopped {
				r.fail(r.cur.recErr)
				return false
			}
			r.free <- r.cur
			r.cur = nil
		}
		if r.stopped {
			return false
		}
		j, ok := <-r.order
		if !ok {
			return false
		}
		<-j.ready
		switch {
		case j.err != nil:
			// Read the error before the job goes back: the producer
			// reuses a free job at once and clears its error.
			err := j.err
			r.free <- j
			r.fail(err)
			return false
		case j.skip:
			r.skipped.Blocks++
			r.free <- j
		case r.tallying:
			r.bytesRead += uint64(j.size)
			if lim := r.opts.Limit; lim > 0 && j.passed > 0 && r.passed+j.passed >= lim {
				// The limit falls in this block: count it again, here,
				// up to the flow that reaches it.
				if r.scratch == nil {
					r.scratch = r.newScratch()
				}
				r.scanBlock(j, r.scratch, lim-r.passed)
				r.stopped = true
			}
			r.tally.Merge(&j.tally)
			r.processed += j.processed
			r.passed += j.passed
			r.skipped.Elements += j.elements
			// Only a block with other records than flows is walked, up to
			// its first damaged record.
			r.cur, r.pos, r.left = j, 0, 0
			switch {
			case j.other && r.loose:
				r.left = j.nother
			case j.other:
				r.left = j.good
			}
			if j.visitor != nil && j.passed > 0 {
				r.kind, r.block = KindBlock, j.visitor
				return true
			}
		case r.marking:
			// Walk the good records; the damaged one's error follows.
			r.cur, r.pos, r.left = j, 0, j.good
			r.bytesRead += uint64(len(j.payload))
			r.skipped.Elements += j.elements
		default:
			r.cur, r.pos, r.left = j, 0, j.hdr.NumRecords
			r.bytesRead += uint64(len(j.payload))
			j.recErr = nil
		}
	}
}

func (r *Reader) fail(err error) {
	r.err = err
	if r.cur != nil {
		r.free <- r.cur
		r.cur = nil
	}
}

// recordAt checks the header of record recNo at offset pos of j's payload
// and returns its type and size.
func (r *Reader) recordAt(j *readJob, pos int, recNo uint32) (typ uint16, size int, err error) {
	b := j.payload
	if pos+recordHdrSize > len(b) {
		return 0, 0, r.formatErr(j.offset, j.index,
			fmt.Sprintf("record %d at payload offset %d runs past the block of %d bytes", recNo, pos, len(b)))
	}
	typ = le.Uint16(b[pos:])
	size = int(le.Uint16(b[pos+2:]))
	if size < recordHdrSize || pos+size > len(b) {
		return 0, 0, r.formatErr(j.offset, j.index,
			fmt.Sprintf("record %d at payload offset %d: inconsistent size %d", recNo, pos, size))
	}
	return typ, size, nil
}

// recordErr places err, the problem of record recNo at offset pos of j's
// payload.
func (r *Reader) recordErr(j *readJob, pos int, recNo uint32, err error) error {
	return r.formatErr(j.offset, j.index, fmt.Sprintf("record %d at payload offset %d: %v", recNo, pos, err))
}

// parse decodes the record at r.pos. It returns false for a record it skips.
func (r *Reader) parse() (bool, error) {
	recNo := r.cur.hdr.NumRecords - r.left
	if r.scanning {
		recNo = r.cur.good - r.left
	}
	typ, size, err := r.recordAt(r.cur, r.pos, recNo)
	if err != nil {
		return false, err
	}
	rec := r.cur.payload[r.pos : r.pos+size]
	at := r.pos
	r.pos += size
	r.left--
	switch typ {
	case recV3:
		switch {
		case r.tallying:
			return false, nil // counted by the worker
		case r.marking:
			r.processed++
			if r.cur.pass[recNo/64]&(1<<(recNo%64)) == 0 {
				return false, nil
			}
			// The worker checked the record and counted its elements.
			r.dec.decode(rec, &r.rec)
			// The label the flow had when it passed: the
			// selector's, the file's, or none.
			switch {
			case r.cur.labeled && r.cur.labels[recNo] != "":
				r.rec.Label = r.cur.labels[recNo]
			case !r.rec.Elements.Has(flow.ElemLabel):
				r.rec.Label = ""
			}
		default:
			var skipped int
			skipped, err = r.dec.decode(rec, &r.rec)
			r.skipped.Elements += uint64(skipped)
			if err != nil {
				return false, r.recordErr(r.cur, at, recNo, err)
			}
			r.processed++
		}
		r.passed++
		r.tally.Add(&r.rec)
		if r.passed == r.opts.Limit {
			r.stopped, r.left = true, 0
		}
		r.kind = KindFlow
		return true, nil
	case recExporterInfo:
		err = decodeExporter(rec, &r.exp)
		r.kind = KindExporter
	case recExporterStat:
		r.stats, err = decodeExporterStats(rec, r.stats)
		r.kind = KindExporterStat
	case recSampler:
		err = decodeSampler(rec, &r.smp)
		r.kind = KindSampler
	default:
		r.skipped.Records++
		return false, nil
	}
	if err != nil {
		return false, r.recordErr(r.cur, at, recNo, err)
	}
	return true, nil
}

// Close stops the reader's goroutines and closes the file it opened.
func (r *Reader) Close() error {
	r.closeOnce.Do(func() {
		r.closed = true
		// Unmapped once the workers are done with the reader's blocks.
		defer func() {
			unmapFile(r.mapped)
			r.mapped, r.file = nil, nil
		}()
		if !r.started {
			return
		}
		close(r.quit)
		if r.pipe != nil {
			// The pipeline's workers finish the blocks queued in order,
			// whose jobs go back to the pipeline.
			if r.cur != nil {
				r.free <- r.cur
			}
			for j := range r.order {
				<-j.ready
				j.payload = nil
				r.free <- j
			}
		}
		// Drain blocks queued in order so the producer and workers can
		// finish; the producer closes order when it returns.
		for range r.order {
		}
		r.wg.Wait()
		for _, j := range r.jobs {
			select {
			case <-j.ready:
			default:
			}
			j.r, j.payload = nil, nil
			if j.buf != nil {
				putBuf(j.buf)
				j.buf = nil
			}
			if j.visitor != nil {
				if r.opts.Release != nil {
					r.opts.Release(j.visitor)
				}
				j.visitor = nil
			}
			jobPool.Put(j)
		}
		for _, s := range r.scratches {
			scratchPool.Put(s)
		}
		if r.dec != nil {
			decoderPool.Put(r.dec)
			r.dec = nil
		}
		r.jobs, r.cur, r.block, r.scratch, r.scratches = nil, nil, nil, nil, nil
	})
	if r.closer != nil {
		err := r.closer.Close()
		r.closer = nil
		return err
	}
	return nil
}

// Uncounted reports what the file holds after the data blocks its header
// counts (and before the appendix): whole blocks, and whether a block cut
// short ends the file. A file its collector has not closed has them:
// nfcapd counts the blocks in the header only when it closes the file, so
// one it is still writing, or one a crash left, counts none (Recover reads
// them). A file with an appendix was closed, and its writer counted the
// blocks with it, so only a file without one is looked at: Uncounted then
// reads the block headers only, and on a damaged one reports what it found
// before it.
func (r *Reader) Uncounted() (blocks int, cut bool) {
	if r.hdr.AppendixBlocks > 0 {
		return 0, false
	}
	end := r.size
	off := int64(HeaderSize)
	var hb [blockHeaderSize]byte
	var bh blockHeader
	for i := 0; ; i++ {
		if off == end {
			return blocks, false
		}
		if n, _ := r.src.ReadAt(hb[:], off); n < blockHeaderSize || off+blockHeaderSize > end {
			return blocks, i >= int(r.hdr.NumBlocks)
		}
		bh.unmarshal(hb[:])
		if bh.NumRecords == 0 || bh.Size == 0 || bh.Size > maxBlockSize {
			return blocks, false // not a block: damage, which reading reports
		}
		if off+blockHeaderSize+int64(bh.Size) > end {
			return blocks, i >= int(r.hdr.NumBlocks)
		}
		if i >= int(r.hdr.NumBlocks) {
			blocks++
		}
		off += blockHeaderSize + int64(bh.Size)
	}
}
