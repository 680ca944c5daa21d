package stats

import (
	"fmt"

	"github.com/nfgo/nftools/internal/cnum"
)

// Limit is a -l (packets) or -L (bytes) limit for element statistics: rows
// whose count is not above Value (or, with Less, not below it) are left
// out. A Value of 0 is no limit.
type Limit struct {
	Value uint64
	Less  bool
}

// keep reports whether a row with count n passes the limit.
func (l Limit) keep(n uint64) bool {
	switch {
	case l.Value == 0:
		return true
	case l.Less:
		return n < l.Value
	default:
		return n > l.Value
	}
}

// LimitError is a -l or -L value nfdump 1.7.1 rejects; its text is
// nfdump's message (exit status 250).
type LimitError struct{ Msg string }

func (e *LimitError) Error() string { return e.Msg }

// ParseLimit reads [+|-]N[b|k|m|g] as nfdump 1.7.1 does: + (the default)
// means more than N, - less than N, the suffix scales by 1000s, and the
// number is read like C's atol, so "1.5k" is 1000.
func ParseLimit(s string) (Limit, error) {
	var l Limit
	digits := s
	switch {
	case s == "":
		return l, &LimitError{Msg: "Can't understand ''"}
	case s[0] == '-':
		l.Less, digits = true, s[1:]
	case s[0] == '+':
		digits = s[1:]
	case s[0] < '0' || s[0] > '9':
		return l, &LimitError{Msg: fmt.Sprintf("Can't understand '%s'", s)}
	}
	scale := uint64(1)
	switch c := s[len(s)-1]; c {
	case 'b', 'B':
	case 'k', 'K':
		scale = 1000
	case 'm', 'M':
		scale = 1000 * 1000
	case 'g', 'G':
		scale = 1000 * 1000 * 1000
	default:
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			return l, &LimitError{Msg: fmt.Sprintf("Can't understand '%c' in '%s'", c, s)}
		}
	}
	l.Value = uint64(cnum.Atoi(digits)) * scale
	return l, nil
}
