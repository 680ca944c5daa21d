package main

import (
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/nfgo/nftools/aggregate"
	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/output"
	"github.com/nfgo/nftools/stats"
)

// statOptions are -s, -l and -L as given.
type statOptions struct {
	elements []stats.Spec // element statistics, in command line order
	// record: -s record, with the orders of every -s record option and
	// the direction of the last one given.
	record       bool
	recordOrders []stats.Order
	recordAsc    bool
	// packetLimit and byteLimit are -l and -L; nfdump reads them only
	// after its other checks (checkLimits).
	packetLimit, byteLimit string
	packetSet, byteSet     bool
}

// any reports whether any -s was given.
func (s *statOptions) any() bool { return s.record || len(s.elements) > 0 }

// parseStatOptions reads -s, -l and -L. nfdump rejects a bad -s while it
// reads its options, so the error comes at this point.
func parseStatOptions(c cmdline, o *options, stderr io.Writer) error {
	st := &o.stat
	for _, arg := range c.StringSlice("s") {
		// nfdump counts only element statistics, but checks the count
		// before it looks at the value, also for -s record.
		if len(st.elements) == stats.MaxStats {
			return fail(stderr, exitFailure, "Too many stat options! Stats are limited to %d stats per single run!", stats.MaxStats)
		}
		spec, err := stats.ParseSpec(arg)
		if err != nil {
			return fail(stderr, exitFailure, "%v", err)
		}
		if spec.Record() {
			st.record = true
			st.recordOrders = stats.MergeOrders(st.recordOrders, spec.Orders)
			st.recordAsc = spec.Ascending
			continue
		}
		st.elements = append(st.elements, spec)
	}
	st.packetLimit, st.byteLimit = c.String("l"), c.String("L")
	st.packetSet, st.byteSet = c.IsSet("l"), c.IsSet("L")
	return nil
}

// statWarnings prints nfdump's warning for -A with only element
// statistics, at the point nfdump does: before anything else is checked
// or read.
func statWarnings(o *options, stderr io.Writer) {
	if len(o.stat.elements) > 0 && !o.stat.record && o.aggr.hasList {
		fmt.Fprint(stderr, "Warning: Aggregation ignored for element statistics\n\n")
	}
}

// checkLimits handles -l and -L without -s: with aggregation nfdump
// prints the limit lines (and applies them nowhere), without it refuses
// them with status 250. It returns exitOK when the listing may go on.
func checkLimits(o *options, stdout, stderr io.Writer) int {
	if !o.stat.packetSet && !o.stat.byteSet {
		return exitOK
	}
	if o.aggr.spec == nil {
		fmt.Fprint(stderr, "Options -l and -L do not make sense for plain packet dumps.\n"+
			"Use -l and -L together with -s -S or -a.\n"+
			"Use netflow filter syntax to limit the number of packets and bytes in netflow records.\n")
		return exitFileList
	}
	_, _, code := printLimits(o, stdout, stderr)
	return code
}

// printLimits parses -l and -L, with nfdump's messages and status 250 for
// a bad value, and prints their lines on stdout.
func printLimits(o *options, stdout, stderr io.Writer) (packets, bytes stats.Limit, code int) {
	st := &o.stat
	var err error
	if st.packetSet {
		if packets, err = stats.ParseLimit(st.packetLimit); err != nil {
			fmt.Fprintln(stderr, err)
			return packets, bytes, exitFileList
		}
	}
	if st.byteSet {
		if bytes, err = stats.ParseLimit(st.byteLimit); err != nil {
			fmt.Fprintln(stderr, err)
			return packets, bytes, exitFileList
		}
	}
	if _, err := stdout.Write(output.AppendLimits(nil, bytes.Value, bytes.Less, packets.Value, packets.Less)); err != nil {
		return packets, bytes, writeFailed(stderr, err)
	}
	return packets, bytes, exitOK
}

// recordSpec is the aggregation -s record ranks: the -A list, the
// bidirectional key of -b and -B, or nfdump's default 5-tuple. nfdump
// does not turn -B flows around in these tables.
func recordSpec(o *options) *aggregate.Spec {
	switch {
	case o.aggr.hasList && o.aggr.spec != nil:
		return o.aggr.spec
	case o.aggr.bidir:
		return aggregate.Bidir(false)
	}
	return aggregate.FiveTuple()
}

// runStats is the statistics run: read every flow that passes into the
// -s tables, then print the -s record tables and the element tables in
// command line order, each once per order, and the summary.
func runStats(o *options, files []string, start time.Time, stdout, stderr io.Writer) int {
	// The statistics tables live outside Go's heap (internal/region), so
	// the collector keeps its usual pace: collecting at a quarter's growth,
	// as when they were on the heap, only collected the reader's spare
	// block buffers between files to have them made again (peak RSS 10.5
	// against 11.1 MB for -s srcip/bytes on the home-shaped archive, 10.9
	// against 12.1 with the filter bench's twenty terms, in the same time).
	st := &o.stat
	sp, err := output.NewStatPrinter(stdout, output.Options{
		Mode: o.mode, IPv6Long: o.ipv6, PlainNumbers: o.plain, NfSen: o.nfsen,
		// -w makes nfdump quiet; with -s it writes no file.
		Quiet: o.quiet || o.wfile != "",
	})
	if err != nil {
		return outputFailed(stderr, err)
	}
	if o.aggr.five || o.aggr.bidir {
		fmt.Fprint(stderr, "Command line switch -s overwrites -a\n\n")
	}
	if st.record && o.order != nil {
		fmt.Fprintln(stdout, "-s record and -O (-m) are mutually exclusive options")
		return exitFailure
	}
	packets, bytes, code := printLimits(o, stdout, stderr)
	if code != exitOK {
		return code
	}
	topN := 10
	if o.topNSet {
		topN = int(o.topN)
	}

	if len(files) == 0 {
		fmt.Fprint(stderr, emptyList)
	}
	// Counted block by block, the tables merge in parts, a part for each
	// of the reader's workers (see blockStats.Reset), so that two seldom
	// wait for the same part, up to maxStatParts; counted here flow by
	// flow, they have one.
	parts := 1
	if statInWorkers && !st.record {
		parts = min(runtime.GOMAXPROCS(0), maxStatParts)
	}
	tables := make([]*stats.Split, len(st.elements))
	for i, spec := range st.elements {
		tables[i] = stats.NewSplit(spec, parts)
	}
	var records *aggregate.Table
	if st.record {
		records = aggregate.NewPrinting(recordSpec(o))
	}
	// Counting a flow here costs more than decompressing it, so one
	// worker keeps ahead of the counting, and each further one would only
	// hold another block in memory.
	s := newScan(o, stderr)
	s.workers = 1
	free := new([]*blockStats)
	if statInWorkers && !st.record {
		// Element tables merge block by block: the reader's workers
		// select, decode and count each block into tables of their own,
		// which they merge into the run's tables before they count the
		// next block into them; each worker then has work, so there is
		// one per CPU. -s record ranks whole records, so it counts here
		// flow by flow.
		s.workers = 0
		free = visitWith(s, func() *blockStats { return newBlockStats(st.elements, tables) })
	}
	if !st.record {
		// Only the element values are read, so the reader decodes only
		// their elements (and what the selector and the summary read).
		for _, spec := range st.elements {
			s.elements |= spec.Reads()
		}
	}
	err = s.run(files, func(kind flowfile.Kind, r *flowfile.Reader) error {
		if kind == flowfile.KindBlock {
			r.Block().(*blockStats).pass()
			return nil
		}
		if kind != flowfile.KindFlow {
			return nil
		}
		f := r.Flow()
		if records != nil {
			records.Add(f)
		}
		for _, t := range tables {
			t.Part(0).Add(f)
		}
		return nil
	})
	// The blocks the workers counted last are still in their visitors,
	// which the readers gave back.
	for _, b := range *free {
		b.merge()
		b.free()
	}
	if err != nil {
		return writeFailed(stderr, err)
	}

	if err := sp.NoMatch(&s.sum); err != nil {
		return writeFailed(stderr, err)
	}
	if records != nil && records.Len() > 0 {
		// Records are built one at a time from the table, in its order,
		// so that only the top N are ever held.
		order := records.Order()
		get := func(i int, r *flow.Record) { records.Record(order[i], r) }
		for _, ord := range st.recordOrders {
			top := stats.TopRecords(len(order), get, ord, st.recordAsc, topN)
			if err := sp.Records(ord.Name, uint64(topN), top); err != nil {
				return writeFailed(stderr, err)
			}
		}
	}
	for i, t := range tables {
		for _, ord := range st.elements[i].Orders {
			if err := sp.Block(&s.sum, t.Top(ord, topN, packets, bytes)); err != nil {
				return writeFailed(stderr, err)
			}
		}
	}
	return s.finish(sp.End, start, stderr)
}

// maxStatParts bounds the parts of a statistics table: each part has an
// index and a chunk of rows of its own, which a table of a few keys pays
// for every part. Waiting for parts with more workers than parts was
// measured on no machine of more than two cores.
const maxStatParts = 8

// statInWorkers lets the element statistics count in the reader's workers
// (see runStats); tests turn it off to compare with counting flow by flow.
var statInWorkers = true

// blockStats counts one block's flows that passed for the element
// statistics, in a reader's worker, into tables of their own. Once the
// reader handed the block out (pass), the tables are the run's to merge:
// the worker that next takes the visitor merges them into the run's
// tables (Reset) before it counts its block, so that merging runs on
// every worker, beside the counting, not on the one goroutine that takes
// the blocks in file order.
type blockStats struct {
	tables []*stats.Table
	run    []*stats.Split // the run's tables
	bases  []uint64       // the block's first-seen numbers (Split.Reserve)
	passed bool           // the tables hold a block the reader handed out
}

func newBlockStats(specs []stats.Spec, run []*stats.Split) *blockStats {
	b := &blockStats{tables: make([]*stats.Table, len(specs)), run: run, bases: make([]uint64, len(specs))}
	for i, spec := range specs {
		b.tables[i] = stats.NewBlockTable(spec)
	}
	return b
}

// free gives back the tables' memory, once they are merged.
func (b *blockStats) free() {
	for _, t := range b.tables {
		t.Free()
	}
}

// pass takes the block the reader handed out into the run's counts: it
// numbers its keys, in file order, and leaves the merging to the worker
// that takes the visitor next.
func (b *blockStats) pass() {
	for i, t := range b.run {
		b.bases[i] = t.Reserve(b.tables[i])
	}
	b.passed = true
}

// merge adds the tables' block to the run's tables, when the reader
// handed it out; a block it did not hand out counts nowhere.
func (b *blockStats) merge() {
	if b.passed {
		stats.MergeBlocks(b.run, b.tables, b.bases)
		b.passed = false
	}
}

// Reset merges the block the tables hold and empties them for the next,
// keeping their memory.
func (b *blockStats) Reset() {
	b.merge()
	for _, t := range b.tables {
		t.Reset()
	}
}

// Flow counts r, as runStats does flow by flow.
func (b *blockStats) Flow(r *flow.Record) {
	for _, t := range b.tables {
		t.Add(r)
	}
}

// statPlans are the plans of a block's tables for the records of one
// layout, in table order.
type statPlans []stats.RawPlan

// RawPlan returns the tables' plans for records stored as l says, or nil
// (decode them) when one of the tables has none: the tables of every
// block have the same specs, and so the same plans. The plan of a single
// table, godump's usual -s, is a *stats.RawPlan: FlowRaw and FlowsRaw
// then take it without statPlans' slice header and length check (under
// callgrind, godump -s srcip/bytes over one file of the filter bench
// took 815.8 -> 812.7 M instructions for its 1 M flows).
func (b *blockStats) RawPlan(l *flow.Layout, flows uint16) any {
	plans := make(statPlans, len(b.tables))
	for i, t := range b.tables {
		p, ok := t.Plan(l, flows)
		if !ok {
			return nil
		}
		plans[i] = p
	}
	if len(plans) == 1 {
		return &plans[0]
	}
	return plans
}

// FlowRaw counts the record rec, stored as plan's layout says, as Flow
// counts it decoded.
func (b *blockStats) FlowRaw(plan any, rec []byte) {
	if p, ok := plan.(*stats.RawPlan); ok {
		b.tables[0].AddRaw(p, rec)
		return
	}
	stats.AddRawAll(b.tables, plan.(statPlans), rec)
}

// FlowsRaw counts each of flows as FlowRaw does: with a filter the
// reader's workers hand over the flows that passed a batch at a time.
func (b *blockStats) FlowsRaw(flows []flowfile.RawFlow) {
	if len(b.tables) == 1 {
		t := b.tables[0]
		for i := range flows {
			t.AddRaw(flows[i].Plan.(*stats.RawPlan), flows[i].Rec)
		}
		return
	}
	for i := range flows {
		stats.AddRawAll(b.tables, flows[i].Plan.(statPlans), flows[i].Rec)
	}
}
