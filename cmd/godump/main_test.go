package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/mancheck"
	"github.com/nfgo/nftools/internal/version"
)

const manPage = "../../man/godump.1"

func runArgs(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestSpecIsNfdumps(t *testing.T) {
	require.NoError(t, spec.Validate())
	// nfdump 1.7.1's getopt string, with -z taking an optional value.
	assert.NoError(t, spec.CompareOptstring("6aA:Bbc:C:D:E:G:s:ghn:i:jf:qyz::r:v:w:J:M:NImO:R:XZt:TVv:x:l:L:o:"))
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {}, {"--"}, {"-h", "-r", "x", "proto", "tcp"}} {
		code, stdout, stderr := runArgs(args...)
		assert.Equal(t, 0, code, args)
		assert.Empty(t, stderr, args)
		require.True(t, strings.HasPrefix(stdout, "usage godump [options] [filter]\n"), stdout)
		for _, o := range spec.Options {
			assert.Regexp(t, regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(o.Flag())+`[ \[]`), stdout, "option %s", o.Flag())
		}
	}
}

func TestVersion(t *testing.T) {
	code, stdout, stderr := runArgs("-V")
	assert.Equal(t, 0, code)
	assert.Equal(t, "godump: Version: "+version.Version+"\n", stdout)
	assert.Empty(t, stderr)
}

func TestBadCommandLine(t *testing.T) {
	tests := []struct {
		args       []string
		wantStderr string
	}{
		{[]string{"-K"}, "godump: invalid option -- 'K'\nTry 'godump -h' for help.\n"},
		{[]string{"-r", "x", "proto", "tcp", "-K"}, "godump: invalid option -- 'K'\nTry 'godump -h' for help.\n"},
		{[]string{"--help"}, "godump: invalid option -- '-'\nTry 'godump -h' for help.\n"},
		{[]string{"-q", "-r"}, "godump: option requires an argument -- 'r'\nTry 'godump -h' for help.\n"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runArgs(tt.args...)
		assert.Equal(t, 1, code, tt.args)
		assert.Empty(t, stdout, tt.args)
		assert.Equal(t, tt.wantStderr, stderr, tt.args)
	}
}

func TestManPage(t *testing.T) {
	require.NoError(t, mancheck.Check(manPage, spec))
}
