package output

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/testutil"
)

// TestLastSeenRawFixed checks our deliberate fix of %ter: nfdump 1.7.1
// prints msecLast % 100 as the milliseconds; we print msecLast % 1000 and
// otherwise match it.
func TestLastSeenRawFixed(t *testing.T) {
	old := time.Local
	defer func() { time.Local = old }()
	time.Local = time.UTC
	for _, f := range append(testutil.SampleFiles(t), writeRandomFile(t, t.TempDir(), 3, 200)) {
		want := nfdumpOutput(t, "UTC", f, "-q", "-o", "fmt:%te %ter %tsr")
		got := ourOutput(t, f, Options{Mode: "fmt:%te %ter %tsr", Quiet: true})
		wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
		require.Equal(t, len(wl), len(gl))
		for i := range wl {
			if wl[i] == "" || wl[i] == "No matching flows" {
				continue
			}
			wf, gf := strings.Fields(wl[i]), strings.Fields(gl[i])
			require.Len(t, gf, 4)
			// date and time of %te, then %ter: same seconds, ms from %te
			require.Equal(t, wf[0], gf[0])
			require.Equal(t, wf[1], gf[1])
			require.Equal(t, wf[3], gf[3])
			ms := gf[1][len(gf[1])-3:]
			require.True(t, strings.HasSuffix(gf[2], "."+ms), "%ter %s must end in the ms of %te %s", gf[2], gf[1])
			require.Equal(t, strings.Split(wf[2], ".")[0], strings.Split(gf[2], ".")[0])
		}
	}
}

func testRecords(n int) []flow.Record {
	rng := rand.New(rand.NewPCG(7, 8))
	rs := make([]flow.Record, n)
	for i := range rs {
		rs[i] = randomRecord(rng)
	}
	return rs
}

func TestJSONIsValid(t *testing.T) {
	rs := testRecords(50)
	for _, q := range []bool{false, true} {
		for _, n := range []int{0, 1, 50} {
			var b bytes.Buffer
			p, err := New(&b, Options{Mode: "json", Quiet: q})
			require.NoError(t, err)
			require.NoError(t, p.Begin())
			var s Summary
			for i := range rs[:n] {
				require.NoError(t, p.Print(&rs[i]))
				s.Add(&rs[i])
				s.Passed++
			}
			require.NoError(t, p.End(&s))
			if n == 0 && !q {
				// nfdump's own text, kept byte for byte
				require.Equal(t, "[\nNo matching flows\n]\n", b.String())
				continue
			}
			var v []map[string]any
			require.NoError(t, json.Unmarshal(b.Bytes(), &v), b.String())
			require.Len(t, v, n)
		}
	}
}

func TestNDJSON(t *testing.T) {
	rs := testRecords(100)
	var b, full bytes.Buffer
	p, err := New(&b, Options{Mode: "ndjson"})
	require.NoError(t, err)
	pj, err := New(&full, Options{Mode: "json", Quiet: true})
	require.NoError(t, err)
	require.NoError(t, p.Begin())
	require.NoError(t, pj.Begin())
	for i := range rs {
		require.NoError(t, p.Print(&rs[i]))
		require.NoError(t, pj.Print(&rs[i]))
	}
	require.NoError(t, p.End(&Summary{Passed: 100}))
	require.NoError(t, pj.End(&Summary{Passed: 100}))
	var arr []json.RawMessage
	require.NoError(t, json.Unmarshal(full.Bytes(), &arr))
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	require.Len(t, lines, len(rs))
	for i, l := range lines {
		var a, o map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &o), l)
		require.NoError(t, json.Unmarshal(arr[i], &a))
		require.Equal(t, a, o, "ndjson object %d has the keys and values of -o json", i)
	}
	// no header, summary or "No matching flows"
	b.Reset()
	p, _ = New(&b, Options{Mode: "ndjson"})
	require.NoError(t, p.Begin())
	require.NoError(t, p.End(&Summary{}))
	require.Empty(t, b.String())
}

func TestModesAndErrors(t *testing.T) {
	for _, m := range []string{"raw", "line", "long", "extended", "biline", "bilong", "nsel", "nel", "csv", "json", "pipe", "null",
		"ndjson", "line6", "Extended6", "fmt:%ts", "%ts %te", "gline", "glong"} {
		_, err := New(io.Discard, Options{Mode: m})
		require.NoError(t, err, m)
	}
	_, err := New(io.Discard, Options{Mode: "bogus"})
	require.EqualError(t, err, "Unknown output mode 'bogus'")
	var ue *UnknownModeError
	require.ErrorAs(t, err, &ue)
	_, err = New(io.Discard, Options{Mode: "fmt:"})
	require.EqualError(t, err, "Missing format description for user defined output format!")
	_, err = New(io.Discard, Options{Mode: "fmt:%ts %foo %te"})
	require.EqualError(t, err, "Output format parse error at: %foo %te")
	var fe *FormatError
	require.ErrorAs(t, err, &fe)
}

func TestNumberScaling(t *testing.T) {
	for _, c := range []struct {
		n            uint64
		fixed, plain bool
		want         string
	}{
		{73_700_000, false, false, "73.7 M"},
		{73_700_000, true, false, " 73.7 M"},
		{1_300_000_000, true, false, "  1.3 G"},
		{1_300_000_000, false, true, "1300000000"},
		{27528, true, false, "27528"},
		{12, true, false, "  12"},
		{999_999, false, false, "999999"},
		{2_500_000_000_000, false, false, "2.5 T"},
	} {
		require.Equal(t, c.want, string(AppendNumber(nil, c.n, c.plain, c.fixed)))
	}
}

func TestIPv6Text(t *testing.T) {
	for _, a := range []string{"::", "::1", "::ffff:1.2.3.4", "::1.2.3.4", "1::", "2001:db8::1", "2001:db8:0:1:1:1:1:1",
		"2001:0:0:1::1", "fe80::1:0:0:1", "1:0:0:2::3", "::102"} {
		got := string(appendIP6(nil, ipOf(netip.MustParseAddr(a))))
		want := a
		require.Equal(t, want, got)
	}
}

func benchPrint(b *testing.B, mode string) {
	rs := testRecords(1024)
	p, err := New(io.Discard, Options{Mode: mode, Quiet: true})
	require.NoError(b, err)
	require.NoError(b, p.Begin())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := p.Print(&rs[i&1023]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	require.NoError(b, p.End(&Summary{Passed: 1}))
}

func BenchmarkPrintLine(b *testing.B)     { benchPrint(b, "line") }
func BenchmarkPrintExtended(b *testing.B) { benchPrint(b, "extended") }
func BenchmarkPrintCSV(b *testing.B)      { benchPrint(b, "csv") }
func BenchmarkPrintPipe(b *testing.B)     { benchPrint(b, "pipe") }
func BenchmarkPrintJSON(b *testing.B)     { benchPrint(b, "json") }

// TestPrintDoesNotAllocate guards the hot path of the common modes.
func TestPrintDoesNotAllocate(t *testing.T) {
	rs := testRecords(256)
	for _, m := range []string{"line", "long", "extended", "csv", "pipe", "line6", "nsel", "raw"} {
		p, err := New(io.Discard, Options{Mode: m, Quiet: true})
		require.NoError(t, err)
		i := 0
		allocs := testing.AllocsPerRun(1000, func() {
			_ = p.Print(&rs[i&255])
			i++
		})
		require.Zero(t, allocs, m)
	}
}
