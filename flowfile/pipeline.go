package flowfile

import (
	"runtime"
	"sync"
)

// A Pipeline carries the blocks of a run's files, one reader after the
// other, through one set of workers (ReadOptions.Pipeline). Each reader
// of its own starts its workers when it starts reading and stops them at
// its end, so that the blocks of a file set flow in bursts: at the end of
// each file the workers run out of blocks one by one while the consumer
// waits for the last, and the next file's first blocks start only after
// the caller has opened it. Over the home-shaped benchmark archive (2 M
// flows in 8 files) godump -s took 1.07 times the wall time and 1.04
// times the CPU time it took over the same flows in one file. A reader
// that uses a Pipeline starts reading as it opens, after the reader opened
// on the Pipeline before it has handed all its blocks to the workers, so
// a caller that opens the next file before it reads the current one to
// its end keeps the workers busy from one file to the next. The blocks
// take the Pipeline's jobs, the workers keep their buffers, and the
// visitors (ReadOptions.Visit) belong to the jobs: the files share them
// instead of each making its own.
//
// Only a reader that counts the flows in its workers (Tally or Visit),
// of a compressed file, without Limit and without a NumberedSelector,
// uses the Pipeline; any other reads on its own as without one.
type Pipeline struct {
	workers int
	visit   func() BlockVisitor
	release func(BlockVisitor)

	work chan *readJob // blocks for the workers, from every reader in turn
	free chan *readJob // jobs ready for a reader's producer
	jobs []*readJob
	last chan struct{} // closed when the producer of the last reader started ends
	wg   sync.WaitGroup

	once sync.Once
}

// NewPipeline makes a Pipeline of workers goroutines (0: one per CPU) for
// readers of the same ReadOptions.Visit and Release, which it takes
// from opts; its workers start with the first reader.
func NewPipeline(workers int, opts ReadOptions) *Pipeline {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	p := &Pipeline{workers: workers, visit: opts.Visit, release: opts.Release}
	// As a reader of its own keeps them (Reader.start): a job for each
	// worker with visitors, four without.
	jobs := workers
	if opts.Visit == nil {
		jobs = 4 * workers
	}
	p.work = make(chan *readJob, jobs)
	p.free = make(chan *readJob, jobs)
	for i := 0; i < jobs; i++ {
		j := jobPool.Get().(*readJob)
		if p.visit != nil {
			j.visitor = p.visit()
		}
		p.jobs = append(p.jobs, j)
		p.free <- j
	}
	p.last = make(chan struct{})
	close(p.last)
	return p
}

// takes reports whether a reader with opts reads through p.
func (p *Pipeline) takes(r *Reader, opts ReadOptions) bool {
	return p != nil && p.workers > 1 && r.tallying && opts.Limit == 0 && r.hdr.Compression != None &&
		r.nsel == nil && (opts.Visit == nil) == (p.visit == nil)
}

// enter queues r's producer after the producer of the reader before it,
// starting the workers with the first reader.
func (p *Pipeline) enter(r *Reader) {
	p.once.Do(func() {
		for i := 0; i < p.workers; i++ {
			p.wg.Add(1)
			go p.run()
		}
	})
	r.after, p.last = p.last, r.produced
}

// run is a worker: it decompresses and scans the blocks of every reader,
// with its own block buffers and, for each reader, its own scratch and
// decompressor.
func (p *Pipeline) run() {
	defer p.wg.Done()
	var (
		own     *blockBuf
		cur     *Reader
		scratch *tallyScratch
		comp    Compression
		dec     blockDecompressor
		decErr  error
	)
	defer func() {
		if own != nil {
			putBuf(own)
		}
	}()
	defer faultsAsPanics()()
	for j := range p.work {
		if r := j.r; r != cur {
			cur = r
			scratch = r.newScratch()
			if own == nil {
				own = newBuf(r.hdr.Compression)
			} else if r.hdr.Compression != comp {
				own.carve(r.hdr.Compression)
			}
			if dec == nil || r.hdr.Compression != comp {
				dec, decErr = newDecompressor(r.hdr.Compression)
			}
			comp = r.hdr.Compression
		}
		cur.work(j, dec, decErr, scratch, own)
	}
}

// Close stops the workers and gives the visitors back (ReadOptions.Release),
// once every reader on p was closed.
func (p *Pipeline) Close() {
	close(p.work)
	p.wg.Wait()
	for _, j := range p.jobs {
		if j.visitor != nil {
			if p.release != nil {
				p.release(j.visitor)
			}
			j.visitor = nil
		}
		j.r = nil
		jobPool.Put(j)
	}
	p.jobs = nil
}
