package getopt

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// longSpec is a short-option spec with long-only options added, the way
// gocapd adds --metrics and goprobe --read beside the originals' letters.
func longSpec() *Spec {
	return &Spec{Name: "golong", Synopsis: "[options]", Options: []Option{
		{Letter: 'h', Usage: "help", Implemented: true},
		{Letter: 'r', Arg: RequiredArg, ArgName: "prio", Usage: "priority", Implemented: true},
		{Letter: 'q', Usage: "quiet"},
		{Long: "read", Arg: RequiredArg, ArgName: "file", Usage: "read a capture file", Implemented: true},
		{Long: "max-age", Arg: OptionalArg, ArgName: "age", Usage: "expire by age"},
		{Long: "no-fork", Usage: "stay in the foreground", Implemented: true},
	}}
}

func TestParseLongOptions(t *testing.T) {
	tests := []struct {
		cmdline []string
		want    []string
	}{
		{[]string{"--read", "x.pcap", "-r5"}, []string{"--read=x.pcap", "-r=5", "--"}},
		{[]string{"--read=x.pcap", "h:1"}, []string{"--read=x.pcap", "--", "h:1"}},
		// A required value may start with a dash, as with letters.
		{[]string{"--read", "-"}, []string{"--read=-", "--"}},
		{[]string{"--read="}, []string{"--read=", "--"}},
		{[]string{"--max-age", "h:1"}, []string{"--max-age=", "--", "h:1"}},
		{[]string{"--max-age=7d"}, []string{"--max-age=7d", "--"}},
		{[]string{"-q", "--no-fork", "h:1", "--", "--read"}, []string{"-q", "--no-fork", "--", "h:1", "--read"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.cmdline, " "), func(t *testing.T) {
			res, err := longSpec().Parse(tt.cmdline)
			require.NoError(t, err)
			assert.Equal(t, tt.want, res.Argv())
		})
	}
}

func TestParseLongErrors(t *testing.T) {
	tests := []struct {
		cmdline []string
		kind    ErrorKind
		message string
	}{
		{[]string{"--help"}, UnknownOption, "unrecognized option '--help'"},
		// Exact names only: getopt_long's abbreviations would let a new
		// long option change what an old script's prefix means.
		{[]string{"--rea", "x"}, UnknownOption, "unrecognized option '--rea'"},
		{[]string{"-q", "--read"}, MissingArgument, "option '--read' requires an argument"},
		{[]string{"--no-fork=yes"}, UnexpectedArgument, "option '--no-fork' doesn't allow an argument"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.cmdline, " "), func(t *testing.T) {
			_, err := longSpec().Parse(tt.cmdline)
			var optErr *Error
			require.ErrorAs(t, err, &optErr)
			assert.Equal(t, tt.kind, optErr.Kind)
			assert.EqualError(t, err, tt.message)
		})
	}
}

func TestResultReadsLongOptions(t *testing.T) {
	res, err := longSpec().Parse([]string{"-r", "7", "--read", "a.pcap", "--no-fork", "--max-age=1h", "c:1", "--read=b.pcap"})
	require.NoError(t, err)
	assert.Equal(t, "7", res.String("r"))
	assert.Equal(t, "b.pcap", res.String("read"), "the last value wins")
	assert.Equal(t, []string{"a.pcap", "b.pcap"}, res.Values("read"))
	assert.Equal(t, "1h", res.String("max-age"))
	assert.True(t, res.IsSet("no-fork"))
	assert.False(t, res.IsSet("q"))
	assert.Equal(t, []string{"c:1"}, res.Args)
}

func TestLongOptionsInSpec(t *testing.T) {
	s := longSpec()
	require.NoError(t, s.Validate())
	assert.Equal(t, "hr:q", s.Optstring(), "long options are not in the getopt string")
	assert.NoError(t, s.CompareOptstring("hr:q"))
	assert.Equal(t, []rune{'h', 'r'}, s.Implemented())
	assert.Equal(t, []string{"-h", "-r", "--read", "--no-fork"}, s.ImplementedFlags())
	_, ok := s.Lookup('r')
	assert.True(t, ok)
	o, ok := s.LookupLong("read")
	assert.True(t, ok)
	assert.Equal(t, "--read", o.Flag())
	assert.Equal(t, "read", o.Name())
	_, ok = s.LookupLong("r")
	assert.False(t, ok)

	var out bytes.Buffer
	require.NoError(t, s.PrintUsage(&out))
	assert.Contains(t, out.String(), "\n--read <file>      read a capture file\n")
	assert.Contains(t, out.String(), "\n--max-age[=<age>]  expire by age\n")

	for _, bad := range []Option{
		{Long: "x", Usage: "u"},
		{Long: "Read", Usage: "u"},
		{Long: "read-", Usage: "u"},
		{Long: "re_ad", Usage: "u"},
		{Long: "read", Letter: 'r', Usage: "u"},
	} {
		s := &Spec{Name: "x", Options: []Option{bad}}
		assert.Error(t, s.Validate(), "%+v", bad)
	}
	dup := &Spec{Name: "x", Options: []Option{{Long: "read", Usage: "u"}, {Long: "read", Usage: "u"}}}
	assert.ErrorContains(t, dup.Validate(), "--read declared twice")
}
