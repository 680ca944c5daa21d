// Package mancheck keeps the man pages in man/ honest: they pass
// mandoc -Tlint, and the OPTIONS section of a command's page lists exactly
// the options the command marks Implemented in its getopt.Spec.
package mancheck

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/nfgo/nftools/internal/getopt"
)

// ErrNoMandoc is returned by Lint when mandoc is not on PATH.
var ErrNoMandoc = errors.New("mandoc not found on PATH")

// Lint runs mandoc -Tlint on page. It returns nil when mandoc has nothing
// to say, an error quoting mandoc's messages otherwise, and ErrNoMandoc
// when mandoc is missing.
func Lint(page string) error {
	mandoc, err := exec.LookPath("mandoc")
	if err != nil {
		return ErrNoMandoc
	}
	out, err := exec.Command(mandoc, "-Tlint", page).CombinedOutput()
	if err != nil || len(out) > 0 {
		return fmt.Errorf("mandoc -Tlint %s: %v\n%s", page, err, out)
	}
	return nil
}

// NeedMandoc stops a test that needs mandoc when it is missing: the test
// fails under CI=true, so CI never passes by skipping, and is skipped with
// a message elsewhere.
func NeedMandoc(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("mandoc"); err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("mandoc is not installed; CI=true requires it to lint the man pages")
	}
	t.Skip("mandoc is not installed; skipping the man page lint (install mandoc to run it)")
}

// Options returns the options the OPTIONS section of a man(7) page
// documents, in page order, as a user types them ("-x", "--name"). Every
// tag of a .TP paragraph in that section must be a single-letter option
// written as ".B \-x" or a long one written as ".B \-\-name" (or .BI/.BR
// with the value after it), so that no option escapes the check.
func Options(page []byte) ([]string, error) {
	var flags []string
	inOptions, tag := false, false
	sc := bufio.NewScanner(bytes.NewReader(page))
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		macro, rest, _ := strings.Cut(text, " ")
		switch {
		case macro == ".SH":
			inOptions = strings.Trim(rest, `"`) == "OPTIONS"
			tag = false
		case !inOptions:
		case macro == ".TP":
			tag = true
		case tag:
			tag = false
			flag, err := tagOption(macro, rest)
			if err != nil {
				return nil, fmt.Errorf("line %d: %q: %w", line, text, err)
			}
			flags = append(flags, flag)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return flags, nil
}

// tagOption reads the option from a .TP tag line such as `.B \-h`,
// `.BI \-r " file"` or `.BI \-\-metrics " addr"`.
func tagOption(macro, rest string) (string, error) {
	if macro != ".B" && macro != ".BI" && macro != ".BR" {
		return "", errors.New(`OPTIONS tag is not ".B \-x", ".BI \-x ..." or ".BR \-x ..."`)
	}
	opt, _, _ := strings.Cut(rest, " ")
	if name, ok := strings.CutPrefix(opt, `\-\-`); ok {
		if len(name) < 2 {
			return "", errors.New(`OPTIONS tag has an empty long option \-\-`)
		}
		return "--" + strings.ReplaceAll(name, `\-`, "-"), nil
	}
	if len(opt) != 3 || !strings.HasPrefix(opt, `\-`) {
		return "", errors.New(`OPTIONS tag does not start with a single-letter option \-x or a long option \-\-name`)
	}
	return "-" + opt[2:], nil
}

// Check compares the OPTIONS section of the man page at path with spec:
// every option the spec marks Implemented must be documented, and every
// documented option must be declared and marked Implemented.
func Check(path string, spec *getopt.Spec) error {
	page, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	documented, err := Options(page)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var problems []string
	for _, f := range spec.ImplementedFlags() {
		if !slices.Contains(documented, f) {
			problems = append(problems, fmt.Sprintf("%s is implemented but not in OPTIONS", f))
		}
	}
	for i, f := range documented {
		var opt getopt.Option
		var ok bool
		if name, long := strings.CutPrefix(f, "--"); long {
			opt, ok = spec.LookupLong(name)
		} else {
			opt, ok = spec.Lookup(rune(f[1]))
		}
		switch {
		case slices.Contains(documented[:i], f):
			problems = append(problems, fmt.Sprintf("%s is in OPTIONS twice", f))
		case !ok:
			problems = append(problems, fmt.Sprintf("%s is in OPTIONS but %s has no such option", f, spec.Name))
		case !opt.Implemented:
			problems = append(problems, fmt.Sprintf("%s is in OPTIONS but not implemented", f))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %s", path, strings.Join(problems, "; "))
	}
	return nil
}
