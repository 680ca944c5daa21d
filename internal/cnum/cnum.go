// Package cnum reads numbers the way the C library calls in nfdump and
// nfcapd read their option values, so that the same command line gives the
// same number: atoi takes what it can and ignores the rest.
package cnum

// Atoi reads s as C's atoi and atol do: leading white space, an optional
// sign, then the digits up to the first other character; no digits give 0.
// Where C's result is undefined (more digits than fit), Atoi stops adding
// digits once the value reaches 10^17, so every number of up to 18 digits
// reads exactly and none wraps.
func Atoi(s string) int64 {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var n int64
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9' && n < 1e17; i++ {
		n = n*10 + int64(s[i]-'0')
	}
	if neg {
		return -n
	}
	return n
}

// ScanPair reads s as C's sscanf(s, "%d:%d", &a, &b) does and returns the
// values it read and how many (0, 1 or 2): fprobe reads -x and -t so. A
// number is white space, an optional sign and at least one digit; the
// second is read only right after a ':' that follows the first.
func ScanPair(s string) (a, b int64, n int) {
	a, rest, ok := scanInt(s)
	if !ok {
		return 0, 0, 0
	}
	if len(rest) == 0 || rest[0] != ':' {
		return a, 0, 1
	}
	b, _, ok = scanInt(rest[1:])
	if !ok {
		return a, 0, 1
	}
	return a, b, 2
}

// scanInt reads one %d conversion from the start of s and returns the
// value and what follows it; ok is false when s holds no number there.
// Like Atoi, it stops adding digits at 10^17.
func scanInt(s string) (v int64, rest string, ok bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if v < 1e17 {
			v = v*10 + int64(s[i]-'0')
		}
	}
	if i == start {
		return 0, s, false
	}
	if neg {
		v = -v
	}
	return v, s[i:], true
}
