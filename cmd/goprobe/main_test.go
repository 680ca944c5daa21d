package main

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/mancheck"
	"github.com/nfgo/nftools/internal/testutil"
	"github.com/nfgo/nftools/internal/version"
)

const manPage = "../../man/goprobe.8"

func runArgs(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// runFprobe runs the real fprobe 1.1. A command line that fprobe accepts
// would start a capture: every call here has -l 2, which keeps fprobe in
// the foreground, and a timeout ends it.
func runFprobe(t *testing.T, args ...string) testutil.Result {
	t.Helper()
	bin := testutil.RequireTool(t, "fprobe")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "fprobe %v did not stop: it accepted the command line", args)
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return testutil.Result{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

func TestSpecIsFprobes(t *testing.T) {
	require.NoError(t, spec.Validate())
	// The options of fprobe 1.1 as "fprobe -h" lists them, plus our -V.
	assert.NoError(t, spec.CompareOptstring("hpi:f:s:g:d:e:n:a:x:b:m:q:B:r:t:S:K:kc:u:v:l:V"))
	_, ok := spec.LookupLong("read")
	assert.True(t, ok, "--read")
}

// TestUsage: -h, and no arguments at all, print the help in fprobe's
// layout: every line of fprobe's help is in ours, with our name, but for
// the options that goprobe extends.
func TestUsage(t *testing.T) {
	fp := runFprobe(t, "-h")
	require.Equal(t, 0, fp.Code)
	changed := map[string]bool{"-i": true, "-n": true, "-q": true}
	for _, args := range [][]string{{"-h"}, {}, {"-h", "-i", "eth0", "localhost:2055"}} {
		code, stdout, stderr := runArgs(args...)
		assert.Equal(t, 0, code, args)
		assert.Empty(t, stderr, args)
		lines := strings.Split(stdout, "\n")
		assert.Equal(t, "goprobe: a NetFlow probe. Version "+version.Version, lines[0])
		for _, l := range strings.Split(fp.Stdout, "\n")[1:] {
			opt, _, _ := strings.Cut(l, " ")
			opt, _, _ = strings.Cut(opt, "\t")
			if changed[opt] {
				continue
			}
			assert.Contains(t, lines, strings.ReplaceAll(l, "fprobe", "goprobe"), args)
		}
		for _, want := range []string{
			"-V\t\tDisplay the version",
			"-i <interface>\tNetwork interface name (- reads a pcap stream on stdin)",
			"-n <version>\tNetFlow version for use (1, 5, 7, 9 or 10) [5]",
			"-q <flows>\tExport queue length [100]",
			"--read <file>\tRead the packets from a pcap or pcapng file",
		} {
			assert.Contains(t, lines, want)
		}
	}
}

func TestVersion(t *testing.T) {
	code, stdout, stderr := runArgs("-V")
	assert.Equal(t, 0, code)
	assert.Equal(t, "goprobe: Version: "+version.Version+"\n", stdout)
	assert.Empty(t, stderr)
}

// TestBadCommandLine: an unknown option or a missing value is an error
// (fprobe prints "Wrong parameters" and its usage and exits 0; see
// COMPATIBILITY).
func TestBadCommandLine(t *testing.T) {
	tests := []struct {
		args       []string
		wantStderr string
	}{
		{[]string{"-z"}, "goprobe: invalid option -- 'z'\nTry 'goprobe -h' for help.\n"},
		{[]string{"-i", "eth0", "localhost:2055", "-Q"}, "goprobe: invalid option -- 'Q'\nTry 'goprobe -h' for help.\n"},
		{[]string{"-i", "lo", "-l"}, "goprobe: option requires an argument -- 'l'\nTry 'goprobe -h' for help.\n"},
		{[]string{"--read"}, "goprobe: option '--read' requires an argument\nTry 'goprobe -h' for help.\n"},
		{[]string{"--help"}, "goprobe: unrecognized option '--help'\nTry 'goprobe -h' for help.\n"},
		{[]string{"-i", "lo", "--read", "x.pcap", "127.0.0.1:2055"}, "goprobe: -i and --read cannot be used together\n"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runArgs(tt.args...)
		assert.Equal(t, 1, code, tt.args)
		assert.Empty(t, stdout, tt.args)
		assert.Equal(t, tt.wantStderr, stderr, tt.args)
	}
}

// TestFprobeErrors: the command lines fprobe refuses, refused with
// fprobe's message (bare, as fprobe prints it) and exit status. No name here
// needs DNS: a name with an empty label fails before any query, and
// 192.0.2.1 (TEST-NET-1) is no address of this machine.
func TestFprobeErrors(t *testing.T) {
	for _, cmdline := range []string{
		"-n 2 127.0.0.1:9",
		"-n x 127.0.0.1:9",
		"-n 3",
		"-q 0 127.0.0.1:9",
		"-q x 127.0.0.1:9",
		"-r 100 127.0.0.1:9",
		"-r -1 127.0.0.1:9",
		"-b 0 127.0.0.1:9",
		"-b x 127.0.0.1:9",
		"-a bad..name 127.0.0.1:9",
		"-u nosuchuser 127.0.0.1:9",
		"-l2 -i lo foo",
		"-l2 -i lo 127.0.0.1",
		"-l2 -i lo 127.0.0.1:2055 foo",
		"-l2 -i lo 127.0.0.1:2055//x",
		"-l2 -i lo bad..name:2055",
		"-l2 -i lo 127.0.0.1:2055/bad..name",
		"-l2 -i lo 127.0.0.1:2055/192.0.2.1",
		"-l2 -i lo 127.0.0.1:2055 127.0.0.1:2056/192.0.2.1/r",
		// fprobe checks -n before -q, -q before -r, -r before -b, -b
		// before -a, -a before -u, all before the collectors.
		"-n 4 -q 0 -r 100 -b 0 -a bad..name -u nosuchuser foo",
		"-q 0 -r 100 -b 0 -a bad..name -u nosuchuser foo",
		"-r 100 -b 0 -a bad..name -u nosuchuser foo",
		"-b 0 -a bad..name -u nosuchuser foo",
		"-a bad..name -u nosuchuser foo",
		"-u nosuchuser foo",
	} {
		args := strings.Fields(cmdline)
		fp := runFprobe(t, args...)
		require.Equal(t, 1, fp.Code, "fprobe %s: %s", cmdline, fp.Stderr)
		code, stdout, stderr := runArgs(args...)
		assert.Equal(t, fp.Code, code, cmdline)
		assert.Equal(t, fp.Stderr, stderr, cmdline)
		assert.Equal(t, fp.Stdout, stdout, cmdline)
	}
}

// TestRepeatedOption: fprobe allows no option twice (it says "Option
// `-i': repeat not allowed", prints its usage and exits 0); goprobe takes
// the last value, as getopt programs do, so that a service unit can put
// -l2 before the admin's options.
func TestRepeatedOption(t *testing.T) {
	fp := runFprobe(t, "-i", "lo", "-i", "eth0", "127.0.0.1:9")
	assert.Equal(t, "Option `-i': repeat not allowed\n", fp.Stderr)
	o, err := parse(t, "-l2", "-i", "lo", "-i", "eth0", "-l", "3:x", "127.0.0.1:9")
	require.NoError(t, err)
	assert.Equal(t, "eth0", o.iface)
	assert.Equal(t, 3, o.logDest)
	assert.Equal(t, "x", o.logID)
}

// TestNoCollector: without a collector fprobe prints its usage and exits 0.
func TestNoCollector(t *testing.T) {
	for _, cmdline := range []string{"-i lo", "-l2 -n 7 -v 7"} {
		fp := runFprobe(t, strings.Fields(cmdline)...)
		require.Equal(t, 0, fp.Code)
		code, stdout, stderr := runArgs(strings.Fields(cmdline)...)
		assert.Equal(t, 0, code, cmdline)
		assert.Empty(t, stderr, cmdline)
		assert.Equal(t, strings.ReplaceAll(strings.Split(fp.Stdout, "\n")[1], "fprobe", "goprobe"), strings.Split(stdout, "\n")[1], cmdline)
	}
}

func TestManPage(t *testing.T) {
	mancheck.NeedMandoc(t)
	require.NoError(t, mancheck.Lint(manPage))
	require.NoError(t, mancheck.Check(manPage, spec))
}

// TestNoGopacket: goprobe does not link gopacket, whose layers package
// costs 14 MB of resident memory at every start (see capture/pcap), nor
// client_golang and net/http, 5 MB (see internal/metrics/lite), nor
// urfave/cli with the text/template, encoding/json and regexp it pulls
// in, 1.6 MB (see internal/getopt), nor net, log/syslog and os/exec,
// 0.45 MB of its binary, which is resident whole (see internal/inet).
func TestNoGopacket(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := strings.Fields(string(out))
	assert.Contains(t, deps, "github.com/nfgo/nftools/capture/pcap")
	assert.Contains(t, deps, "github.com/nfgo/nftools/internal/metrics/lite")
	for _, dep := range deps {
		assert.NotContains(t, dep, "gopacket")
		assert.NotContains(t, dep, "prometheus")
		assert.NotEqual(t, "net/http", dep)
		assert.NotContains(t, dep, "urfave")
		assert.NotContains(t, []string{"text/template", "encoding/json", "regexp", "net", "log/syslog", "os/exec"}, dep)
	}
}
