package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nfgo/nftools/aggregate"
	"github.com/nfgo/nftools/filter"
	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/internal/cnum"
	"github.com/nfgo/nftools/timewindow"
)

// options is the command line after the checks nfdump makes on it.
type options struct {
	read, recursive, multi string
	window                 *timewindow.Window
	filter                 string // the filter text: the arguments, or the -f file's
	filterFile             string // -f, when the filter came from it
	flt                    *filter.Filter
	dumpFilter             bool // -X
	resolver               filter.Resolver
	// match is the compiled filter as the reader selects with it, nil
	// when it lets every flow pass; selector puts it behind the window.
	match flowfile.Selector
	limit uint64 // -c, 0 = no limit

	mode                        string
	ipv6, quiet, plain, nfsen   bool
	wfile                       string
	compression                 flowfile.Compression
	level                       int
	order                       *aggregate.Order
	aggr                        aggrOptions // -a, -A, -b, -B (aggregate.go)
	stat                        statOptions // -s, -l, -L (stat.go)
	topN                        uint64      // -n; 0 = no limit (top 10 for -s when not given)
	topNSet                     bool
	info, gnuplot, checkOnly    bool
	verify, exporters, identNew string
	recompress                  int // -J, -1 = not given
	recompressLevel             int
	progress                    bool
}

// parseOptions reads and checks the option values. A bad value prints
// nfdump's message and gives an exit error.
func parseOptions(c cmdline, stderr io.Writer) (*options, error) {
	o := &options{
		read:       c.String("r"),
		recursive:  c.String("R"),
		multi:      c.String("M"),
		mode:       "line",
		ipv6:       c.Bool("6"),
		quiet:      c.Bool("q"),
		plain:      c.Bool("N"),
		nfsen:      c.Bool("T"),
		wfile:      c.String("w"),
		info:       c.Bool("I"),
		gnuplot:    c.Bool("g"),
		checkOnly:  c.Bool("Z"),
		dumpFilter: c.Bool("X"),
		verify:     c.String("v"),
		exporters:  c.String("E"),
		identNew:   c.String("i"),
		recompress: -1,
	}
	if c.IsSet("o") {
		o.mode = c.String("o")
	}
	if o.read != "" && o.recursive != "" {
		return nil, fail(stderr, exitFailure, "-r and -R are mutually exclusive. Please specify either -r or -R")
	}
	if c.IsSet("c") {
		n, err := strconv.ParseUint(c.String("c"), 10, 64)
		if err != nil || n == 0 {
			return nil, fail(stderr, exitFailure, "Option -c needs a number > 0\n")
		}
		o.limit = n
	}

	// -z[=method], -y and -j choose the compression of the -w file.
	chosen := 0
	if c.IsSet("z") {
		chosen++
		o.compression = flowfile.LZO
		if v := c.String("z"); v != "" {
			comp, level, err := flowfile.ParseCompression(v)
			if err != nil {
				return nil, fail(stderr, exitFailure, "Unknown compression '%s': %v", v, err)
			}
			o.compression, o.level = comp, level
		}
	}
	if c.Bool("y") {
		chosen++
		o.compression = flowfile.LZ4
	}
	if c.Bool("j") {
		chosen++
		o.compression = flowfile.BZ2
	}
	if chosen > 1 {
		return nil, fail(stderr, exitFailure, "Use one compression: -z for LZO, -j for BZ2 or -y for LZ4 compression")
	}

	if c.IsSet("J") {
		comp, level, err := flowfile.ParseCompression(c.String("J"))
		if err != nil {
			return nil, fail(stderr, exitFailure, "Expected -J <num>, 0: uncompressed, 1: LZO, 2: BZ2, 3: LZ4 compressed")
		}
		o.recompress, o.recompressLevel = int(comp), level
	}
	if c.IsSet("i") {
		if strings.Contains(o.identNew, " ") {
			return nil, fail(stderr, exitFailure, "Ident must not contain spaces")
		}
		if err := flowfile.CheckIdent(o.identNew); err != nil {
			return nil, fail(stderr, exitFailure, "Bad ident '%s': %v", o.identNew, err)
		}
	}
	if c.IsSet("O") {
		ord, err := aggregate.ParseOrder(c.String("O"))
		if err != nil {
			return nil, fail(stderr, exitFailure, "%v", err)
		}
		o.order = ord
	}

	if err := parseAggregation(c, o, stderr); err != nil {
		return nil, err
	}
	if err := parseStatOptions(c, o, stderr); err != nil {
		return nil, err
	}

	if c.IsSet("n") {
		n := cnum.Atoi(c.String("n"))
		if n < 0 {
			return nil, fail(stderr, exitFailure, "TopnN number %d out of range", n)
		}
		o.topN, o.topNSet = uint64(n), true
	}

	if c.IsSet("D") {
		r, err := filter.NewResolver(c.String("D"))
		if err != nil {
			return nil, fail(stderr, exitFailure, "%v", err)
		}
		o.resolver = r
	}

	// The filter: the words after the options win over -f.
	o.filter = strings.Join(c.Args, " ")
	if o.filter == "" && c.IsSet("f") {
		name := c.String("f")
		if _, err := os.Stat(name); err != nil {
			return nil, fail(stderr, exitFailure, "Can't stat filter file '%s': %s", filter.Escape(name), filter.ErrnoText(err))
		}
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, fail(stderr, exitFailure, "Can't open filter file '%s': %s", filter.Escape(name), filter.ErrnoText(err))
		}
		o.filter, o.filterFile = string(b), name
	}

	if c.IsSet("t") {
		w, err := timewindow.Parse(c.String("t"), time.Local)
		if err != nil {
			// nfdump's messages end with an empty line.
			return nil, fail(stderr, exitFailure, "%s\n", err)
		}
		o.window = &w
	}
	o.progress = !o.quiet
	return o, nil
}

// checkFilter compiles the filter as nfdump does before anything else
// runs: a bad filter ends godump with nfdump's message and status (254,
// 255 for an @include it cannot follow), and -X prints the compiled tree
// and ends it. A filter that lets every flow pass leaves o.match nil, so
// the fast paths for unfiltered reads stay on.
func checkFilter(o *options, stdout, stderr io.Writer) error {
	f, err := filter.Compile(o.filter, filter.Options{File: o.filterFile, Resolver: o.resolver, Log: stdout})
	if err != nil {
		code := exitFilterErr
		if filter.IsInclude(err) {
			code = exitInclude
		}
		return fail(stderr, code, "%v", err)
	}
	if o.dumpFilter {
		if err := f.Dump(stdout); err != nil {
			return err
		}
		return exit(exitDump)
	}
	if f.AcceptsAll() {
		o.match = testFilter
		return nil
	}
	o.flt, o.match = f, filterSelector(f)
	return nil
}

// testFilter stands in for the selector of a filter that passes every
// flow, so that tests can watch the reader select (select_test.go).
var testFilter flowfile.Selector

// checkGeo refuses a filter on countries, at the point where nfdump
// refuses it without a geo database (godump has none).
func checkGeo(o *options, stderr io.Writer) int {
	if o.flt != nil && o.flt.NeedsGeo() {
		fmt.Fprintln(stderr, "Can not filter according geo elements without a geo location DB")
		return exitFailure
	}
	return exitOK
}
