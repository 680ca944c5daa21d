package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/testutil"
)

// labelFilters are filters with flow labels: several labels that can
// match one flow (the term that decides wins), a label before its
// expression, labels under not and inside and, a 16-character label, and
// labels with count and ident, which the reader selects differently.
var labelFilters = []string{
	"(proto tcp) %tcp or (port 53) %dns or (proto udp) %udp",
	"(bytes > 100000) %big or (bytes > 1000) %mid or (any) %small",
	"%web (dst port in [80 443 8080]) or %v6 (ipv6) or not (proto icmp) %noicmp",
	"((proto udp) %udp and (port 53) %dns) or proto tcp",
	"(proto udp) %udp and (port 53) %dns or (proto tcp) %tcp",
	"(src port > 1024) %abcdefghijklmnop or (vlan 0) %novlan",
	"(count < 100) %early or (count > 3000) %late or (proto 6) %tcp",
	"(ident full) %full or (ident second and proto udp) %second",
}

// TestLabelsLikeNfdump prints labelled flows in every mode that shows a
// label (fmt's %lbl, json, raw) or carries the flow to where it is shown
// (-a, -A, -b, -B, -O, -s record): the same labels as nfdump 1.7.1, the
// first flow's label for an aggregated one, and raw's EXlabel element on
// the records nfdump rebuilds. csv shows no label.
func TestLabelsLikeNfdump(t *testing.T) {
	testutil.RequireTool(t, "nfdump")
	dir := filterArchive(t)
	// Sorting and aggregating keep ties in nfdump's heapsort and hash
	// order, which godump does not copy: those modes compare their lines
	// as sets, with formats that print one line per flow.
	const lbl = "fmt:%ts %pr %sa %sp %da %dp %pkt %byt %fl %lbl"
	modes := []struct {
		args      []string
		unordered bool
	}{
		{[]string{"-o", lbl}, false},
		{[]string{"-o", "json"}, false},
		{[]string{"-o", "raw"}, false},
		{[]string{"-o", "csv"}, false},
		{[]string{"-o", "line"}, false},
		{[]string{"-o", lbl, "-c", "30"}, false},
		{[]string{"-a", "-o", lbl}, true},
		{[]string{"-A", "proto,dstport", "-o", lbl}, true},
		{[]string{"-A", "srcip4/16", "-o", "raw", "-q"}, true},
		{[]string{"-b", "-o", lbl}, true},
		{[]string{"-B", "-o", lbl}, true},
		{[]string{"-O", "bytes", "-o", lbl}, true},
		{[]string{"-s", "record/bytes", "-n", "100000", "-o", lbl}, true},
	}
	var argv [][]string
	var unordered []bool
	for _, f := range labelFilters {
		for _, m := range modes {
			argv = append(argv, append(append([]string{"-R", dir}, m.args...), f))
			unordered = append(unordered, m.unordered)
		}
	}
	// A sorted raw listing: records nfdump rebuilds carry EXlabel.
	argv = append(argv, []string{"-R", dir, "-O", "tstart", "-c", "40", "-o", "raw", labelFilters[1]})
	unordered = append(unordered, true)
	want := nfdumpAll(t, argv)
	labelled := 0
	for i, args := range argv {
		w, g := maskNhb(want[i]), maskNhb(godump(args...))
		if unordered[i] {
			w.stdout, g.stdout = sortedRecords(w.stdout), sortedRecords(g.stdout)
		}
		assert.Equal(t, w, g, "godump %q", args)
		if strings.Contains(w.stdout, "abcdefghijklmnop") || strings.Contains(w.stdout, " tcp") {
			labelled++
		}
	}
	// The comparison means something only if labels were printed.
	assert.Greater(t, labelled, len(argv)/3)
}

// sortedRecords sorts the lines of a listing, raw's records (which span
// lines) as one line each.
func sortedRecords(s string) string {
	recs := strings.Split(s, "\nFlow Record: \n")
	if len(recs) == 1 {
		return sortedLines(s)
	}
	slices.Sort(recs)
	return strings.Join(recs, "\n--\n")
}

// TestLabelsWrite writes labelled flows with -w, plain and aggregated:
// nfdump reading the file shows the labels godump wrote, and godump
// reading nfdump's file shows nfdump's.
func TestLabelsWrite(t *testing.T) {
	testutil.RequireTool(t, "nfdump")
	dir := filterArchive(t)
	tmp := t.TempDir()
	const show = "fmt:%ts %pr %sa %sp %da %dp %pkt %byt %fl %lbl"
	for i, c := range []struct {
		args  []string
		label string // one of the labels that must show
	}{
		{[]string{labelFilters[0]}, " tcp"},
		{[]string{"-a", labelFilters[1]}, " small"},
		{[]string{"-A", "proto", labelFilters[4]}, " tcp"},
		{[]string{"-O", "bytes", labelFilters[6]}, " early"},
	} {
		args := c.args
		out := filepath.Join(tmp, "out"+string(rune('0'+i)))
		ref := out + ".nfdump"
		got := godump(append([]string{"-R", dir, "-w", out}, args...)...)
		require.Equal(t, 0, got.code, got.stderr)
		require.Equal(t, 0, nfdump(t, append([]string{"-R", dir, "-w", ref}, args...)...).code)
		w := nfdump(t, "-r", ref, "-q", "-o", show)
		assert.Equal(t, sortedLines(w.stdout), sortedLines(nfdump(t, "-r", out, "-q", "-o", show).stdout), "godump %q", args)
		assert.Contains(t, w.stdout, c.label)
		// godump reads the labels back, in every mode that shows them,
		// and a filter's label replaces a stored one only where a
		// labelled term decides.
		for _, read := range [][]string{
			{"-o", show}, {"-o", "raw"}, {"-o", "json"}, {"-o", show, "-A", "proto,srcport"},
			{"-o", show, "(proto tcp) %x or proto udp"}, {"-o", show, "-a", "(proto udp) %u or any"},
		} {
			args := append([]string{"-r", ref}, read...)
			assert.Equal(t, sortedRecords(nfdump(t, args...).stdout), sortedRecords(godump(args...).stdout), "godump %q", args)
		}
	}
}
