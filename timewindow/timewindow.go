// Package timewindow parses nfdump's -t time windows and decides which
// flows and files lie inside one.
//
// Three forms are accepted:
//
//   - yyyy/MM/dd.hh:mm:ss[-yyyy/MM/dd.hh:mm:ss], nfdump 1.7.1's form, where
//     trailing parts may be left out (2026/11/24 is midnight);
//   - yyyy-MM-ddThh:mm:ss[-yyyy-MM-ddThh:mm:ss], the ISO 8601 form newer
//     nfdump versions accept, with the same rule for trailing parts;
//   - +N and -N: the first or the last N seconds of the data read.
//
// Times are local time, as in nfdump.
package timewindow

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// MaxRelative is the largest N of a relative window +N or -N (one week),
// the bound nfdump uses to tell a relative window from an absolute one.
const MaxRelative = 604800

// Window is a parsed -t value. An absolute window has First (and maybe
// Last) set; a relative one has Relative set until Resolve turns it into an
// absolute one.
type Window struct {
	First, Last int64 // seconds since the epoch; Last 0 means open-ended
	// Relative is +N for the first N seconds of the data, -N for the last
	// N seconds; 0 for an absolute window.
	Relative int64
}

// Error is a -t value that cannot be used; Msg is the message nfdump
// prints for it, without the newline.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Parse reads a -t value; loc is the zone its times are in (time.Local
// for nfdump's behaviour).
func Parse(s string, loc *time.Location) (Window, error) {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		return parseRelative(s)
	}
	if len(s) < 4 {
		return Window{}, &Error{fmt.Sprintf("Time string format error '%s'", s)}
	}
	first, rest, err := parseTime(s, loc)
	if err != nil {
		return Window{}, err
	}
	w := Window{First: first}
	if rest == "" {
		return w, nil
	}
	if rest[0] != '-' || len(rest) == 1 {
		return Window{}, &Error{fmt.Sprintf("Time format error at '%s': unexpected character: '%c'.", rest, rest[0])}
	}
	last, rest, err := parseTime(rest[1:], loc)
	if err != nil {
		return Window{}, err
	}
	if rest != "" {
		return Window{}, &Error{fmt.Sprintf("Time format error at '%s': unexpected character: '%c'.", rest, rest[0])}
	}
	if last < first {
		return Window{}, &Error{fmt.Sprintf("Time window end %s lies before its start", strings.SplitN(s, "-", 2)[1])}
	}
	w.Last = last
	return w, nil
}

func parseRelative(s string) (Window, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || len(s) < 2 || s[1] < '0' || s[1] > '9' {
		return Window{}, &Error{fmt.Sprintf("Invalid time string %s", s)}
	}
	if n == 0 {
		return Window{}, &Error{fmt.Sprintf("Invalid time string %s: a relative window needs N > 0", s)}
	}
	if n > MaxRelative || n < -MaxRelative {
		return Window{}, &Error{fmt.Sprintf("Relative time window %s out of range: at most %d seconds", s, MaxRelative)}
	}
	return Window{Relative: n}, nil
}

// parseTime reads one point in time at the start of s in either form and
// returns the rest of s. Each part after the year is optional.
func parseTime(s string, loc *time.Location) (int64, string, error) {
	// The fields and what separates each from the next, legacy and ISO.
	type field struct {
		name     string
		min, max int
	}
	fields := []field{{"Year", 1970, 2038}, {"Month", 1, 12}, {"Day", 1, 31}, {"Hour", 0, 23}, {"Minute", 0, 59}, {"Seconds", 0, 59}}
	legacy := []byte{'/', '/', '.', ':', ':'}
	iso := []byte{'-', '-', 'T', ':', ':'}
	seps := legacy
	vals := []int{0, 1, 1, 0, 0, 0}
	rest := s
	for i, f := range fields {
		width := 2
		if i == 0 {
			width = 4
		}
		if len(rest) < width || !digits(rest[:width]) || (len(rest) > width && isDigit(rest[width])) {
			end := 0
			for end < len(rest) && rest[end] != seps[min(i, 4)] && (i > 0 || rest[end] != '-') {
				end++
			}
			return 0, "", &Error{fmt.Sprintf("Time format error: '%s' unexpected.", rest[:end])}
		}
		v, _ := strconv.Atoi(rest[:width])
		if v < f.min || v > f.max {
			return 0, "", &Error{fmt.Sprintf("%s out of range: '%d'", f.name, v)}
		}
		vals[i] = v
		rest = rest[width:]
		if i == len(fields)-1 || rest == "" {
			break
		}
		if i == 0 {
			// The separator after the year picks the form. A '-' followed
			// by two digits and no more is an ISO month; a '-' followed by
			// four digits starts the end of the window.
			switch {
			case rest[0] == '/':
				seps = legacy
			case rest[0] == '-' && len(rest) >= 3 && digits(rest[1:3]) && (len(rest) == 3 || !isDigit(rest[3])):
				seps = iso
			default:
				break
			}
		}
		if rest[0] != seps[i] {
			break
		}
		// An ISO '-' that starts the window's end is not a separator.
		if seps[i] == '-' && !(len(rest) >= 3 && digits(rest[1:3]) && (len(rest) == 3 || !isDigit(rest[3]))) {
			break
		}
		rest = rest[1:]
	}
	t := time.Date(vals[0], time.Month(vals[1]), vals[2], vals[3], vals[4], vals[5], 0, loc)
	return t.Unix(), rest, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// IsRelative reports whether the window still needs Resolve.
func (w Window) IsRelative() bool { return w.Relative != 0 }

// Resolve turns a relative window into an absolute one, given the time
// span of the data (msec since the epoch, as in the files' stat records):
// +N becomes [first, first+N], -N becomes [last-N, open]. An absolute
// window is returned unchanged.
func (w Window) Resolve(dataFirst, dataLast uint64) Window {
	switch {
	case w.Relative > 0:
		f := int64(dataFirst / 1000)
		return Window{First: f, Last: f + w.Relative}
	case w.Relative < 0:
		l := int64(dataLast / 1000)
		return Window{First: l + w.Relative}
	}
	return w
}

// Contains reports whether a flow from first to last (msec) lies entirely
// inside the window, nfdump's per-flow test.
func (w Window) Contains(first, last uint64) bool {
	lo, hi := w.Span()
	return first >= lo && last <= hi
}

// Span returns the flow times (msec) that Contains accepts: a flow from
// first to last lies inside the window when first >= lo and last <= hi.
// A window without a start accepts every flow, one without an end every
// flow from its start on. Selecting on a record's stored bytes needs the
// bounds as numbers.
func (w Window) Span() (lo, hi uint64) {
	if w.First <= 0 {
		return 0, math.MaxUint64
	}
	hi = math.MaxUint64
	if w.Last > 0 {
		hi = uint64(w.Last) * 1000
	}
	return uint64(w.First) * 1000, hi
}

// Overlaps reports whether a file whose stat record spans first to last
// (msec) can hold flows of the window; nfdump drops a -r file otherwise.
func (w Window) Overlaps(first, last uint64) bool {
	if w.Last > 0 && w.Last < int64(first/1000) {
		return false
	}
	if w.First > 0 && w.First > int64(last/1000) {
		return false
	}
	return true
}

// Clamp narrows a time span (msec) to the window, as the "Time window:"
// summary line is narrowed, at second resolution like nfdump.
func (w Window) Clamp(first, last uint64) (uint64, uint64) {
	if w.First > 0 && uint64(w.First)*1000 > first {
		first = uint64(w.First) * 1000
	}
	if w.Last > 0 && uint64(w.Last)*1000 < last {
		last = uint64(w.Last) * 1000
	}
	return first, last
}
