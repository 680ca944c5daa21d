// Command godump reads, filters and prints flow files. It replaces nfdump
// 1.7.1 and accepts its command line.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/nfgo/nftools/internal/getopt/ucli"
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
	return ucli.Main(spec, args, stdout, stderr, action)
}

// exit ends the command with code after the messages were printed; the
// getopt layer then prints nothing more.
func exit(code int) error {
	if code == exitOK || code == exitDump {
		return nil
	}
	return cli.Exit("", code)
}

// fail prints nfdump's message for a fatal problem on stderr and ends the
// command with code.
func fail(stderr io.Writer, code int, format string, a ...any) error {
	fmt.Fprintf(stderr, format+"\n", a...)
	return exit(code)
}

func action(c *cli.Context) error {
	stdout, stderr := c.App.Writer, c.App.ErrWriter
	switch {
	// nfdump prints its usage for -h and when called without arguments.
	case c.Bool("h"), c.NumFlags() == 0 && c.NArg() == 0:
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
