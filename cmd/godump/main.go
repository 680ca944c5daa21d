// Command godump reads, filters and prints flow files. It replaces nfdump
// 1.7.1 and accepts its command line.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/nfgo/nftools/internal/version"
)

var errNotImplemented = errors.New("reading flow files is not implemented yet (issue #4)")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command with its streams passed in; it returns the exit
// code.
func run(args []string, stdout, stderr io.Writer) int {
	return spec.Main(args, stdout, stderr, action)
}

func action(c *cli.Context) error {
	switch {
	// nfdump prints its usage for -h and when called without arguments.
	case c.Bool("h"), c.NumFlags() == 0 && c.NArg() == 0:
		return spec.PrintUsage(c.App.Writer)
	case c.Bool("V"):
		_, err := fmt.Fprintln(c.App.Writer, version.Banner(spec.Name))
		return err
	}
	return errNotImplemented
}
