package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/internal/progress"
	"github.com/nfgo/nftools/output"
)

const emptyList = "Empty file list. No files to process\n\n"

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// process runs everything that reads the -r/-R/-M files: -J, -i, -I, -g
// and the listing (printed, sorted or written with -w).
func process(o *options, stdout, stderr io.Writer) int {
	start := time.Now()
	statWarnings(o, stderr)
	if code := checkGeo(o, stderr); code != exitOK {
		return code
	}
	if code := checkAggregation(o, stderr); code != exitOK {
		return code
	}
	var pr output.Printer
	listing := o.recompress < 0 && !(o.identNew != "" && o.read != "" && !isDir(o.read)) && !o.info && !o.gnuplot
	if listing && o.wfile == "" {
		var err error
		pr, err = output.New(stdout, output.Options{
			Mode: o.mode, IPv6Long: o.ipv6, Quiet: o.quiet, PlainNumbers: o.plain, NfSen: o.nfsen,
		})
		if err != nil {
			return outputFailed(stderr, err)
		}
	}
	// nfdump builds its file list in a thread while it prints the header,
	// so whether the header precedes a bad -R path's error is a race;
	// godump reports the error before printing anything.
	files, code := listFiles(o, stderr)
	if code != exitOK {
		return code
	}

	switch {
	case o.recompress >= 0:
		return recompressFiles(o, files, stdout, stderr)
	case o.identNew != "" && o.read != "" && !isDir(o.read):
		return changeIdent(o, files, stdout, stderr)
	case o.info:
		return printInfo(files, stdout, stderr)
	case o.gnuplot:
		return printGnuplot(files, stdout, stderr)
	case o.stat.any():
		return runStats(o, files, start, stdout, stderr)
	}
	if code := checkLimits(o, stdout, stderr); code != exitOK {
		return code
	}
	return list(o, files, pr, start, stdout, stderr)
}

// scan is one pass over the files: the reader selects and counts the
// flows, and the scan hands every flow that passed to the sink and sums
// the readers' counts into the summary.
type scan struct {
	o      *options
	stderr io.Writer

	sum    output.Summary
	failed int
	ident  string
	hasID  bool
	opened int

	// sel is the window and the filter (see selector).
	sel flowfile.Selector
	// elements are the V3 elements the sink reads; zero means all.
	elements flow.Elements
	// tally: the sink wants no flows (-o null), so the reader's workers
	// only count the ones that pass for the summary.
	tally bool
	// workers decompress and select blocks (0: one per CPU).
	workers int
	// pipe carries the blocks of every file through one set of workers
	// (see run), or nil.
	pipe *flowfile.Pipeline
	// visit and release, when set, make the reader's workers hand each
	// flow that passed to a per-block visitor (flowfile.ReadOptions.Visit);
	// the sink gets the visitors in file order (KindBlock).
	visit   func() flowfile.BlockVisitor
	release func(flowfile.BlockVisitor)
}

// visitWith sets the scan's visit and release so that the reader's
// workers take their visitors from newVisitor, reusing those released; it
// returns the released ones, for the caller to free when the scan is done.
// The reader calls both on the goroutine that reads (flowfile.ReadOptions).
func visitWith[V flowfile.BlockVisitor](s *scan, newVisitor func() V) *[]V {
	free := new([]V)
	s.visit = func() flowfile.BlockVisitor {
		if n := len(*free); n > 0 {
			v := (*free)[n-1]
			*free = (*free)[:n-1]
			return v
		}
		return newVisitor()
	}
	s.release = func(v flowfile.BlockVisitor) { *free = append(*free, v.(V)) }
	return free
}

func newScan(o *options, stderr io.Writer) *scan {
	return &scan{o: o, stderr: stderr, sel: selector(o)}
}

// run reads files in order; sink gets each flow that passed -t and the
// filter (or each block's visitor), and each exporter and sampler record.
// It stops after -c flows passed.
func (s *scan) run(files []string, sink func(kind flowfile.Kind, r *flowfile.Reader) error) error {
	bar := (*progress.Bar)(nil)
	if s.o.progress && len(files) > 1 {
		bar = progress.New(os.Stderr, len(files))
	}
	defer bar.Finish()
	// A run whose readers count the flows in their workers reads its
	// files through one pipeline, each file opened while the one before
	// is read, so that the workers go on from one file to the next (see
	// flowfile.Pipeline).
	var (
		pipe    *flowfile.Pipeline
		ahead   *flowfile.Reader // files[i+1], opened while files[i] is read
		aheadAt = -1
		openErr error
	)
	if s.pipelined() {
		pipe = flowfile.NewPipeline(s.workers, s.readOptions(0))
		s.pipe = pipe
		defer func() {
			s.pipe = nil
			if ahead != nil {
				ahead.Close()
			}
			pipe.Close()
		}()
	}
	var winFirst, winLast uint64
	for i, path := range files {
		limit := uint64(0)
		if s.o.limit > 0 {
			if s.sum.Passed >= s.o.limit {
				break
			}
			limit = s.o.limit - s.sum.Passed
		}
		var r *flowfile.Reader
		var err error
		if aheadAt == i {
			r, err, ahead, aheadAt = ahead, openErr, nil, -1
		} else {
			r, err = flowfile.Open(path, s.readOptions(limit))
		}
		if pipe != nil && i+1 < len(files) {
			ahead, openErr = flowfile.Open(files[i+1], s.readOptions(0))
			aheadAt = i + 1
			if _, identSel := s.sel.(flowfile.IdentSelector); openErr == nil && !ahead.Pipelined() && identSel {
				// It reads on its own, and its ident may make the filter
				// count flows: it is opened in its turn, to number its
				// flows on from the files before. One stored plain reads
				// on its own too, but no flow of a pipelined run is
				// numbered (no -c, no count filter): it stays open, not
				// opened twice (nfcapd's files are stored plain).
				ahead.Close()
				ahead, aheadAt = nil, -1
			}
		}
		if err != nil {
			s.report(err)
			continue
		}
		st := r.Stat()
		if s.opened == 0 {
			s.ident, s.hasID = r.Ident()
			winFirst, winLast = st.FirstSeen, st.LastSeen
		} else {
			winFirst = min(winFirst, st.FirstSeen)
			winLast = max(winLast, st.LastSeen)
		}
		s.opened++
		for _, w := range r.Warnings() {
			fmt.Fprintf(s.stderr, "godump: warning: %v\n", w)
		}
		warnUnfinished(s.stderr, r)
		for r.Next() {
			if err := sink(r.Kind(), r); err != nil {
				r.Close()
				return err
			}
		}
		if err := r.Err(); err != nil {
			s.report(err)
			reportSkipped(s.stderr, r, err)
		}
		t := r.Tally()
		s.sum.Processed += r.Processed()
		s.sum.Passed += r.Passed()
		s.sum.Merge(&t)
		s.sum.BytesRead += r.BytesRead()
		s.sum.BlocksSkipped += r.Skipped().Blocks
		r.Close()
		bar.Update(i+1, r.Processed(), r.BytesRead())
	}
	if s.opened > 0 {
		if s.o.window != nil {
			winFirst, winLast = s.o.window.Clamp(winFirst, winLast)
		}
		s.sum.WindowFirst, s.sum.WindowLast = winFirst, winLast
	}
	return nil
}

// readOptions are the reader's options for a file read when limit flows
// may still pass (0: no limit).
func (s *scan) readOptions(limit uint64) flowfile.ReadOptions {
	return flowfile.ReadOptions{
		Workers: s.workers, Elements: s.elements, Tally: s.tally, Visit: s.visit, Release: s.release,
		Select: s.sel, Limit: limit, Number: s.sum.Processed, Pipeline: s.pipe,
	}
}

// pipelined reports whether the run reads its files through a
// flowfile.Pipeline: when the reader's workers count the flows, and no -c
// limit or count filter makes a file's reading depend on the files before
// (a file opened ahead does not know how many flows they had).
func (s *scan) pipelined() bool {
	_, numbered := s.sel.(flowfile.NumberedSelector)
	return (s.tally || s.visit != nil) && s.o.limit == 0 && !numbered
}

// report prints a file that could not be read (completely); godump goes on
// with the next file like nfdump, but exits non-zero at the end.
func (s *scan) report(err error) {
	s.failed++
	fmt.Fprintf(s.stderr, "godump: %v\n", err)
}

// list is the main job: print the flows that passed (sorted with -O), or
// write them to the -w file.
func list(o *options, files []string, pr output.Printer, start time.Time, stdout, stderr io.Writer) int {
	if o.aggr.spec != nil || o.order != nil && o.wfile != "" {
		return listAggregated(o, files, pr, start, stdout, stderr)
	}
	if len(files) == 0 {
		fmt.Fprint(stderr, emptyList)
	}
	s := newScan(o, stderr)
	var (
		err    error
		sorted []*flow.Record
		w      *flowfile.Sink
	)
	if o.wfile != "" {
		w = newSink(o)
	} else if err := pr.Begin(); err != nil {
		return writeFailed(stderr, err)
	} else if !output.ReadsRecords(pr) && o.order == nil {
		// -o null: only the summary looks at the flows, so the reader's
		// workers count the ones that pass.
		s.elements = flow.TotalsElements
		s.tally = true
	} else if o.order == nil {
		// Printing a record costs many times what decompressing it does,
		// so one worker keeps ahead of the printer, and each further one
		// would only hold another block in memory.
		s.workers = 1
	}
	err = s.run(files, func(kind flowfile.Kind, r *flowfile.Reader) error {
		switch {
		case w != nil:
			if err := openSink(w, s, false); err != nil {
				return err
			}
			return w.Add(r)
		case kind != flowfile.KindFlow:
			return nil
		case o.order != nil:
			rec := *r.Flow()
			sorted = append(sorted, &rec)
			return nil
		default:
			// nfdump numbers a record by the flows read before it, not
			// by those printed (raw's RecordCount, %cnt).
			return printFlow(pr, r.Flow(), r.Number())
		}
	})
	if err != nil {
		return writeFailed(stderr, err)
	}
	if w != nil {
		return s.finishWrite(w.Close(), stdout, stderr)
	}
	if o.order != nil {
		o.order.Sort(sorted)
		if o.topN > 0 && uint64(len(sorted)) > o.topN {
			sorted = sorted[:o.topN]
		}
		for _, r := range sorted {
			if err := printFlow(pr, r, 0); err != nil {
				return writeFailed(stderr, err)
			}
		}
	}
	return s.finish(pr.End, start, stderr)
}

// printFlow prints r with the number nfdump gives it in %cnt and raw's
// RecordCount: n, its running number over the files read (so a filter or
// -t leaves gaps), or 0 for sorted and aggregated records, which nfdump
// prints without a number.
func printFlow(pr output.Printer, r *flow.Record, n uint64) error {
	if cp, ok := pr.(output.CountedPrinter); ok {
		return cp.PrintCounted(r, n)
	}
	return pr.Print(r)
}

// finish prints the summary lines through end, with the times of the run
// that began at start, and returns the exit code.
func (s *scan) finish(end func(*output.Summary) error, start time.Time, stderr io.Writer) int {
	s.sum.Wall = time.Since(start)
	s.sum.User, s.sum.Sys = cpuTimes()
	if err := end(&s.sum); err != nil {
		return writeFailed(stderr, err)
	}
	return s.exitCode()
}

// finishWrite ends a -w run: err is what writing and closing the file
// gave. Like nfdump it says when no flow passed, as nothing else is
// printed.
func (s *scan) finishWrite(err error, stdout, stderr io.Writer) int {
	if err != nil {
		fmt.Fprintf(stderr, "godump: %v\n", err)
		return exitFailure
	}
	if s.sum.Passed == 0 {
		fmt.Fprintln(stdout, "No matching flows")
	}
	return s.exitCode()
}

// outputFailed reports an -o mode the output package refused; its errors
// carry nfdump's exact text.
func outputFailed(stderr io.Writer, err error) int {
	var rep interface{ Report() string }
	if errors.As(err, &rep) {
		fmt.Fprint(stderr, rep.Report())
	} else {
		fmt.Fprintf(stderr, "godump: %v\n", err)
	}
	return exitFailure
}

func (s *scan) exitCode() int {
	if s.failed > 0 {
		return exitInput
	}
	return exitOK
}

// writeFailed reports a failing stdout (a closed pipe ends quietly).
func writeFailed(stderr io.Writer, err error) int {
	if errors.Is(err, syscall.EPIPE) {
		return exitFailure
	}
	fmt.Fprintf(stderr, "godump: %v\n", err)
	return exitFailure
}

func cpuTimes() (user, sys time.Duration) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}
