package cnum

import "testing"

func TestAtoi(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"", 0},
		{"10", 10},
		{"  \t\n42", 42},
		{"+7", 7},
		{"-3", -3},
		{"3x", 3},
		{"x3", 0},
		{"- 3", 0},
		{"12 34", 12},
		{"007", 7},
		{"50000000000000", 50000000000000}, // a byte limit of 50 TB
		{"999999999999999999", 999999999999999999}, // 18 digits
	} {
		if got := Atoi(tc.in); got != tc.want {
			t.Errorf("Atoi(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// TestAtoiStopsBeforeOverflow: C leaves a number too large for its type
// undefined; Atoi stops adding digits at 10^17 and never wraps.
func TestAtoiStopsBeforeOverflow(t *testing.T) {
	for _, s := range []string{"99999999999999999999999", "-99999999999999999999999"} {
		got := Atoi(s)
		if got < 0 {
			got = -got
		}
		if got < 1e17 {
			t.Errorf("Atoi(%q) = %d, want at least 18 digits, not a wrapped value", s, Atoi(s))
		}
	}
}
