package getopt

import (
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"
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
func (s *Spec) Flags() []cli.Flag {
	flags := make([]cli.Flag, 0, len(s.Options))
	for _, o := range s.Options {
		name := o.Name()
		switch {
		case o.Arg == NoArg:
			flags = append(flags, &cli.BoolFlag{Name: name, Usage: o.Usage})
		case o.Repeat:
			// KeepSpace: a value such as -s ' srcip' must reach the
			// command as given.
			flags = append(flags, &cli.StringSliceFlag{Name: name, Usage: o.Usage, KeepSpace: true})
		default:
			flags = append(flags, &cli.StringFlag{Name: name, Usage: o.Usage})
		}
	}
	return flags
}

// Run parses args (without the program name) with Parse and runs action
// through a urfave app built from the spec. The app writes to stdout and
// stderr, never prints help or version text of its own, does not split
// slice values on commas, and never exits the process: every error,
// including a cli.Exit from action, is returned.
func (s *Spec) Run(args []string, stdout, stderr io.Writer, action cli.ActionFunc) error {
	if err := s.Validate(); err != nil {
		return err
	}
	res, err := s.Parse(args)
	if err != nil {
		return err
	}
	app := &cli.App{
		Name:                      s.Name,
		HelpName:                  s.Name,
		Usage:                     s.Synopsis,
		Flags:                     s.Flags(),
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
func Parsed(c *cli.Context) *Result {
	if c == nil || c.App == nil {
		return nil
	}
	res, _ := c.App.Metadata[resultKey].(*Result)
	return res
}

// First returns the index of the first occurrence of letter in the
// command line, or -1.
func (r *Result) First(letter rune) int {
	if r == nil {
		return -1
	}
	for i, o := range r.Options {
		if o.Letter == letter {
			return i
		}
	}
	return -1
}

// Main runs action like Run and turns the outcome into an exit code, so a
// command's main is os.Exit(spec.Main(os.Args[1:], os.Stdout, os.Stderr,
// action)). A getopt error prints "<name>: <error>" and a hint to use -h (when
// the spec has -h) on stderr and gives 1. Any other error prints
// "<name>: <error>" on stderr and gives the code of a cli.ExitCoder, else 1.
// A panic is recovered and reported the same way, so none reaches the user
// as a stack trace.
func (s *Spec) Main(args []string, stdout, stderr io.Writer, action cli.ActionFunc) (code int) {
	defer func() {
		if v := recover(); v != nil {
			fmt.Fprintf(stderr, "%s: internal error: %v\n", s.Name, v)
			code = 1
		}
	}()
	err := s.Run(args, stdout, stderr, action)
	if err == nil {
		return 0
	}
	var optErr *Error
	if errors.As(err, &optErr) {
		fmt.Fprintf(stderr, "%s: %v\n", s.Name, optErr)
		if _, ok := s.Lookup('h'); ok {
			fmt.Fprintf(stderr, "Try '%s -h' for help.\n", s.Name)
		}
		return 1
	}
	code = 1
	var exitErr cli.ExitCoder
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintf(stderr, "%s: %s\n", s.Name, msg)
	}
	return code
}
