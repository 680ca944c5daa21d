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

func TestScanPair(t *testing.T) {
	for _, tc := range []struct {
		in   string
		a, b int64
		n    int
	}{
		{"", 0, 0, 0},
		{"x", 0, 0, 0},
		{":5", 0, 0, 0},
		{"5", 5, 0, 1},
		{"5:", 5, 0, 1},
		{"5:x", 5, 0, 1},
		{"5;7", 5, 0, 1},
		{"5:7", 5, 7, 2},
		{" 5: 7", 5, 7, 2},
		{"5 :7", 5, 0, 1},
		{"-1:+2", -1, 2, 2},
		{"10000:10000000", 10000, 10000000, 2},
		{"3:4:5", 3, 4, 2},
		{"7abc", 7, 0, 1},
	} {
		a, b, n := ScanPair(tc.in)
		if a != tc.a || b != tc.b || n != tc.n {
			t.Errorf("ScanPair(%q) = %d, %d, %d; want %d, %d, %d", tc.in, a, b, n, tc.a, tc.b, tc.n)
		}
	}
}
