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

// Options returns the option letters the OPTIONS section of a man(7) page
// documents, in page order. Every tag of a .TP paragraph in that section
// must be a single-letter option written as ".B \-x" (or .BI/.BR with the
// value after it), so that no option escapes the check.
func Options(page []byte) ([]rune, error) {
	var letters []rune
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
			letter, err := tagOption(macro, rest)
			if err != nil {
				return nil, fmt.Errorf("line %d: %q: %w", line, text, err)
			}
			letters = append(letters, letter)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return letters, nil
}

// tagOption reads the option letter from a .TP tag line such as
// `.B \-h` or `.BI \-r " file"`.
func tagOption(macro, rest string) (rune, error) {
	if macro != ".B" && macro != ".BI" && macro != ".BR" {
		return 0, errors.New(`OPTIONS tag is not ".B \-x", ".BI \-x ..." or ".BR \-x ..."`)
	}
	opt, _, _ := strings.Cut(rest, " ")
	if len(opt) != 3 || !strings.HasPrefix(opt, `\-`) {
		return 0, errors.New(`OPTIONS tag does not start with a single-letter option \-x`)
	}
	return rune(opt[2]), nil
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
	for _, l := range spec.Implemented() {
		if !slices.Contains(documented, l) {
			problems = append(problems, fmt.Sprintf("-%c is implemented but not in OPTIONS", l))
		}
	}
	for i, l := range documented {
		opt, ok := spec.Lookup(l)
		switch {
		case slices.Contains(documented[:i], l):
			problems = append(problems, fmt.Sprintf("-%c is in OPTIONS twice", l))
		case !ok:
			problems = append(problems, fmt.Sprintf("-%c is in OPTIONS but %s has no such option", l, spec.Name))
		case !opt.Implemented:
			problems = append(problems, fmt.Sprintf("-%c is in OPTIONS but not implemented", l))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %s", path, strings.Join(problems, "; "))
	}
	return nil
}
