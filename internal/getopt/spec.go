// Package getopt reads command lines the way GNU getopt(3) does and hands
// the result to github.com/urfave/cli/v2.
//
// nfdump, nfcapd and fprobe parse their arguments with getopt(3), and the
// scripts that call them rely on it: bundled flags (-qn10), values glued to
// their option (-S1), a required value that starts with '-' (-n -5), options
// after the filter words, and "--". Go's flag package, and so urfave/cli,
// handles none of these. A command therefore declares its short options once
// in a Spec. Spec.Parse applies the getopt rules to argv, and Spec.Run
// rewrites the result into a command line that urfave parses without
// ambiguity ("-X", "-X=value", then "--" and the positional arguments). The
// command's action reads the values with the usual urfave calls:
// c.String("r"), c.StringSlice("s"), c.Bool("q"), c.Count("v"),
// c.IsSet("z"), c.Args().
//
// The parser always permutes, as GNU getopt does by default: it does not
// look at POSIXLY_CORRECT, and it knows no long options, so "--help" is the
// unknown option '-' exactly as with the real tools.
package getopt

import (
	"fmt"
	"strings"
)

// ArgKind says whether an option takes a value.
type ArgKind int

const (
	// NoArg is a flag without a value ("x" in a getopt string).
	NoArg ArgKind = iota
	// RequiredArg takes a value, glued to the letter or in the next word,
	// even when that word starts with '-' ("x:").
	RequiredArg
	// OptionalArg takes a value only when it is glued to the letter; one
	// leading '=' is dropped, so -zlz4 and -z=lz4 both give "lz4". A bare
	// -z is set with an empty value, and the next word is never taken
	// ("x::").
	OptionalArg
)

// String returns the getopt optstring suffix of the kind: "", ":" or "::".
func (k ArgKind) String() string {
	switch k {
	case RequiredArg:
		return ":"
	case OptionalArg:
		return "::"
	default:
		return ""
	}
}

// Option declares one short option of a command.
type Option struct {
	// Letter is the option character: an ASCII letter or digit.
	Letter rune
	// Arg says whether the option takes a value.
	Arg ArgKind
	// Repeat collects every occurrence: a NoArg option is counted
	// (c.Count), an option with a value becomes a StringSliceFlag whose
	// values keep command-line order. Without Repeat the last value wins,
	// as with getopt.
	Repeat bool
	// ArgName names the value in the help text ("file" gives "-r <file>").
	// It is required when Arg is not NoArg.
	ArgName string
	// Usage is the one-line description printed by PrintUsage.
	Usage string
	// Implemented marks an option whose behaviour works in this release.
	// The man page documents exactly the implemented options.
	Implemented bool
}

// Spec is the complete set of short options of one command.
type Spec struct {
	// Name is the command name used in messages and help ("godump").
	Name string
	// Synopsis follows "usage <Name>" in the help text, for example
	// "[options] [filter]".
	Synopsis string
	// Options in the order the help text lists them.
	Options []Option
}

// Lookup returns the option declared for letter.
func (s *Spec) Lookup(letter rune) (Option, bool) {
	for _, o := range s.Options {
		if o.Letter == letter {
			return o, true
		}
	}
	return Option{}, false
}

// Implemented returns the letters of the options marked Implemented, in
// declaration order.
func (s *Spec) Implemented() []rune {
	var letters []rune
	for _, o := range s.Options {
		if o.Implemented {
			letters = append(letters, o.Letter)
		}
	}
	return letters
}

// Optstring returns the getopt(3) option string of the spec in declaration
// order, with "::" marking an optional value (a GNU extension).
func (s *Spec) Optstring() string {
	var b strings.Builder
	for _, o := range s.Options {
		b.WriteRune(o.Letter)
		b.WriteString(o.Arg.String())
	}
	return b.String()
}

// CompareOptstring reports how the spec differs from a getopt(3) option
// string, ignoring order: letters missing on either side and letters whose
// value kind differs. A letter may appear in optstring more than once with
// the same kind (nfdump's has "v:" twice).
func (s *Spec) CompareOptstring(optstring string) error {
	want := make(map[rune]ArgKind)
	var order []rune
	for i := 0; i < len(optstring); i++ {
		letter, kind := rune(optstring[i]), NoArg
		switch {
		case strings.HasPrefix(optstring[i+1:], "::"):
			kind = OptionalArg
			i += 2
		case strings.HasPrefix(optstring[i+1:], ":"):
			kind = RequiredArg
			i++
		}
		if prev, ok := want[letter]; ok {
			if prev != kind {
				return fmt.Errorf("getopt: optstring %q declares -%c twice with different kinds", optstring, letter)
			}
			continue
		}
		want[letter] = kind
		order = append(order, letter)
	}
	var problems []string
	for _, letter := range order {
		o, ok := s.Lookup(letter)
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("-%c%s is missing", letter, want[letter]))
		case o.Arg != want[letter]:
			problems = append(problems, fmt.Sprintf("-%c is -%c%s, want -%c%s", letter, letter, o.Arg, letter, want[letter]))
		}
	}
	for _, o := range s.Options {
		if _, ok := want[o.Letter]; !ok {
			problems = append(problems, fmt.Sprintf("-%c%s is not in the optstring", o.Letter, o.Arg))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("getopt: %s options differ from %q: %s", s.Name, optstring, strings.Join(problems, "; "))
	}
	return nil
}

// Validate reports a declaration mistake: a letter getopt or urfave cannot
// use, a letter declared twice, a value without a name or an option without
// a description.
func (s *Spec) Validate() error {
	if s.Name == "" {
		return fmt.Errorf("getopt: spec has no command name")
	}
	seen := make(map[rune]bool, len(s.Options))
	for _, o := range s.Options {
		if !isOptionLetter(o.Letter) {
			return fmt.Errorf("getopt: %s: option letter %q is not an ASCII letter or digit", s.Name, o.Letter)
		}
		if seen[o.Letter] {
			return fmt.Errorf("getopt: %s: option -%c declared twice", s.Name, o.Letter)
		}
		seen[o.Letter] = true
		switch o.Arg {
		case NoArg:
			if o.ArgName != "" {
				return fmt.Errorf("getopt: %s: option -%c takes no value but names one (%q)", s.Name, o.Letter, o.ArgName)
			}
		case RequiredArg, OptionalArg:
			if o.ArgName == "" {
				return fmt.Errorf("getopt: %s: option -%c takes a value but has no ArgName", s.Name, o.Letter)
			}
		default:
			return fmt.Errorf("getopt: %s: option -%c has unknown ArgKind %d", s.Name, o.Letter, int(o.Arg))
		}
		if o.Usage == "" {
			return fmt.Errorf("getopt: %s: option -%c has no usage text", s.Name, o.Letter)
		}
	}
	return nil
}

// isOptionLetter accepts the characters that are valid both as getopt
// option characters and as urfave flag names.
func isOptionLetter(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}
