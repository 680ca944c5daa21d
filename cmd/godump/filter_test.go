package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/testarchive"
	"github.com/nfgo/nftools/internal/testutil"
)

// filterCorpus reads the filter package's expression lists: each
// expression with its mark (X: nfdump cannot run it, F: the address family
// fix makes it differ on purpose).
func filterCorpus(t *testing.T, name string) (exprs []string, marks []byte) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "filter", "testdata", name))
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		s := sc.Text()
		if s == "" || s[0] == '#' {
			continue
		}
		var mark byte
		if len(s) > 3 && s[1] == ':' && s[2] == ' ' {
			mark, s = s[0], s[3:]
		}
		exprs, marks = append(exprs, s), append(marks, mark)
	}
	require.NoError(t, sc.Err())
	return exprs, marks
}

// nfdumpAll runs nfdump for each argument list, a few at a time: a short
// nfdump run spends most of its time starting up.
func nfdumpAll(t *testing.T, argv [][]string) []result {
	out := make([]result, len(argv))
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				out[i] = nfdump(t, argv[i]...)
			}
		}()
	}
	for i := range argv {
		work <- i
	}
	close(work)
	wg.Wait()
	return out
}

// maskNhb blanks the csv nhb column: nfdump prints another address there
// for an IPv6 BGP next hop, which godump deliberately does not copy
// (output/COMPATIBILITY.md).
func maskNhb(r result) result {
	lines := strings.Split(r.stdout, "\n")
	for i, l := range lines {
		if f := strings.Split(l, ","); len(f) > 30 {
			f[24] = "nhb"
			lines[i] = strings.Join(f, ",")
		}
	}
	r.stdout = strings.Join(lines, "\n")
	return r
}

// filterArchive builds the archive of the filter tests in a temporary
// directory.
func filterArchive(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, testarchive.Build(dir, testutil.SampleFiles(t)))
	return dir
}

// TestFilterCorpusLikeNfdump runs every expression of the filter corpus
// through godump and nfdump over the sample files and generated flows
// carrying every element: the same flows print, byte for byte.
func TestFilterCorpusLikeNfdump(t *testing.T) {
	if testing.Short() {
		t.Skip("runs nfdump 660 times; CI runs it without -short")
	}
	testutil.RequireTool(t, "nfdump")
	dir := filterArchive(t)
	exprs, marks := filterCorpus(t, "corpus.txt")
	var run []string
	var argv [][]string
	for i, e := range exprs {
		if marks[i] != 0 {
			continue // nfdump cannot run it, or differs on purpose
		}
		run = append(run, e)
		argv = append(argv, []string{"-R", dir, "-o", "csv", "-q", e})
	}
	want := nfdumpAll(t, argv)
	agreed := 0
	for i, e := range run {
		if assert.Equal(t, maskNhb(want[i]), maskNhb(godump(argv[i]...)), "godump -o csv -q '%s'", e) {
			agreed++
		}
	}
	t.Logf("corpus: %d expressions, %d run by both, %d agree with nfdump 1.7.1", len(exprs), len(run), agreed)
}

// TestFilterModesLikeNfdump filters every kind of run: listings, -s, -a,
// -A, -O, -c, -t, -w, -o null with its summary.
func TestFilterModesLikeNfdump(t *testing.T) {
	testutil.RequireTool(t, "nfdump")
	dir := filterArchive(t)
	filters := []string{
		"proto tcp and dst port in [80 443]",
		"net 10.0.0.0/8 and bytes > 1k or ipv6 and not port 53",
		"not flags SA and vlan 0",
		"count > 100 and count < 4200",
		"ident second or mpls eos 5",
		" ",
	}
	// Sorting and ranking keep ties in nfdump's heapsort and hash order,
	// which godump does not copy (godump.1): those modes compare their
	// lines as sets, and print every line so that no tie is cut.
	modes := []struct {
		args      []string
		unordered bool
	}{
		{[]string{"-o", "line"}, false},
		{[]string{"-o", "extended", "-c", "7"}, false},
		{[]string{"-o", "null"}, false},
		{[]string{"-s", "srcip/bytes", "-n", "100000"}, true},
		{[]string{"-s", "dstport", "-s", "proto/packets", "-n", "100000"}, true},
		{[]string{"-s", "record/bytes", "-o", "line", "-n", "100000"}, true},
		{[]string{"-a", "-o", "csv", "-O", "bytes"}, true},
		{[]string{"-A", "proto,dstport", "-O", "flows"}, true},
		{[]string{"-O", "tstart", "-o", "csv", "-q"}, true},
		{[]string{"-t", "2026/11/24.21:45:00-2026/11/24.22:30:00", "-o", "line"}, false},
		{[]string{"-t", "2026/11/24.21:45:00-2026/11/24.22:30:00", "-s", "srcip", "-n", "100000"}, true},
	}
	var argv [][]string
	var unordered []bool
	for _, f := range filters {
		for _, m := range modes {
			argv = append(argv, append(append([]string{"-R", dir}, m.args...), f))
			unordered = append(unordered, m.unordered)
		}
	}
	want := nfdumpAll(t, argv)
	for i, args := range argv {
		w, g := maskNhb(want[i]), maskNhb(godump(args...))
		if slices.Contains(args, "-s") {
			// godump prints low IPv6 addresses as IPv6 (godump.1).
			g.stdout = nfdumpStyle(g.stdout)
		}
		if unordered[i] {
			w.stdout, g.stdout = sortedLines(w.stdout), sortedLines(g.stdout)
		}
		assert.Equal(t, w, g, "godump %q", args)
	}
}

func sortedLines(s string) string {
	lines := strings.Split(s, "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// TestFilterWrite writes the flows that pass with -w and reads the file
// back with nfdump: the same flows as nfdump filtering the source.
func TestFilterWrite(t *testing.T) {
	testutil.RequireTool(t, "nfdump")
	dir := filterArchive(t)
	out := filepath.Join(t.TempDir(), "filtered")
	const expr = "proto udp and not net 192.168.0.0/16 or ident full and flags S"
	got := godump("-R", dir, "-w", out, expr)
	require.Equal(t, 0, got.code, got.stderr)
	assert.Equal(t, nfdump(t, "-R", dir, "-o", "csv", "-q", expr).stdout, nfdump(t, "-r", out, "-o", "csv", "-q").stdout)
}

// TestBadFiltersLikeNfdump runs every bad expression: godump exits with
// nfdump's status and prints nfdump's message, with -Z and without.
func TestBadFiltersLikeNfdump(t *testing.T) {
	testutil.RequireTool(t, "nfdump")
	exprs, _ := filterCorpus(t, "bad.txt")
	inSamples(t)
	var argv [][]string
	for _, e := range exprs {
		argv = append(argv, []string{"-r", f9, e}, []string{"-Z", e})
	}
	want := nfdumpAll(t, argv)
	for i, args := range argv {
		assert.Equal(t, want[i], godump(args...), "godump %q", args)
	}
	t.Logf("%d bad expressions: the same status and message as nfdump 1.7.1", len(exprs))
}

// TestFilterOptionsLikeNfdump covers -f, -X, -Z, -D, @include, geo and
// the order of their checks.
func TestFilterOptionsLikeNfdump(t *testing.T) {
	testutil.RequireTool(t, "nfdump")
	inSamples(t)
	tmp := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(tmp, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	good := write("good", "proto udp # only udp\n and not ip ::1\n")
	bad := write("bad", "proto udp\n and port 70000\n")
	incl := write("incl", "proto tcp and\n@include "+good+"\n")
	inclBad := write("inclbad", "any and\n@include "+bad+"\n")
	empty := write("empty", "")
	blank := write("blank", "  \n# nothing\n")
	missing := filepath.Join(tmp, "missing")
	for _, args := range [][]string{
		{"-r", f9, "-f", good, "-o", "line"},
		{"-r", f9, "-f", good, "-o", "line", "proto", "tcp"}, // the arguments win
		{"-r", f9, "-f", bad},
		{"-Z", "-f", bad},
		{"-r", f9, "-f", incl, "-o", "csv"},
		{"-r", f9, "-f", inclBad},
		{"-r", f9, "-f", empty, "-o", "line"},
		{"-r", f9, "-f", blank, "-o", "line"},
		{"-r", f9, "-f", missing},
		{"-r", f9, "@include " + missing},
		{"-r", f9, "-o", "line", "proto tcp and (port 80 or @include " + good + ")"},
		{"-X", "proto tcp and dst port in [80 443] or not flags SA"},
		{"-X", "-f", good},
		{"-X", "ip in [10.0.0.0/8 10.1.2.3 ::1] and count > 5 and ident test"},
		{"-X", "(proto tcp) %web or %dns (port 53)"},
		{"-X", "-r", f9, "proto tcp"},
		{"-X", "-Z", "proto tcp and"},
		{"-Z", "-r", f9, "proto tcp"},
		{"-Z", "src geo DE"},
		{"-X", "geo DE"},
		{"-r", f9, "src geo DE"},
		{"-r", f9, "-o", "line", "ip localhost and port 80"},
		{"-X", "ip localhost"},
		{"-D", "127.0.0.1", "-Z", "any"},
		{"-D", "nosuchserver.invalid", "-Z", "any"},
		{"-r", f9, "-o", "line", "-t", "2026/11/24.21:31:00", "port 80"},
		{"-r", f9, "-o", "line", "count 3 or count 7"},
		{"-r", f9, "-o", "line", "-c", "3", "proto tcp"},
		{"-r", f9, "-o", "json", "ipv6"},
		{"-r", f9, "-o", "raw", "icmp-type 8"},
		{"-r", f9, "-o", "line", " "},
	} {
		assert.Equal(t, nfdump(t, args...), godump(args...), "godump %q", args)
	}
}

// TestFilterDeliberateDifferences covers what godump does differently
// from nfdump 1.7.1 on purpose: AS filters need no geo database, IPv4 and
// IPv6 addresses do not match each other, and a binary -f file's error is
// escaped.
func TestFilterDeliberateDifferences(t *testing.T) {
	inSamples(t)
	all := godump("-r", f9, "-o", "csv", "-q")
	got := godump("-r", f9, "-o", "csv", "-q", "src as 0 and dst as 0 and prev as 0 and next as 0")
	assert.Equal(t, result{all.stdout, "", 0}, got, "no AS element reads as 0")
	got = godump("-r", f9, "-o", "csv", "-q", "as > 0")
	assert.Equal(t, result{"No matching flows\n", "", 0}, got)

	v4 := godump("-r", f9, "-o", "csv", "-q", "ipv4")
	got = godump("-r", f9, "-o", "csv", "-q", "not net ::/64")
	assert.Equal(t, v4, got, "net ::/64 matches the IPv6 flows, not the IPv4 ones")

	bin := filepath.Join(t.TempDir(), "bin\x1bfilter")
	require.NoError(t, os.WriteFile(bin, []byte("proto tcp and \x1b[2J\n"), 0o644))
	got = godump("-r", f9, "-f", bin)
	assert.Equal(t, exitFilterErr, got.code)
	assert.Equal(t, fmt.Sprintf("File '%s' line 1: syntax error at '\\x1b'\n", strings.ReplaceAll(bin, "\x1b", `\x1b`)), got.stderr)
	got = godump("-r", f9, "-f", bin+"\a")
	assert.Equal(t, exitFailure, got.code)
	assert.Equal(t, fmt.Sprintf("Can't stat filter file '%s\\x07': No such file or directory\n", strings.ReplaceAll(bin, "\x1b", `\x1b`)), got.stderr)
}
