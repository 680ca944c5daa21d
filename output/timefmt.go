package output

import (
	"math"
	"time"
)

// clock formats epoch seconds in local time (time.Local, which honours TZ)
// as strftime's "%Y-%m-%d %H:%M:%S". It keeps the zone period and the
// local day it last met: a time inside both is the day's date, copied,
// and its clock time, computed from the day's start, without asking
// package time. A record's first, last and received times lie in different
// seconds, so a cache of the last second missed at nearly every time
// of -o json: formatting them was 13% of its CPU (perf), ~3% so.
type clock struct {
	// The seconds [lo, hi) lie in the local day that starts at second
	// start and in one zone period: their date is date.
	lo, hi, start int64
	date          [10]byte
}

// twoDigits holds "00" to "99".
const twoDigits = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// learn reads the zone period and the local day of sec from package time.
// It reports false for a year that is not four digits, which the fixed
// date cannot hold: such times take format.
func (c *clock) learn(sec int64) bool {
	c.lo, c.hi = 0, 0 // nothing cached until the end
	t := time.Unix(sec, 0).In(time.Local)
	_, off := t.Zone()
	zlo, zhi := int64(math.MinInt64), int64(math.MaxInt64)
	start, end := t.ZoneBounds()
	if !start.IsZero() {
		zlo = start.Unix()
	}
	if !end.IsZero() {
		zhi = end.Unix()
	}
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return false
	}
	b := appendI(c.date[:0], int64(y), 4, true)
	b = append(b, '-')
	b = appendI(b, int64(mo), 2, true)
	b = append(b, '-')
	appendI(b, int64(d), 2, true)
	// The day's start as the zone's offset has it: inside the period
	// that is the local midnight; outside, the cache ends there anyway.
	c.start = floorDiv(sec+int64(off), 86400)*86400 - int64(off)
	c.lo, c.hi = max(c.start, zlo), min(c.start+86400, zhi)
	return true
}

// floorDiv is a/b rounded down, for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// format formats sec as package time does, for any year.
func format(b []byte, sec int64) []byte {
	t := time.Unix(sec, 0).In(time.Local)
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = appendI(b, int64(y), 4, true)
	b = append(b, '-')
	b = appendI(b, int64(mo), 2, true)
	b = append(b, '-')
	b = appendI(b, int64(d), 2, true)
	b = append(b, ' ')
	b = appendI(b, int64(h), 2, true)
	b = append(b, ':')
	b = appendI(b, int64(mi), 2, true)
	b = append(b, ':')
	return appendI(b, int64(s), 2, true)
}

// appendTime appends local "YYYY-MM-DD hh:mm:ss" of sec; sep replaces the
// blank between date and time (JSON uses 'T').
func (c *clock) appendTime(b []byte, sec int64, sep byte) []byte {
	if sec < c.lo || sec >= c.hi {
		if !c.learn(sec) {
			b = format(b, sec)
			b[len(b)-9] = sep // the blank before hh:mm:ss
			return b
		}
	}
	s := sec - c.start // seconds into the local day
	h, m := s/3600, s/60%60
	s %= 60
	b = append(b, c.date[:]...)
	return append(b, sep,
		twoDigits[2*h], twoDigits[2*h+1], ':',
		twoDigits[2*m], twoDigits[2*m+1], ':',
		twoDigits[2*s], twoDigits[2*s+1])
}

// appendMsec appends local "YYYY-MM-DD hh:mm:ss.mmm" of msec.
func (c *clock) appendMsec(b []byte, msec uint64, sep byte) []byte {
	b = c.appendTime(b, int64(msec/1000), sep)
	ms := msec % 1000
	t := ms % 100
	return append(b, '.', byte('0'+ms/100), twoDigits[2*t], twoDigits[2*t+1])
}
