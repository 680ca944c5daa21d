package output

import (
	"math"
	"slices"
	"strconv"
)

// The helpers below append to a byte slice the way C's printf conversions
// that nfdump uses would print, without allocating.

// padLeft appends s right-aligned in a field of width w (printf "%*s").
func padLeft(b []byte, s []byte, w int) []byte {
	for i := len(s); i < w; i++ {
		b = append(b, ' ')
	}
	return append(b, s...)
}

// padLeftStr is padLeft for a string.
func padLeftStr(b []byte, s string, w int) []byte {
	for i := len(s); i < w; i++ {
		b = append(b, ' ')
	}
	return append(b, s...)
}

// padRightStr appends s left-aligned in a field of width w ("%-*s").
func padRightStr(b []byte, s string, w int) []byte {
	b = append(b, s...)
	for i := len(s); i < w; i++ {
		b = append(b, ' ')
	}
	return b
}

// padRight appends s left-aligned in a field of width w ("%-*s").
func padRight(b []byte, s []byte, w int) []byte {
	b = append(b, s...)
	for i := len(s); i < w; i++ {
		b = append(b, ' ')
	}
	return b
}

// spaces appends n blanks.
func spaces(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, ' ')
	}
	return b
}

// appendU appends v right-aligned in width w ("%*u", "%*llu").
func appendU(b []byte, v uint64, w int) []byte {
	var t [24]byte
	s := strconv.AppendUint(t[:0], v, 10)
	return padLeft(b, s, w)
}

// appendUL appends v left-aligned in width w ("%-*u").
func appendUL(b []byte, v uint64, w int) []byte {
	n := len(b)
	b = strconv.AppendUint(b, v, 10)
	for i := len(b) - n; i < w; i++ {
		b = append(b, ' ')
	}
	return b
}

// appendI appends a signed v right-aligned in width w, zero padded when
// zero is true ("%*d", "%0*d").
func appendI(b []byte, v int64, w int, zero bool) []byte {
	var t [24]byte
	s := strconv.AppendInt(t[:0], v, 10)
	if !zero {
		return padLeft(b, s, w)
	}
	if v < 0 {
		b = append(b, '-')
		s = s[1:]
		w--
	}
	for i := len(s); i < w; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// appendF appends f with prec decimals right-aligned in width w, zero
// padded when zero is true ("%*.*f", "%0*.*f").
func appendF(b []byte, f float64, prec, w int, zero bool) []byte {
	var t [64]byte
	s := strconv.AppendFloat(t[:0], f, 'f', prec, 64)
	if !zero {
		return padLeft(b, s, w)
	}
	if len(s) > 0 && s[0] == '-' {
		b = append(b, '-')
		s = s[1:]
		w--
	}
	for i := len(s); i < w; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// hex2 appends v as two lower-case hex digits ("%.2x" of a byte).
func hex2(b []byte, v uint8) []byte {
	const digits = "0123456789abcdef"
	return append(b, digits[v>>4], digits[v&15])
}

// cInt converts like a C (int) cast of a double on x86-64: values out of
// range become INT_MIN.
func cInt(f float64) int32 {
	if f != f || f >= 2147483648.0 || f <= -2147483649.0 {
		return math.MinInt32
	}
	return int32(f)
}

// cU64 converts like gcc's (uint64_t) cast of a non-negative double on
// x86-64, including what it yields for values of 2^64 and more.
func cU64(f float64) uint64 {
	const two63 = 9223372036854775808.0
	if f != f {
		return 1 << 63
	}
	if f < two63 {
		if f <= -9223372036854775809.0 {
			return 1 << 63
		}
		return uint64(int64(f))
	}
	f -= two63
	if f >= two63 {
		return 0 // cvttsd2si gives 1<<63, xor 1<<63
	}
	return uint64(int64(f)) ^ 1<<63
}

// Number scaling, base 1000, as nfdump's format_number.
const (
	scaleM = 1000.0 * 1000.0
	scaleG = 1000.0 * 1000.0 * 1000.0
	scaleT = 1000.0 * 1000.0 * 1000.0 * 1000.0
)

// AppendNumber appends n as nfdump scales it: "73.7 M", "1.3 G", or the plain
// number below a million. fixed selects the fixed-width form used in
// columns ("%5.1f M", "%4.0f"); plain prints the integer unscaled (-N).
func AppendNumber(b []byte, n uint64, plain, fixed bool) []byte {
	if plain {
		return strconv.AppendUint(b, n, 10)
	}
	f := float64(n)
	w := 0
	if fixed {
		w = 5
	}
	switch {
	case f >= scaleT:
		return append(appendF(b, f/scaleT, 1, w, false), " T"...)
	case f >= scaleG:
		return append(appendF(b, f/scaleG, 1, w, false), " G"...)
	case f >= scaleM:
		return append(appendF(b, f/scaleM, 1, w, false), " M"...)
	}
	if fixed {
		w = 4
	}
	return appendF(b, f, 0, w, false)
}

// appendNum8 appends a scaled number right-aligned in 8 columns ("%8s").
func appendNum8(b []byte, n uint64, plain bool) []byte {
	var t [32]byte
	return padLeft(b, AppendNumber(t[:0], n, plain, true), 8)
}

// appendDec appends v in decimal, as strconv.AppendUint(b, v, 10) does.
// Two digits at a time from twoDigits, written in place: strconv's
// formats into an array and appends that through memmove, and its calls
// and copies for the thirty numbers of a -o json record were a fifth of
// godump's CPU there (perf); ~6% so.
func appendDec(b []byte, v uint64) []byte {
	if v < 10 {
		return append(b, byte('0'+v))
	}
	if v < 100 {
		return append(b, twoDigits[2*v], twoDigits[2*v+1])
	}
	d := decDigits(v)
	n := len(b)
	if cap(b)-n < 20 {
		b = slices.Grow(b, 20)
	}
	b = b[:n+d]
	t := b[n:]
	i := len(t)
	for v >= 100 && i >= 2 {
		q := v / 100
		r := v - q*100
		t[i-1], t[i-2] = twoDigits[2*r+1], twoDigits[2*r]
		v = q
		i -= 2
	}
	if v >= 10 && i >= 2 {
		t[i-1], t[i-2] = twoDigits[2*v+1], twoDigits[2*v]
	} else if i >= 1 {
		t[i-1] = byte('0' + v)
	}
	return b
}

// decDigits is the number of decimal digits of v.
func decDigits(v uint64) int {
	d := 1
	for ; v >= 10000; v /= 10000 {
		d += 4
	}
	for ; v >= 10; v /= 10 {
		d++
	}
	return d
}
