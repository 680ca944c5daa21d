// Package getopt reads command lines the way GNU getopt(3) does.
//
// nfdump, nfcapd and fprobe parse their arguments with getopt(3), and the
// scripts that call them rely on it: bundled flags (-qn10), values glued to
// their option (-S1), a required value that starts with '-' (-n -5), options
// after the filter words, and "--". Go's flag package, and so urfave/cli,
// handles none of these. A command therefore declares its short options once
// in a Spec, and Spec.Parse applies the getopt rules to argv. Spec.Main
// runs the command's action on the Result, which reads the values with
// r.String("r"), r.Values("s"), r.IsSet("q"), r.Count("v") and r.Args;
// package ucli hands the same Result to github.com/urfave/cli/v2 instead.
//
// The parser is ours rather than urfave's own because urfave cannot follow
// the getopt rules; the adapter is kept out of this package because urfave
// pulls in text/template, encoding/json and regexp: goprobe, which reads
// its Result directly, idles at 6.7 MB of resident memory instead of the
// 8.3 MB it took with urfave (a 3.2 MB binary instead of 5.2 MB; the Go
// runtime, libc and libpcap alone take 4.7 MB).
//
// The parser always permutes, as GNU getopt does by default: it does not
// look at POSIXLY_CORRECT. A spec without long options treats "--help" as
// the unknown option '-' exactly as the real tools do. A spec may declare a
// few long-only options (Option.Long) for what the original tools have no
// letter for; those follow getopt_long(3): "--name value" or "--name=value",
// exact names only (no abbreviations).
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

// Option declares one option of a command: a short option (Letter) or a
// long-only one (Long).
type Option struct {
	// Letter is the option character: an ASCII letter or digit. It is 0
	// for a long-only option.
	Letter rune
	// Long is the name of a long-only option ("metrics" for --metrics):
	// lower-case letters, digits and inner dashes. Our commands add long
	// options only where the original tool has no letter for the job, so
	// no letter can clash with a later version of the original.
	Long string
	// Arg says whether the option takes a value.
	Arg ArgKind
	// Repeat collects every occurrence: a NoArg option is counted
	// (Result.Count, c.Count), an option with a value keeps every value
	// in command-line order (Result.Values; a StringSliceFlag in ucli).
	// Without Repeat the last value wins, as with getopt.
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

// Name is the option's name, the key for Result.String, urfave's
// c.String and friends: the letter ("r") or the long name ("metrics").
func (o Option) Name() string {
	if o.Long != "" {
		return o.Long
	}
	return string(o.Letter)
}

// Flag is the option as a user types it: "-r" or "--metrics".
func (o Option) Flag() string {
	if o.Long != "" {
		return "--" + o.Long
	}
	return "-" + string(o.Letter)
}

// Spec is the complete set of options of one command.
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
		if o.Long == "" && o.Letter == letter {
			return o, true
		}
	}
	return Option{}, false
}

// LookupLong returns the long-only option declared as name.
func (s *Spec) LookupLong(name string) (Option, bool) {
	for _, o := range s.Options {
		if o.Long != "" && o.Long == name {
			return o, true
		}
	}
	return Option{}, false
}

// hasLong reports whether the spec declares any long-only option.
func (s *Spec) hasLong() bool {
	for _, o := range s.Options {
		if o.Long != "" {
			return true
		}
	}
	return false
}

// Implemented returns the letters of the short options marked
// Implemented, in declaration order.
func (s *Spec) Implemented() []rune {
	var letters []rune
	for _, o := range s.Options {
		if o.Implemented && o.Long == "" {
			letters = append(letters, o.Letter)
		}
	}
	return letters
}

// ImplementedFlags returns every option marked Implemented as a user
// types it ("-r", "--metrics"), in declaration order.
func (s *Spec) ImplementedFlags() []string {
	var flags []string
	for _, o := range s.Options {
		if o.Implemented {
			flags = append(flags, o.Flag())
		}
	}
	return flags
}

// Optstring returns the getopt(3) option string of the spec's short
// options in declaration order, with "::" marking an optional value (a GNU
// extension).
func (s *Spec) Optstring() string {
	var b strings.Builder
	for _, o := range s.Options {
		if o.Long != "" {
			continue
		}
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
		if o.Long != "" {
			continue
		}
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
	seen := make(map[string]bool, len(s.Options))
	for _, o := range s.Options {
		switch {
		case o.Long != "" && o.Letter != 0:
			return fmt.Errorf("getopt: %s: option --%s has a letter too (%q); long options are long-only", s.Name, o.Long, o.Letter)
		case o.Long != "" && !isLongName(o.Long):
			return fmt.Errorf("getopt: %s: long option name %q is not lower-case letters, digits and inner dashes", s.Name, o.Long)
		case o.Long == "" && !isOptionLetter(o.Letter):
			return fmt.Errorf("getopt: %s: option letter %q is not an ASCII letter or digit", s.Name, o.Letter)
		}
		flag := o.Flag()
		if seen[flag] {
			return fmt.Errorf("getopt: %s: option %s declared twice", s.Name, flag)
		}
		seen[flag] = true
		switch o.Arg {
		case NoArg:
			if o.ArgName != "" {
				return fmt.Errorf("getopt: %s: option %s takes no value but names one (%q)", s.Name, flag, o.ArgName)
			}
		case RequiredArg, OptionalArg:
			if o.ArgName == "" {
				return fmt.Errorf("getopt: %s: option %s takes a value but has no ArgName", s.Name, flag)
			}
		default:
			return fmt.Errorf("getopt: %s: option %s has unknown ArgKind %d", s.Name, flag, int(o.Arg))
		}
		if o.Usage == "" {
			return fmt.Errorf("getopt: %s: option %s has no usage text", s.Name, flag)
		}
	}
	return nil
}

// isOptionLetter accepts the characters that are valid both as getopt
// option characters and as urfave flag names.
func isOptionLetter(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// isLongName accepts long option names: at least two characters of
// lower-case letters, digits and dashes, starting with a letter and not
// ending with a dash.
func isLongName(name string) bool {
	if len(name) < 2 || name[0] < 'a' || name[0] > 'z' || name[len(name)-1] == '-' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
