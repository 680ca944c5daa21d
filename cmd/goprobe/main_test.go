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

const manPage = "../../man/goprobe.8"

func runArgs(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestSpecIsFprobes(t *testing.T) {
	require.NoError(t, spec.Validate())
	// The options of fprobe 1.1 as "fprobe -h" lists them, plus our -V.
	assert.NoError(t, spec.CompareOptstring("hpi:f:s:g:d:e:n:a:x:b:m:q:B:r:t:S:K:kc:u:v:l:V"))
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {}, {"-h", "-i", "eth0", "localhost:2055"}} {
		code, stdout, stderr := runArgs(args...)
		assert.Equal(t, 0, code, args)
		assert.Empty(t, stderr, args)
		require.True(t, strings.HasPrefix(stdout, "usage goprobe [options] remote:port[/[local][/type]] ...\n"), stdout)
		for _, o := range spec.Options {
			assert.Regexp(t, regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(o.Flag())+`[ \[]`), stdout, "option %s", o.Flag())
		}
	}
}

func TestVersion(t *testing.T) {
	code, stdout, stderr := runArgs("-V")
	assert.Equal(t, 0, code)
	assert.Equal(t, "goprobe: Version: "+version.Version+"\n", stdout)
	assert.Empty(t, stderr)
}

func TestBadCommandLine(t *testing.T) {
	tests := []struct {
		args       []string
		wantStderr string
	}{
		{[]string{"-z"}, "goprobe: invalid option -- 'z'\nTry 'goprobe -h' for help.\n"},
		{[]string{"-i", "eth0", "localhost:2055", "-Q"}, "goprobe: invalid option -- 'Q'\nTry 'goprobe -h' for help.\n"},
		{[]string{"-i", "lo", "-l"}, "goprobe: option requires an argument -- 'l'\nTry 'goprobe -h' for help.\n"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runArgs(tt.args...)
		assert.Equal(t, 1, code, tt.args)
		assert.Empty(t, stdout, tt.args)
		assert.Equal(t, tt.wantStderr, stderr, tt.args)
	}
}

func TestNotImplemented(t *testing.T) {
	for _, cmdline := range []string{
		"-i eth0 127.0.0.1:2055",
		"-fip -i eth0 -d 60 -e 300 -n 5 localhost:2055",
		"-l 2 -i lo 127.0.0.1:29998",
		"-ieth0 -fip localhost:555",
	} {
		code, stdout, stderr := runArgs(strings.Fields(cmdline)...)
		assert.Equal(t, 1, code, cmdline)
		assert.Empty(t, stdout, cmdline)
		assert.Equal(t, "goprobe: "+errNotImplemented.Error()+"\n", stderr, cmdline)
	}
}

func TestManPage(t *testing.T) {
	require.NoError(t, mancheck.Check(manPage, spec))
	page, err := os.ReadFile(manPage)
	require.NoError(t, err)
	assert.Contains(t, string(page), "goprobe: "+errNotImplemented.Error(), "the man page quotes the not-implemented message")
}
