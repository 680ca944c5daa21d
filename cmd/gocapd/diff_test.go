package main

import (
	"os/exec"
	"path/filepath"
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

// exporters returns what nfdump -E prints of the one file in dir: the
// exporters with their counters and samplers. (nfdump's -E takes the file
// as its value; "-r file -E" prints the usage and exits 0.)
func exporters(t *testing.T, dir string) string {
	t.Helper()
	nfdump := testutil.RequireTool(t, "nfdump")
	files, _ := filepath.Glob(filepath.Join(dir, "nfcapd.2*"))
	require.Len(t, files, 1)
	out, err := exec.Command(nfdump, "-E", files[0]).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.True(t, strings.HasPrefix(string(out), "Exporters:"), "%s", out)
	return string(out)
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
			// gocapd repeats (-R) every datagram to nfcapd, so both see
			// exactly the same bytes: softflowd's timestamps differ
			// from one run to the next.
			ref := startNfcapd(t, refDir)
			ours := startGocapd(t, []string{"TZ=UTC"}, "-w", ourDir, "-t", "300", "-I", "diff", "-R", "127.0.0.1/"+strconv.Itoa(ref.port))
			args := append([]string{"-d", "-r", pcap, "-n", "127.0.0.1:" + strconv.Itoa(ours.port)}, tc.args...)
			out, err := runTimeout(exec.Command(softflowd, args...), 20*time.Second)
			require.NoError(t, err, "%s", out)
			time.Sleep(300 * time.Millisecond)
			require.Equal(t, 0, ref.stop(syscall.SIGTERM))
			require.Equal(t, 0, ours.stop(syscall.SIGTERM), ours.log.String())
			want, got := csvFlows(t, refDir), csvFlows(t, ourDir)
			require.NotEmpty(t, want)
			assert.Equal(t, want, got)
			// nfdump -E lists the same exporter and counters.
			assert.Equal(t, exporters(t, refDir), exporters(t, ourDir))
			assert.Contains(t, ours.log.String(), "Ident: 'diff' Flows: "+strconv.Itoa(len(want)))
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
			time.Sleep(300 * time.Millisecond)
			require.Equal(t, 0, ref.stop(syscall.SIGTERM))
			require.Equal(t, 0, ours.stop(syscall.SIGTERM))
			want, got := csvFlows(t, refDir), csvFlows(t, ourDir)
			require.NotEmpty(t, want)
			assert.Equal(t, want, got)
		})
	}
}
