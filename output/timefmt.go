package output

import (
	"math"
	"time"
)

// clock formats epoch seconds in local time (time.Local, which honours TZ)
// as strftime's "%Y-%m-%d %H:%M:%S". It keeps the zone period and the
// local day it last met: a time inside both is the day's date, copied,
// and its clock time, computed from the offset, without asking package
// time. A record's first, last and received times lie in different
// seconds, so a cache of the last second missed at nearly every time
// of -o json: formatting them was 13% of its CPU (perf), ~3% so.
type clock struct {
	// local = sec + off for sec in [zlo, zhi).
	zlo, zhi, off int64
	// The local day (days since the epoch, local) and its "YYYY-MM-DD".
	day  int64
	date [10]byte
	ok   bool // the fields above hold
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
	t := time.Unix(sec, 0).In(time.Local)
	_, off := t.Zone()
	start, end := t.ZoneBounds()
	c.zlo, c.zhi, c.off = math.MinInt64, math.MaxInt64, int64(off)
	if !start.IsZero() {
		c.zlo = start.Unix()
	}
	if !end.IsZero() {
		c.zhi = end.Unix()
	}
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		c.ok = false
		return false
	}
	b := appendI(c.date[:0], int64(y), 4, true)
	b = append(b, '-')
	b = appendI(b, int64(mo), 2, true)
	b = append(b, '-')
	appendI(b, int64(d), 2, true)
	c.day = floorDiv(sec+c.off, 86400)
	c.ok = true
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
	if !c.ok || sec < c.zlo || sec >= c.zhi || floorDiv(sec+c.off, 86400) != c.day {
		if !c.learn(sec) {
			b = format(b, sec)
			b[len(b)-9] = sep // the blank before hh:mm:ss
			return b
		}
	}
	s := sec + c.off - c.day*86400 // seconds into the local day
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
