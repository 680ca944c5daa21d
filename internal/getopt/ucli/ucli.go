// Package ucli hands a command line parsed by package getopt to
// github.com/urfave/cli/v2, for the commands whose actions read their
// options through urfave (gocapd).
//
// getopt.Spec.Parse applies the getopt rules; Run rewrites the result into
// a command line that urfave parses without ambiguity ("-X", "-X=value",
// then "--" and the positional arguments). The action reads the values
// with the usual urfave calls: c.String("r"), c.StringSlice("s"),
// c.Bool("q"), c.Count("v"), c.IsSet("z"), c.Args().
//
// urfave lives in a package of its own so that a command can do without
// it: urfave pulls in text/template, encoding/json and regexp, whose code
// and initialised tables cost goprobe, which reads getopt.Result
// directly, 1.6 MB of resident memory at rest (see package getopt), and
// godump, which reads it too, 7% of a start's processor time.
package ucli

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/nfgo/nftools/internal/getopt"
)

func init() {
	// urfave shows its own help whenever a bool flag named "h" or "help" is
	// set, even with HideHelp, and -h belongs to the command. So the
	// built-in help flag is switched off for the whole process; only this
	// package builds urfave apps in our binaries.
	cli.HelpFlag = nil
}

// Flags derives the urfave flags from the spec: a BoolFlag for an option
// without a value (repeats are counted, read them with c.Count), a
// StringFlag for an option with a value, and a StringSliceFlag when the
// option may repeat.
func Flags(s *getopt.Spec) []cli.Flag {
	flags := make([]cli.Flag, 0, len(s.Options))
	for _, o := range s.Options {
		flags = append(flags, flag(o))
	}
	return flags
}

// given derives the urfave flags of the options res holds, as Flags does,
// and none for the others. urfave finds a flag by walking every declared
// one and cleaning each name with a regular expression (FlagNames), for
// every c.IsSet of an option not given and for each flag it sets up, so
// with godump's 45 options declared that was a tenth of the processor time
// of `godump -R dir -s srcip/bytes` on a small archive. An option not
// declared reads as one not given: "", false, 0, nil, not set.
func given(s *getopt.Spec, res *getopt.Result) []cli.Flag {
	var flags []cli.Flag
	for _, o := range s.Options {
		if res.IsSet(o.Name()) {
			flags = append(flags, flag(o))
		}
	}
	return flags
}

// flag is the urfave flag of option o (see Flags).
func flag(o getopt.Option) cli.Flag {
	name := o.Name()
	switch {
	case o.Arg == getopt.NoArg:
		return &cli.BoolFlag{Name: name, Usage: o.Usage}
	case o.Repeat:
		// KeepSpace: a value such as -s ' srcip' must reach the
		// command as given.
		return &cli.StringSliceFlag{Name: name, Usage: o.Usage, KeepSpace: true}
	default:
		return &cli.StringFlag{Name: name, Usage: o.Usage}
	}
}

// Run parses args (without the program name) with s.Parse and runs action
// through a urfave app built from the spec. The app writes to stdout and
// stderr, never prints help or version text of its own, does not split
// slice values on commas, and never exits the process: every error,
// including a cli.Exit from action, is returned.
func Run(s *getopt.Spec, args []string, stdout, stderr io.Writer, action cli.ActionFunc) error {
	if err := s.Validate(); err != nil {
		return err
	}
	res, err := s.Parse(args)
	if err != nil {
		return err
	}
	return runApp(s, res, stdout, stderr, action)
}

// runApp runs action on the parsed command line res through urfave.
func runApp(s *getopt.Spec, res *getopt.Result, stdout, stderr io.Writer, action cli.ActionFunc) error {
	app := &cli.App{
		Name:                      s.Name,
		HelpName:                  s.Name,
		Usage:                     s.Synopsis,
		Flags:                     given(s, res),
		HideHelp:                  true,
		HideHelpCommand:           true,
		HideVersion:               true,
		DisableSliceFlagSeparator: true,
		Writer:                    stdout,
		ErrWriter:                 stderr,
		Action:                    action,
		Metadata:                  map[string]any{resultKey: res},
		// Without these urfave prints "Incorrect Usage" on stdout or calls
		// os.Exit for a cli.ExitCoder; the caller decides instead.
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return fmt.Errorf("internal argument error: %w", err)
		},
		ExitErrHandler: func(*cli.Context, error) {},
	}
	return app.Run(append([]string{s.Name}, res.Argv()...))
}

// resultKey holds the parsed command line in the app's metadata.
const resultKey = "getopt.result"

// Parsed returns the command line that Run parsed for the action running
// in c, for the few checks that depend on the order of different options
// (urfave keeps each option's values, not their order), or nil outside Run.
func Parsed(c *cli.Context) *getopt.Result {
	if c == nil || c.App == nil {
		return nil
	}
	res, _ := c.App.Metadata[resultKey].(*getopt.Result)
	return res
}

// Main runs action like Run and turns the outcome into an exit code as
// getopt.Spec.Main does (a cli.Exit is a getopt.ExitCoder), so a command's
// main is os.Exit(ucli.Main(spec, os.Args[1:], os.Stdout, os.Stderr,
// action)).
func Main(s *getopt.Spec, args []string, stdout, stderr io.Writer, action cli.ActionFunc) int {
	return s.Main(args, stdout, stderr, func(res *getopt.Result) error {
		return runApp(s, res, stdout, stderr, action)
	})
}
