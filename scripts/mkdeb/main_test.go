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
// commands from where it put them (goprobe into gocapd, read by godump), removes it with dpkg -r and finally
// puts the machine back as it was (purge, and the user, directory and
// /etc/default files that were not there before).
func TestDebPackage(t *testing.T) {
	for _, tool := range []string{"make", "dpkg", "dpkg-deb", "lintian", "ldd", "readelf"} {
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
		depends := strings.Split(strings.TrimSpace(run(t, "dpkg-deb", "-f", pkg, "Depends")), ", ")
		assert.Equal(t, "adduser", depends[len(depends)-1], "the postinst's adduser")
		// Each library the packaged goprobe loads (as ldd finds them) comes
		// from a package Depends names; gocapd and godump load none.
		tree := t.TempDir()
		run(t, "dpkg-deb", "-x", pkg, tree)
		var names []string
		for _, d := range depends {
			names = append(names, strings.Fields(d)[0])
		}
		libs := sharedLibraries(t, filepath.Join(tree, "usr/bin/goprobe"))
		require.Contains(t, libs, "libpcap.so.0.8", "goprobe opens libpcap")
		for lib, path := range libs {
			assert.Contains(t, names, libraryPackage(t, path), "%s (%s)", lib, path)
		}
		for _, c := range []string{"gocapd", "godump"} {
			assert.Empty(t, sharedLibraries(t, filepath.Join(tree, "usr/bin", c)), c)
		}
	})

	t.Run("lintian", func(t *testing.T) {
		// Lintian exits non-zero on errors; its report is what counts.
		rep, _ := exec.Command("lintian", "--tag-display-limit", "0", pkg).CombinedOutput()
		t.Logf("lintian reports:\n%s", rep)
		// No error and no warning: gocapd and godump are static on
		// purpose (the overrides say why); goprobe links libpcap and the
		// C library, and is position-independent.
		for _, l := range strings.Split(string(rep), "\n") {
			if strings.HasPrefix(l, "E: ") || strings.HasPrefix(l, "W: ") {
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

// collect runs the lab's chain from the installed paths on loopback: the
// installed gocapd, the installed goprobe reading the bundled capture
// (131 packets in 30 flows) into it as NetFlow v9, and the installed
// godump reading the file.
func collect(t *testing.T) {
	t.Helper()
	pcap := filepath.Join(testutil.NfcapdSamples(t), "lo.pcap")
	dir := t.TempDir()
	port := testutil.FreeUDPPort(t)
	cmd := exec.Command("/usr/bin/gocapd", "-b", "127.0.0.1", "-p", strconv.Itoa(port), "-w", dir, "-I", "deb")
	require.NoError(t, cmd.Start())
	deadline := time.Now().Add(10 * time.Second)
	for len(current(dir)) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	assert.Contains(t, run(t, "/usr/bin/goprobe", "-h"), "Usage: goprobe [options] remote:port[/[local][/type]] ...\n")
	log := run(t, "/usr/bin/goprobe", "--read", pcap, "-n", "9", "127.0.0.1:"+strconv.Itoa(port))
	assert.Contains(t, log, "[INFO]: collector #1: 127.0.0.1:"+strconv.Itoa(port)+": datagrams sent: 2, flows: 30, send errors: 0\n")
	testutil.WaitUDPRead(t, port)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait())
	// One file, or two should gocapd's 5-minute slot end while it runs:
	// it then closes the slot's file and starts one for the next, which
	// it puts in place, empty or not, at the stop. -R sums their stat
	// records.
	files, _ := filepath.Glob(filepath.Join(dir, "nfcapd.2*"))
	require.NotEmpty(t, files)
	require.LessOrEqual(t, len(files), 2, "%v", files)
	stat := run(t, "/usr/bin/godump", "-R", dir, "-I")
	for _, want := range []string{`Ident: +deb`, `Flows: 30`, `Packets: 131`} {
		assert.Regexp(t, regexp.MustCompile(`(?m)^`+want+`$`), stat)
	}
}

// sharedLibraries returns the libraries a program needs itself (readelf's
// NEEDED entries and the sonames of its .note.dlopen, as readelf -p
// prints the note's JSON; theirs are their packages' business) and where
// the loader finds them, as ldd and ldconfig show it ("libpcap.so.0.8 =>
// /lib/x86_64-linux-gnu/libpcap.so.0.8"); none for a static program.
func sharedLibraries(t *testing.T, program string) map[string]string {
	t.Helper()
	dyn := run(t, "readelf", "-d", program)
	var names []string
	for _, m := range regexp.MustCompile(`\(NEEDED\)\s+Shared library: \[([^]]+)\]`).FindAllStringSubmatch(dyn, -1) {
		names = append(names, m[1])
	}
	if len(names) == 0 {
		return nil
	}
	if notes, err := exec.Command("readelf", "-W", "-p", ".note.dlopen", program).Output(); err == nil {
		for _, m := range regexp.MustCompile(`"soname":\["([^"]+)"`).FindAllStringSubmatch(string(notes), -1) {
			names = append(names, m[1])
		}
	}
	out := run(t, "ldd", program) + run(t, "/sbin/ldconfig", "-p")
	libs := map[string]string{}
	for _, name := range names {
		p := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(name) + ` (?:\([^)]*\) )?=> (/\S+)`).FindStringSubmatch(out)
		require.NotNil(t, p, "neither ldd nor ldconfig finds %s: %s", name, out)
		libs[name] = p[1]
	}
	return libs
}

// libraryPackage returns the package that installed a library file,
// without its architecture; with a merged /usr dpkg may know it by its
// other name.
func libraryPackage(t *testing.T, path string) string {
	t.Helper()
	for _, p := range []string{path, "/usr" + path, strings.TrimPrefix(path, "/usr")} {
		if out, err := exec.Command("dpkg-query", "-S", p).Output(); err == nil {
			pkg, _, _ := strings.Cut(string(out), ":")
			return pkg
		}
	}
	t.Fatalf("no package owns %s", path)
	return ""
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
