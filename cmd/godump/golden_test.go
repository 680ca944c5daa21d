package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/testutil"
)

func TestMain(m *testing.M) {
	// nfdump prints local time; the oracle runs with TZ=UTC, so do we.
	time.Local = time.UTC
	os.Exit(m.Run())
}

// result is what a run printed and its exit code.
type result struct {
	stdout, stderr string
	code           int
}

// sysLine is nfdump's timing line, the one line allowed to differ.
var sysLine = regexp.MustCompile(`(?m)^Sys: .*\n`)

func (r result) normalized() result {
	r.stdout = sysLine.ReplaceAllString(r.stdout, "")
	return r
}

// inSamples runs the test in the nfcapd 1.7.1 sample folder, so that file
// names print the same in both programs.
func inSamples(t *testing.T) {
	t.Helper()
	t.Chdir(testutil.NfcapdSamples(t))
}

func nfdump(t *testing.T, args ...string) result {
	t.Helper()
	res := testutil.RunTool(t, "", "nfdump", args...)
	return result{res.Stdout, res.Stderr, res.Code}.normalized()
}

func godump(args ...string) result {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return result{out.String(), errOut.String(), code}.normalized()
}

const (
	f9    = "flows/2026/11/24/nfcapd.202611242140"
	f5    = "flows/2026/11/24/nfcapd.202611242139"
	fIPFX = "flows/2026/11/24/nfcapd.202611242141"
)

// compare runs both programs and wants the same bytes and exit code.
func compare(t *testing.T, cmdlines ...string) {
	t.Helper()
	for _, cl := range cmdlines {
		args := strings.Fields(cl)
		want := nfdump(t, args...)
		got := godump(args...)
		assert.Equal(t, want, got, "godump %s", cl)
	}
}

func TestInfoLikeNfdump(t *testing.T) {
	inSamples(t)
	compare(t,
		// -I: one file, a directory, a range, -M, every compression.
		"-r "+f9+" -I", "-r "+f5+" -I", "-R flows -I", "-r flows -I",
		"-R flows/2026/11/24/nfcapd.202611242140:nfcapd.202611242141 -I",
		"-R flows-edge -I", "-R nfcapd-tests/E -I", "-R nfcapd-tests/S0 -I",
		"-M flows-edge/adjust/2026/11/24:../../../../noadjust/2026/11/24 -r nfcapd.202611242135 -I",
		"-r sample-nfcapd-lz4 -I", "-r sample-nfcapd-bz2 -I", "-r sample-nfcapd-lzo -I", "-r sample-nfcapd-uncompressed -I",
		"-R flows -I -t 2026/11/24.21:31:00",
		// -g: times from the file names.
		"-R flows -g", "-R flows-edge -g", "-R nfcapd-tests/E -g", "-R nfcapd-tests/Z -g",
		// -E: exporters, their statistics and samplers.
		"-E "+f9, "-E "+fIPFX, "-E "+f5, "-E flows-edge/mixed/nfcapd.202611242134",
		"-E sample-nfcapd-sampled", "-E sample-nfcapd-lz4", "-E nonexistent",
		// -v: the verify report, every compression, and failures.
		"-v "+f9, "-v flows-edge/mixed/nfcapd.202611242134", "-v sample-nfcapd-lz4", "-v sample-nfcapd-bz2",
		"-v sample-nfcapd-lzo", "-v sample-nfcapd-uncompressed", "-v README.md", "-v nonexistent",
		// Errors nfdump handles sanely.
		"-r nonexistent -I", "-R nonexistent -I", "-r "+f9+" -t foo -I", "-r "+f9+" -c 0",
		"-r "+f9+" -J 9", "-r "+f9+" -R flows -I",
		"-r "+f9+" -O foo", "-w x -z -y -r "+f9,
	)
}

func TestListingLikeNfdump(t *testing.T) {
	inSamples(t)
	compare(t,
		"-r "+f9+" -o line", "-r "+f5+" -o line", "-R flows -o line", "-r flows -o line",
		"-R flows-edge -o line", "-r "+f9+" -o line -q", "-r "+f9+" -o line -c 3",
		"-R flows -o line -c 45", "-r "+f9+" -o line -N", "-r "+f9+" -o line6",
		"-r "+f9+" -o line -6", "-r sample-nfcapd-bz2 -o line", "-r sample-nfcapd-lzo -o line",
		"-r sample-nfcapd-lz4 -o line", "-M flows-edge/adjust/2026/11/24:../../../../noadjust/2026/11/24 -r nfcapd.202611242135 -o line",
		"-R flows/2026/11/24/nfcapd.202611242140:nfcapd.202611242141 -o line",
		// -t windows: absolute, open-ended, outside the file, -R.
		"-r "+f9+" -t 2026/11/24.21:31:00-2026/11/24.21:31:20 -o line",
		"-r "+f9+" -t 2026/11/24.21:31:10 -o line",
		"-R flows -t 2026/11/24.21:30:50-2026/11/24.21:30:52 -o line",
		"-r "+f9+" -t 2027/01/01 -o line",
		// Only -r files are checked against the window: alone, under -M,
		// but not a directory given to -r.
		"-r flows -t 2027/01/01 -o line", "-r flows -t 2026/11/24.21:31:10 -o line",
		"-M flows-edge/adjust/2026/11/24:../../../../noadjust/2026/11/24 -r nfcapd.202611242135 -t 2027/01/01 -o line",
		"-M flows-edge/adjust/2026/11/24:../../../../noadjust/2026/11/24 -r nfcapd.202611242135 -t 2026/11/24.21:35 -o line",
		"-r "+f9+" -t 2026/11/24.21:31 -o line -c 2",
		// Records are numbered by the flows processed over every file,
		// with gaps where -t drops flows, and 0 when sorted.
		"-r "+f9+" -t 2026/11/24.21:31:00-2026/11/24.21:31:20 -o raw",
		"-R flows -t 2026/11/24.21:30:50-2026/11/24.21:30:52 -o fmt:%cnt|%ts -q",
		"-R flows -o fmt:%cnt|%byt -O bytes -q -c 20", "-R flows -o raw -O tstart -c 1",
		// -o null counts in the reader's workers, also with -t and -c.
		"-r "+f9+" -o null", "-R flows -o null", "-R flows-edge -o null", "-r sample-nfcapd-lz4 -o null",
		"-r sample-nfcapd-bz2 -o null", "-r sample-nfcapd-uncompressed -o null", "-r "+f9+" -o null -c 3",
		"-r "+f9+" -t 2026/11/24.21:31:00-2026/11/24.21:31:20 -o null", "-r "+f9+" -o null -q -N",
		// The filters godump knows so far.
		"-r "+f9+" -o line any",
		// Error paths of the listing.
		"-r "+f9+" -o foo", "-r nonexistent -o line", "-r "+f9+" -o line -t foo",
		"-r "+f9+" -o fmt:%zz", "-r "+f9+" -o fmt:",
	)
}

func TestBadRecursivePath(t *testing.T) {
	inSamples(t)
	// Whether nfdump prints the header before the error is a race in
	// nfdump; godump prints nothing on stdout.
	for _, path := range []string{"nonexistent", "flows/nfcapd.1:nfcapd.2:nfcapd.3", "flows/2026/11/24/nfcapd.1:"} {
		want := nfdump(t, "-R", path, "-o", "line")
		got := godump("-R", path, "-o", "line")
		assert.Equal(t, result{"", want.stderr, want.code}, got, path)
		assert.Equal(t, 250, got.code, path)
	}
}

func TestEmptyDirectory(t *testing.T) {
	dir := t.TempDir()
	// nfdump 1.7.1 crashes on -I here (fix 11); godump reports the empty
	// list and exits 0.
	got := godump("-r", dir, "-I")
	assert.Equal(t, result{"", emptyList, 0}, got)
	got = godump("-R", dir, "-g")
	assert.Equal(t, result{"# yyyy-mm-dd HH:MM:SS,flows,packets,bytes\n", "", 0}, got)

	want := nfdump(t, "-R", dir, "-o", "line")
	assert.Equal(t, want, godump("-R", dir, "-o", "line"))
}

func TestUnreadableInputExitsNonZero(t *testing.T) {
	inSamples(t)
	dir := t.TempDir()
	good, err := os.ReadFile(f9)
	require.NoError(t, err)
	// A text file, and a flow file cut in its data block.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nfcapd.202611242150"), []byte("root:x:0:0:root:/root:/bin/bash\n"+string(make([]byte, 40))), 0o644))
	cut := filepath.Join(dir, "cut")
	require.NoError(t, os.WriteFile(cut, good[:600], 0o644))

	got := godump("-R", dir, "-I")
	assert.Equal(t, exitInput, got.code)
	assert.Contains(t, got.stderr, "bad magic: 0x6F72")

	got = godump("-r", cut, "-w", filepath.Join(dir, "out"))
	assert.Equal(t, exitInput, got.code, got.stderr)
	assert.Contains(t, got.stderr, "cut")

	got = godump("-E", filepath.Join(dir, "nfcapd.202611242150"))
	assert.Equal(t, result{"Exporters:\n", "godump: " + dir + "/nfcapd.202611242150: offset 0: bad magic: 0x6F72\n", exitInput}, got)

	got = godump("-r", cut, "-o", "line")
	assert.Equal(t, exitInput, got.code)
	assert.Contains(t, got.stdout, "Summary: total flows:")
}

func TestBadWindow(t *testing.T) {
	inSamples(t)
	// nfdump ignores a window with a year out of range and exits 0;
	// godump refuses it.
	got := godump("-r", f9, "-t", "2039/01/01")
	assert.Equal(t, result{"", "Year out of range: '2039'\n\n", exitFailure}, got)
	got = godump("-r", f9, "-t", "2026/13/01", "-I")
	assert.Equal(t, result{"", "Month out of range: '13'\n\n", exitFailure}, got)
	got = godump("-r", f9, "-t", "+0", "-I")
	assert.Equal(t, exitFailure, got.code)
}

// copyFile copies a sample into dir, for the commands that change files.
func copyFile(t *testing.T, src, dir string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	require.NoError(t, err)
	dst := filepath.Join(dir, filepath.Base(src))
	require.NoError(t, os.WriteFile(dst, b, 0o644))
	return dst
}

func TestWriteReadBackWithNfdump(t *testing.T) {
	inSamples(t)
	dir := t.TempDir()
	for _, tc := range []struct{ name, args string }{
		{"plain", "-r " + f9},
		{"lzo", "-r " + f9 + " -z"},
		{"lz4", "-R flows -y -c 45"},
		{"bz2", "-r " + f9 + " -j"},
		{"window", "-R flows -t 2026/11/24.21:30:50-2026/11/24.21:30:52"},
		{"sampled", "-r sample-nfcapd-sampled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ours, theirs := filepath.Join(dir, tc.name+".godump"), filepath.Join(dir, tc.name+".nfdump")
			args := strings.Fields(tc.args)
			got := godump(append(args, "-w", ours)...)
			want := nfdump(t, append(args, "-w", theirs)...)
			assert.Equal(t, want, got)
			// nfdump reads both the same.
			for _, check := range [][]string{{"-o", "line"}, {"-I"}, {"-o", "raw"}} {
				a := nfdump(t, append([]string{"-r", theirs}, check...)...)
				b := nfdump(t, append([]string{"-r", ours}, check...)...)
				assert.Equal(t, a, b, "nfdump -r <file> %v", check)
			}
			a, b := nfdump(t, "-E", theirs), nfdump(t, "-E", ours)
			assert.Equal(t, a, b)
			v := nfdump(t, "-v", ours)
			assert.Equal(t, 0, v.code, v.stderr)
		})
	}
	// Nothing passed: nfdump's messages, and a file only where nfdump
	// writes one.
	for i, window := range []string{"2026/11/24.21:30:00-2026/11/24.21:30:01", "2026/11/24.21:30:50-2026/11/24.21:30:50"} {
		ours, theirs := filepath.Join(dir, fmt.Sprint("none.godump", i)), filepath.Join(dir, fmt.Sprint("none.nfdump", i))
		assert.Equal(t, nfdump(t, "-R", "flows", "-t", window, "-w", theirs), godump("-R", "flows", "-t", window, "-w", ours))
		assert.Equal(t, nfdump(t, "-r", f9, "-t", window, "-w", theirs+"r"), godump("-r", f9, "-t", window, "-w", ours+"r"))
		for _, suffix := range []string{"", "r"} {
			_, errOurs := os.Stat(ours + suffix)
			_, errTheirs := os.Stat(theirs + suffix)
			assert.Equal(t, errTheirs == nil, errOurs == nil, window)
			if errOurs == nil {
				// nfdump stores 0x7fffffffffffffff as the first flow time
				// of a file without flows; godump stores 0.
				drop := regexp.MustCompile(`(?m)^(First|msec_first): .*\n`)
				a, b := nfdump(t, "-r", theirs+suffix, "-I"), nfdump(t, "-r", ours+suffix, "-I")
				a.stdout, b.stdout = drop.ReplaceAllString(a.stdout, ""), drop.ReplaceAllString(b.stdout, "")
				assert.Equal(t, a, b)
				assert.Contains(t, nfdump(t, "-r", ours+suffix, "-I").stdout, "\nFirst: 0\n")
			}
		}
	}
}

func TestWriteCompressionNames(t *testing.T) {
	inSamples(t)
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	nfdump(t, "-r", f9, "-w", plain)
	// -z=method is nfdump 1.7.3's form; 1.7.1 reads the files.
	for _, z := range []string{"-z=lz4", "-zlz4", "-z=bz2", "-z=lzo", "-z=none"} {
		out := filepath.Join(dir, z)
		assert.Equal(t, result{"", "", 0}, godump("-r", f9, z, "-w", out))
		assert.Equal(t, nfdump(t, "-r", plain, "-o", "raw"), nfdump(t, "-r", out, "-o", "raw"), z)
	}
	out := filepath.Join(dir, "zstd")
	assert.Equal(t, result{"", "", 0}, godump("-r", f9, "-z=zstd:3", "-w", out))
	v := godump("-v", out)
	assert.Equal(t, 0, v.code, v.stderr)
	assert.Contains(t, v.stdout, "Version    : 2 - zstd compressed\n")
	assert.Equal(t, nfdump(t, "-r", f9, "-I"), godump("-r", out, "-I"))
}

func TestIdentWithSpace(t *testing.T) {
	inSamples(t)
	assert.Equal(t, nfdump(t, "-r", f9, "-i", "a b"), godump("-r", f9, "-i", "a b"))
}

func TestRecompressInPlace(t *testing.T) {
	inSamples(t)
	dir := t.TempDir()
	path := copyFile(t, f9, dir)
	before := nfdump(t, "-r", path, "-o", "raw")
	for _, j := range []string{"3", "1", "2", "0", "lz4"} {
		got := godump("-r", path, "-J", j)
		assert.Equal(t, result{"File " + path + " compression changed\n", "", 0}, got, "-J %s", j)
		v := nfdump(t, "-v", path)
		assert.Equal(t, 0, v.code, v.stderr)
		assert.Equal(t, before, nfdump(t, "-r", path, "-o", "raw"), "-J %s", j)
	}
	assert.Equal(t, result{"File " + path + " is already same compression methode\n", "", 0}, godump("-r", path, "-J", "3"))
	assert.Contains(t, nfdump(t, "-v", path).stdout, "lz4 compressed")
	// Nothing but the file is left in the directory.
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1)
	// -J over a directory.
	d2 := filepath.Join(dir, "d")
	require.NoError(t, os.Mkdir(d2, 0o755))
	copyFile(t, f5, d2)
	copyFile(t, fIPFX, d2)
	info := nfdump(t, "-R", d2, "-I")
	got := godump("-R", d2, "-J", "1")
	assert.Equal(t, 0, got.code)
	assert.Equal(t, 2, strings.Count(got.stdout, "compression changed"))
	assert.Equal(t, info, nfdump(t, "-R", d2, "-I"))
}

func TestIdentPersists(t *testing.T) {
	inSamples(t)
	dir := t.TempDir()
	path := copyFile(t, f9, dir)
	// nfdump 1.7.1 prints this line but keeps the old ident (fix 10).
	got := godump("-r", path, "-i", "lab")
	assert.Equal(t, result{path + " ident: test -> lab\n", "", 0}, got)
	info := nfdump(t, "-r", path, "-I")
	assert.True(t, strings.HasPrefix(info.stdout, "Ident: lab\n"), info.stdout)
	want := nfdump(t, "-r", f9, "-I")
	assert.Equal(t, strings.SplitN(want.stdout, "\n", 2)[1], strings.SplitN(info.stdout, "\n", 2)[1])
	assert.Equal(t, nfdump(t, "-r", f9, "-o", "raw"), nfdump(t, "-r", path, "-o", "raw"))
	assert.Equal(t, result{path + " ident: lab -> again\n", "", 0}, godump("-r", path, "-i", "again"))
}

func TestSortOrder(t *testing.T) {
	inSamples(t)
	// Ties are unordered in nfdump (heap sort); compare the key order and
	// the set of lines instead of the bytes.
	for _, o := range []string{"bytes", "packets", "tstart", "tend", "bytes:a", "bps", "pps", "bpp", "duration"} {
		got := godump("-r", f9, "-O", o, "-o", "line", "-q")
		want := nfdump(t, "-r", f9, "-o", "line", "-q")
		assert.Equal(t, 0, got.code, got.stderr)
		assert.ElementsMatch(t, strings.Split(want.stdout, "\n"), strings.Split(got.stdout, "\n"), "-O %s", o)
	}
	got := godump("-r", f9, "-O", "bytes", "-o", "fmt:%byt", "-q", "-N")
	var prev int
	for i, l := range strings.Fields(got.stdout) {
		var n int
		_, err := fmtSscan(l, &n)
		require.NoError(t, err)
		if i > 0 {
			assert.LessOrEqual(t, n, prev)
		}
		prev = n
	}
}

func TestRelativeWindow(t *testing.T) {
	inSamples(t)
	dir := t.TempDir()
	// nfdump 1.7.1 races on +N/-N (fix 12); godump reads them as the
	// first or last N seconds of the data, the same as these absolute
	// windows.
	for _, tc := range []struct{ input, rel, abs string }{
		{"-r " + f9, "+2", "2026/11/24.21:30:49-2026/11/24.21:30:51"},
		{"-R flows", "+2", "2026/11/24.21:30:49-2026/11/24.21:30:51"},
		{"-r " + f9, "-3", "2026/11/24.21:31:10"},
		{"-R flows", "-3", "2026/11/24.21:31:10"},
	} {
		ours, theirs := filepath.Join(dir, "ours"), filepath.Join(dir, "theirs")
		args := strings.Fields(tc.input)
		require.Equal(t, 0, godump(append(args, "-t", tc.rel, "-w", ours)...).code)
		require.Equal(t, 0, nfdump(t, append(args, "-t", tc.abs, "-w", theirs)...).code)
		want := nfdump(t, "-r", theirs, "-o", "line")
		assert.Equal(t, want, nfdump(t, "-r", ours, "-o", "line"), "%s -t %s", tc.input, tc.rel)
		assert.NotContains(t, want.stdout, "No matching flows")
	}
}
