// GOMAXPROCS is not kept up to date with the CPU limit of the process's
// cgroup while godump runs; it is still set from that limit at the start.
// The updates cost every run a goroutine started for them and sysmon's
// read of the limit under /sys/fs/cgroup in its first round: about 1% of
// the samples of godump -R -s on nfcapd 1.7.1's sample archive (perf
// record over 300 runs), where a run lasts 2 ms, and nothing for a batch
// command whose limit does not change under it. The probe at the start
// stays: containermaxprocs=0 would not skip it (the runtime still reads
// the limit once, to count the setting's effect) and would lose the
// container's limit.
//
//go:debug updatemaxprocs=0

// Command godump reads, filters and prints flow files. It replaces nfdump
// 1.7.1 and accepts its command line.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/nfgo/nftools/internal/getopt"
	"github.com/nfgo/nftools/internal/version"
)

// Exit codes. Where nfdump 1.7.1 has a sane code godump keeps it.
const (
	exitOK        = 0
	exitFailure   = 1   // a bad option value, a missing -r path
	exitInput     = 2   // an input file could not be read completely (nfdump: 0)
	exitFileList  = 250 // a missing -R path or a bad file range
	exitFilterErr = 254 // a filter godump cannot compile
	exitInclude   = 255 // a filter's @include file godump cannot read
	exitDump      = -1  // -X printed the filter: end with status 0, like nfdump
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command with its streams passed in; it returns the exit
// code.
func run(args []string, stdout, stderr io.Writer) int {
	return spec.Main(args, stdout, stderr, func(res *getopt.Result) error {
		return action(cmdline{res}, stdout, stderr)
	})
}

// cmdline is the parsed command line, read with the names of urfave/cli's
// calls, through which godump read it before. godump reads getopt's result
// itself: urfave's package initialisation and its setting up of the flags
// took 7% of the processor time of godump -R dir -I on a small archive,
// where all of it is start-up.
type cmdline struct{ *getopt.Result }

// Bool reports whether the option without a value called name was given.
func (c cmdline) Bool(name string) bool { return c.IsSet(name) }

// StringSlice returns every value of the repeatable option called name,
// in command-line order, or nil.
func (c cmdline) StringSlice(name string) []string { return c.Values(name) }

// exit ends the command with code after the messages were printed; the
// getopt layer then prints nothing more.
func exit(code int) error {
	if code == exitOK || code == exitDump {
		return nil
	}
	return getopt.Exit("", code)
}

// fail prints nfdump's message for a fatal problem on stderr and ends the
// command with code.
func fail(stderr io.Writer, code int, format string, a ...any) error {
	fmt.Fprintf(stderr, format+"\n", a...)
	return exit(code)
}

func action(c cmdline, stdout, stderr io.Writer) error {
	switch {
	// nfdump prints its usage for -h and when called without arguments.
	case c.Bool("h"), len(c.Options) == 0 && len(c.Args) == 0:
		return spec.PrintUsage(stdout)
	case c.Bool("V"):
		_, err := fmt.Fprintln(stdout, version.Banner(spec.Name))
		return err
	}
	o, err := parseOptions(c, stderr)
	if err != nil {
		return err
	}
	// -v and -E work on their own file and ignore the rest, as in nfdump.
	switch {
	case o.verify != "":
		return exit(verifyFile(o.verify, stdout, stderr))
	case o.exporters != "":
		return exit(printExporters(o.exporters, stdout, stderr))
	}
	if err := checkFilter(o, stdout, stderr); err != nil {
		return err
	}
	if o.checkOnly || o.dumpFilter {
		return nil
	}
	if o.read == "" && o.recursive == "" && o.multi == "" {
		// nfdump prints its usage when there is nothing to read.
		return spec.PrintUsage(stdout)
	}
	return exit(process(o, stdout, stderr))
}
