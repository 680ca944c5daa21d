package collector

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExpandCommand(t *testing.T) {
	start := time.Date(2026, 11, 24, 21, 44, 35, 0, time.UTC)
	v := CommandVars{Dir: "/flows", File: "2026/11/24/nfcapd.20261124214435", Slot: "20261124214435", Start: start, Ident: "x ident;rm -rf /"}
	argv, unknown := ExpandCommand("/bin/x.sh\t%d %f  %t %u %i %q %% pre%fpost 100%", v)
	assert.Equal(t, []string{"/bin/x.sh", "/flows", "2026/11/24/nfcapd.20261124214435", "20261124214435", "1795556675",
		"x ident;rm -rf /", "%q", "%%", "pre2026/11/24/nfcapd.20261124214435post", "100%"}, argv)
	assert.Equal(t, []string{"%q", "%%"}, unknown)
	assert.Equal(t, []string{"%q"}, CheckCommand("a %q %d"))
}

func TestParseSource(t *testing.T) {
	s, err := ParseSource("r1,10.0.0.1,/a")
	require.NoError(t, err)
	assert.Equal(t, "r1", s.Ident)
	assert.Equal(t, "10.0.0.1", s.Addr.String())
	for _, bad := range []string{"r1,10.0.0.1", "r1,x,/a", ",10.0.0.1,/a", "a,b,c,d"} {
		_, err := ParseSource(bad)
		assert.Error(t, err, bad)
	}
}

func TestExpireLimits(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 24, 22, 0, 0, 0, time.UTC)
	names := []string{"nfcapd.202611242000", "nfcapd.202611242100", "2026/11/24/nfcapd.202611242130", "nfcapd.202611242155"}
	for _, n := range names {
		p := filepath.Join(dir, n)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, make([]byte, 5000), 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nfcapd.current.1"), nil, 0o644))
	// Lifetime 90 minutes: the 20:00 file goes.
	st := DirStat{Lifetime: 5400, Watermark: 95}
	n, err := Expire(dir, &st, now, time.UTC)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.NoFileExists(t, filepath.Join(dir, names[0]))
	assert.Equal(t, uint64(3), st.NumFiles)
	assert.Equal(t, time.Date(2026, 11, 24, 21, 0, 0, 0, time.UTC).Unix(), st.First)
	assert.Equal(t, time.Date(2026, 11, 24, 21, 55, 0, 0, time.UTC).Unix(), st.Last)
	// Size: keep the newest only, and the emptied sub directory goes too.
	per := st.Size / 3
	st.MaxSize = per * 2
	st.Watermark = 60
	n, err = Expire(dir, &st, now, time.UTC)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.FileExists(t, filepath.Join(dir, names[3]))
	assert.NoDirExists(t, filepath.Join(dir, "2026/11/24"))
	assert.FileExists(t, filepath.Join(dir, "nfcapd.current.1"))
	got, err := ReadDirStat(dir)
	require.NoError(t, err)
	assert.Equal(t, st, got)
}
