package getopt

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSpecMain(t *testing.T) {
	spec := &Spec{Name: "gotest", Options: []Option{
		{Letter: 'h', Usage: "help"},
		{Letter: 'r', Arg: RequiredArg, ArgName: "file", Usage: "read"},
	}}
	tests := []struct {
		name       string
		args       []string
		action     func(*Result) error
		wantCode   int
		wantStderr string
	}{
		{
			name: "success",
			args: []string{"-r", "x", "y"},
			action: func(r *Result) error {
				if r.String("r") != "x" || len(r.Args) != 1 || r.Args[0] != "y" {
					return fmt.Errorf("action got %+v", r)
				}
				return nil
			},
		},
		{
			name:       "unknown option",
			args:       []string{"-K"},
			action:     func(*Result) error { panic("called") },
			wantCode:   1,
			wantStderr: "gotest: invalid option -- 'K'\nTry 'gotest -h' for help.\n",
		},
		{
			name:       "missing argument",
			args:       []string{"-r"},
			action:     func(*Result) error { panic("called") },
			wantCode:   1,
			wantStderr: "gotest: option requires an argument -- 'r'\nTry 'gotest -h' for help.\n",
		},
		{
			name:       "plain error",
			action:     func(*Result) error { return errors.New("no such file") },
			wantCode:   1,
			wantStderr: "gotest: no such file\n",
		},
		{
			name:       "exit coder",
			action:     func(*Result) error { return Exit("bad filter", 254) },
			wantCode:   254,
			wantStderr: "gotest: bad filter\n",
		},
		{
			name:       "wrapped exit coder",
			action:     func(*Result) error { return fmt.Errorf("reading x: %w", Exit("bad block", 250)) },
			wantCode:   250,
			wantStderr: "gotest: reading x: bad block\n",
		},
		{
			name:     "silent exit",
			action:   func(*Result) error { return Exit("", 3) },
			wantCode: 3,
		},
		{
			name:       "panic",
			action:     func(*Result) error { panic("boom") },
			wantCode:   1,
			wantStderr: "gotest: internal error: boom\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			action := tt.action
			if action == nil {
				action = func(*Result) error { return nil }
			}
			var stdout, stderr bytes.Buffer
			code := spec.Main(tt.args, &stdout, &stderr, action)
			assert.Equal(t, tt.wantCode, code)
			assert.Empty(t, stdout.String())
			assert.Equal(t, tt.wantStderr, stderr.String())
		})
	}
}

func TestMainWithoutHelpOptionGivesNoHint(t *testing.T) {
	spec := &Spec{Name: "gotest", Options: []Option{{Letter: 'q', Usage: "quiet"}}}
	var stderr bytes.Buffer
	code := spec.Main([]string{"-h"}, &bytes.Buffer{}, &stderr, func(*Result) error { return nil })
	assert.Equal(t, 1, code)
	assert.Equal(t, "gotest: invalid option -- 'h'\n", stderr.String())
}

func TestMainRejectsInvalidSpec(t *testing.T) {
	s := &Spec{Name: "x", Options: []Option{{Letter: ':', Usage: "u"}}}
	var stderr bytes.Buffer
	code := s.Main(nil, &bytes.Buffer{}, &stderr, func(*Result) error { panic("called") })
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr.String(), "not an ASCII letter")
}

func TestResultAccessors(t *testing.T) {
	spec := &Spec{Name: "gotest", Options: []Option{
		{Letter: 'v', Repeat: true, Usage: "verbose"},
		{Letter: 's', Arg: RequiredArg, Repeat: true, ArgName: "stat", Usage: "stat"},
		{Letter: 'n', Arg: RequiredArg, ArgName: "num", Usage: "num"},
		{Letter: 'z', Arg: OptionalArg, ArgName: "m", Usage: "compress"},
	}}
	res, err := spec.Parse([]string{"-vv", "-s", "a", "-n5", "x", "-v", "-s", "b", "-n", "7", "-z"})
	require.NoError(t, err)
	assert.Equal(t, 3, res.Count("v"))
	assert.Equal(t, []string{"a", "b"}, res.Values("s"))
	assert.Equal(t, "b", res.String("s"))
	assert.Equal(t, "7", res.String("n"), "the last value wins")
	assert.True(t, res.IsSet("z"))
	assert.Equal(t, "", res.String("z"))
	assert.False(t, res.IsSet("q"))
	assert.Nil(t, res.Values("q"))
	assert.Equal(t, []string{"x"}, res.Args)
	assert.Equal(t, 2, res.First('s'), "-vv is two occurrences")
	assert.Equal(t, -1, res.First('q'))
	assert.Equal(t, -1, (*Result)(nil).First('n'))
}

func TestPrintUsage(t *testing.T) {
	spec := &Spec{Name: "gotest", Synopsis: "[options] [filter]", Options: []Option{
		{Letter: 'h', Usage: "print this help"},
		{Letter: 'r', Arg: RequiredArg, ArgName: "file", Usage: "read flows from file"},
		{Letter: 'z', Arg: OptionalArg, ArgName: "method", Usage: "compress"},
	}}
	var out bytes.Buffer
	require.NoError(t, spec.PrintUsage(&out))
	assert.Equal(t, "usage gotest [options] [filter]\n"+
		"-h             print this help\n"+
		"-r <file>      read flows from file\n"+
		"-z[=<method>]  compress\n", out.String())
}
