// Package packaging holds what runs the tools as services: the systemd units
// (templates filled in by scripts/service.sh), the /etc/default files and
// the sysusers.d entry. Its tests check them with systemd's own tools.
package packaging

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/testutil"
)

var unitNames = []string{"gocapd.service", "gocapd@.service", "goprobe.service"}

// renderUnits fills in the unit templates as make install does, with
// BINDIR pointing at executables in a scratch directory: systemd-analyze
// verify checks that ExecStart names one. They are copies of the system's
// true: verify never runs them.
func renderUnits(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	require.NoError(t, os.Mkdir(bin, 0o755))
	truePath, err := exec.LookPath("true")
	require.NoError(t, err)
	data, err := os.ReadFile(truePath)
	require.NoError(t, err)
	for _, b := range []string{"gocapd", "goprobe"} {
		require.NoError(t, os.WriteFile(filepath.Join(bin, b), data, 0o755))
	}
	units := filepath.Join(dir, "units")
	cmd := exec.Command(filepath.Join(testutil.RepoRoot(), "scripts/service.sh"), "render", units)
	cmd.Env = append(os.Environ(), "BINDIR="+bin, "SYSCONFDIR=/etc")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return units
}

func TestUnitsVerify(t *testing.T) {
	analyze := testutil.RequireTool(t, "systemd-analyze")
	units := renderUnits(t)
	args := []string{"verify", "--man=no"}
	for _, u := range unitNames {
		args = append(args, filepath.Join(units, u))
	}
	out, err := exec.Command(analyze, args...).CombinedOutput()
	assert.NoError(t, err)
	assert.Empty(t, string(out), "systemd-analyze verify has something to say")
}

// TestUnitsSecurity reads systemd's exposure score of each unit (0 is
// locked down, 10 is unprotected) and keeps it at 2.0 or below.
func TestUnitsSecurity(t *testing.T) {
	analyze := testutil.RequireTool(t, "systemd-analyze")
	units := renderUnits(t)
	re := regexp.MustCompile(`Overall exposure level for \S+: (\d+\.\d+)`)
	for _, u := range unitNames {
		out, err := exec.Command(analyze, "security", "--offline=yes", "--no-pager", filepath.Join(units, u)).CombinedOutput()
		require.NoError(t, err, "%s", out)
		m := re.FindSubmatch(out)
		require.NotNil(t, m, "no exposure level in %s", out)
		level, err := strconv.ParseFloat(string(m[1]), 64)
		require.NoError(t, err)
		t.Logf("%s: exposure %.1f", u, level)
		assert.LessOrEqual(t, level, 2.0, u)
	}
}

// unitSettings reads the Key=Value lines of a unit, every value of a key
// in order.
func unitSettings(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	m := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "%s: %q", path, line)
		m[k] = append(m[k], v)
	}
	require.NoError(t, sc.Err())
	return m
}

func TestUnitsRunInForegroundAsTheServiceUser(t *testing.T) {
	units := renderUnits(t)
	cases := []struct {
		unit, env, caps string
		reload          bool
	}{
		{"gocapd.service", "/etc/default/gocapd", "", true},
		{"gocapd@.service", "/etc/default/gocapd-%i", "", true},
		{"goprobe.service", "/etc/default/goprobe", "CAP_NET_RAW", false},
	}
	for _, c := range cases {
		t.Run(c.unit, func(t *testing.T) {
			s := unitSettings(t, filepath.Join(units, c.unit))
			assert.Equal(t, []string{c.env}, s["EnvironmentFile"])
			require.Len(t, s["ExecStart"], 1)
			argv := strings.Fields(s["ExecStart"][0])
			assert.NotContains(t, argv, "-D", "the unit runs the command in the foreground")
			assert.Equal(t, []string{"exec"}, s["Type"])
			assert.Equal(t, []string{"nftools"}, s["User"])
			assert.Equal(t, []string{c.caps}, s["CapabilityBoundingSet"])
			assert.Equal(t, []string{c.caps}, s["AmbientCapabilities"])
			for _, k := range []string{"NoNewPrivileges", "PrivateTmp"} {
				assert.Equal(t, []string{"yes"}, s[k], k)
			}
			assert.Equal(t, []string{"strict"}, s["ProtectSystem"])
			assert.NotEmpty(t, s["RestrictAddressFamilies"])
			if c.reload {
				assert.Equal(t, []string{"/bin/kill -HUP $MAINPID"}, s["ExecReload"])
				require.Len(t, s["CacheDirectory"], 1, "the flow directory is writable")
			}
		})
	}
}

// shellVars sources an /etc/default file with sh, as init scripts do, and
// returns the variables it sets.
func shellVars(t *testing.T, path string, names []string) map[string]string {
	t.Helper()
	script := ". " + path
	for _, n := range names {
		script += `; printf '%s\n' "$` + n + `"`
	}
	out, err := exec.Command("sh", "-c", script).Output()
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	require.Len(t, lines, len(names))
	m := map[string]string{}
	for i, n := range names {
		m[n] = lines[i]
	}
	return m
}

// envFileVars reads KEY="value" lines the way systemd's EnvironmentFile=
// reads them. The files keep to lines that sh reads the same way: no
// quotes, backslashes or $ inside the value.
func envFileVars(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	line := regexp.MustCompile(`^([A-Z_]+)="([^"\\$` + "`" + `]*)"$`)
	m := map[string]string{}
	for _, l := range strings.Split(string(data), "\n") {
		if l == "" || l[0] == '#' {
			continue
		}
		sm := line.FindStringSubmatch(l)
		require.NotNil(t, sm, "%s: a line systemd and sh may read differently: %q", path, l)
		m[sm[1]] = sm[2]
	}
	return m
}

func TestDefaultFiles(t *testing.T) {
	cases := []struct {
		file string
		vars []string
	}{
		{"default/gocapd", []string{"OPTIONS"}},
		{"default/goprobe", []string{"INTERFACE", "FLOW_COLLECTOR", "OTHER_ARGS"}},
	}
	for _, c := range cases {
		sd := envFileVars(t, c.file)
		assert.Equal(t, shellVars(t, c.file, c.vars), sd, c.file)
		for _, v := range c.vars {
			assert.NotEmpty(t, sd[v], "%s sets %s", c.file, v)
		}
	}
	// An admin's /etc/default/fprobe, copied over, gives goprobe's unit
	// the same three variables.
	const fprobe = "/etc/default/fprobe"
	if _, err := os.Stat(fprobe); err != nil {
		testutil.Missing(t, fprobe+" (Debian's fprobe package)")
	}
	got := envFileVars(t, fprobe)
	ours := envFileVars(t, "default/goprobe")
	for k := range ours {
		assert.Contains(t, got, k)
	}
}
