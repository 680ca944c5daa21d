package timewindow

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func unix(s string) int64 {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, time.UTC)
	if err != nil {
		panic(err)
	}
	return t.Unix()
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Window
	}{
		{"2026/11/24.21:31:00-2026/11/24.21:31:20", Window{First: unix("2026-11-24 21:31:00"), Last: unix("2026-11-24 21:31:20")}},
		{"2026/11/24.21:31:10", Window{First: unix("2026-11-24 21:31:10")}},
		{"2026/11/24", Window{First: unix("2026-11-24 00:00:00")}},
		{"2026/11/24.21", Window{First: unix("2026-11-24 21:00:00")}},
		{"2026/11", Window{First: unix("2026-11-01 00:00:00")}},
		{"2027", Window{First: unix("2027-01-01 00:00:00")}},
		{"2026/11/24-2026/11/25", Window{First: unix("2026-11-24 00:00:00"), Last: unix("2026-11-25 00:00:00")}},
		{"2026-2027", Window{First: unix("2026-01-01 00:00:00"), Last: unix("2027-01-01 00:00:00")}},
		// ISO 8601, as newer nfdump versions take it.
		{"2026-11-24T21:31:00", Window{First: unix("2026-11-24 21:31:00")}},
		{"2026-11-24T21:31:00-2026-11-24T21:31:20", Window{First: unix("2026-11-24 21:31:00"), Last: unix("2026-11-24 21:31:20")}},
		{"2026-11-24-2026-11-25T12", Window{First: unix("2026-11-24 00:00:00"), Last: unix("2026-11-25 12:00:00")}},
		{"2026-11", Window{First: unix("2026-11-01 00:00:00")}},
		// Relative windows.
		{"+2", Window{Relative: 2}},
		{"-3600", Window{Relative: -3600}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in, time.UTC)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, msg string }{
		{"foo", "Time string format error 'foo'"},
		{"", "Time string format error ''"},
		{"2039/01/01", "Year out of range: '2039'"},
		{"1969", "Year out of range: '1969'"},
		{"2026/13/01", "Month out of range: '13'"},
		{"2026/11/32", "Day out of range: '32'"},
		{"2026/11/24.24", "Hour out of range: '24'"},
		{"2026/11/24.21:60", "Minute out of range: '60'"},
		{"2026/11/24.21:00:61", "Seconds out of range: '61'"},
		{"2026/1/24", "Time format error: '1' unexpected."},
		{"2026/11/24x", "Time format error at 'x': unexpected character: 'x'."},
		{"+0", "Invalid time string +0: a relative window needs N > 0"},
		{"+x", "Invalid time string +x"},
		{"+604801", "Relative time window +604801 out of range: at most 604800 seconds"},
		{"2026/11/25-2026/11/24", "Time window end 2026/11/24 lies before its start"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in, time.UTC)
		assert.EqualError(t, err, tt.msg, tt.in)
	}
}

func TestResolveAndContains(t *testing.T) {
	first, last := uint64(1795555849677), uint64(1795555873604)
	w := Window{Relative: 2}.Resolve(first, last)
	assert.Equal(t, Window{First: 1795555849, Last: 1795555851}, w)
	assert.True(t, w.Contains(1795555849677, 1795555850000))
	assert.False(t, w.Contains(1795555849677, 1795555851001))
	w = Window{Relative: -3}.Resolve(first, last)
	assert.Equal(t, Window{First: 1795555870}, w)
	assert.True(t, w.Contains(1795555872986, 1795555872986))
	assert.False(t, w.Contains(1795555869999, 1795555872986))
	// Absolute windows are left alone.
	abs := Window{First: 5, Last: 6}
	assert.Equal(t, abs, abs.Resolve(first, last))
	assert.True(t, Window{}.Contains(0, 1<<62))
}

// TestSpan: the bounds Span gives are those Contains tests, for windows
// with and without an end, and without a start.
func TestSpan(t *testing.T) {
	tests := []struct {
		w      Window
		lo, hi uint64
	}{
		{Window{First: 100, Last: 200}, 100_000, 200_000},
		{Window{First: 100}, 100_000, math.MaxUint64},
		{Window{}, 0, math.MaxUint64},
		{Window{Last: 200}, 0, math.MaxUint64}, // no start: nfdump tests nothing
	}
	for _, tt := range tests {
		lo, hi := tt.w.Span()
		assert.Equal(t, []uint64{tt.lo, tt.hi}, []uint64{lo, hi}, "%+v", tt.w)
		for _, f := range []uint64{0, 99_999, 100_000, 150_000, 200_000, 200_001, math.MaxUint64} {
			for _, l := range []uint64{0, 99_999, 100_000, 200_000, 200_001, math.MaxUint64} {
				assert.Equal(t, tt.w.Contains(f, l), f >= lo && l <= hi, "%+v: %d-%d", tt.w, f, l)
			}
		}
	}
	// The window's edges belong to it.
	w := tests[0].w
	assert.True(t, w.Contains(100_000, 200_000))
	assert.False(t, w.Contains(99_999, 150_000))
	assert.False(t, w.Contains(150_000, 200_001))
}

func TestOverlapsAndClamp(t *testing.T) {
	w := Window{First: 100, Last: 200}
	assert.True(t, w.Overlaps(150_000, 250_000))
	assert.False(t, w.Overlaps(201_000, 300_000))
	assert.False(t, w.Overlaps(10_000, 99_999))
	assert.True(t, Window{First: 100}.Overlaps(10_000, 100_000))
	f, l := w.Clamp(50_000, 250_500)
	assert.Equal(t, []uint64{100_000, 200_000}, []uint64{f, l})
	f, l = w.Clamp(150_500, 160_000)
	assert.Equal(t, []uint64{150_500, 160_000}, []uint64{f, l})
}
