package flowfile

import (
	"io/fs"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/testutil"
)

func TestSlotStart(t *testing.T) {
	at := time.Date(2026, 11, 24, 21, 44, 37, 5e8, time.UTC)
	assert.Equal(t, time.Date(2026, 11, 24, 21, 40, 0, 0, time.UTC), SlotStart(at, 300*time.Second))
	assert.Equal(t, time.Date(2026, 11, 24, 21, 44, 35, 0, time.UTC), SlotStart(at, 5*time.Second))
	assert.Equal(t, time.Date(2026, 11, 24, 21, 44, 0, 0, time.UTC), SlotStart(at, 60*time.Second))
	// Slots align on the epoch, not on local midnight: 21:44 in +01:00
	// (20:44 UTC) with 7200 s slots starts at 20:00 UTC = 21:00 local.
	cet := time.FixedZone("CET", 3600)
	assert.Equal(t, "nfcapd.202611242100", SlotName(SlotStart(at.Add(-time.Hour).In(cet), 2*time.Hour), 2*time.Hour, false))
}

func TestSlotName(t *testing.T) {
	start := time.Date(2026, 11, 24, 21, 45, 0, 0, time.UTC)
	assert.Equal(t, "nfcapd.202611242145", SlotName(start, 300*time.Second, false))
	assert.Equal(t, "nfcapd.20261124214500", SlotName(start, 5*time.Second, false))
	// The Z tree of nfcapd-tests: the same instant in UTC and in CET.
	assert.Equal(t, "nfcapd.202611242145+0000", SlotName(start, 300*time.Second, true))
	assert.Equal(t, "nfcapd.202611242245+0100", SlotName(start.In(time.FixedZone("CET", 3600)), 300*time.Second, true))
	assert.Equal(t, "20261124214500", SlotString(start, 59*time.Second, false))
}

func TestSubDirEdges(t *testing.T) {
	// 2026-01-01 is a Thursday: %W is 00 until the first Monday (Jan 5).
	jan1 := time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC)
	s, err := SubDir(3, jan1)
	require.NoError(t, err)
	assert.Equal(t, "2026/00/4", s)
	s, _ = SubDir(4, jan1.AddDate(0, 0, 4))
	assert.Equal(t, "2026/01/1/03", s)
	s, _ = SubDir(3, jan1.AddDate(0, 0, 3)) // Sunday Jan 4
	assert.Equal(t, "2026/00/7", s)
	s, _ = SubDir(5, jan1)
	assert.Equal(t, "2026/001", s)
	_, err = SubDir(9, jan1)
	assert.EqualError(t, err, "No such subdir level 9")
	_, err = SubDir(-1, jan1)
	assert.Error(t, err)
}

// TestLayoutsMatchNfcapd compares SlotPath with the trees nfcapd 1.7.1 left
// in nfcapd-tests/S0..S8 for the slot 2026-11-24 21:40 (TZ=UTC, -t 300).
func TestLayoutsMatchNfcapd(t *testing.T) {
	dir := filepath.Join(testutil.NfcapdSamples(t), "nfcapd-tests")
	start := time.Date(2026, 11, 24, 21, 40, 0, 0, time.UTC)
	for layout := 0; layout <= MaxLayout; layout++ {
		root := filepath.Join(dir, "S"+strconv.Itoa(layout))
		var files []string
		require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(root, p)
				files = append(files, rel)
			}
			return err
		}))
		got, err := SlotPath(layout, start, 300*time.Second, false)
		require.NoError(t, err)
		assert.Equal(t, files, []string{got}, "-S %d", layout)
	}
}
