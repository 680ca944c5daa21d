//go:build linux

package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"github.com/nfgo/nftools/internal/getopt/ucli"
	"github.com/nfgo/nftools/internal/mancheck"
	"github.com/nfgo/nftools/internal/testutil"
	"github.com/nfgo/nftools/internal/version"
	"github.com/nfgo/nftools/nfconf"
)

const manPage = "../../man/gocapd.1"

func runArgs(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestSpecIsNfcapds(t *testing.T) {
	require.NoError(t, spec.Validate())
	// nfcapd 1.7.1's getopt string with -R taking a value (as the Debian
	// binary parses it: "nfcapd -R" says "option requires an argument") and
	// -z taking an optional value.
	assert.NoError(t, spec.CompareOptstring("46B:b:C:DeEf:g:hI:i:jJ:l:m:M:n:p:P:rR:s:S:t:T:u:vVw:x:yz::Z"))
}

func TestUsage(t *testing.T) {
	code, stdout, stderr := runArgs("-h")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	require.True(t, strings.HasPrefix(stdout, "usage gocapd [options]\n"), stdout)
	for _, o := range spec.Options {
		assert.Regexp(t, regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(o.Flag())+`[ \[]`), stdout, "option %s", o.Flag())
	}
}

func TestVersion(t *testing.T) {
	code, stdout, stderr := runArgs("-V")
	assert.Equal(t, 0, code)
	assert.Equal(t, "gocapd: Version: "+version.Version+"\n", stdout)
	assert.Empty(t, stderr)
}

func TestBadCommandLine(t *testing.T) {
	tests := []struct {
		args       []string
		wantStderr string
	}{
		{[]string{"-K"}, "gocapd: invalid option -- 'K'\nTry 'gocapd -h' for help.\n"},
		{[]string{"-w", "/d", "-a"}, "gocapd: invalid option -- 'a'\nTry 'gocapd -h' for help.\n"},
		{[]string{"-D", "-w"}, "gocapd: option requires an argument -- 'w'\nTry 'gocapd -h' for help.\n"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runArgs(tt.args...)
		assert.Equal(t, 1, code, tt.args)
		assert.Empty(t, stdout, tt.args)
		assert.Equal(t, tt.wantStderr, stderr, tt.args)
	}
}

func TestCommandLineErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{}, "gocapd: ERROR, No source configurations found\n"},
		{[]string{"-w", dir + "/nope"}, "gocapd: path does not exist: " + dir + "/nope\nNo valid directory: " + dir + "/nope\n"},
		{[]string{"-w", dir, "-t", "1"}, "gocapd: time interval <= 2s not allowed\n"},
		{[]string{"-w", dir, "-t", "x"}, "gocapd: time interval <= 2s not allowed\n"},
		// nfcapd refuses spaces in idents (nfdump's ident filter could not
		// match them): -I only when -w uses it, after the directory.
		{[]string{"-w", dir, "-I", "a b"}, "gocapd: spaces not allowed in ident string: a b\nFailed to add default data collector directory\n"},
		{[]string{"-w", dir + "/nope", "-I", "a b"}, "gocapd: path does not exist: " + dir + "/nope\nNo valid directory: " + dir + "/nope\n"},
		{[]string{"-n", "x,127.0.0.1," + dir, "-n", "a b,127.0.0.2," + dir + "/nope"}, "gocapd: Add flow source: ident: x, IP: 127.0.0.1, flowdir: " + dir +
			"\nspaces not allowed in ident string: a b\nFailed to add flow source\n"},
		{[]string{"-w", dir, "-S", "9"}, "gocapd: No such subdir level 9\n"},
		{[]string{"-w", dir, "-4", "-6"}, "gocapd: ERROR, Accepts only one protocol IPv4 or IPv6!\n"},
		{[]string{"-w", dir, "-Z", "-e"}, "gocapd: ERROR, -Z timezone extension breaks expire -e\n"},
		{[]string{"-w", dir, "-s", "0"}, "gocapd: Invalid sampling rate: 0\n"},
		{[]string{"-w", dir, "-B", "x"}, "gocapd: Argument error for -B\n"},
		{[]string{"-w", dir, "-z", "-y"}, "gocapd: ERROR, Use either -z, -j or -y for compression\n"},
		{[]string{"-w", dir, "-n", "a,b"}, "gocapd: Syntax error for netflow source definition. Expect -n ident,IP,path\n"},
		{[]string{"-w", dir, "-b", "127.0.0.1", "-J", "239.1.1.1"}, "gocapd: ERROR, -b and -j are mutually exclusive!!\n"},
		{[]string{"-w", dir, "-C", dir + "/nope"}, "gocapd: path does not exist: " + dir + "/nope\n"},
		{[]string{"-w", dir, "-C", dir}, "gocapd: not a regular file: " + dir + "\n"},
		{[]string{"-w", dir, "-i", "9"}, "gocapd: metric interval < 10s not allowed\n"},
		{[]string{"-w", dir, "-i", "x"}, "gocapd: metric interval < 10s not allowed\n"},
		// The limits of -e, in nfexpire's syntax.
		{[]string{"-w", dir, "--maxsize", "10G"}, "gocapd: --maxsize is a limit of -e: add -e\n"},
		{[]string{"-w", dir, "--watermark=50"}, "gocapd: --watermark is a limit of -e: add -e\n"},
		{[]string{"-w", dir, "-e", "--maxsize", "10X"}, "gocapd: --maxsize: Garbage character(s) 'X' in '10X'\n"},
		{[]string{"-w", dir, "-e", "--maxlife", "3y"}, "gocapd: --maxlife: Unknown time unit '3y'\n"},
		{[]string{"-w", dir, "-e", "--watermark", "101"}, "gocapd: --watermark: Water mark > 100%\n"},
		{[]string{"-w", dir, "--max-exporters", "0"}, "gocapd: ERROR, --max-exporters takes a number from 1 to 65535: 0\n"},
		{[]string{"-w", dir, "--max-exporters=65536"}, "gocapd: ERROR, --max-exporters takes a number from 1 to 65535: 65536\n"},
		{[]string{"-w", dir, "--max-exporters", "1k"}, "gocapd: ERROR, --max-exporters takes a number from 1 to 65535: 1k\n"},
		{[]string{"-w", dir, "--template-memory", "512k"}, "gocapd: --template-memory: 512k is not from 1M to 1P\n"},
		{[]string{"-w", dir, "--template-memory", "64X"}, "gocapd: --template-memory: Garbage character(s) 'X' in '64X'\n"},
		// Sources for one exporter and for any exporter do not mix, in
		// nfcapd's words and order (-n and -M as they come, -w last).
		{[]string{"-w", dir, "-n", "x,127.0.0.1," + dir}, "gocapd: Add flow source: ident: x, IP: 127.0.0.1, flowdir: " + dir +
			"\nCan not mix IP specific and any IP sources\nFailed to add default data collector directory\n"},
		{[]string{"-M", dir, "-n", "x,127.0.0.1," + dir}, "gocapd: Can not mix IP specific and any IP sources\nFailed to add flow source\n"},
		{[]string{"-n", "x,127.0.0.1," + dir, "-M", dir}, "gocapd: Add flow source: ident: x, IP: 127.0.0.1, flowdir: " + dir +
			"\nCan not mix IP specific and any IP sources\nFailed to add dynamic flowdir\n"},
		{[]string{"-M", dir, "-w", dir}, "gocapd: Can not mix IP specific and any IP sources\nFailed to add default data collector directory\n"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runArgs(tt.args...)
		assert.Equal(t, 1, code, tt.args)
		assert.Empty(t, stdout, tt.args)
		assert.Equal(t, tt.want, stderr, tt.args)
	}
}

// TestOptionChecksLikeNfcapd runs the real nfcapd 1.7.1 with command lines
// it refuses before it binds its socket and compares its messages and exit
// status with gocapd's (which prefixes its first line with "gocapd: ").
func TestOptionChecksLikeNfcapd(t *testing.T) {
	nfcapd := testutil.RequireTool(t, "nfcapd")
	dir := t.TempDir()
	for _, args := range [][]string{
		{"-w", dir, "-t", "1"},
		{"-w", dir, "-t", "-5"},
		{"-w", dir, "-t", "abc"},
		{"-w", dir, "-I", "a b"},
		{"-w", dir + "/nope", "-I", "a b"},
		{"-n", "a b,127.0.0.1," + dir},
		{"-n", "x,127.0.0.1," + dir, "-n", "a b,127.0.0.2," + dir + "/nope"},
	} {
		// A socket of its own in case nfcapd accepted the command line
		// after all: the timeout then fails the comparison.
		full := append([]string{"-b", "127.0.0.1", "-p", strconv.Itoa(freePort(t))}, args...)
		out, err := runTimeout(exec.Command(nfcapd, full...), 5*time.Second)
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee, "nfcapd %q: %s", args, out)
		code, stdout, stderr := runArgs(full...)
		assert.Equal(t, ee.ExitCode(), code, args)
		assert.Empty(t, stdout, args)
		assert.Equal(t, string(out), strings.TrimPrefix(stderr, "gocapd: "), args)
	}
}

// TestConfigFile: the sources of -C, NFCONF and the default file, and
// nfcapd 1.7.1's errors for them (checked against the real nfcapd by
// TestConfigFileLikeNfcapd). Everything here fails before the socket is
// bound, or -C none has no sources and fails too.
func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := dir + "/" + name
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	require.NoError(t, os.Mkdir(dir+"/d1", 0o755))
	good := write("good.conf", "[nfcapd]\nexporter.up = [\"127.0.0.1\", \""+dir+"/d1\"]\n")
	empty := write("empty.conf", "[nfdump]\nfmt.x = \"%ts\"\n")
	probe := write("probe.conf", "")
	old := configPaths
	t.Cleanup(func() { configPaths = old })

	tests := []struct {
		name  string
		paths nfconf.Paths
		args  []string
		want  string
	}{
		{"none ignores NFCONF", nfconf.Paths{Env: dir + "/nope"}, []string{"-C", "none"},
			"gocapd: ERROR, No source configurations found\n"},
		{"NFCONF must exist", nfconf.Paths{Env: dir + "/nope"}, nil,
			"gocapd: path does not exist: " + dir + "/nope\n"},
		{"-C beats NFCONF", nfconf.Paths{Env: dir + "/nope"}, []string{"-C", empty},
			"gocapd: ERROR, No source configurations found\n"},
		{"default read when the probe exists", nfconf.Paths{Default: dir + "/nope", Probe: probe}, nil,
			"gocapd: path does not exist: " + dir + "/nope\n"},
		{"default skipped without the probe", nfconf.Paths{Default: good, Probe: dir + "/nope"}, nil,
			"gocapd: ERROR, No source configurations found\n"},
		{"parse error", nfconf.Paths{}, []string{"-C", write("bad.conf", "[nfcapd]\nexporter.a [\"127.0.0.1\", \"/\"]\n")},
			"gocapd: Failed to parse config file " + dir + "/bad.conf: line 2: missing =\n"},
		{"not with -w", nfconf.Paths{}, []string{"-C", good, "-w", dir},
			"gocapd: Can not mix IP specific and any IP sources\nFailed to add exporter from config file\n"},
		{"not with -M", nfconf.Paths{}, []string{"-C", good, "-M", dir},
			"gocapd: Can not mix IP specific and any IP sources\nFailed to add exporter from config file\n"},
		{"bad IP", nfconf.Paths{}, []string{"-C", write("ip.conf", "[nfcapd]\nexporter.a = [\"1.2.3\", \"/\"]\n")},
			"gocapd: Unparsable IP address: 1.2.3\nFailed to add exporter from config file\n"},
		{"space in ident", nfconf.Paths{}, []string{"-C", write("sp.conf", "[nfcapd]\nexporter.\"a b\" = [\"::1\", \"/\"]\n")},
			"gocapd: spaces not allowed in ident string: a b\nFailed to add exporter from config file\n"},
		{"missing dir", nfconf.Paths{}, []string{"-C", write("dir.conf", "[nfcapd]\nexporter.a = [\"::1\", \""+dir+"/x\"]\n")},
			"gocapd: path does not exist: " + dir + "/x\nFailed to add exporter from config file\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			configPaths = func() nfconf.Paths { return tt.paths }
			code, stdout, stderr := runArgs(tt.args...)
			assert.Equal(t, 1, code)
			assert.Empty(t, stdout)
			assert.Equal(t, tt.want, stderr)
		})
	}
}

// TestPcapFileErrors: nfcapd's exit codes for a -f file it cannot use.
func TestPcapFileErrors(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(dir+"/junk", []byte("not a capture file"), 0o644))
	tests := []struct {
		file string
		code int
		want string
	}{
		{dir + "/nope", 254, "gocapd: Not a regular file: " + dir + "/nope\n"},
		{dir, 254, "gocapd: Not a regular file: " + dir + "\n"},
		{dir + "/junk", 255, "Setup pcap reader\nCan't init pcap: unknown file format\n"},
	}
	for _, tt := range tests {
		code, _, stderr := runArgs("-w", dir, "-f", tt.file)
		assert.Equal(t, tt.code, code, tt.file)
		assert.Equal(t, tt.want, stderr, tt.file)
	}
}

func TestManPage(t *testing.T) {
	require.NoError(t, mancheck.Check(manPage, spec))
	page, err := os.ReadFile(manPage)
	require.NoError(t, err)
	for _, s := range []string{".SH FILES", ".SH EXAMPLES", ".SH EXIT STATUS", ".SH COMPATIBILITY", "SIGHUP"} {
		assert.Contains(t, string(page), s)
	}
}

// TestDefaultFileOptions reads every OPTIONS line of the service's
// /etc/default/gocapd, the commented examples too, through gocapd's own
// option checks, with the flow directory in a scratch place.
func TestDefaultFileOptions(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("../../packaging/default/gocapd")
	require.NoError(t, err)
	line := regexp.MustCompile(`(?m)^#?OPTIONS="(.*)"$`)
	all := line.FindAllStringSubmatch(string(data), -1)
	require.GreaterOrEqual(t, len(all), 3)
	for _, m := range all {
		args := strings.Fields(strings.ReplaceAll(m[1], "/var/cache/nfdump", dir))
		assert.NotContains(t, args, "-D", "the unit runs gocapd in the foreground")
		var got *options
		err := ucli.Run(spec, args, io.Discard, io.Discard, func(c *cli.Context) error {
			var notes []string
			o, err := parseOptions(c, &notes)
			got = o
			return err
		})
		require.NoError(t, err, m[1])
		require.Len(t, got.cfg.Sources, 1, m[1])
		assert.Equal(t, dir, got.cfg.Sources[0].Dir, m[1])
	}
}
