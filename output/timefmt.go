package output

import "time"

// clock formats epoch seconds in local time (time.Local, which honours TZ)
// as strftime's "%Y-%m-%d %H:%M:%S", caching the last second so that runs
// of flows from the same second cost a copy.
type clock struct {
	sec  int64
	text [19]byte
	ok   bool
}

func (c *clock) format(sec int64) []byte {
	if c.ok && c.sec == sec {
		return c.text[:]
	}
	t := time.Unix(sec, 0).In(time.Local)
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b := c.text[:0]
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
	b = appendI(b, int64(s), 2, true)
	if len(b) != 19 { // a year beyond 9999: no caching in the fixed array
		c.ok = false
		return b
	}
	c.sec, c.ok = sec, true
	return c.text[:]
}

// appendTime appends local "YYYY-MM-DD hh:mm:ss" of sec; sep replaces the
// blank between date and time (JSON uses 'T').
func (c *clock) appendTime(b []byte, sec int64, sep byte) []byte {
	t := c.format(sec)
	n := len(b)
	b = append(b, t...)
	b[n+10] = sep
	return b
}

// appendMsec appends local "YYYY-MM-DD hh:mm:ss.mmm" of msec.
func (c *clock) appendMsec(b []byte, msec uint64, sep byte) []byte {
	b = c.appendTime(b, int64(msec/1000), sep)
	b = append(b, '.')
	return appendI(b, int64(msec%1000), 3, true)
}
