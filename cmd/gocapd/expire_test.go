//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/expire"
)

// TestExpireLimitOptionsReadByNfcapd: gocapd -e with --maxlife and
// --watermark, on a machine where nfexpire never ran, expires the old
// files at its final rotation and stores the limits in .nfstat; the real
// nfcapd -e then reads them from there and trusts the file.
func TestExpireLimitOptionsReadByNfcapd(t *testing.T) {
	dir := t.TempDir()
	// Six files 30 to 35 hours old and three 1 to 3 hours old, all half
	// an hour off the hour: a day's lifetime at a watermark of 90% (21.6
	// hours) lies far from each, wherever the clock stands.
	now := time.Now().UTC().Truncate(time.Minute).Add(-30 * time.Minute)
	var old, recent []string
	for _, h := range []int{30, 31, 32, 33, 34, 35, 1, 2, 3} {
		name := "nfcapd." + now.Add(-time.Duration(h)*time.Hour).Format("200601021504")
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), make([]byte, 5000), 0o644))
		if h >= 30 {
			old = append(old, name)
		} else {
			recent = append(recent, name)
		}
	}

	p := startGocapd(t, []string{"TZ=UTC"}, "-w", dir, "-I", "limits", "-e", "--maxlife", "1d", "--watermark", "90")
	assert.Equal(t, 0, p.stop(syscall.SIGTERM))
	limits := "Limits: Filesize <none>, Lifetime 86400 = 1.0 days, Watermark: 90%"
	assert.Contains(t, p.log.String(), "Force rebuild stat record", "no .nfstat yet")
	assert.Contains(t, p.log.String(), limits)
	assert.Contains(t, p.log.String(), "   expired files: 6\n")
	for _, n := range old {
		assert.NoFileExists(t, filepath.Join(dir, n))
	}
	for _, n := range recent {
		assert.FileExists(t, filepath.Join(dir, n))
	}
	st, err := expire.ReadFile(dir)
	require.NoError(t, err)
	assert.Equal(t, uint64(86400), st.Lifetime)
	assert.Equal(t, uint64(90), st.Watermark)
	assert.Equal(t, uint64(expire.StatusOK), st.Status)
	// The recent three and what gocapd wrote: one file, or two when a
	// rotation boundary passed while it ran.
	written, _ := filepath.Glob(filepath.Join(dir, "nfcapd.*"))
	assert.Equal(t, uint64(len(written)), st.NumFiles, "the recent three and the one just written")
	assert.GreaterOrEqual(t, len(written), len(recent)+1)
	assert.LessOrEqual(t, len(written), len(recent)+2)

	// nfcapd expires in its launcher process, which it signals to end
	// right after handing it the last file: on a busy machine the launcher
	// can end first ("launcher terminated due to signal 1") and expire
	// nothing. Such a run says nothing about .nfstat; run nfcapd again.
	var q *daemonProc
	for attempt := 1; attempt <= 3; attempt++ {
		q = startNfcapdSpec(t, daemonSpec{args: []string{"-w", dir, "-I", "limits", "-e"}})
		assert.Equal(t, 0, q.stop(syscall.SIGTERM))
		if strings.Contains(q.log.String(), "Run expire on") || !strings.Contains(q.log.String(), "launcher terminated due to signal") {
			break
		}
		t.Logf("nfcapd's launcher ended before it expired (run %d); again", attempt)
	}
	assert.Contains(t, q.log.String(), "Run expire on '"+dir+"'")
	assert.NotContains(t, q.log.String(), "Force rebuild stat record", "nfcapd trusts gocapd's .nfstat")
	assert.Contains(t, q.log.String(), limits)
	for _, n := range recent {
		assert.FileExists(t, filepath.Join(dir, n))
	}
}
