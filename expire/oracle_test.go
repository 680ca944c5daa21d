package expire

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/testutil"
)

// tree is a flow directory to make: file path -> size in bytes.
type tree map[string]int

// flowTree makes hourly flow files of the -S layout given (0: flat, 1:
// %Y/%m/%d), n of them, the newest half an hour before now's minute, so
// that no limit of whole hours falls within 29 minutes of a file: the
// outcome does not depend on where the clock stands. Sizes vary so that
// the size limit cuts between files.
func flowTree(now time.Time, n, layout int, digits14 bool) tree {
	tr := tree{}
	base := now.UTC().Truncate(time.Minute).Add(-30 * time.Minute)
	for k := 0; k < n; k++ {
		ts := base.Add(-time.Duration(k) * time.Hour)
		name := "nfcapd." + ts.Format("200601021504")
		if digits14 {
			name = "nfcapd." + ts.Format("20060102150405")
		}
		if layout == 1 {
			name = ts.Format("2006/01/02/") + name
		}
		tr[name] = 3000 + 1500*k
	}
	return tr
}

func (tr tree) make(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for p, size := range tr {
		p = filepath.Join(dir, p)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(strings.Repeat("x", size)), 0o644))
	}
	return dir
}

// listing is every file and directory under dir but .nfstat, sorted.
func listing(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == dir || fi.Name() == FileName {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if fi.IsDir() {
			rel += "/"
		}
		out = append(out, rel)
		return nil
	}))
	sort.Strings(out)
	return out
}

func nfexpire(t *testing.T, args ...string) string {
	t.Helper()
	bin := testutil.RequireTool(t, "nfexpire")
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "nfexpire %v: %s", args, out)
	return string(out)
}

// sameStat compares two stats; when the directory ended up empty, first
// and last are the clock of each run and may be a second apart.
func sameStat(t *testing.T, want, got Stat, msg string) {
	t.Helper()
	if want.NumFiles == 0 && got.NumFiles == 0 {
		assert.InDelta(t, want.First, got.First, 2, msg)
		assert.InDelta(t, want.Last, got.Last, 2, msg)
		want.First, want.Last, got.First, got.Last = 0, 0, 0, 0
	}
	assert.Equal(t, want, got, msg)
}

// TestRunLikeNfexpire expires copies of the same directory with the real
// nfexpire -e and with Run, and compares what is left and the .nfstat
// each writes.
func TestRunLikeNfexpire(t *testing.T) {
	now := time.Now()
	withOthers := flowTree(now, 8, 0, false)
	withOthers["nfcapd.current.4242"] = 5000 // being written: never counted
	withOthers["notes.txt"] = 100
	withOthers[".hidden/nfcapd.200001010000"] = 100     // hidden directory: skipped
	withOthers["archive/nfcapd.200001010000"] = 100     // not a date directory: skipped
	withOthers["nfcapd.20000101000"] = 100              // 11 digits: not a flow file
	withOthers["2000/01/01/nfcapd.200001010000x"] = 100 // not all digits
	mixed := flowTree(now, 6, 1, true)
	for p, s := range flowTree(now.Add(-6*time.Hour), 4, 0, false) {
		mixed[p] = s
	}

	cases := []struct {
		name string
		tr   tree
		args []string // nfexpire's limits
		lim  Limits
	}{
		{"lifetime down to the watermark", flowTree(now, 10, 0, false),
			[]string{"-t", "5H", "-w", "80"}, Limits{Lifetime: 5 * 3600, SetLifetime: true, Watermark: 80, SetWatermark: true}},
		{"lifetime not reached", flowTree(now, 10, 0, false),
			[]string{"-t", "12"}, Limits{Lifetime: 12 * 3600, SetLifetime: true}},
		{"size down to the watermark", flowTree(now, 10, 0, false),
			[]string{"-s", "60K", "-w", "50"}, Limits{MaxSize: 60 << 10, SetMaxSize: true, Watermark: 50, SetWatermark: true}},
		{"size not reached", flowTree(now, 10, 0, false),
			[]string{"-s", "1M"}, Limits{MaxSize: 1 << 20, SetMaxSize: true}},
		{"size, then lifetime", flowTree(now, 12, 0, false),
			[]string{"-s", "100K", "-t", "3d", "-w", "60"}, Limits{MaxSize: 100 << 10, SetMaxSize: true, Lifetime: 3 * 86400, SetLifetime: true, Watermark: 60, SetWatermark: true}},
		{"daily directories emptied and removed", flowTree(now, 60, 1, false),
			[]string{"-t", "1d"}, Limits{Lifetime: 86400, SetLifetime: true}},
		{"names with seconds", flowTree(now, 10, 0, true),
			[]string{"-t", "4"}, Limits{Lifetime: 4 * 3600, SetLifetime: true}},
		{"other files left alone", withOthers,
			[]string{"-t", "3"}, Limits{Lifetime: 3 * 3600, SetLifetime: true}},
		{"sub directories and the top one", mixed,
			[]string{"-t", "7"}, Limits{Lifetime: 7 * 3600, SetLifetime: true}},
		{"everything expires", flowTree(now, 5, 0, false),
			[]string{"-t", "1M"}, Limits{Lifetime: 60, SetLifetime: true}},
		{"watermark 0 is 100", flowTree(now, 10, 0, false),
			[]string{"-s", "40K", "-w", "0"}, Limits{MaxSize: 40 << 10, SetMaxSize: true, Watermark: 100, SetWatermark: true}},
		{"no limits", flowTree(now, 3, 0, false), nil, Limits{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			theirs, ours := c.tr.make(t), c.tr.make(t)
			nfexpire(t, append([]string{"-e", theirs}, c.args...)...)
			_, err := Run(ours, c.lim, time.Now(), time.UTC)
			require.NoError(t, err)
			assert.Equal(t, listing(t, theirs), listing(t, ours))
			want, err := ReadFile(theirs)
			require.NoError(t, err)
			got, err := ReadFile(ours)
			require.NoError(t, err)
			sameStat(t, want, got, ".nfstat")
		})
	}
}

// TestNfexpireReadsOurStat lets nfexpire list and then expire a directory
// whose .nfstat Run wrote, with the limits Run stored there.
func TestNfexpireReadsOurStat(t *testing.T) {
	now := time.Now()
	tr := flowTree(now, 10, 1, false)
	dir, twin := tr.make(t), tr.make(t)
	lim := Limits{MaxSize: 10 << 20, SetMaxSize: true, Lifetime: 6 * 3600, SetLifetime: true, Watermark: 50, SetWatermark: true}
	// A first run with limits not reached: the limits are stored.
	_, err := Run(dir, Limits{MaxSize: 10 << 20, SetMaxSize: true, Lifetime: 48 * 3600, SetLifetime: true, Watermark: 50, SetWatermark: true}, now, time.UTC)
	require.NoError(t, err)
	st, err := ReadFile(dir)
	require.NoError(t, err)
	out := nfexpire(t, "-l", dir)
	assert.NotContains(t, out, "rebuild", "nfexpire trusts our .nfstat")
	assert.Contains(t, out, fmt.Sprintf("Numfiles:  %d\n", st.NumFiles))
	assert.Contains(t, out, "Filesize:  "+ScaleSize(st.Size)+"\n")
	assert.Contains(t, out, "Max Size:  10485760 = 10.0 MB\n")
	assert.Contains(t, out, "Max Life:  172800 = 2.0 days\n")
	assert.Contains(t, out, "Watermark: 50%\n")

	// nfexpire -u changes a limit in our file; nfexpire -e then expires
	// with the stored limits, as Run does on the twin directory.
	nfexpire(t, "-u", dir, "-t", "6")
	nfexpire(t, "-e", dir)
	_, err = Run(twin, lim, time.Now(), time.UTC)
	require.NoError(t, err)
	assert.Equal(t, listing(t, twin), listing(t, dir))
	want, err := ReadFile(dir)
	require.NoError(t, err)
	got, err := ReadFile(twin)
	require.NoError(t, err)
	sameStat(t, want, got, ".nfstat")
}

// TestRunReadsNfexpireLimits stores limits with nfexpire -u and expires
// with Run given none.
func TestRunReadsNfexpireLimits(t *testing.T) {
	now := time.Now()
	tr := flowTree(now, 10, 0, false)
	dir, twin := tr.make(t), tr.make(t)
	nfexpire(t, "-u", dir, "-s", "50K", "-t", "5", "-w", "90")
	res, err := Run(dir, Limits{}, now, time.UTC)
	require.NoError(t, err)
	assert.Equal(t, uint64(50<<10), res.Before.MaxSize)
	assert.Equal(t, uint64(5*3600), res.Before.Lifetime)
	assert.Equal(t, uint64(90), res.Before.Watermark)
	assert.NotZero(t, res.Removed)
	nfexpire(t, "-e", twin, "-s", "50K", "-t", "5", "-w", "90")
	assert.Equal(t, listing(t, twin), listing(t, dir))
}

// TestRunWaitsForTheLock holds the .nfstat lock as nfexpire does while it
// works; Run waits for it.
func TestRunWaitsForTheLock(t *testing.T) {
	dir := flowTree(time.Now(), 3, 0, false).make(t)
	sf, err := Open(dir)
	require.NoError(t, err)
	// fcntl locks belong to a process, so Run must wait in another one:
	// this test binary again, running TestRunInChild.
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunInChild$")
	cmd.Env = append(os.Environ(), "EXPIRE_LOCK_DIR="+dir)
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		t.Fatalf("Run did not wait for the lock: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	b, _ := os.ReadFile(filepath.Join(dir, FileName))
	assert.Empty(t, b, "nothing written while the lock is held")
	require.NoError(t, sf.Close())
	require.NoError(t, <-done)
	st, err := ReadFile(dir)
	require.NoError(t, err)
	assert.Equal(t, uint64(3), st.NumFiles)
}

// TestRunInChild is TestRunWaitsForTheLock's other process.
func TestRunInChild(t *testing.T) {
	dir := os.Getenv("EXPIRE_LOCK_DIR")
	if dir == "" {
		t.Skip("run by TestRunWaitsForTheLock")
	}
	_, err := Run(dir, Limits{}, time.Now(), time.UTC)
	require.NoError(t, err)
}
