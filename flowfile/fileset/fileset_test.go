package fileset

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sharedData holds the real nfcapd 1.7.1 files, relative to this package.
const sharedData = "../../../shared/testdata/nfcapd-1.7.1"

// Flow files used as content. Distinct contents give distinct `nfdump -g`
// lines (flows, packets, bytes), which is how the comparison tests see which
// file nfdump read when several files share a name.
const (
	contentA = "flows/2026/11/24/nfcapd.202611242139" // 20 flows, v5
	contentB = "flows/2026/11/24/nfcapd.202611242140" // 30 flows, v9
	contentG = "flows/2026/11/24/nfcapd.202611242141" // 30 flows, IPFIX (same totals as B)
	contentC = "flows-edge/crafted/nfcapd.202611242147"
	contentD = "flows-edge/mixed/nfcapd.202611242134"
	contentF = "sample-nfcapd-sampled"
)

// skipOrFail fails under CI=true (where everything must be present) and
// skips otherwise.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

func sharedDataDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(sharedData)
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(dir, contentA)); err != nil {
		skipOrFail(t, "shared test data missing: %v", err)
	}
	return dir
}

// buildTree lays out a test tree of copies of the real flow files:
//
//	flows/       nfcapd-like layout with sub-directories, hidden file,
//	             decoys, a fifo, a dangling link, a link cycle and links
//	edge/        copy of flows-edge
//	multi/a,b,c  the same names with different content, for -M
//	layouts/sN   nfcapd.202611242140 in each -S layout of nfcapd
//	lvl/         a sub-directory at the level where -R dir/file takes files
//	misc/        special files
func buildTree(t *testing.T) string {
	t.Helper()
	data := sharedDataDir(t)
	root := t.TempDir()
	cp := func(content, dst string) {
		t.Helper()
		in, err := os.ReadFile(filepath.Join(data, content))
		require.NoError(t, err)
		dst = filepath.Join(root, dst)
		require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
		require.NoError(t, os.WriteFile(dst, in, 0o644))
	}
	link := func(target, name string) {
		t.Helper()
		name = filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(name), 0o755))
		require.NoError(t, os.Symlink(target, name))
	}

	cp(contentB, "flows/1early/nfcapd.202611230000")
	cp(contentD, "flows/2026/11/24/.nfcapd.202611242138")
	cp(contentA, "flows/2026/11/24/nfcapd.202611242139")
	cp(contentB, "flows/2026/11/24/nfcapd.202611242140")
	cp(contentG, "flows/2026/11/24/nfcapd.202611242141")
	// Decoys are real flow files, so a wrongly read decoy shows up in -g.
	for _, decoy := range []string{"nfcapd.current.123", ".nfstat", "x.stat", "nfcapd.202611242142.stat", "foo.pcap", "nfcapd.202611242143pcap", ".DS_Store", "a.DS_Store.b"} {
		cp(contentC, "flows/2026/11/24/"+decoy)
	}
	link("nowhere", "flows/2026/11/24/dangling")
	mkfifo(t, filepath.Join(root, "flows/2026/11/24/fifo"))
	cp(contentC, "flows/2026/11/25/nfcapd.202611250010")
	link("..", "flows/2026/11/loop")
	cp(contentD, "flows/2026/12/01/nfcapd.202612010000")
	link("../edge/mixed/nfcapd.202611242134", "flows/link.nfcapd.202611242134")
	link("../edge/crafted", "flows/linkdir")
	cp(contentA, "flows/nfcapd.202611240000")

	require.NoError(t, os.CopyFS(filepath.Join(root, "edge"), os.DirFS(filepath.Join(data, "flows-edge"))))
	require.NoError(t, filepath.WalkDir(filepath.Join(root, "edge"), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(p, 0o755)
		}
		return os.Chmod(p, 0o644)
	}))

	for dir, content := range map[string]string{"a": contentA, "b": contentB, "c": contentC} {
		for _, name := range []string{"nfcapd.202611242139", "nfcapd.202611242140", "nfcapd.202611242141"} {
			cp(content, "multi/"+dir+"/2026/11/24/"+name)
		}
		cp(content, "multi/"+dir+"/nfcapd.202611240000")
	}
	cp(contentD, "multi/c/2026/11/25/nfcapd.202611250010")

	// nfcapd -S 0..8 layouts for a file of 2026-11-24 21:40 (Tuesday, ISO
	// week 47 by %W, day 328). Two groups, each with distinct content.
	for dir, content := range map[string]string{
		"s0": contentA, "s1/2026/11/24": contentB, "s2/2026/11/24/21": contentC,
		"s3/2026/47/2": contentD, "s4/2026/47/2/21": contentF,
		"s5/2026/328": contentA, "s6/2026/328/21": contentB,
		"s7/2026-11-24": contentC, "s8/2026-11-24/21": contentD,
	} {
		cp(content, "layouts/"+dir+"/nfcapd.202611242140")
	}

	cp(contentA, "lvl/nfcapd.202601010000")
	cp(contentB, "lvl/nfcapd.202601010001/nfcapd.202601010005")
	cp(contentC, "lvl/nfcapd.202601010002")

	require.NoError(t, os.MkdirAll(filepath.Join(root, "misc"), 0o755))
	l, err := net.Listen("unix", filepath.Join(root, "misc/sock"))
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return root
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	require.NoError(t, syscall.Mkfifo(path, 0o644))
}

type listCase struct {
	name  string
	dir   string   // working directory below the tree root
	args  []string // nfdump options; {{ROOT}} is the tree root
	want  []string // files in order (those selected before a fatal error)
	warns []string // non-fatal stderr messages in order
	code  int      // nfdump exit code; non-zero means List returns *Error
	msg   string   // the *Error message
}

var f24 = "flows/2026/11/24/"

var listCases = []listCase{
	// -r
	{name: "r file", args: []string{"-r", f24 + "nfcapd.202611242140"}, want: []string{f24 + "nfcapd.202611242140"}},
	{name: "r cleaned", args: []string{"-r", "./flows//2026/./11/24/nfcapd.202611242140"}, want: []string{f24 + "nfcapd.202611242140"}},
	{name: "r symlink", args: []string{"-r", "flows/link.nfcapd.202611242134"}, want: []string{"flows/link.nfcapd.202611242134"}},
	{name: "r dir is R", args: []string{"-r", "flows/2026/11/"}, want: []string{
		f24 + ".nfcapd.202611242138", f24 + "nfcapd.202611242139", f24 + "nfcapd.202611242140", f24 + "nfcapd.202611242141",
		"flows/2026/11/25/nfcapd.202611250010",
		// loop -> .. is flows/2026, above the walk's root, so fts does not
		// see a cycle until loop/11, which is the root itself.
		"flows/2026/11/loop/12/01/nfcapd.202612010000"}},
	{name: "r missing", args: []string{"-r", "flows/nope"}, code: 1, msg: "flows/nope is not a file or directory"},
	{name: "r not a directory", args: []string{"-r", "flows/nfcapd.202611240000/x"}, code: 1,
		warns: []string{
			"stat(flows/nfcapd.202611240000/x) error in util.c line 146: Not a directory",
			"stat(flows/nfcapd.202611240000/x) error in util.c line 146: Not a directory"},
		msg: "flows/nfcapd.202611240000/x is not a file or directory"},
	{name: "r fifo", args: []string{"-r", f24 + "fifo"}, code: 1, msg: f24 + "fifo is not a file or directory"},
	{name: "r char device", args: []string{"-r", "/dev/null"}, code: 1, msg: "/dev/null is not a file or directory"},
	{name: "r socket counts as dir", args: []string{"-r", "misc/sock"}, code: 250, msg: "Not a file or directory: 'misc/sock'"},
	{name: "r and R", args: []string{"-r", "flows", "-R", "flows"}, code: 1, msg: "-r and -R are mutually exclusive. Please specify either -r or -R"},

	// -R whole directories
	{name: "R dir", args: []string{"-R", "flows"}, want: []string{
		"flows/1early/nfcapd.202611230000",
		f24 + ".nfcapd.202611242138", f24 + "nfcapd.202611242139", f24 + "nfcapd.202611242140", f24 + "nfcapd.202611242141",
		"flows/2026/11/25/nfcapd.202611250010",
		"flows/2026/12/01/nfcapd.202612010000",
		"flows/link.nfcapd.202611242134",
		"flows/linkdir/nfcapd.202611242147",
		"flows/nfcapd.202611240000"}},
	{name: "R dir trailing slashes", args: []string{"-R", ".//edge/adjust//"}, want: []string{
		"edge/adjust/2026/11/24/nfcapd.202611242135", "edge/adjust/2026/11/24/nfcapd.202611242136",
		"edge/adjust/2026/11/24/nfcapd.202611242137", "edge/adjust/2026/11/24/nfcapd.202611242138"}},
	{name: "R dot", dir: f24, args: []string{"-R", "."}, want: []string{
		"./.nfcapd.202611242138", "./nfcapd.202611242139", "./nfcapd.202611242140", "./nfcapd.202611242141"}},
	{name: "R absolute", args: []string{"-R", "{{ROOT}}/edge/mixed"}, want: []string{"{{ROOT}}/edge/mixed/nfcapd.202611242134"}},

	// -R dir/first[:last] in one directory
	{name: "R from file", args: []string{"-R", f24 + "nfcapd.202611242140"}, want: []string{f24 + "nfcapd.202611242140", f24 + "nfcapd.202611242141"}},
	{name: "R from file not prefix", args: []string{"-R", f24 + "nfcapd.2026112421"}, code: 250,
		msg: "stat() error '" + f24 + "nfcapd.2026112421': No such file or directory"},
	{name: "R from file skips subdirs before it", args: []string{"-R", "flows/nfcapd.202611240000"}, want: []string{"flows/nfcapd.202611240000"}},
	{name: "R relative file", dir: "flows", args: []string{"-R", "nfcapd.202611240000"}, want: []string{"./nfcapd.202611240000"}},
	{name: "R range", args: []string{"-R", f24 + "nfcapd.202611242139:nfcapd.202611242140"}, want: []string{f24 + "nfcapd.202611242139", f24 + "nfcapd.202611242140"}},
	{name: "R range last missing", args: []string{"-R", f24 + "nfcapd.202611242140:nfcapd.202611242199"}, want: []string{f24 + "nfcapd.202611242140", f24 + "nfcapd.202611242141"}},
	{name: "R range reversed", args: []string{"-R", f24 + "nfcapd.202611242141:nfcapd.202611242139"},
		warns: []string{"WARNING: File 'nfcapd.202611242141' > 'nfcapd.202611242139'. Will not match anything!"}},
	{name: "R subdir in range", args: []string{"-R", "lvl/nfcapd.202601010000"}, code: 250,
		want: []string{"lvl/nfcapd.202601010000"}, msg: "ERROR: fts_level error at flist.c line 701"},
	{name: "R subdir outside range", args: []string{"-R", "lvl/nfcapd.202601010000:nfcapd.202601010000"}, want: []string{"lvl/nfcapd.202601010000"}},

	// -R ranges over sub-directories
	{name: "R span", args: []string{"-R", f24 + "nfcapd.202611242140:2026/12/01/nfcapd.202612010000"}, want: []string{
		f24 + "nfcapd.202611242140", f24 + "nfcapd.202611242141", "flows/2026/11/25/nfcapd.202611250010", "flows/2026/12/01/nfcapd.202612010000"}},
	{name: "R span guessed last", args: []string{"-R", f24 + "nfcapd.202611242140:nfcapd.202611250010"}, want: []string{
		f24 + "nfcapd.202611242140", f24 + "nfcapd.202611242141", "flows/2026/11/25/nfcapd.202611250010"}},
	{name: "R span relative", dir: "flows", args: []string{"-R", "2026/11/24/nfcapd.202611242139:2026/11/25/nfcapd.202611250010"}, want: []string{
		"./2026/11/24/nfcapd.202611242139", "./2026/11/24/nfcapd.202611242140", "./2026/11/24/nfcapd.202611242141", "./2026/11/25/nfcapd.202611250010"}},
	{name: "R span absolute", args: []string{"-R", "{{ROOT}}/" + f24 + "nfcapd.202611242141:2026/11/25/nfcapd.202611250010"}, want: []string{
		"{{ROOT}}/" + f24 + "nfcapd.202611242141", "{{ROOT}}/flows/2026/11/25/nfcapd.202611250010"}},
	{name: "R span reversed", args: []string{"-R", f24 + "nfcapd.202611242140:2026/10/01/nfcapd.202610010000"}, warns: []string{
		"WARNING: Entry '2026/11' > '2026/10'. Will not match anything!",
		"WARNING: Entry '2026/11/24' > '2026/10/01'. Will not match anything!",
		"WARNING: File 'nfcapd.202611242140' > 'nfcapd.202610010000'. Will not match anything!"}},
	{name: "R span too deep", args: []string{"-R", "flows/nfcapd.202611240000:2026/11/24/nfcapd.202611242140"}, code: 250,
		msg: "Number of sub dirs for sub level hierarchy for file list -R do not match"},

	// -R errors
	{name: "R missing", args: []string{"-R", "flows/nope"}, code: 250, msg: "stat() error 'flows/nope': No such file or directory"},
	{name: "R not a directory", args: []string{"-R", "flows/nfcapd.202611240000/x"}, code: 250, msg: "stat() error 'flows/nfcapd.202611240000/x': Not a directory"},
	{name: "R multiple colons", args: []string{"-R", "flows/a:b:c"}, code: 250, msg: "Multiple file separators ':' in path not allowed!"},
	{name: "R missing last", args: []string{"-R", f24 + "nfcapd.202611242139:"}, code: 250, msg: "Missing last file option after ':'!"},
	{name: "R absolute last", args: []string{"-R", f24 + "nfcapd.202611242139:/x"}, code: 250, msg: "Last file name in -R list must not start with '/'"},
	{name: "R range from dir", args: []string{"-R", "flows/2026:x"}, code: 250, msg: "Not a file: 'flows/2026'"},
	{name: "R fifo", args: []string{"-R", f24 + "fifo"}, code: 250, msg: "Not a file or directory: '" + f24 + "fifo'"},

	// -M with -R: directories in strcmp order, each walked completely.
	{name: "M R all", args: []string{"-M", "multi/b:a:c", "-R", "."}, want: []string{
		"multi/a/2026/11/24/nfcapd.202611242139", "multi/a/2026/11/24/nfcapd.202611242140", "multi/a/2026/11/24/nfcapd.202611242141", "multi/a/nfcapd.202611240000",
		"multi/b/2026/11/24/nfcapd.202611242139", "multi/b/2026/11/24/nfcapd.202611242140", "multi/b/2026/11/24/nfcapd.202611242141", "multi/b/nfcapd.202611240000",
		"multi/c/2026/11/24/nfcapd.202611242139", "multi/c/2026/11/24/nfcapd.202611242140", "multi/c/2026/11/24/nfcapd.202611242141",
		"multi/c/2026/11/25/nfcapd.202611250010", "multi/c/nfcapd.202611240000"}},
	{name: "M R absolute", args: []string{"-M", "{{ROOT}}/multi/b:a", "-R", "nfcapd.202611240000"}, want: []string{
		"{{ROOT}}/multi/a/nfcapd.202611240000", "{{ROOT}}/multi/b/nfcapd.202611240000"}},
	{name: "M R sorted by full path", args: []string{"-M", "multi/b:a/../c", "-R", "nfcapd.202611240000"}, want: []string{
		"multi/a/../c/nfcapd.202611240000", "multi/b/nfcapd.202611240000"}},
	{name: "M R from guessed", args: []string{"-M", "multi/b:a:c", "-R", "nfcapd.202611242140"}, want: []string{
		"multi/a/2026/11/24/nfcapd.202611242140", "multi/a/2026/11/24/nfcapd.202611242141",
		"multi/b/2026/11/24/nfcapd.202611242140", "multi/b/2026/11/24/nfcapd.202611242141",
		"multi/c/2026/11/24/nfcapd.202611242140", "multi/c/2026/11/24/nfcapd.202611242141", "multi/c/2026/11/25/nfcapd.202611250010"}},
	{name: "M R range guessed", args: []string{"-M", "multi/b:a:c", "-R", "nfcapd.202611242139:nfcapd.202611242140"}, want: []string{
		"multi/a/2026/11/24/nfcapd.202611242139", "multi/a/2026/11/24/nfcapd.202611242140",
		"multi/b/2026/11/24/nfcapd.202611242139", "multi/b/2026/11/24/nfcapd.202611242140",
		"multi/c/2026/11/24/nfcapd.202611242139", "multi/c/2026/11/24/nfcapd.202611242140"}},
	{name: "M R span", args: []string{"-M", "multi/c:a", "-R", "2026/11/24/nfcapd.202611242141:2026/11/25/nfcapd.202611250010"}, want: []string{
		"multi/a/2026/11/24/nfcapd.202611242141", "multi/c/2026/11/24/nfcapd.202611242141", "multi/c/2026/11/25/nfcapd.202611250010"}},
	{name: "M R flat", args: []string{"-M", "multi/b:a", "-R", "nfcapd.202611240000:nfcapd.202611240000"}, want: []string{
		"multi/a/nfcapd.202611240000", "multi/b/nfcapd.202611240000"}},
	// The sub-directory is guessed in the first -M directory only; it then
	// bounds the walk of every directory: from below only without a last
	// file (s3's 2026/47 sorts after 2026/11), from both sides with one.
	{name: "M R guessed bound from below", args: []string{"-M", "layouts/s1:s3", "-R", "nfcapd.202611242140"}, want: []string{
		"layouts/s1/2026/11/24/nfcapd.202611242140", "layouts/s3/2026/47/2/nfcapd.202611242140"}},
	{name: "M R guessed bound both sides", args: []string{"-M", "layouts/s1:s3", "-R", "nfcapd.202611242140:nfcapd.202611242140"}, want: []string{
		"layouts/s1/2026/11/24/nfcapd.202611242140"}},
	{name: "M R trailing slash root", args: []string{"-M", "multi/b/", "-R", "2026/11/24/nfcapd.202611242141"}},
	{name: "M R empty element", args: []string{"-M", "multi/b::a", "-R", "nfcapd.202611240000"}, want: []string{
		"multi/a/nfcapd.202611240000", "multi/b/nfcapd.202611240000"}},
	{name: "M R missing dir", args: []string{"-M", "multi/b:zz:a", "-R", "."},
		warns: []string{"path does not exist: multi/zz", "Not a directory: 'multi/zz'"},
		want: []string{
			"multi/b/2026/11/24/nfcapd.202611242139", "multi/b/2026/11/24/nfcapd.202611242140", "multi/b/2026/11/24/nfcapd.202611242141", "multi/b/nfcapd.202611240000"}},
	{name: "M R no dir left", dir: "multi", args: []string{"-M", "zz:a", "-R", "."},
		warns: []string{"path does not exist: ./zz", "Not a directory: './zz'"},
		want: []string{
			"./a/2026/11/24/nfcapd.202611242139", "./a/2026/11/24/nfcapd.202611242140", "./a/2026/11/24/nfcapd.202611242141", "./a/nfcapd.202611240000",
			"./b/2026/11/24/nfcapd.202611242139", "./b/2026/11/24/nfcapd.202611242140", "./b/2026/11/24/nfcapd.202611242141", "./b/nfcapd.202611240000",
			"./c/2026/11/24/nfcapd.202611242139", "./c/2026/11/24/nfcapd.202611242140", "./c/2026/11/24/nfcapd.202611242141",
			"./c/2026/11/25/nfcapd.202611250010", "./c/nfcapd.202611240000"}},
	{name: "M R dot ignores last", args: []string{"-M", "multi/a", "-R", ".:x"}, want: []string{
		"multi/a/2026/11/24/nfcapd.202611242139", "multi/a/2026/11/24/nfcapd.202611242140", "multi/a/2026/11/24/nfcapd.202611242141", "multi/a/nfcapd.202611240000"}},
	{name: "M R file as dir", dir: "multi", args: []string{"-M", "a/nfcapd.202611240000:b", "-R", "."},
		warns: []string{"not a directory: a/nfcapd.202611240000", "Not a directory: 'a/nfcapd.202611240000'"},
		want: []string{
			"./a/2026/11/24/nfcapd.202611242139", "./a/2026/11/24/nfcapd.202611242140", "./a/2026/11/24/nfcapd.202611242141", "./a/nfcapd.202611240000",
			"./b/2026/11/24/nfcapd.202611242139", "./b/2026/11/24/nfcapd.202611242140", "./b/2026/11/24/nfcapd.202611242141", "./b/nfcapd.202611240000",
			"./c/2026/11/24/nfcapd.202611242139", "./c/2026/11/24/nfcapd.202611242140", "./c/2026/11/24/nfcapd.202611242141",
			"./c/2026/11/25/nfcapd.202611250010", "./c/nfcapd.202611240000"}},
	{name: "M R stat error", args: []string{"-M", "multi/a:b", "-R", "nfcapd.202611240000/x"}, code: 250,
		msg: "stat() error 'multi/a/nfcapd.202611240000/x': Not a directory"},
	{name: "M R absolute path", args: []string{"-M", "multi/a:b", "-R", "/x"}, code: 250, msg: "File list -R must not start with '/' when combined with a source list -M"},
	{name: "M R dir", args: []string{"-M", "multi/a:b", "-R", "2026"}, code: 250, msg: "Not a file : 'multi/a/2026'"},
	{name: "M R missing", args: []string{"-M", "multi/a:b", "-R", "nfcapd.209911240000"}, code: 250, msg: "stat() error 'multi/a/nfcapd.209911240000': File not found!"},
	{name: "M R missing last", args: []string{"-M", "multi/a:b", "-R", "nfcapd.202611242139:nfcapd.209911240000"}, code: 250, msg: "'nfcapd.209911240000': File not found!"},
	{name: "M R levels differ", args: []string{"-M", "multi/a:b", "-R", "2026/11/24/nfcapd.202611242139:nfcapd.202611242140"}, code: 250,
		msg: "Number of sub dirs must agree in '2026/11/24/nfcapd.202611242139' and 'nfcapd.202611242140'"},

	// -M with -r: directories in the order given.
	{name: "M r", args: []string{"-M", "multi/b:a:c", "-r", "nfcapd.202611240000"}, want: []string{
		"multi/b/nfcapd.202611240000", "multi/a/nfcapd.202611240000", "multi/c/nfcapd.202611240000"}},
	{name: "M r guessed", args: []string{"-M", "multi/b:a:c", "-r", "nfcapd.202611242140"}, want: []string{
		"multi/b/2026/11/24/nfcapd.202611242140", "multi/a/2026/11/24/nfcapd.202611242140", "multi/c/2026/11/24/nfcapd.202611242140"}},
	{name: "M r layouts 0-4", args: []string{"-M", "layouts/s4:s3:s2:s1:s0", "-r", "nfcapd.202611242140"}, want: []string{
		"layouts/s4/2026/47/2/21/nfcapd.202611242140", "layouts/s3/2026/47/2/nfcapd.202611242140",
		"layouts/s2/2026/11/24/21/nfcapd.202611242140", "layouts/s1/2026/11/24/nfcapd.202611242140", "layouts/s0/nfcapd.202611242140"}},
	{name: "M r layouts 5-8", args: []string{"-M", "layouts/s5:s6:s7:s8", "-r", "nfcapd.202611242140"}, want: []string{
		"layouts/s5/2026/328/nfcapd.202611242140", "layouts/s6/2026/328/21/nfcapd.202611242140",
		"layouts/s7/2026-11-24/nfcapd.202611242140", "layouts/s8/2026-11-24/21/nfcapd.202611242140"}},
	{name: "M r duplicate dir", args: []string{"-M", "multi/b:a:a", "-r", "nfcapd.202611240000"}, want: []string{
		"multi/b/nfcapd.202611240000", "multi/a/nfcapd.202611240000", "multi/a/nfcapd.202611240000"}},
	{name: "M r with subdirs", args: []string{"-M", "multi/c:a", "-r", "2026/11/24/nfcapd.202611242139"}, want: []string{
		"multi/c/2026/11/24/nfcapd.202611242139", "multi/a/2026/11/24/nfcapd.202611242139"}},
	{name: "M r missing", args: []string{"-M", "multi/b:a", "-r", "nfcapd.209901010000"}, warns: []string{
		"stat() error 'multi/b/nfcapd.209901010000': File not found!", "stat() error 'multi/a/nfcapd.209901010000': File not found!"}},
	{name: "M r dir", args: []string{"-M", "multi/b:a", "-r", "2026"}, warns: []string{
		"Skip non file entry: 'multi/b/2026'", "Skip non file entry: 'multi/a/2026'"}},
	{name: "M r stat error", args: []string{"-M", "multi/a:b", "-r", "nfcapd.202611240000/x"}, code: 250,
		msg: "stat() error 'multi/a/nfcapd.202611240000/x': Not a directory"},
	// Without a usable -M directory the -r path is taken as it is.
	{name: "M r single dir is a file", dir: "multi/a", args: []string{"-M", "nfcapd.202611240000", "-r", "nfcapd.202611240000"},
		warns: []string{"not a directory: nfcapd.202611240000", "Not a directory: 'nfcapd.202611240000'"},
		want:  []string{"nfcapd.202611240000"}},
	{name: "M r dir stat error", dir: "multi/a", args: []string{"-M", "nfcapd.202611240000/x:y", "-r", "nfcapd.202611240000"},
		warns: []string{"stat(nfcapd.202611240000/x) error in util.c line 146: Not a directory", "Not a directory: 'nfcapd.202611240000/x'"},
		want:  []string{"nfcapd.202611240000"}},
	{name: "M r absolute", args: []string{"-M", "multi/a", "-r", "/abs"}, code: 250, msg: "File -r must not start with '/', when combined with a source list -M"},
	{name: "M alone", args: []string{"-M", "multi/a:b"}, code: 1,
		msg: "-M needs either -r or -R to specify the file or file list. Add '-R .' for all files in the directories.\n"},
}

// expand replaces {{ROOT}}.
func expand(s, root string) string { return strings.ReplaceAll(s, "{{ROOT}}", root) }

func specOf(args []string, root string) Spec {
	var s Spec
	for i := 0; i+1 < len(args); i += 2 {
		v := expand(args[i+1], root)
		switch args[i] {
		case "-r":
			s.Read = v
		case "-R":
			s.Recursive = v
		case "-M":
			s.Multi = v
		}
	}
	return s
}

// runList calls List in the case's working directory.
func runList(t *testing.T, root string, tc listCase) ([]string, []string, error) {
	t.Helper()
	t.Chdir(filepath.Join(root, tc.dir))
	spec := specOf(tc.args, root)
	var warns []string
	spec.Warn = func(msg string) { warns = append(warns, msg) }
	files, err := List(spec)
	return files, warns, err
}

func expandAll(in []string, root string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = expand(s, root)
	}
	return out
}

func TestList(t *testing.T) {
	root := buildTree(t)
	for _, tc := range listCases {
		t.Run(tc.name, func(t *testing.T) {
			files, warns, err := runList(t, root, tc)
			assert.Equal(t, expandAll(tc.want, root), files)
			assert.Equal(t, tc.warns, warns)
			if tc.code == 0 {
				assert.NoError(t, err)
				return
			}
			var fe *Error
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.code, fe.Code)
			assert.Equal(t, tc.msg, fe.Msg)
			assert.Equal(t, tc.msg, fe.Error())
		})
	}
}

// nfdumpBinary returns the real nfdump, skipping (or failing under CI=true)
// when it is not installed.
func nfdumpBinary(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("nfdump")
	if err != nil {
		skipOrFail(t, "nfdump not installed: %v", err)
	}
	return path
}

type runResult struct {
	stdout, stderr string
	code           int
}

func run(t *testing.T, dir, name string, args ...string) runResult {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := runResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.code = 128 + int(ws.Signal())
		}
	default:
		require.NoError(t, err)
	}
	return res
}

// gnuplotLine returns the line `nfdump -r path -g` prints for one file: the
// time stamp taken from the "nfcapd." part of the path and the flow, packet
// and byte totals of the file.
func gnuplotLine(t *testing.T, nfdump, dir, path string, cache map[string]string) string {
	t.Helper()
	key := dir + "\x00" + path
	if line, ok := cache[key]; ok {
		return line
	}
	res := run(t, dir, nfdump, "-r", path, "-g")
	require.Equal(t, 0, res.code, res.stderr)
	lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
	require.Len(t, lines, 2, res.stdout)
	cache[key] = lines[1]
	return lines[1]
}

// straceUsable reports whether strace exists and may trace here (ptrace is
// often forbidden in containers).
func straceUsable(t *testing.T) (string, bool) {
	path, err := exec.LookPath("strace")
	if err != nil {
		return "", false
	}
	if err := exec.Command(path, "-qq", "-e", "trace=openat", "-o", os.DevNull, "true").Run(); err != nil {
		return "", false
	}
	return path, true
}

// openedFiles runs nfdump under strace and returns the files below root it
// opened for reading, in order, as nfdump spelled them.
func openedFiles(t *testing.T, strace, nfdump, root, dir string, args []string) []string {
	t.Helper()
	trace := filepath.Join(t.TempDir(), "trace")
	run(t, dir, strace, append([]string{"-f", "-qq", "-e", "trace=openat", "-o", trace, nfdump}, args...)...)
	f, err := os.Open(trace)
	require.NoError(t, err)
	defer f.Close()
	var opened []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		start := strings.Index(line, "openat(")
		if start < 0 || strings.Contains(line, "O_DIRECTORY") || strings.Contains(line, "= -1 ") {
			continue
		}
		q1 := strings.IndexByte(line[start:], '"')
		if q1 < 0 {
			continue
		}
		rest := line[start+q1+1:]
		q2 := strings.IndexByte(rest, '"')
		if q2 < 0 {
			continue
		}
		p := rest[:q2]
		abs := p
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(dir, p)
		}
		if strings.HasPrefix(abs, root+string(filepath.Separator)) {
			opened = append(opened, p)
		}
	}
	require.NoError(t, sc.Err())
	return opened
}

// TestListMatchesNfdump runs the real nfdump on every case and checks that
// it read the same files in the same order and printed the same messages
// with the same exit code.
//
// nfdump -g prints one line per file it reads; every file in the test tree
// is chosen so that these lines tell the files apart. Where strace works,
// the exact paths nfdump opened are compared as well.
func TestListMatchesNfdump(t *testing.T) {
	nfdump := nfdumpBinary(t)
	root := buildTree(t)
	strace, haveStrace := straceUsable(t)
	if !haveStrace {
		t.Log("strace not usable: comparing by nfdump -g output only")
	}
	cache := map[string]string{}
	for _, tc := range listCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(root, tc.dir)
			args := append(expandAll(tc.args, root), "-g")
			res := run(t, dir, nfdump, args...)

			assert.Equal(t, tc.code, res.code, "exit code; stderr: %s", res.stderr)
			var wantErr strings.Builder
			for _, w := range tc.warns {
				wantErr.WriteString(w + "\n")
			}
			if tc.code != 0 {
				wantErr.WriteString(tc.msg + "\n")
				// After a fatal error the output depends on how far the
				// reader got before the lister thread exited.
				assert.Equal(t, wantErr.String(), res.stderr)
				return
			}
			assert.Equal(t, wantErr.String(), res.stderr)

			want := expandAll(tc.want, root)
			wantOut := []string{"# yyyy-mm-dd HH:MM:SS,flows,packets,bytes"}
			seen := map[string]string{}
			for _, p := range want {
				line := gnuplotLine(t, nfdump, dir, p, cache)
				if other, dup := seen[line]; dup && other != p {
					t.Fatalf("test tree: %s and %s give the same -g line %q", other, p, line)
				}
				seen[line] = p
				wantOut = append(wantOut, line)
			}
			assert.Equal(t, strings.Join(wantOut, "\n")+"\n", res.stdout)

			if haveStrace {
				opened := openedFiles(t, strace, nfdump, root, dir, args)
				if len(want) == 0 {
					want = nil
				}
				assert.Equal(t, want, opened, "files opened by nfdump")
			}
		})
	}
}

// TestListRootFile covers -R /FILE for a regular file directly in "/",
// which makes nfdump 1.7.1 crash. It needs such a file (containers often
// have /.dockerenv) and is skipped without one.
func TestListRootFile(t *testing.T) {
	entries, err := os.ReadDir("/")
	require.NoError(t, err)
	file := ""
	for _, e := range entries {
		if fi, err := os.Stat("/" + e.Name()); err == nil && fi.Mode().IsRegular() && !strings.Contains(e.Name(), ":") {
			file = "/" + e.Name()
			break
		}
	}
	if file == "" {
		t.Skip("no regular file directly in /")
	}
	for _, expr := range []string{file, file + ":zz"} {
		files, err := List(Spec{Recursive: expr})
		assert.Empty(t, files)
		assert.Equal(t, &Error{Code: ExitSegfault}, err, expr)
		if nfdump, err := exec.LookPath("nfdump"); err == nil {
			assert.Equal(t, ExitSegfault, run(t, "/", nfdump, "-R", expr, "-g").code, expr)
		}
	}
}

func TestListKeepRead(t *testing.T) {
	root := buildTree(t)
	t.Chdir(root)
	var asked []string
	keep := func(p string) bool { asked = append(asked, p); return !strings.Contains(p, "/a/") }

	files, err := List(Spec{Read: "multi/a/nfcapd.202611240000", KeepRead: keep})
	require.NoError(t, err)
	assert.Empty(t, files)
	assert.NotNil(t, files)

	files, err = List(Spec{Multi: "multi/a:b", Read: "nfcapd.202611242140", KeepRead: keep})
	require.NoError(t, err)
	assert.Equal(t, []string{"multi/b/2026/11/24/nfcapd.202611242140"}, files)
	assert.Equal(t, []string{
		"multi/a/nfcapd.202611240000",
		"multi/a/2026/11/24/nfcapd.202611242140", "multi/b/2026/11/24/nfcapd.202611242140"}, asked)

	// -R selections (also -r DIR) are never checked.
	asked = nil
	files, err = List(Spec{Read: "multi/a", KeepRead: keep})
	require.NoError(t, err)
	assert.Len(t, files, 4)
	assert.Empty(t, asked)
}

func TestListNoInput(t *testing.T) {
	_, err := List(Spec{})
	assert.Equal(t, &Error{Code: 1, Msg: "Need an input source -r/-R/-M - <stdin> invalid"}, err)
}

func TestErrorWithoutMessage(t *testing.T) {
	assert.Equal(t, "nfdump exit status 139", (&Error{Code: ExitSegfault}).Error())
}

func TestCleanPath(t *testing.T) {
	for in, want := range map[string]string{
		"":              "",
		"/":             "",
		".":             ".",
		"./":            ".",
		"./a":           "a",
		".//a//":        "a",
		"a///b":         "a/b",
		"a/./b/././c":   "a/b/c",
		"a/.":           "a/.",
		"a/../b":        "a/../b",
		"/abs//x/":      "/abs/x",
		"x:./y":         "x:./y",
		"flows/f1:f2//": "flows/f1:f2",
	} {
		assert.Equal(t, want, cleanPath(in), "cleanPath(%q)", in)
	}
}

func TestDirLevels(t *testing.T) {
	for in, want := range map[string]int{"": 0, "f": 0, "/f": 0, "a/f": 1, "/a/f": 1, "2026/11/24/f": 3} {
		assert.Equal(t, want, dirLevels(in), in)
	}
}

func TestSkipName(t *testing.T) {
	for name, skip := range map[string]bool{
		".nfstat": true, "nfcapd.current": true, "nfcapd.current.4711": true, "x.stat": true, "a.statistics": true,
		".DS_Store": true, "x.DS_Store.y": true, "foo.pcap": true, "pcapfile": true,
		"nfcapd.202611242140": false, ".hidden": false, "nfstat": false, "current.nfcapd": false, "x.nfstat": false,
	} {
		assert.Equal(t, skip, skipName(name), name)
	}
}

func TestFormatTime(t *testing.T) {
	// Expected values from GNU date with the same formats.
	for _, tc := range []struct{ date, want string }{
		{"2026-11-24", "2026/11/24/05|2026/47/2/05|2026/328/05|2026-11-24/05"},
		{"2026-01-01", "2026/01/01/05|2026/00/4/05|2026/001/05|2026-01-01/05"},
		{"2024-12-30", "2024/12/30/05|2024/53/1/05|2024/365/05|2024-12-30/05"},
		{"2023-01-01", "2023/01/01/05|2023/00/7/05|2023/001/05|2023-01-01/05"},
		{"2023-01-02", "2023/01/02/05|2023/01/1/05|2023/002/05|2023-01-02/05"},
		{"2027-12-31", "2027/12/31/05|2027/52/5/05|2027/365/05|2027-12-31/05"},
		{"2020-02-29", "2020/02/29/05|2020/08/6/05|2020/060/05|2020-02-29/05"},
	} {
		d, err := time.ParseInLocation("2006-01-02 15", tc.date+" 05", time.Local)
		require.NoError(t, err)
		assert.Equal(t, tc.want, formatTime("%Y/%m/%d/%H|%Y/%W/%u/%H|%Y/%j/%H|%F/%H", d), tc.date)
	}
}

func TestIsoTime(t *testing.T) {
	want := time.Date(2026, 11, 24, 21, 40, 0, 0, time.Local)
	assert.Equal(t, want, isoTime("202611242140"))
	assert.Equal(t, want.Add(15*time.Second), isoTime("20261124214015"))
	// mktime-style roll-over and atoi-style junk.
	assert.Equal(t, time.Date(2027, 1, 1, 0, 0, 0, 0, time.Local), isoTime("202613010000"))
	assert.Equal(t, time.Date(2026, 0, 0, 0, 0, 0, 0, time.Local), isoTime("2026xxxxxxxx"))
}

func TestModeBits(t *testing.T) {
	assert.EqualValues(t, sIFDIR, modeBits(os.ModeDir))
	assert.EqualValues(t, sIFREG, modeBits(0))
	assert.EqualValues(t, sIFSOCK, modeBits(os.ModeSocket))
	assert.EqualValues(t, sIFBLK, modeBits(os.ModeDevice))
	assert.EqualValues(t, sIFCHR, modeBits(os.ModeDevice|os.ModeCharDevice))
	assert.EqualValues(t, sIFIFO, modeBits(os.ModeNamedPipe))
	assert.EqualValues(t, sIFLNK, modeBits(os.ModeSymlink))
	// The bit test nfdump uses: sockets and block devices pass as directories.
	assert.NotZero(t, modeBits(os.ModeSocket)&sIFDIR)
	assert.NotZero(t, modeBits(os.ModeDevice)&sIFDIR)
	assert.Zero(t, modeBits(os.ModeDevice|os.ModeCharDevice)&sIFDIR)
}

func TestLogMsgTruncates(t *testing.T) {
	long := strings.Repeat("x", 600)
	assert.Len(t, logMsg("%s", long), 510)
	_, err := List(Spec{Recursive: "nope/" + long})
	var fe *Error
	require.ErrorAs(t, err, &fe)
	assert.Len(t, fe.Msg, 510)
}

// Guard against the relative path to the shared data silently going stale.
func TestSharedDataPath(t *testing.T) {
	dir := sharedDataDir(t)
	f, err := os.Open(filepath.Join(dir, contentB))
	require.NoError(t, err)
	defer f.Close()
	n, err := io.Copy(io.Discard, f)
	require.NoError(t, err)
	assert.Positive(t, n, fmt.Sprintf("%s is empty", contentB))
}
