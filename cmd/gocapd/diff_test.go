//go:build linux

package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/testutil"
)

// startNfcapd runs the real nfcapd 1.7.1 on 127.0.0.1 the same way.
func startNfcapd(t *testing.T, dir string) *daemonProc {
	t.Helper()
	return startNfcapdSpec(t, daemonSpec{args: []string{"-w", dir, "-t", "300", "-I", "diff"}})
}

// startNfcapdSpec runs the real nfcapd in the foreground on 127.0.0.1 with
// s.args after -b 127.0.0.1 -p port, in UTC.
func startNfcapdSpec(t *testing.T, s daemonSpec) *daemonProc {
	t.Helper()
	s.bin, s.name, s.port = testutil.RequireTool(t, "nfcapd"), "nfcapd", freePort(t)
	s.args = append([]string{"-b", "127.0.0.1", "-p", strconv.Itoa(s.port)}, s.args...)
	s.env = append([]string{"TZ=UTC"}, s.env...)
	return startDaemon(t, s)
}

// csvFlows prints the flows of dir with the real nfdump as csv, without
// the received-time column (the last), sorted.
func csvFlows(t *testing.T, dir string) []string {
	t.Helper()
	nfdump := testutil.RequireTool(t, "nfdump")
	cmd := exec.Command(nfdump, "-R", dir, "-o", "csv", "-q")
	cmd.Env = append(cmd.Environ(), "TZ=UTC")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l == "" || strings.HasPrefix(l, "ts,") || strings.HasPrefix(l, "No matching") {
			continue
		}
		if i := strings.LastIndexByte(l, ','); i >= 0 {
			l = l[:i]
		}
		lines = append(lines, l)
	}
	sort.Strings(lines)
	return lines
}

// exporters returns what nfdump -E prints of the files in dir: the
// exporters with their counters and samplers. When a rotation boundary
// passed while the collector ran, its exporters are in several files:
// their counters are summed over the files and every other line is kept
// once, in the order first seen, so the result is what nfdump -E prints of
// one file holding everything. (nfdump's -E takes the file as its value;
// "-r file -E" prints the usage and exits 0.)
func exporters(t *testing.T, dir string) string {
	t.Helper()
	nfdump := testutil.RequireTool(t, "nfdump")
	files, _ := filepath.Glob(filepath.Join(dir, "nfcapd.2*"))
	require.NotEmpty(t, files, dir)
	sort.Strings(files)
	var order []string              // lines, exporters by their identity, as first seen
	sums := map[string]*[3]uint64{} // exporter identity: failures, packets, flows
	isExporter := map[string]bool{}
	for _, f := range files {
		out, err := exec.Command(nfdump, "-E", f).CombinedOutput()
		require.NoError(t, err, "%s", out)
		if string(out) == "Exporters:\nNo Exporter records found\n\n" {
			// The file of a slot that began just before the collector
			// stopped: no datagram reached it.
			continue
		}
		require.True(t, strings.HasPrefix(string(out), "Exporters:\n\n"), "%s", out)
		body := strings.TrimSuffix(strings.TrimPrefix(string(out), "Exporters:\n\n"), "\n")
		for _, l := range strings.Split(body, "\n") {
			key := l
			m := exporterLine.FindStringSubmatch(l)
			if m != nil {
				key = m[1]
			}
			if _, ok := sums[key]; !ok {
				sums[key] = &[3]uint64{}
				order = append(order, key)
			}
			if m == nil || m[2] == " - no flows sent" {
				isExporter[key] = isExporter[key] || m != nil
				continue
			}
			isExporter[key] = true
			for i := range 3 {
				n, err := strconv.ParseUint(m[3+i], 10, 64)
				require.NoError(t, err, l)
				sums[key][i] += n
			}
		}
	}
	require.NotEmpty(t, order, "no file in %s has exporter records", dir)
	var b strings.Builder
	b.WriteString("Exporters:\n\n")
	for _, key := range order {
		c := sums[key]
		switch {
		case !isExporter[key]:
			b.WriteString(key)
		case c[2] == 0:
			// nfdump's words for an exporter without flows, whatever
			// its other counters.
			b.WriteString(key + " - no flows sent")
		default:
			fmt.Fprintf(&b, "%s, Sequence failures: %d, packets: %d, flows: %d", key, c[0], c[1], c[2])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// exporterLine is an exporter of nfdump -E: its identity, then its
// counters or "no flows sent".
var exporterLine = regexp.MustCompile(`^(SysID: \d+, IP: +\S+, version: \d+, ID: +\d+)(, Sequence failures: (\d+), packets: (\d+), flows: (\d+)| - no flows sent)$`)

// runClock notes when a test's collectors started, so that the test can
// allow for a rotation boundary passing while they ran: no test may
// depend on where the wall clock stands. While the run stays in one slot
// the checks are strict; when it touched two, the flows are split over
// two files and the checks compare what does not depend on the split.
type runClock struct {
	start    time.Time
	interval time.Duration
}

func startClock(interval time.Duration) runClock { return runClock{time.Now(), interval} }

// slots returns how many rotation slots the run has touched until now.
func (c runClock) slots() int {
	sec := int64(c.interval / time.Second)
	return int(time.Now().Unix()/sec-c.start.Unix()/sec) + 1
}

// requireFiles checks that a run wrote one file for each slot it touched
// at the most, and at least one.
func (c runClock) requireFiles(t *testing.T, files []string, msgs ...any) {
	t.Helper()
	require.NotEmpty(t, files, msgs...)
	require.LessOrEqual(t, len(files), c.slots(), msgs...)
}

// sameFiles compares the files two collectors wrote: the same names, or,
// when a boundary passed while they ran (one may have stopped after it,
// the other before), each at most one file per slot.
func (c runClock) sameFiles(t *testing.T, want, got []string, msgs ...any) {
	t.Helper()
	if c.slots() == 1 {
		assert.Equal(t, want, got, msgs...)
		return
	}
	c.requireFiles(t, want, msgs...)
	c.requireFiles(t, got, msgs...)
}

// sameStat compares nfdump -I of two collectors' directories: all of it,
// or, when a boundary passed, the counters without first and last seen
// (a datagram in flight at the boundary may land in either slot, and an
// empty file's times are those of its slot).
func (c runClock) sameStat(t *testing.T, want, got map[string]string, msgs ...any) {
	t.Helper()
	if c.slots() > 1 {
		for _, m := range []map[string]string{want, got} {
			for _, k := range []string{"First", "Last", "msec_first", "msec_last"} {
				delete(m, k)
			}
		}
	}
	assert.Equal(t, want, got, msgs...)
}

// loggedTotals sums the rotation lines of ident in a collector's log:
// "Ident: 'x' Flows: N, Packets: N, Bytes: N, Sequence Errors: N".
func loggedTotals(log, ident string) string {
	re := regexp.MustCompile(`Ident: '` + regexp.QuoteMeta(ident) + `' Flows: (\d+), Packets: (\d+), Bytes: (\d+), Sequence Errors: (\d+)`)
	var sum [4]uint64
	for _, m := range re.FindAllStringSubmatch(log, -1) {
		for i := range sum {
			n, _ := strconv.ParseUint(m[i+1], 10, 64)
			sum[i] += n
		}
	}
	return fmt.Sprintf("Flows: %d, Packets: %d, Bytes: %d, Sequence Errors: %d", sum[0], sum[1], sum[2], sum[3])
}

// TestSameFlowsAsNfcapd sends the same traffic to the real nfcapd and to
// gocapd and compares what nfdump prints of both directories.
func TestSameFlowsAsNfcapd(t *testing.T) {
	softflowd := testutil.RequireTool(t, "softflowd")
	pcap := filepath.Join(testutil.NfcapdSamples(t), "lo.pcap")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"v5", []string{"-v", "5"}},
		{"v9", []string{"-v", "9", "-a"}},
		{"ipfix", []string{"-v", "10", "-A", "milli"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refDir, ourDir := t.TempDir(), t.TempDir()
			clock := startClock(300 * time.Second)
			// gocapd repeats (-R) every datagram to nfcapd, so both see
			// exactly the same bytes: softflowd's timestamps differ
			// from one run to the next.
			ref := startNfcapd(t, refDir)
			ours := startGocapd(t, []string{"TZ=UTC"}, "-w", ourDir, "-t", "300", "-I", "diff", "-R", "127.0.0.1/"+strconv.Itoa(ref.port))
			args := append([]string{"-d", "-r", pcap, "-n", "127.0.0.1:" + strconv.Itoa(ours.port)}, tc.args...)
			out, err := runTimeout(exec.Command(softflowd, args...), 20*time.Second)
			require.NoError(t, err, "%s", out)
			// gocapd repeats what it reads at once; nfcapd loses what it
			// has not read when it is stopped.
			testutil.WaitUDPRead(t, ours.port)
			testutil.WaitUDPRead(t, ref.port)
			require.Equal(t, 0, ref.stop(syscall.SIGTERM))
			require.Equal(t, 0, ours.stop(syscall.SIGTERM), ours.log.String())
			want, got := csvFlows(t, refDir), csvFlows(t, ourDir)
			require.NotEmpty(t, want)
			assert.Equal(t, want, got)
			// nfdump -E lists the same exporter and counters.
			assert.Equal(t, exporters(t, refDir), exporters(t, ourDir))
			clock.sameFiles(t, flowFiles(t, refDir), flowFiles(t, ourDir))
			assert.Contains(t, loggedTotals(ours.log.String(), "diff"), "Flows: "+strconv.Itoa(len(want))+",")
		})
	}
}

// TestNfreplay replays nfcapd's own v9 sample file with nfreplay.
func TestNfreplay(t *testing.T) {
	nfreplay := testutil.RequireTool(t, "nfreplay")
	src := filepath.Join(testutil.NfcapdSamples(t), "flows", "2026", "11", "24", "nfcapd.202611242140")
	for _, v := range []string{"5", "9"} {
		t.Run("v"+v, func(t *testing.T) {
			refDir, ourDir := t.TempDir(), t.TempDir()
			ref := startNfcapd(t, refDir)
			ours := startGocapd(t, []string{"TZ=UTC"}, "-w", ourDir, "-I", "diff", "-R", "127.0.0.1/"+strconv.Itoa(ref.port))
			out, err := runTimeout(exec.Command(nfreplay, "-v"+v, "-H", "127.0.0.1", "-p", strconv.Itoa(ours.port), "-r", src), 20*time.Second)
			require.NoError(t, err, "%s", out)
			testutil.WaitUDPRead(t, ours.port)
			testutil.WaitUDPRead(t, ref.port)
			require.Equal(t, 0, ref.stop(syscall.SIGTERM))
			require.Equal(t, 0, ours.stop(syscall.SIGTERM))
			want, got := csvFlows(t, refDir), csvFlows(t, ourDir)
			require.NotEmpty(t, want)
			assert.Equal(t, want, got)
		})
	}
}
