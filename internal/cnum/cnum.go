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
