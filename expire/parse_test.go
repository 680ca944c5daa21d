package expire

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseSize(t *testing.T) {
	cases := []struct {
		in   string
		want uint64
		err  string
	}{
		{"0", 0, ""},
		{"4096", 4096, ""},
		{"100b", 100, ""},
		{"10K", 10 << 10, ""},
		{"10kB", 10 << 10, ""},
		{"100M", 100 << 20, ""},
		{"100MB", 100 << 20, ""},
		{"1.5G", 3 << 29, ""},
		{"2t", 2 << 40, ""},
		{"", 0, "Missing number in ''"},
		{"G", 0, "Missing number in 'G'"},
		{"10X", 0, "Garbage character(s) 'X' in '10X'"},
		{"10MBB", 0, "Garbage character(s) 'MBB' in '10MBB'"},
		{"10BB", 0, "Garbage character(s) 'BB' in '10BB'"},
		{"1.5.3G", 0, "Garbage character(s) '.3G' in '1.5.3G'"},
	}
	for _, c := range cases {
		got, err := ParseSize(c.in)
		if c.err != "" {
			assert.EqualError(t, err, c.err, c.in)
			continue
		}
		assert.NoError(t, err, c.in)
		assert.Equal(t, c.want, got, c.in)
	}
}

func TestParseLifetime(t *testing.T) {
	cases := []struct {
		in   string
		want uint64
		err  string
	}{
		{"0", 0, ""},
		{"36", 36 * 3600, ""},
		{"36H", 36 * 3600, ""},
		{"31d", 31 * 86400, ""},
		{"1w2d", 9 * 86400, ""},
		{"2d1w30M", 9*86400 + 1800, ""},
		{"", 0, ""},
		{"d", 0, "Missing number before 'd'"},
		{"3x", 0, "Unknown time unit '3x'"},
		{"1d2d", 0, "Ambiguous unit d in '1d2d'"},
		{"1h", 0, "Unknown time unit '1h'"},
	}
	for _, c := range cases {
		got, err := ParseLifetime(c.in)
		if c.err != "" {
			assert.EqualError(t, err, c.err, c.in)
			continue
		}
		assert.NoError(t, err, c.in)
		assert.Equal(t, c.want, got, c.in)
	}
}

func TestParseWatermark(t *testing.T) {
	for in, want := range map[string]uint64{"95": 95, "50": 50, "100": 100, "0": 100} {
		got, err := ParseWatermark(in)
		assert.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"101", "-1", "x", ""} {
		_, err := ParseWatermark(in)
		assert.Error(t, err, in)
	}
}

func TestScale(t *testing.T) {
	assert.Equal(t, "512 B", ScaleSize(512))
	assert.Equal(t, "8192 = 8.0 KB", ScaleSize(8192))
	assert.Equal(t, "1572864 = 1.5 MB", ScaleSize(3<<19))
	assert.Equal(t, "10737418240 = 10.0 GB", ScaleSize(10<<30))
	assert.Equal(t, "2199023255552 = 2.0 TB", ScaleSize(2<<40))
	assert.Equal(t, "5 sec", ScaleTime(5))
	assert.Equal(t, "90 = 1.5 min", ScaleTime(90))
	assert.Equal(t, "7200 = 2.0 hours", ScaleTime(7200))
	assert.Equal(t, "172800 = 2.0 days", ScaleTime(172800))
	assert.Equal(t, "1209600 = 2.0 weeks", ScaleTime(1209600))
}

func TestParseStat(t *testing.T) {
	cases := []struct {
		name, in string
		want     Stat
	}{
		{"as nfexpire writes it",
			"first=1795556710\nlast=1795556715\nsize=8192\nmaxsize=0\nnumfiles=2\nlifetime=0\nwatermark=95\nstatus=0\n",
			Stat{First: 1795556710, Last: 1795556715, Size: 8192, NumFiles: 2, Watermark: 95}},
		{"spaces, unknown keys, comments, a non-digit read as 0",
			"# x\nfirst = 10\nlast=2x\nbogus=1\nno line\nwatermark=50\nstatus=0\n",
			Stat{First: 10, Last: 20, Watermark: 50}},
		{"no status asks for a rebuild", "first=1\nlast=2\n", Stat{First: 1, Last: 2, Watermark: 95, Status: StatusRebuild}},
		{"first after last", "first=3\nlast=2\nstatus=0\n", Stat{First: 3, Last: 2, Watermark: 95, Status: StatusRebuild}},
		{"no first", "last=2\nstatus=0\n", Stat{Last: 2, Watermark: 95, Status: StatusRebuild}},
		{"watermark beyond 100", "first=1\nlast=2\nwatermark=101\nstatus=0\n", Stat{First: 1, Last: 2, Watermark: 101, Status: StatusRebuild}},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, Parse(c.in), c.name)
	}
	st := Stat{First: 1, Last: 2, Size: 3, MaxSize: 4, NumFiles: 5, Lifetime: 6, Watermark: 7}
	assert.Equal(t, "first=1\nlast=2\nsize=3\nmaxsize=4\nnumfiles=5\nlifetime=6\nwatermark=7\nstatus=0\n", st.String())
	assert.Equal(t, st, Parse(st.String()))
}
