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
	} {
		if got := Atoi(tc.in); got != tc.want {
			t.Errorf("Atoi(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// TestAtoiStopsBeforeOverflow: C leaves a number too large for its type
// undefined; Atoi stops adding digits past 2^40 and never wraps.
func TestAtoiStopsBeforeOverflow(t *testing.T) {
	for _, s := range []string{"99999999999999999999999", "-99999999999999999999999"} {
		got := Atoi(s)
		if got < 0 {
			got = -got
		}
		if got <= 1<<40 || got > 1<<44 {
			t.Errorf("Atoi(%q) = %d, want a magnitude just past 2^40", s, Atoi(s))
		}
	}
}
