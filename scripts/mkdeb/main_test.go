package main

import (
	"os"
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

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	require.NoError(t, err, "%s %v: %s", name, args, out)
	return string(out)
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// TestDebPackage builds the package with make deb, checks its contents
// with dpkg-deb and lintian, installs it with dpkg -i, runs the three
// commands from where it put them, removes it with dpkg -r and finally
// puts the machine back as it was (purge, and the user, directory and
// /etc/default files that were not there before).
func TestDebPackage(t *testing.T) {
	for _, tool := range []string{"make", "dpkg", "dpkg-deb", "lintian"} {
		testutil.RequireTool(t, tool)
	}
	if os.Geteuid() != 0 {
		testutil.Missing(t, "root (dpkg -i)")
	}
	if exec.Command("dpkg-query", "-W", Name).Run() == nil {
		t.Skipf("the package %s is installed already; the test would replace it", Name)
	}
	out := t.TempDir()
	cmd := exec.Command("make", "-s", "deb", "DEBDIR="+out, "DEB_VERSION=0.0~test")
	cmd.Dir = testutil.RepoRoot()
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "make deb: %s", b)
	debs, _ := filepath.Glob(filepath.Join(out, "*.deb"))
	require.Len(t, debs, 1)
	pkg := debs[0]

	t.Run("contents", func(t *testing.T) {
		var paths []string
		for _, l := range strings.Split(run(t, "dpkg-deb", "-c", pkg), "\n") {
			if f := strings.Fields(l); len(f) == 6 && !strings.HasSuffix(f[5], "/") {
				paths = append(paths, strings.TrimPrefix(f[5], "."))
			}
		}
		assert.Equal(t, []string{
			"/etc/default/gocapd", "/etc/default/goprobe",
			"/usr/bin/gocapd", "/usr/bin/godump", "/usr/bin/goprobe",
			"/usr/lib/systemd/system/gocapd.service", "/usr/lib/systemd/system/gocapd@.service", "/usr/lib/systemd/system/goprobe.service",
			"/usr/lib/sysusers.d/nftools.conf",
			"/usr/share/doc/nftools/changelog.gz", "/usr/share/doc/nftools/copyright",
			"/usr/share/lintian/overrides/nftools",
		}, filterOut(paths, "/usr/share/man/"))
		mans := filterIn(paths, "/usr/share/man/")
		assert.Len(t, mans, 3, "a man page each")
		for _, m := range mans {
			assert.True(t, strings.HasSuffix(m, ".gz"), m)
		}
		ctl := t.TempDir()
		run(t, "dpkg-deb", "-e", pkg, ctl)
		conf, err := os.ReadFile(filepath.Join(ctl, "conffiles"))
		require.NoError(t, err)
		assert.Equal(t, "/etc/default/gocapd\n/etc/default/goprobe\n", string(conf))
		for _, s := range []string{"postinst", "prerm", "postrm"} {
			fi, err := os.Stat(filepath.Join(ctl, s))
			require.NoError(t, err, s)
			assert.NotZero(t, fi.Mode()&0o111, "%s is executable", s)
		}
		assert.Equal(t, "libc6, libpcap0.8, adduser\n", run(t, "dpkg-deb", "-f", pkg, "Depends"))
	})

	t.Run("lintian", func(t *testing.T) {
		// Lintian exits non-zero on errors; its report is what counts.
		rep, _ := exec.Command("lintian", "--tag-display-limit", "0", pkg).CombinedOutput()
		t.Logf("lintian reports:\n%s", rep)
		for _, l := range strings.Split(string(rep), "\n") {
			// goprobe is static until it links libpcap for live
			// capture (the goprobe issue); then this tag goes.
			if strings.HasPrefix(l, "E: ") && l != "E: nftools: statically-linked-binary [usr/bin/goprobe]" {
				t.Errorf("lintian: %s", l)
			}
		}
	})

	// What dpkg -i and the postinst change, to put back afterwards.
	_, userErr := exec.Command("getent", "passwd", "nftools").Output()
	hadUser := userErr == nil
	hadCache := exists("/var/cache/nfdump")
	saved := map[string][]byte{}
	for _, f := range []string{"/etc/default/gocapd", "/etc/default/goprobe"} {
		if b, err := os.ReadFile(f); err == nil {
			saved[f] = b
		}
	}
	t.Cleanup(func() {
		exec.Command("dpkg", "-P", Name).Run()
		for f, b := range saved {
			os.WriteFile(f, b, 0o644)
		}
		if !hadUser {
			exec.Command("userdel", "nftools").Run()
			exec.Command("groupdel", "nftools").Run()
		}
		if !hadCache {
			os.Remove("/var/cache/nfdump")
		}
	})

	run(t, "dpkg", "-i", "--force-confold", pkg)
	t.Run("installed", func(t *testing.T) {
		for _, c := range []string{"gocapd", "godump", "goprobe"} {
			assert.Regexp(t, "^"+c+": Version: ", run(t, "/usr/bin/"+c, "-V"))
		}
		run(t, "getent", "passwd", "nftools")
		fi, err := os.Stat("/var/cache/nfdump")
		require.NoError(t, err)
		assert.True(t, fi.IsDir())
		if !hadCache {
			uid, _ := strconv.Atoi(strings.TrimSpace(run(t, "id", "-u", "nftools")))
			assert.Equal(t, uint32(uid), fi.Sys().(*syscall.Stat_t).Uid, "the flow directory belongs to nftools")
		}
		if analyze, err := exec.LookPath("systemd-analyze"); err == nil {
			assert.Empty(t, run(t, analyze, "verify", "--man=no", "/usr/lib/systemd/system/gocapd.service",
				"/usr/lib/systemd/system/gocapd@.service", "/usr/lib/systemd/system/goprobe.service"))
		}
		if _, ok := saved["/etc/default/gocapd"]; !ok {
			b, err := os.ReadFile("/etc/default/gocapd")
			require.NoError(t, err)
			assert.Contains(t, string(b), `OPTIONS="-w /var/cache/nfdump -p 2055"`)
		}
		collect(t)
	})

	run(t, "dpkg", "-r", Name)
	for _, f := range []string{"/usr/bin/gocapd", "/usr/bin/godump", "/usr/bin/goprobe", "/usr/lib/systemd/system/gocapd.service"} {
		assert.False(t, exists(f), "%s left after dpkg -r", f)
	}
	if _, ok := saved["/etc/default/gocapd"]; !ok {
		assert.FileExists(t, "/etc/default/gocapd", "dpkg -r keeps the conffiles")
	}
}

// collect runs the installed gocapd on loopback for a moment and reads
// its file with the installed godump.
func collect(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	port := strconv.Itoa(testutil.FreeUDPPort(t))
	cmd := exec.Command("/usr/bin/gocapd", "-b", "127.0.0.1", "-p", port, "-w", dir, "-I", "deb")
	require.NoError(t, cmd.Start())
	deadline := time.Now().Add(10 * time.Second)
	for len(current(dir)) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait())
	files, _ := filepath.Glob(filepath.Join(dir, "nfcapd.2*"))
	require.Len(t, files, 1)
	assert.Regexp(t, regexp.MustCompile(`(?m)^Ident: +deb$`), run(t, "/usr/bin/godump", "-r", files[0], "-I"))
}

func current(dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "nfcapd.current.*"))
	return m
}

func filterIn(paths []string, prefix string) []string {
	var out []string
	for _, p := range paths {
		if strings.HasPrefix(p, prefix) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func filterOut(paths []string, prefix string) []string {
	var out []string
	for _, p := range paths {
		if !strings.HasPrefix(p, prefix) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
