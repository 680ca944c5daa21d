package flowfile

import (
	"fmt"
	"path/filepath"
	"time"
)

// MaxLayout is the highest sub-directory layout nfcapd's -S knows.
const MaxLayout = 8

// SlotStart returns the start of the rotation slot that t falls in, for a
// rotation interval of interval: nfcapd aligns slots on the Unix epoch
// (now - now % interval), whatever the time zone.
func SlotStart(t time.Time, interval time.Duration) time.Time {
	sec := int64(interval / time.Second)
	if sec <= 0 {
		return t.Truncate(time.Second)
	}
	u := t.Unix()
	return time.Unix(u-u%sec, 0).In(t.Location())
}

// SlotName returns the file name nfcapd gives the slot that starts at start:
// nfcapd.YYYYMMDDhhmm in start's location, with the seconds added when the
// interval is under a minute, and the zone offset (+0100) added when zone
// is set (nfcapd -Z).
func SlotName(start time.Time, interval time.Duration, zone bool) string {
	return "nfcapd." + SlotString(start, interval, zone)
}

// SlotString is the time part of SlotName, which nfcapd -x passes as %t.
func SlotString(start time.Time, interval time.Duration, zone bool) string {
	layout := "200601021504"
	if interval < time.Minute {
		layout = "20060102150405"
	}
	if zone {
		layout += "-0700"
	}
	return start.Format(layout)
}

// SubDir returns the sub directory that nfcapd -S layout puts the file of
// the slot starting at start in, relative to the flow directory ("" for
// layout 0), using start's location.
//
//	0  (none)        1  %Y/%m/%d     2  %Y/%m/%d/%H
//	3  %Y/%W/%u      4  %Y/%W/%u/%H  5  %Y/%j
//	6  %Y/%j/%H      7  %Y-%m-%d     8  %Y-%m-%d/%H
func SubDir(layout int, start time.Time) (string, error) {
	y, m, d := start.Date()
	h := start.Hour()
	yday := start.YearDay()
	// strftime %u: Monday is 1, Sunday 7; %W: weeks starting on Monday,
	// the days before the year's first Monday are in week 0.
	u := (int(start.Weekday())+6)%7 + 1
	w := (yday - 1 + 7 - (u - 1)) / 7
	switch layout {
	case 0:
		return "", nil
	case 1:
		return fmt.Sprintf("%04d/%02d/%02d", y, m, d), nil
	case 2:
		return fmt.Sprintf("%04d/%02d/%02d/%02d", y, m, d, h), nil
	case 3:
		return fmt.Sprintf("%04d/%02d/%d", y, w, u), nil
	case 4:
		return fmt.Sprintf("%04d/%02d/%d/%02d", y, w, u, h), nil
	case 5:
		return fmt.Sprintf("%04d/%03d", y, yday), nil
	case 6:
		return fmt.Sprintf("%04d/%03d/%02d", y, yday, h), nil
	case 7:
		return fmt.Sprintf("%04d-%02d-%02d", y, m, d), nil
	case 8:
		return fmt.Sprintf("%04d-%02d-%02d/%02d", y, m, d, h), nil
	}
	return "", fmt.Errorf("No such subdir level %d", layout)
}

// SlotPath returns the path of the slot's file relative to the flow
// directory: SubDir joined with SlotName.
func SlotPath(layout int, start time.Time, interval time.Duration, zone bool) (string, error) {
	sub, err := SubDir(layout, start)
	if err != nil {
		return "", err
	}
	return filepath.Join(sub, SlotName(start, interval, zone)), nil
}
