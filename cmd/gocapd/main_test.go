package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/mancheck"
	"github.com/nfgo/nftools/internal/version"
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
		assert.Regexp(t, regexp.MustCompile(`(?m)^-`+string(o.Letter)+`[ \[]`), stdout, "option -%c", o.Letter)
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
		{[]string{"-w", dir, "-t", "2"}, "gocapd: time interval <= 2s not allowed\n"},
		{[]string{"-w", dir, "-S", "9"}, "gocapd: No such subdir level 9\n"},
		{[]string{"-w", dir, "-4", "-6"}, "gocapd: ERROR, Accepts only one protocol IPv4 or IPv6!\n"},
		{[]string{"-w", dir, "-Z", "-e"}, "gocapd: ERROR, -Z timezone extension breaks expire -e\n"},
		{[]string{"-w", dir, "-s", "0"}, "gocapd: Invalid sampling rate: 0\n"},
		{[]string{"-w", dir, "-B", "x"}, "gocapd: Argument error for -B\n"},
		{[]string{"-w", dir, "-z", "-y"}, "gocapd: ERROR, Use either -z, -j or -y for compression\n"},
		{[]string{"-w", dir, "-n", "a,b"}, "gocapd: Syntax error for netflow source definition. Expect -n ident,IP,path\n"},
		{[]string{"-w", dir, "-b", "127.0.0.1", "-J", "239.1.1.1"}, "gocapd: ERROR, -b and -j are mutually exclusive!!\n"},
		{[]string{"-w", dir, "-C", "none"}, "gocapd: option -C is not implemented yet\n"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runArgs(tt.args...)
		assert.Equal(t, 1, code, tt.args)
		assert.Empty(t, stdout, tt.args)
		assert.Equal(t, tt.want, stderr, tt.args)
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
