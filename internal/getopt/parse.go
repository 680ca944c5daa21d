package getopt

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrorKind tells the two ways a command line can break the getopt rules.
type ErrorKind int

const (
	// UnknownOption is a letter the spec does not declare.
	UnknownOption ErrorKind = iota + 1
	// MissingArgument is a RequiredArg option at the very end of argv.
	MissingArgument
)

// Error is a command line that does not follow the spec. Its message is
// the one glibc's getopt prints, without the program name.
type Error struct {
	Kind ErrorKind
	// Option is the offending option character.
	Option rune
}

func (e *Error) Error() string {
	if e.Kind == MissingArgument {
		return fmt.Sprintf("option requires an argument -- '%c'", e.Option)
	}
	return fmt.Sprintf("invalid option -- '%c'", e.Option)
}

// Occurrence is one option as it appeared on the command line.
type Occurrence struct {
	Letter rune
	Arg    ArgKind
	// Value is the option's value; empty for NoArg and for an OptionalArg
	// given without one.
	Value string
}

// Result is a parsed command line.
type Result struct {
	// Options in command-line order, repeated ones included.
	Options []Occurrence
	// Args are the positional arguments in order: the words that are not
	// options or option values, and everything after "--".
	Args []string
}

// Parse reads args (without the program name) by GNU getopt rules:
// options may follow positional arguments, "--" ends the options, "-" and
// "" are positional, flags can be bundled (-qn10), and a value can be glued
// to its letter (-S1, -zlz4, -z=lz4). It returns an *Error for an unknown
// option or a missing required value.
func (s *Spec) Parse(args []string) (*Result, error) {
	res := &Result{}
	for i := 0; i < len(args); i++ {
		word := args[i]
		if word == "--" {
			res.Args = append(res.Args, args[i+1:]...)
			break
		}
		if len(word) < 2 || word[0] != '-' {
			res.Args = append(res.Args, word)
			continue
		}
		// word is a cluster of option letters; a letter that takes a value
		// ends the cluster.
		for j := 1; j < len(word); {
			letter, size := utf8.DecodeRuneInString(word[j:])
			j += size
			opt, ok := s.Lookup(letter)
			if !ok {
				return nil, &Error{Kind: UnknownOption, Option: letter}
			}
			occ := Occurrence{Letter: letter, Arg: opt.Arg}
			switch opt.Arg {
			case OptionalArg:
				occ.Value = strings.TrimPrefix(word[j:], "=")
				j = len(word)
			case RequiredArg:
				switch {
				case j < len(word):
					occ.Value = word[j:]
				case i+1 < len(args):
					i++
					occ.Value = args[i]
				default:
					return nil, &Error{Kind: MissingArgument, Option: letter}
				}
				j = len(word)
			}
			res.Options = append(res.Options, occ)
		}
	}
	return res, nil
}

// Argv returns the command line in the one form urfave/cli reads without
// guessing: "-X" for a flag, "-X=value" for an option with a value (empty
// for a bare optional one), then "--" and the positional arguments.
func (r *Result) Argv() []string {
	argv := make([]string, 0, len(r.Options)+1+len(r.Args))
	for _, o := range r.Options {
		if o.Arg == NoArg {
			argv = append(argv, "-"+string(o.Letter))
		} else {
			argv = append(argv, "-"+string(o.Letter)+"="+o.Value)
		}
	}
	argv = append(argv, "--")
	return append(argv, r.Args...)
}
