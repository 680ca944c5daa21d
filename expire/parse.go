package expire

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseSize reads a size limit as nfexpire -s does: a number, perhaps
// with a fraction, and a factor K, M, G or T (powers of 1024, an optional
// B after them) or B; bytes without a factor. 0 means no limit.
func ParseSize(s string) (uint64, error) {
	i := 0
	dot := false
	for ; i < len(s); i++ {
		if s[i] == '.' && !dot {
			dot = true
			continue
		}
		if s[i] < '0' || s[i] > '9' {
			break
		}
	}
	if i == 0 {
		return 0, fmt.Errorf("Missing number in '%s'", s)
	}
	num, rest := s[:i], s[i:]
	var fac float64
	switch strings.ToUpper(rest) {
	case "", "B":
		fac = 1
	case "K", "KB":
		fac = 1 << 10
	case "M", "MB":
		fac = 1 << 20
	case "G", "GB":
		fac = 1 << 30
	case "T", "TB":
		fac = 1 << 40
	default:
		return 0, fmt.Errorf("Garbage character(s) '%s' in '%s'", rest, s)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		// A lone dot: atof reads it as 0.
		f = 0
	}
	return uint64(f * fac), nil
}

// ParseLifetime reads a lifetime limit as nfexpire -t does: numbers each
// with a unit w (weeks), d (days), H (hours) or M (minutes), hours without
// a unit, each unit at most once ("1w3d", "36"). It returns seconds; 0
// means no limit.
func ParseLifetime(s string) (uint64, error) {
	var seen [4]bool
	var total uint64
	for p := 0; p < len(s); {
		q := p
		for p < len(s) && s[p] >= '0' && s[p] <= '9' {
			p++
		}
		if p == q {
			return 0, fmt.Errorf("Missing number before '%s'", s[q:])
		}
		n, err := strconv.ParseUint(s[q:p], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("Number out of range in '%s'", s)
		}
		unit := byte('H')
		if p < len(s) {
			unit = s[p]
			p++
		}
		var k int
		var secs uint64
		switch unit {
		case 'w':
			k, secs = 0, 7*24*3600
		case 'd':
			k, secs = 1, 24*3600
		case 'H':
			k, secs = 2, 3600
		case 'M':
			k, secs = 3, 60
		default:
			return 0, fmt.Errorf("Unknown time unit '%s'", s[q:])
		}
		if seen[k] {
			return 0, fmt.Errorf("Ambiguous unit %c in '%s'", unit, s)
		}
		seen[k] = true
		total += n * secs
	}
	return total, nil
}

// ParseWatermark reads a watermark in percent as nfexpire -w does: 0
// means 100, beyond 100 is an error.
func ParseWatermark(s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("Invalid water mark '%s'", s)
	}
	if n > 100 {
		return 0, fmt.Errorf("Water mark > 100%%")
	}
	if n == 0 {
		n = 100
	}
	return n, nil
}

// ScaleSize prints a byte count as nfdump's expire messages do:
// "512 B", "8192 = 8.0 KB".
func ScaleSize(v uint64) string {
	f := float64(v)
	switch {
	case f < 1<<10:
		return fmt.Sprintf("%d B", v)
	case f < 1<<20:
		return fmt.Sprintf("%d = %.1f KB", v, f/(1<<10))
	case f < 1<<30:
		return fmt.Sprintf("%d = %.1f MB", v, f/(1<<20))
	case f < 1<<40:
		return fmt.Sprintf("%d = %.1f GB", v, f/(1<<30))
	}
	return fmt.Sprintf("%d = %.1f TB", v, f/(1<<40))
}

// ScaleTime prints seconds as nfdump's expire messages do: "5 sec",
// "7200 = 2.0 hours".
func ScaleTime(v uint64) string {
	f := float64(v)
	switch {
	case f < 60:
		return fmt.Sprintf("%d sec", v)
	case f < 3600:
		return fmt.Sprintf("%d = %.1f min", v, f/60)
	case f < 86400:
		return fmt.Sprintf("%d = %.1f hours", v, f/3600)
	case f < 604800:
		return fmt.Sprintf("%d = %.1f days", v, f/86400)
	}
	return fmt.Sprintf("%d = %.1f weeks", v, f/604800)
}
