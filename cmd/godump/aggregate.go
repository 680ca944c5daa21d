package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nfgo/nftools/aggregate"
	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/output"
)

// aggrOptions are -a, -A, -b and -B as given; checkAggregation turns them
// into spec.
type aggrOptions struct {
	five, bidir, guess bool
	list               string // -A
	hasList            bool
	modeSet            bool // -o was given, so -A/-b choose no format
	spec               *aggregate.Spec
}

// parseAggregation reads the aggregation options. nfdump checks these
// while it reads its options; the -A list itself it checks later (see
// checkAggregation).
func parseAggregation(c cmdline, o *options, stderr io.Writer) error {
	a := &o.aggr
	a.five = c.Bool("a")
	a.bidir = c.Bool("b") || c.Bool("B")
	a.guess = c.Bool("B")
	a.modeSet = c.IsSet("o")
	if lists := c.StringSlice("A"); len(lists) > 0 {
		if len(lists[0]) > 64 {
			return fail(stderr, exitFailure, "Aggregate mask format length error")
		}
		if len(lists) > 1 {
			return fail(stderr, exitFailure, "Multiple aggregation masks not allowed")
		}
		a.list, a.hasList = lists[0], true
	}
	if c.Bool("m") {
		fmt.Fprintln(stderr, "Option -m deprecated. Use '-O tstart' instead")
		if o.order == nil {
			o.order, _ = aggregate.ParseOrder("tstart")
		}
	}
	return nil
}

// checkAggregation parses the -A list, at the point where nfdump does:
// after -Z and the check for input files, before anything is read. It
// sets the output format that nfdump picks for -A, -b and -B when -o is
// not given.
func checkAggregation(o *options, stderr io.Writer) int {
	a := &o.aggr
	switch {
	case a.hasList && a.bidir:
		fmt.Fprintln(stderr, "Can not set custom aggregation in bidir mode")
		return exitFailure
	case a.hasList:
		spec, err := aggregate.ParseFields(a.list)
		var aerr *aggregate.Error
		if errors.As(err, &aerr) {
			fmt.Fprintln(stderr, aerr.Msg)
			return exitFailure
		} else if err != nil {
			fmt.Fprintf(stderr, "godump: -A %s: %v\n", a.list, err)
			return exitFailure
		}
		a.spec = spec
	case a.bidir:
		a.spec = aggregate.Bidir(a.guess)
	case a.five:
		a.spec = aggregate.FiveTuple()
	}
	if a.spec != nil && !a.modeSet && a.spec.Format() != "" {
		o.mode = a.spec.Format()
	}
	return exitOK
}

// listAggregated reads every flow into the aggregation table (or, for -O
// without aggregation, into a list), then prints the table sorted with -O
// and cut with -n, or writes it to the -w file. The summary counts the
// flows read, not the aggregated ones, as nfdump's does.
func listAggregated(o *options, files []string, pr output.Printer, start time.Time, stdout, stderr io.Writer) int {
	if len(files) == 0 {
		fmt.Fprint(stderr, emptyList)
	}
	s := newScan(o, stderr)
	var (
		table *aggregate.Table
		plain []flow.Record
		w     *flowfile.Sink
	)
	switch {
	case o.aggr.spec != nil && o.wfile != "":
		table = aggregate.New(o.aggr.spec)
	case o.aggr.spec != nil && output.PrintsKeyFields(pr):
		// -a, -b or -B printed in line or biline: the key and the sums
		// are all that is printed, so the table keeps no first flows.
		table = aggregate.NewPrintingKeys(o.aggr.spec)
		s.elements = o.aggr.spec.PrintReads()
	case o.aggr.spec != nil:
		table = aggregate.NewPrinting(o.aggr.spec)
		// An -A listing prints little of each flow, and -O sorts by
		// the sums the table keeps, so the reader decodes only what the
		// table reads (the reader's workers decode what the selector and
		// the summary read).
		s.elements = o.aggr.spec.PrintReads()
	}
	free := new([]*aggregate.Batch)
	if table != nil && table.Batches() {
		// The reader's workers make each block's keys and hashes (an
		// aggregate.Batch), and the table only merges them here, in file
		// order, so that it is the table Add would build.
		free = visitWith(s, table.NewBatch)
	}
	if o.wfile != "" {
		w = newSink(o)
	} else if err := pr.Begin(); err != nil {
		return writeFailed(stderr, err)
	}
	err := s.run(files, func(kind flowfile.Kind, r *flowfile.Reader) error {
		switch {
		case kind == flowfile.KindBlock:
			table.AddBatch(r.Block().(*aggregate.Batch))
		case kind != flowfile.KindFlow:
			if w != nil {
				if err := openSink(w, s, true); err != nil {
					return err
				}
				return w.Add(r)
			}
		case table != nil:
			table.Add(r.Flow())
		default:
			plain = append(plain, *r.Flow())
		}
		return nil
	})
	// The readers gave their batches back as they closed; their memory
	// goes before the table is sorted, which takes as much again.
	for _, b := range *free {
		b.Free()
	}
	if err != nil {
		return writeFailed(stderr, err)
	}

	if table != nil {
		return streamAggregated(o, s, table, w, pr, start, stdout, stderr)
	}

	sorted := make([]*flow.Record, len(plain))
	for i := range plain {
		sorted[i] = &plain[i]
	}
	if o.order != nil {
		o.order.Sort(sorted)
	}
	if w != nil {
		// nfdump writes the whole table; -n limits only what it prints.
		return s.finishWrite(writeAll(w, s, sorted), stdout, stderr)
	}
	if o.topN > 0 && uint64(len(sorted)) > o.topN {
		sorted = sorted[:o.topN]
	}
	for _, r := range sorted {
		if err := printFlow(pr, r, 0); err != nil {
			return writeFailed(stderr, err)
		}
	}
	return s.finish(pr.End, start, stderr)
}

// writeAll writes the records to the -w file after the exporters and
// samplers met while reading, and closes it. Without any file read no
// file is written, as with the plain -w.
func writeAll(w *flowfile.Sink, s *scan, recs []*flow.Record) error {
	if s.opened > 0 {
		if err := openSink(w, s, true); err != nil {
			return err
		}
	}
	if w.IsOpen() {
		for _, r := range recs {
			if err := w.WriteFlow(r); err != nil {
				return err
			}
		}
	}
	return w.Close()
}

// streamAggregated prints or writes an aggregation table: in the order
// -O asks for or else in the table's order, each record built in turn into
// one Record, so no copy of the table is made. -n cuts what is printed
// (nfdump writes the whole table); -o null prints nothing, so nothing is
// built or sorted.
func streamAggregated(o *options, s *scan, table *aggregate.Table, w *flowfile.Sink, pr output.Printer, start time.Time, stdout, stderr io.Writer) int {
	entries := func(topN uint64) []int32 {
		if o.order != nil {
			return table.Sorted(o.order, int(min(topN, uint64(table.Len()))))
		}
		order := table.Order()
		if topN > 0 && uint64(len(order)) > topN {
			order = order[:topN]
		}
		return order
	}
	var rec flow.Record
	if w != nil {
		if s.opened > 0 {
			if err := openSink(w, s, true); err != nil {
				fmt.Fprintf(stderr, "godump: %v\n", err)
				return exitFailure
			}
		}
		if w.IsOpen() {
			for _, i := range entries(0) {
				table.WriteRecord(i, &rec)
				if err := w.WriteFlow(&rec); err != nil {
					fmt.Fprintf(stderr, "godump: %v\n", err)
					return exitFailure
				}
			}
		}
		return s.finishWrite(w.Close(), stdout, stderr)
	}
	if output.ReadsRecords(pr) {
		for _, i := range entries(o.topN) {
			table.Record(i, &rec)
			if err := printFlow(pr, &rec, 0); err != nil {
				return writeFailed(stderr, err)
			}
		}
	}
	return s.finish(pr.End, start, stderr)
}
