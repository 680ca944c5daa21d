package filter

import (
	"strconv"
	"strings"
	"time"
)

// laterSpelling parses the primitives nfdump 1.7.2 to 1.7.8 spell with
// words 1.7.1 has no keyword for, so that 1.7.1 rejects them: icmp
// type|code, engine type|id, exporter [sysid|id], bgp next ip, first seen
// and last seen, xlate. They mean what their 1.7.1 counterparts mean.
func (p *parser) laterSpelling() (uint32, bool) {
	t := p.peek()
	switch {
	case t.isWord("icmp"):
		p.shift()
		typ := p.peek().isWord("type")
		if !typ && !p.peek().isWord("code") {
			p.syntaxError()
		}
		p.shift()
		c := p.parseComp()
		return p.icmp(typ, p.expectNumber(), c), true
	case t.isWord("engine"):
		p.shift()
		typ := p.peek().isWord("type")
		if !typ && p.peek().kind != tID {
			p.syntaxError()
		}
		p.shift()
		c := p.parseComp()
		return p.engine(typ, p.expectNumber(), c), true
	case t.isWord("exporter"):
		p.shift()
		if k := p.peek().kind; k == tSysID || k == tID {
			p.shift()
		}
		c := p.parseComp()
		n := p.expectNumber()
		if n > 65535 {
			p.errLast("Exporter SysID of range 0..65535")
		}
		return p.fieldVal(sSysID, n, c), true
	case t.isWord("bgp"):
		p.shift()
		p.expect(tNext)
		return p.termHopIP(aBGPNext, false), true
	case t.isWord("first") || t.isWord("last"):
		p.shift()
		if !p.peek().isWord("seen") {
			p.syntaxError()
		}
		p.shift()
		c := p.parseComp()
		if k := p.peek().kind; k != tString && k != tNumber {
			p.syntaxError()
		}
		s := p.shift().str()
		loc := p.opts.Location
		if loc == nil {
			loc = time.Local
		}
		ms, ok := parseISOTime(s, loc)
		if !ok {
			p.errLast("Invalid ISO8601 time string: " + s)
		}
		sl := sFirst
		if t.isWord("last") {
			sl = sLast
		}
		return p.field(sl, ms, c), true
	case t.isWord("xlate"):
		p.shift()
		return p.natTerm(), true
	}
	return 0, false
}

// parseISOTime reads yyyy[-MM[-dd[Thh[:mm[:ss[.fff]]]]]] in loc, the
// partial times nfdump 1.7.6 accepts, as msec since the epoch. Years are
// those nfdump accepts, 1970 to 2038.
func parseISOTime(s string, loc *time.Location) (uint64, bool) {
	date, clock, hasClock := strings.Cut(s, "T")
	if !hasClock {
		date, clock, hasClock = strings.Cut(s, "t")
	}
	d := strings.Split(date, "-")
	if len(d) > 3 || hasClock && len(d) != 3 {
		return 0, false
	}
	num := func(s string, digits, lo, hi int) (int, bool) {
		if len(s) != digits {
			return 0, false
		}
		v, err := strconv.Atoi(s)
		if err != nil || v < lo || v > hi {
			return 0, false
		}
		return v, true
	}
	parts := [6]int{0, 1, 1, 0, 0, 0}
	limits := [6][3]int{{4, 1970, 2038}, {2, 1, 12}, {2, 1, 31}, {2, 0, 23}, {2, 0, 59}, {2, 0, 59}}
	var ok bool
	for i, f := range d {
		if parts[i], ok = num(f, limits[i][0], limits[i][1], limits[i][2]); !ok {
			return 0, false
		}
	}
	msec := 0
	if hasClock {
		hms, frac, hasFrac := strings.Cut(clock, ".")
		c := strings.Split(hms, ":")
		if len(c) > 3 || hasFrac && len(c) != 3 {
			return 0, false
		}
		for i, f := range c {
			if parts[3+i], ok = num(f, limits[3+i][0], limits[3+i][1], limits[3+i][2]); !ok {
				return 0, false
			}
		}
		if hasFrac {
			if frac == "" || len(frac) > 3 {
				return 0, false
			}
			v, err := strconv.Atoi(frac)
			if err != nil || v < 0 {
				return 0, false
			}
			for n := len(frac); n < 3; n++ {
				v *= 10
			}
			msec = v
		}
	}
	t := time.Date(parts[0], time.Month(parts[1]), parts[2], parts[3], parts[4], parts[5], msec*int(time.Millisecond), loc)
	if t.Day() != parts[2] {
		return 0, false // no such day in that month
	}
	return uint64(t.UnixMilli()), true
}
