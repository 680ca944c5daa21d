package ucli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"github.com/nfgo/nftools/internal/getopt"
)

// seen is what an action read through the urfave API.
type seen struct {
	strings map[string]string
	slices  map[string][]string
	bools   map[string]bool
	counts  map[string]int
	isSet   map[string]bool
	args    []string
}

// capture runs cmdline through Run and records, for every declared
// option, what the action reads with c.String / c.StringSlice / c.Bool /
// c.Count / c.IsSet, plus c.Args().
func capture(t *testing.T, spec *getopt.Spec, cmdline []string) seen {
	t.Helper()
	var got seen
	var stdout, stderr bytes.Buffer
	err := Run(spec, cmdline, &stdout, &stderr, func(c *cli.Context) error {
		got = seen{
			strings: map[string]string{}, slices: map[string][]string{},
			bools: map[string]bool{}, counts: map[string]int{}, isSet: map[string]bool{},
			args: c.Args().Slice(),
		}
		for _, o := range spec.Options {
			name := string(o.Letter)
			if !c.IsSet(name) {
				continue
			}
			got.isSet[name] = true
			switch {
			case o.Arg == getopt.NoArg:
				got.bools[name] = c.Bool(name)
				got.counts[name] = c.Count(name)
			case o.Repeat:
				got.slices[name] = c.StringSlice(name)
			default:
				got.strings[name] = c.String(name)
			}
		}
		return nil
	})
	require.NoError(t, err)
	assert.Empty(t, stdout.String(), "urfave must not print anything itself")
	assert.Empty(t, stderr.String(), "urfave must not print anything itself")
	return got
}

func TestRunReadsValuesThroughURFave(t *testing.T) {
	specs := testSpecs(t)

	t.Run("positional filter between options", func(t *testing.T) {
		got := capture(t, specs["godump"], []string{"-r", "f", "proto tcp", "-o", "csv"})
		assert.Equal(t, map[string]string{"r": "f", "o": "csv"}, got.strings)
		assert.Equal(t, []string{"proto tcp"}, got.args)
	})
	t.Run("repeated -s in order", func(t *testing.T) {
		got := capture(t, specs["godump"], strings.Fields("-B -R /var/cache/nfdump -s srcip/bytes -s dstip/bytes -s proto/bytes -n 10"))
		assert.Equal(t, []string{"srcip/bytes", "dstip/bytes", "proto/bytes"}, got.slices["s"])
		assert.Equal(t, map[string]string{"R": "/var/cache/nfdump", "n": "10"}, got.strings)
		assert.True(t, got.bools["B"])
		assert.Empty(t, got.args)
	})
	t.Run("bundled flags", func(t *testing.T) {
		got := capture(t, specs["godump"], []string{"-Bqn10", "-r", "x"})
		assert.Equal(t, map[string]bool{"B": true, "q": true}, got.bools)
		assert.Equal(t, map[string]string{"n": "10", "r": "x"}, got.strings)
	})
	t.Run("comma stays in a slice value", func(t *testing.T) {
		got := capture(t, specs["godump"], []string{"-A", "proto,srcip", "-r", "x"})
		assert.Equal(t, []string{"proto,srcip"}, got.slices["A"])
	})
	t.Run("spaces stay in a slice value", func(t *testing.T) {
		got := capture(t, specs["godump"], []string{"-s", " srcip ", "-r", "x"})
		assert.Equal(t, []string{" srcip "}, got.slices["s"])
	})
	t.Run("bare optional -z is set and empty", func(t *testing.T) {
		got := capture(t, specs["godump"], []string{"-z", "-w", "out", "-r", "in"})
		assert.True(t, got.isSet["z"])
		assert.Equal(t, "", got.strings["z"])
		assert.Equal(t, "out", got.strings["w"])
	})
	t.Run("optional -z with value", func(t *testing.T) {
		for _, z := range []string{"-zlz4:9", "-z=lz4:9"} {
			got := capture(t, specs["godump"], []string{z, "-w", "out", "-r", "in"})
			assert.Equal(t, "lz4:9", got.strings["z"], z)
		}
	})
	t.Run("unset optional -z", func(t *testing.T) {
		got := capture(t, specs["godump"], []string{"-w", "out", "-r", "in"})
		assert.False(t, got.isSet["z"])
	})
	t.Run("option-looking words after --", func(t *testing.T) {
		got := capture(t, specs["godump"], []string{"-r", "x", "--", "-o", "--", "-h"})
		assert.Equal(t, []string{"-o", "--", "-h"}, got.args)
		assert.Equal(t, map[string]string{"r": "x"}, got.strings)
	})
	t.Run("negative value", func(t *testing.T) {
		got := capture(t, specs["godump"], []string{"-n", "-5"})
		assert.Equal(t, "-5", got.strings["n"])
	})
	t.Run("value containing '=' and an empty positional", func(t *testing.T) {
		got := capture(t, specs["godump"], []string{"-t", "a=b", "", "-"})
		assert.Equal(t, "a=b", got.strings["t"])
		assert.Equal(t, []string{"", "-"}, got.args)
	})
	t.Run("-h and -v reach the action", func(t *testing.T) {
		got := capture(t, specs["godump"], []string{"-h", "-v", "file"})
		assert.True(t, got.bools["h"])
		assert.Equal(t, "file", got.strings["v"])
	})
	t.Run("gocapd counted -v and repeated -n", func(t *testing.T) {
		got := capture(t, specs["gocapd"], []string{"-vv", "-v", "-n", "a,10.0.0.1,/a", "-n", "b,10.0.0.2,/b", "-S1", "-x", "script %d %f"})
		assert.Equal(t, 3, got.counts["v"])
		assert.Equal(t, []string{"a,10.0.0.1,/a", "b,10.0.0.2,/b"}, got.slices["n"])
		assert.Equal(t, map[string]string{"S": "1", "x": "script %d %f"}, got.strings)
	})
	t.Run("goprobe collectors", func(t *testing.T) {
		got := capture(t, specs["goprobe"], strings.Fields("-fip -i eth0 -d 60 -e 300 -n 5 localhost:2055"))
		assert.Equal(t, map[string]string{"f": "ip", "i": "eth0", "d": "60", "e": "300", "n": "5"}, got.strings)
		assert.Equal(t, []string{"localhost:2055"}, got.args)
	})
	t.Run("a positional named help is no command", func(t *testing.T) {
		got := capture(t, specs["goprobe"], []string{"help", "h"})
		assert.Equal(t, []string{"help", "h"}, got.args)
	})
}

func TestRunReturnsGetoptErrorWithoutCallingAction(t *testing.T) {
	called := false
	err := Run(testSpecs(t)["godump"], []string{"-K"}, &bytes.Buffer{}, &bytes.Buffer{}, func(*cli.Context) error {
		called = true
		return nil
	})
	var optErr *getopt.Error
	assert.ErrorAs(t, err, &optErr)
	assert.False(t, called)
}

func TestRunRejectsInvalidSpec(t *testing.T) {
	s := &getopt.Spec{Name: "x", Options: []getopt.Option{{Letter: ':', Usage: "u"}}}
	err := Run(s, nil, &bytes.Buffer{}, &bytes.Buffer{}, func(*cli.Context) error { return nil })
	assert.ErrorContains(t, err, "not an ASCII letter")
}

func TestMainExitCodes(t *testing.T) {
	spec := &getopt.Spec{Name: "gotest", Options: []getopt.Option{
		{Letter: 'h', Usage: "help"},
		{Letter: 'r', Arg: getopt.RequiredArg, ArgName: "file", Usage: "read"},
	}}
	tests := []struct {
		name       string
		args       []string
		action     cli.ActionFunc
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{
			name:       "success",
			args:       []string{"-r", "x"},
			action:     func(c *cli.Context) error { _, err := c.App.Writer.Write([]byte("ok\n")); return err },
			wantStdout: "ok\n",
		},
		{
			name:       "unknown option",
			args:       []string{"-K"},
			wantCode:   1,
			wantStderr: "gotest: invalid option -- 'K'\nTry 'gotest -h' for help.\n",
		},
		{
			name:       "missing argument",
			args:       []string{"-r"},
			wantCode:   1,
			wantStderr: "gotest: option requires an argument -- 'r'\nTry 'gotest -h' for help.\n",
		},
		{
			name:       "plain error",
			action:     func(*cli.Context) error { return errors.New("no such file") },
			wantCode:   1,
			wantStderr: "gotest: no such file\n",
		},
		{
			name:       "exit coder",
			action:     func(*cli.Context) error { return cli.Exit("bad filter", 254) },
			wantCode:   254,
			wantStderr: "gotest: bad filter\n",
		},
		{
			name:     "silent exit coder",
			action:   func(*cli.Context) error { return cli.Exit("", 250) },
			wantCode: 250,
		},
		{
			name:       "panic",
			action:     func(*cli.Context) error { panic("boom") },
			wantCode:   1,
			wantStderr: "gotest: internal error: boom\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			action := tt.action
			if action == nil {
				action = func(*cli.Context) error { return nil }
			}
			var stdout, stderr bytes.Buffer
			code := Main(spec, tt.args, &stdout, &stderr, action)
			assert.Equal(t, tt.wantCode, code)
			assert.Equal(t, tt.wantStdout, stdout.String())
			assert.Equal(t, tt.wantStderr, stderr.String())
		})
	}
}

func TestMainWithoutHelpOptionGivesNoHint(t *testing.T) {
	spec := &getopt.Spec{Name: "gotest", Options: []getopt.Option{{Letter: 'q', Usage: "quiet"}}}
	var stderr bytes.Buffer
	code := Main(spec, []string{"-h"}, &bytes.Buffer{}, &stderr, func(*cli.Context) error { return nil })
	assert.Equal(t, 1, code)
	assert.Equal(t, "gotest: invalid option -- 'h'\n", stderr.String())
}

func TestFlagsKinds(t *testing.T) {
	spec := &getopt.Spec{Name: "x", Options: []getopt.Option{
		{Letter: 'q', Usage: "u"},
		{Letter: 'v', Repeat: true, Usage: "u"},
		{Letter: 'r', Arg: getopt.RequiredArg, ArgName: "f", Usage: "u"},
		{Letter: 'z', Arg: getopt.OptionalArg, ArgName: "m", Usage: "u"},
		{Letter: 's', Arg: getopt.RequiredArg, Repeat: true, ArgName: "s", Usage: "u"},
	}}
	flags := Flags(spec)
	require.Len(t, flags, 5)
	assert.IsType(t, &cli.BoolFlag{}, flags[0])
	assert.IsType(t, &cli.BoolFlag{}, flags[1])
	assert.IsType(t, &cli.StringFlag{}, flags[2])
	assert.IsType(t, &cli.StringFlag{}, flags[3])
	assert.IsType(t, &cli.StringSliceFlag{}, flags[4])
	for i, f := range flags {
		assert.Equal(t, []string{string(spec.Options[i].Letter)}, f.Names())
	}
}

// TestOptionsNotGivenReadAsUnset: urfave is told only of the options on
// the command line (given), and every other option of the spec reads as
// one not given through each accessor, as when all were declared.
func TestOptionsNotGivenReadAsUnset(t *testing.T) {
	spec := testSpecs(t)["godump"]
	var declared []string
	var stdout, stderr bytes.Buffer
	err := Run(spec, strings.Fields("-q -R dir -s srcip/bytes -s proto --"), &stdout, &stderr, func(c *cli.Context) error {
		for _, f := range c.App.Flags {
			declared = append(declared, f.Names()...)
		}
		for _, o := range spec.Options {
			name := string(o.Letter)
			if strings.ContainsRune("qRs", o.Letter) {
				assert.True(t, c.IsSet(name), name)
				continue
			}
			assert.False(t, c.IsSet(name), name)
			assert.Empty(t, c.String(name), name)
			assert.False(t, c.Bool(name), name)
			assert.Zero(t, c.Count(name), name)
			assert.Nil(t, c.StringSlice(name), name)
		}
		assert.Equal(t, "dir", c.String("R"))
		assert.Equal(t, []string{"srcip/bytes", "proto"}, c.StringSlice("s"))
		assert.Equal(t, 3, c.NumFlags())
		return nil
	})
	require.NoError(t, err)
	assert.Empty(t, stdout.String()+stderr.String())
	// In the spec's order, each once.
	var want []string
	for _, o := range spec.Options {
		if strings.ContainsRune("qRs", o.Letter) {
			want = append(want, string(o.Letter))
		}
	}
	assert.Equal(t, want, declared)
}

// TestParsedKeepsOrderAcrossOptions: the action can see in which order
// different options came, which urfave's values cannot tell.
func TestParsedKeepsOrderAcrossOptions(t *testing.T) {
	specs := testSpecs(t)
	for _, tc := range []struct {
		cmdline        string
		firstM, firstN int
	}{
		{"-M /d -n a,1.2.3.4,/x -n b,1.2.3.5,/y", 0, 1},
		{"-n a,1.2.3.4,/x -p 2055 -M /d", 2, 0},
		{"-w /d -S1", -1, -1},
	} {
		var got *getopt.Result
		err := Run(specs["gocapd"], strings.Fields(tc.cmdline), &bytes.Buffer{}, &bytes.Buffer{}, func(c *cli.Context) error {
			got = Parsed(c)
			return nil
		})
		require.NoError(t, err, tc.cmdline)
		require.NotNil(t, got, tc.cmdline)
		assert.Equal(t, tc.firstM, got.First('M'), tc.cmdline)
		assert.Equal(t, tc.firstN, got.First('n'), tc.cmdline)
	}
	assert.Equal(t, -1, (*getopt.Result)(nil).First('n'))
	assert.Nil(t, Parsed(nil))
}

// The option strings of the real tools as getopt's own tests declare them
// (nfdump 1.7.1, nfcapd 1.7.1, fprobe 1.1, -z optional-valued).
const (
	nfdumpOptstring = "6aA:Bbc:C:D:E:G:s:ghn:i:jf:qyz::r:v:w:J:M:NImO:R:XZt:TVx:l:L:o:"
	nfcapdOptstring = "46B:b:C:DeEf:g:hI:i:jJ:l:m:M:n:p:P:rR:s:S:t:T:u:vVw:x:yz::Z"
	fprobeOptstring = "hpi:f:s:g:d:e:n:a:x:b:m:q:B:r:t:S:K:kc:u:v:l:V"
)

// specFromOptstring builds a test spec from a getopt option string; the
// letters in repeat may repeat.
func specFromOptstring(t testing.TB, name, optstring, repeat string) *getopt.Spec {
	t.Helper()
	s := &getopt.Spec{Name: name, Synopsis: "[options]"}
	for i := 0; i < len(optstring); i++ {
		o := getopt.Option{Letter: rune(optstring[i]), Usage: "test option", Repeat: strings.IndexByte(repeat, optstring[i]) >= 0}
		switch {
		case strings.HasPrefix(optstring[i+1:], "::"):
			o.Arg, o.ArgName = getopt.OptionalArg, "value"
			i += 2
		case strings.HasPrefix(optstring[i+1:], ":"):
			o.Arg, o.ArgName = getopt.RequiredArg, "value"
			i++
		}
		s.Options = append(s.Options, o)
	}
	require.NoError(t, s.Validate())
	require.Equal(t, optstring, s.Optstring())
	return s
}

func testSpecs(t testing.TB) map[string]*getopt.Spec {
	return map[string]*getopt.Spec{
		"godump":  specFromOptstring(t, "godump", nfdumpOptstring, "sA"),
		"gocapd":  specFromOptstring(t, "gocapd", nfcapdOptstring, "nRv"),
		"goprobe": specFromOptstring(t, "goprobe", fprobeOptstring, ""),
	}
}

func TestRunReadsLongOptionsThroughURFave(t *testing.T) {
	spec := &getopt.Spec{Name: "golong", Synopsis: "[options]", Options: []getopt.Option{
		{Letter: 'r', Arg: getopt.RequiredArg, ArgName: "prio", Usage: "priority"},
		{Long: "read", Arg: getopt.RequiredArg, ArgName: "file", Usage: "read a capture file"},
		{Long: "max-age", Arg: getopt.OptionalArg, ArgName: "age", Usage: "expire by age"},
		{Long: "no-fork", Usage: "stay in the foreground"},
	}}
	var got []string
	err := Run(spec, []string{"-r", "7", "--read", "a.pcap", "--no-fork", "--max-age=1h", "c:1"}, io.Discard, io.Discard,
		func(c *cli.Context) error {
			got = []string{c.String("r"), c.String("read"), c.String("max-age"), c.Args().First()}
			assert.True(t, c.Bool("no-fork"))
			assert.True(t, c.IsSet("read"))
			return nil
		})
	require.NoError(t, err)
	assert.Equal(t, []string{"7", "a.pcap", "1h", "c:1"}, got)
}

// FuzzRun checks that an action run by Run reads exactly the values that
// getopt parsed, through the urfave API.
func FuzzRun(f *testing.F) {
	specs := testSpecs(f)
	f.Add("godump", "-r\x00f\x00proto tcp\x00-o\x00csv")
	f.Add("godump", "-qn10\x00-r\x00x")
	f.Add("godump", "-z=lz4:9\x00-w\x00out\x00--\x00-o")
	f.Add("godump", "-n\x00-5\x00-\x00")
	f.Add("gocapd", "-I\x00Exporter_#1\x00-D\x00-S1\x00-vvv")
	f.Add("goprobe", "-fip\x00-i\x00eth0\x00localhost:2055")
	f.Fuzz(func(t *testing.T, name, cmdline string) {
		spec, ok := specs[name]
		if !ok {
			spec = specs["godump"]
		}
		args := strings.Split(cmdline, "\x00")
		res, err := spec.Parse(args)
		if err != nil {
			return
		}
		err = Run(spec, args, io.Discard, io.Discard, func(c *cli.Context) error {
			assert.Equal(t, fmt.Sprintf("%q", res.Args), fmt.Sprintf("%q", c.Args().Slice()))
			for _, o := range spec.Options {
				name := o.Name()
				values := res.Values(name)
				assert.Equal(t, len(values) > 0, c.IsSet(name), "IsSet(%q)", name)
				switch {
				case len(values) == 0:
				case o.Arg == getopt.NoArg:
					assert.Equal(t, len(values), c.Count(name), "Count(%q)", name)
				case o.Repeat:
					assert.Equal(t, values, c.StringSlice(name), "StringSlice(%q)", name)
				default:
					assert.Equal(t, values[len(values)-1], c.String(name), "String(%q)", name)
				}
			}
			return nil
		})
		assert.NoError(t, err)
	})
}
