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
	// UnexpectedArgument is a value given to a long option that takes
	// none (--name=value).
	UnexpectedArgument
)

// Error is a command line that does not follow the spec. Its message is
// the one glibc's getopt (or getopt_long, for a long option) prints,
// without the program name.
type Error struct {
	Kind ErrorKind
	// Option is the offending option character; 0 for a long option.
	Option rune
	// Long is the offending long option's name as typed, without "--".
	Long string
}

func (e *Error) Error() string {
	if e.Long != "" {
		switch e.Kind {
		case MissingArgument:
			return fmt.Sprintf("option '--%s' requires an argument", e.Long)
		case UnexpectedArgument:
			return fmt.Sprintf("option '--%s' doesn't allow an argument", e.Long)
		}
		return fmt.Sprintf("unrecognized option '--%s'", e.Long)
	}
	if e.Kind == MissingArgument {
		return fmt.Sprintf("option requires an argument -- '%c'", e.Option)
	}
	return fmt.Sprintf("invalid option -- '%c'", e.Option)
}

// Occurrence is one option as it appeared on the command line.
type Occurrence struct {
	Letter rune
	// Long is the name of a long-only option; Letter is then 0.
	Long string
	Arg  ArgKind
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
		if strings.HasPrefix(word, "--") && s.hasLong() {
			occ, next, err := s.parseLong(args, i)
			if err != nil {
				return nil, err
			}
			res.Options = append(res.Options, occ)
			i = next
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

// parseLong reads the long option args[i] ("--name", "--name=value" or
// "--name value") and returns it with the index of the last word it used.
func (s *Spec) parseLong(args []string, i int) (Occurrence, int, error) {
	name, value, hasValue := strings.Cut(args[i][2:], "=")
	opt, ok := s.LookupLong(name)
	if !ok {
		return Occurrence{}, i, &Error{Kind: UnknownOption, Long: name}
	}
	occ := Occurrence{Long: name, Arg: opt.Arg}
	switch opt.Arg {
	case NoArg:
		if hasValue {
			return Occurrence{}, i, &Error{Kind: UnexpectedArgument, Long: name}
		}
	case OptionalArg:
		occ.Value = value
	case RequiredArg:
		switch {
		case hasValue:
			occ.Value = value
		case i+1 < len(args):
			i++
			occ.Value = args[i]
		default:
			return Occurrence{}, i, &Error{Kind: MissingArgument, Long: name}
		}
	}
	return occ, i, nil
}

// flag is the occurrence as urfave reads it: "-X" or "--name".
func (o Occurrence) flag() string {
	if o.Long != "" {
		return "--" + o.Long
	}
	return "-" + string(o.Letter)
}

// Argv returns the command line in the one form urfave/cli reads without
// guessing: "-X" for a flag, "-X=value" for an option with a value (empty
// for a bare optional one), "--name" and "--name=value" for long options,
// then "--" and the positional arguments.
func (r *Result) Argv() []string {
	argv := make([]string, 0, len(r.Options)+1+len(r.Args))
	for _, o := range r.Options {
		if o.Arg == NoArg {
			argv = append(argv, o.flag())
		} else {
			argv = append(argv, o.flag()+"="+o.Value)
		}
	}
	argv = append(argv, "--")
	return append(argv, r.Args...)
}

// Name is the occurrence's option name, as Option.Name gives it: the
// letter ("r") or the long name ("metrics").
func (o Occurrence) Name() string {
	if o.Long != "" {
		return o.Long
	}
	return string(o.Letter)
}

// Count returns how many times the option called name (Option.Name) was
// given; for a flag that is its repeat count.
func (r *Result) Count(name string) int {
	n := 0
	for _, o := range r.Options {
		if o.Name() == name {
			n++
		}
	}
	return n
}

// IsSet reports whether the option called name was given at all.
func (r *Result) IsSet(name string) bool {
	return r.Count(name) > 0
}

// String returns the value of the option called name: the last one given,
// as getopt's callers keep it, or "" when it was not given.
func (r *Result) String(name string) string {
	for i := len(r.Options) - 1; i >= 0; i-- {
		if r.Options[i].Name() == name {
			return r.Options[i].Value
		}
	}
	return ""
}

// Values returns every value of the option called name in command-line
// order, or nil when it was not given.
func (r *Result) Values(name string) []string {
	var values []string
	for _, o := range r.Options {
		if o.Name() == name {
			values = append(values, o.Value)
		}
	}
	return values
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
