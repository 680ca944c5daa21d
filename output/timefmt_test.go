package output

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestClockLikeTime checks the clock's cached zone period and day against
// package time in zones with daylight saving (one of half an hour), a zone
// of a fixed offset and one of a POSIX rule, over times in order across
// their changes, times in random order (each a miss or a stale cache) and
// times before 1970.
func TestClockLikeTime(t *testing.T) {
	old := time.Local
	defer func() { time.Local = old }()
	zones := []*time.Location{time.UTC, time.FixedZone("X", -(3*3600 + 1800))}
	for _, name := range []string{"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Skipf("no zone data: %v", err)
		}
		zones = append(zones, loc)
	}
	var secs []int64
	// Across the changes of 2026 in Europe and America, in steps of a
	// prime number of seconds, and across the midnights around them.
	for _, from := range []int64{1774746000, 1792890000, 1772924400, 1793494800, 1775314800} {
		for s := from - 2*86400; s < from+2*86400; s += 997 {
			secs = append(secs, s)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		secs = append(secs, r.Int64N(4102444800)) // before 2100
	}
	for range 2000 {
		secs = append(secs, -r.Int64N(4102444800)) // after 1840
	}
	secs = append(secs, 0, -1, 86399, 86400, 253402300799) // 9999-12-31 23:59:59 UTC
	for _, loc := range zones {
		time.Local = loc
		var c clock
		for _, s := range secs {
			want := time.Unix(s, 0).In(loc).Format("2006-01-02T15:04:05")
			if got := string(c.appendTime([]byte("x"), s, 'T')); got != "x"+want {
				t.Fatalf("%s: %d: %q, want %q", loc, s, got, "x"+want)
			}
			ms := uint64(s)*1000 + uint64(s&1023)%1000
			if s < 0 {
				continue
			}
			want = time.UnixMilli(int64(ms)).In(loc).Format("2006-01-02 15:04:05.000")
			if got := string(c.appendMsec(nil, ms, ' ')); got != want {
				t.Fatalf("%s: %d ms: %q, want %q", loc, ms, got, want)
			}
		}
	}
}

// TestClockFiveDigitYear checks a time past the year 9999, which the
// clock's fixed date cannot hold, comes out whole, with its separator.
func TestClockFiveDigitYear(t *testing.T) {
	old := time.Local
	defer func() { time.Local = old }()
	time.Local = time.UTC
	var c clock
	c.appendTime(nil, 1e9, ' ') // a cached day first
	got := string(c.appendTime(nil, 253402300800, 'T'))
	if got != "10000-01-01T00:00:00" {
		t.Fatalf("%q", got)
	}
	if got := string(c.appendTime(nil, 1e9, ' ')); !strings.HasPrefix(got, "2001-09-09 01:46:40") {
		t.Fatalf("after: %q", got)
	}
}
