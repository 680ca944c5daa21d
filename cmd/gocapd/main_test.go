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

func TestNotImplemented(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-I", "Exporter_#1", "-D", "-p", "2055", "-w", "/var/cache/nfdump", "-S1"},
		{"-w", "/d", "-t", "60", "-S", "1", "-I", "test", "-p", "29995", "-b", "127.0.0.1"},
		{"-x", "script %d %f", "-w", "d"},
		{"-z=zstd:3", "-w", "d"},
		{"-vv", "-n", "r1,10.0.0.1,/a", "-n", "r2,10.0.0.2,/b", "-R", "127.0.0.1/9995"},
	} {
		code, stdout, stderr := runArgs(args...)
		assert.Equal(t, 1, code, args)
		assert.Empty(t, stdout, args)
		assert.Equal(t, "gocapd: "+errNotImplemented.Error()+"\n", stderr, args)
	}
}

func TestManPage(t *testing.T) {
	require.NoError(t, mancheck.Check(manPage, spec))
	page, err := os.ReadFile(manPage)
	require.NoError(t, err)
	assert.Contains(t, string(page), "gocapd: "+errNotImplemented.Error(), "the man page quotes the not-implemented message")
}
