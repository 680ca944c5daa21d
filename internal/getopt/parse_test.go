package getopt

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The option strings of the real tools (nfdump 1.7.1, nfcapd 1.7.1 as the
// Debian binary parses it, fprobe 1.1), with -z made optional-valued as our
// tools accept it. The commands declare the same sets; their own tests check
// that.
const (
	nfdumpOptstring = "6aA:Bbc:C:D:E:G:s:ghn:i:jf:qyz::r:v:w:J:M:NImO:R:XZt:TVx:l:L:o:"
	nfcapdOptstring = "46B:b:C:DeEf:g:hI:i:jJ:l:m:M:n:p:P:rR:s:S:t:T:u:vVw:x:yz::Z"
	fprobeOptstring = "hpi:f:s:g:d:e:n:a:x:b:m:q:B:r:t:S:K:kc:u:v:l:V"
)

// specFromOptstring builds a test spec from a getopt option string; the
// letters in repeat may repeat.
func specFromOptstring(t testing.TB, name, optstring, repeat string) *Spec {
	t.Helper()
	s := &Spec{Name: name, Synopsis: "[options]"}
	for i := 0; i < len(optstring); i++ {
		o := Option{Letter: rune(optstring[i]), Usage: "test option", Repeat: strings.IndexByte(repeat, optstring[i]) >= 0}
		switch {
		case strings.HasPrefix(optstring[i+1:], "::"):
			o.Arg, o.ArgName = OptionalArg, "value"
			i += 2
		case strings.HasPrefix(optstring[i+1:], ":"):
			o.Arg, o.ArgName = RequiredArg, "value"
			i++
		}
		s.Options = append(s.Options, o)
	}
	require.NoError(t, s.Validate())
	require.Equal(t, optstring, s.Optstring())
	return s
}

func testSpecs(t testing.TB) map[string]*Spec {
	return map[string]*Spec{
		"godump":  specFromOptstring(t, "godump", nfdumpOptstring, "sA"),
		"gocapd":  specFromOptstring(t, "gocapd", nfcapdOptstring, "nRv"),
		"goprobe": specFromOptstring(t, "goprobe", fprobeOptstring, ""),
	}
}

func TestParseRealCommandLines(t *testing.T) {
	specs := testSpecs(t)
	tests := []struct {
		cmdline []string
		// want is Result.Argv(): "-X" for a flag, "-X=value" for a value,
		// then "--" and the positional arguments.
		want []string
	}{
		{
			[]string{"godump", "-r", "f", "proto tcp", "-o", "csv"},
			[]string{"-r=f", "-o=csv", "--", "proto tcp"},
		},
		{
			[]string{"godump", "-B", "-R", "/var/cache/nfdump", "-s", "srcip/bytes", "-s", "dstip/bytes", "-s", "proto/bytes", "-n", "10"},
			[]string{"-B", "-R=/var/cache/nfdump", "-s=srcip/bytes", "-s=dstip/bytes", "-s=proto/bytes", "-n=10", "--"},
		},
		{
			[]string{"godump", "-R", "/var/cache/nfdump", "-I"},
			[]string{"-R=/var/cache/nfdump", "-I", "--"},
		},
		{
			[]string{"godump", "-qn10", "-r", "x"},
			[]string{"-q", "-n=10", "-r=x", "--"},
		},
		{
			[]string{"godump", "-Bq", "-r", "x"},
			[]string{"-B", "-q", "-r=x", "--"},
		},
		{
			[]string{"godump", "-Bqn10"},
			[]string{"-B", "-q", "-n=10", "--"},
		},
		{
			[]string{"godump", "-r", "x", "-o", "extended", "src", "ip", "10.0.0.1", "and", "proto", "tcp", "-c", "5"},
			[]string{"-r=x", "-o=extended", "-c=5", "--", "src", "ip", "10.0.0.1", "and", "proto", "tcp"},
		},
		{
			[]string{"godump", "-n5"},
			[]string{"-n=5", "--"},
		},
		{
			[]string{"godump", "-zlz4", "-w", "out", "-r", "in"},
			[]string{"-z=lz4", "-w=out", "-r=in", "--"},
		},
		{
			[]string{"godump", "-z=lz4:9", "-w", "out", "-r", "in"},
			[]string{"-z=lz4:9", "-w=out", "-r=in", "--"},
		},
		{
			// A bare optional-valued -z does not take the next word.
			[]string{"godump", "-z", "-w", "out", "-r", "in"},
			[]string{"-z=", "-w=out", "-r=in", "--"},
		},
		{
			[]string{"godump", "-z", "lz4", "-r", "in"},
			[]string{"-z=", "-r=in", "--", "lz4"},
		},
		{
			// Only one '=' is dropped from an optional value.
			[]string{"godump", "-z==x"},
			[]string{"-z==x", "--"},
		},
		{
			// An optional value ends the cluster: -zq is -z with value "q".
			[]string{"godump", "-qz", "-zq"},
			[]string{"-q", "-z=", "-z=q", "--"},
		},
		{
			[]string{"godump", "-A", "proto,srcip", "-r", "x"},
			[]string{"-A=proto,srcip", "-r=x", "--"},
		},
		{
			[]string{"godump", "-r", "x", "--", "-o"},
			[]string{"-r=x", "--", "-o"},
		},
		{
			// A required value is taken even when it looks like an option.
			[]string{"godump", "-n", "-5"},
			[]string{"-n=-5", "--"},
		},
		{
			[]string{"godump", "-r", "--"},
			[]string{"-r=--", "--"},
		},
		{
			// A required value keeps a leading '='.
			[]string{"godump", "-r=x"},
			[]string{"-r==x", "--"},
		},
		{
			[]string{"godump", "-r", "x", "-", "", "any"},
			[]string{"-r=x", "--", "-", "", "any"},
		},
		{
			[]string{"godump", "-r", "x", "-s", "a", "-s", "b", "-s", " c "},
			[]string{"-r=x", "-s=a", "-s=b", "-s= c ", "--"},
		},
		{
			[]string{"godump", "-r", "x", "not", "--", "-q", "proto", "udp"},
			[]string{"-r=x", "--", "not", "-q", "proto", "udp"},
		},
		{
			[]string{"godump"},
			[]string{"--"},
		},
		{
			[]string{"gocapd", "-I", "Exporter_#1", "-D", "-p", "2055", "-w", "/var/cache/nfdump", "-S1"},
			[]string{"-I=Exporter_#1", "-D", "-p=2055", "-w=/var/cache/nfdump", "-S=1", "--"},
		},
		{
			[]string{"gocapd", "-w", "/d", "-t", "60", "-S", "1", "-I", "test", "-p", "29995", "-b", "127.0.0.1"},
			[]string{"-w=/d", "-t=60", "-S=1", "-I=test", "-p=29995", "-b=127.0.0.1", "--"},
		},
		{
			[]string{"gocapd", "-x", "script %d %f", "-w", "d"},
			[]string{"-x=script %d %f", "-w=d", "--"},
		},
		{
			[]string{"gocapd", "-z=zstd:3", "-w", "d"},
			[]string{"-z=zstd:3", "-w=d", "--"},
		},
		{
			[]string{"gocapd", "-vvv", "-n", "r1,10.0.0.1,/a", "-n", "r2,10.0.0.2,/b", "-R", "127.0.0.1/9995"},
			[]string{"-v", "-v", "-v", "-n=r1,10.0.0.1,/a", "-n=r2,10.0.0.2,/b", "-R=127.0.0.1/9995", "--"},
		},
		{
			[]string{"goprobe", "-i", "eth0", "127.0.0.1:2055"},
			[]string{"-i=eth0", "--", "127.0.0.1:2055"},
		},
		{
			[]string{"goprobe", "-fip", "-i", "eth0", "-d", "60", "-e", "300", "-n", "5", "localhost:2055"},
			[]string{"-f=ip", "-i=eth0", "-d=60", "-e=300", "-n=5", "--", "localhost:2055"},
		},
		{
			[]string{"goprobe", "-l", "2", "-i", "lo", "127.0.0.1:29998"},
			[]string{"-l=2", "-i=lo", "--", "127.0.0.1:29998"},
		},
		{
			[]string{"goprobe", "-l", "0:test1", "-i", "-", "10.1.1.1:2055/10.1.1.2/r", "10.1.1.3:2055"},
			[]string{"-l=0:test1", "-i=-", "--", "10.1.1.1:2055/10.1.1.2/r", "10.1.1.3:2055"},
		},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.cmdline, " "), func(t *testing.T) {
			spec := specs[tt.cmdline[0]]
			res, err := spec.Parse(tt.cmdline[1:])
			require.NoError(t, err)
			assert.Equal(t, tt.want, res.Argv())
		})
	}
}

func TestParseErrors(t *testing.T) {
	specs := testSpecs(t)
	tests := []struct {
		cmdline []string
		kind    ErrorKind
		option  rune
		message string
	}{
		{[]string{"godump", "-K"}, UnknownOption, 'K', "invalid option -- 'K'"},
		{[]string{"godump", "-qK", "-r", "x"}, UnknownOption, 'K', "invalid option -- 'K'"},
		{[]string{"godump", "-r", "x", "proto", "tcp", "-K"}, UnknownOption, 'K', "invalid option -- 'K'"},
		// Without long options "--help" is a cluster starting with '-'.
		{[]string{"godump", "--help"}, UnknownOption, '-', "invalid option -- '-'"},
		{[]string{"godump", "-r"}, MissingArgument, 'r', "option requires an argument -- 'r'"},
		{[]string{"godump", "-q", "-qr"}, MissingArgument, 'r', "option requires an argument -- 'r'"},
		{[]string{"gocapd", "-w"}, MissingArgument, 'w', "option requires an argument -- 'w'"},
		{[]string{"gocapd", "-a"}, UnknownOption, 'a', "invalid option -- 'a'"},
		{[]string{"goprobe", "-i", "eth0", "-l"}, MissingArgument, 'l', "option requires an argument -- 'l'"},
		{[]string{"goprobe", "-z"}, UnknownOption, 'z', "invalid option -- 'z'"},
		{[]string{"goprobe", "-ä"}, UnknownOption, 'ä', "invalid option -- 'ä'"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.cmdline, " "), func(t *testing.T) {
			res, err := specs[tt.cmdline[0]].Parse(tt.cmdline[1:])
			assert.Nil(t, res)
			var optErr *Error
			require.ErrorAs(t, err, &optErr)
			assert.Equal(t, tt.kind, optErr.Kind)
			assert.Equal(t, tt.option, optErr.Option)
			assert.EqualError(t, err, tt.message)
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		spec    Spec
		wantErr string
	}{
		{"no name", Spec{}, "no command name"},
		{"bad letter", Spec{Name: "x", Options: []Option{{Letter: '-', Usage: "u"}}}, "not an ASCII letter or digit"},
		{"duplicate", Spec{Name: "x", Options: []Option{{Letter: 'a', Usage: "u"}, {Letter: 'a', Usage: "u"}}}, "declared twice"},
		{"value without name", Spec{Name: "x", Options: []Option{{Letter: 'a', Arg: RequiredArg, Usage: "u"}}}, "has no ArgName"},
		{"name without value", Spec{Name: "x", Options: []Option{{Letter: 'a', ArgName: "n", Usage: "u"}}}, "takes no value"},
		{"bad kind", Spec{Name: "x", Options: []Option{{Letter: 'a', Arg: 7, ArgName: "n", Usage: "u"}}}, "unknown ArgKind"},
		{"no usage", Spec{Name: "x", Options: []Option{{Letter: 'a'}}}, "no usage text"},
		{"ok", Spec{Name: "x", Options: []Option{{Letter: 'a', Usage: "u"}, {Letter: '6', Arg: OptionalArg, ArgName: "n", Usage: "u"}}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate()
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestCompareOptstring(t *testing.T) {
	s := &Spec{Name: "x", Options: []Option{
		{Letter: 'h', Usage: "help"},
		{Letter: 'r', Arg: RequiredArg, ArgName: "file", Usage: "read"},
		{Letter: 'z', Arg: OptionalArg, ArgName: "method", Usage: "compress"},
	}}
	tests := []struct {
		optstring string
		wantErr   string
	}{
		{"hr:z::", ""},
		{"z::r:hr:", ""},
		{"hr:z", "-z is -z::, want -z"},
		{"hr:z::q", "-q is missing"},
		{"hz::", "-r: is not in the optstring"},
		{"hr:z::r", "declares -r twice with different kinds"},
	}
	for _, tt := range tests {
		err := s.CompareOptstring(tt.optstring)
		if tt.wantErr == "" {
			assert.NoError(t, err, tt.optstring)
		} else {
			assert.ErrorContains(t, err, tt.wantErr, tt.optstring)
		}
	}
}

func TestSpecLookups(t *testing.T) {
	s := &Spec{Name: "x", Options: []Option{
		{Letter: 'h', Usage: "help", Implemented: true},
		{Letter: 'r', Arg: RequiredArg, ArgName: "file", Usage: "read"},
		{Letter: 'V', Usage: "version", Implemented: true},
	}}
	o, ok := s.Lookup('r')
	assert.True(t, ok)
	assert.Equal(t, "file", o.ArgName)
	_, ok = s.Lookup('K')
	assert.False(t, ok)
	assert.Equal(t, []rune{'h', 'V'}, s.Implemented())
	assert.Equal(t, "hr:V", s.Optstring())
}

// FuzzParse checks that no command line makes the parser panic, that a
// parsed command line survives the round trip through Argv (parsing the
// normalized form gives the same result), and that Result's accessors
// read exactly the parsed values.
func FuzzParse(f *testing.F) {
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
			var optErr *Error
			if !assert.ErrorAs(t, err, &optErr) {
				return
			}
			_, declared := spec.Lookup(optErr.Option)
			assert.Equal(t, optErr.Kind == MissingArgument, declared, "error %v", err)
			return
		}
		again, err := spec.Parse(res.Argv())
		require.NoError(t, err)
		// "-X=value" parses back to value "=value" for a required option,
		// so compare the normalized forms instead of the raw values.
		for i, o := range again.Options {
			if o.Arg == RequiredArg {
				again.Options[i].Value = strings.TrimPrefix(o.Value, "=")
			}
		}
		assert.Equal(t, res, again)

		// The accessors read the same values.
		for _, o := range spec.Options {
			name := o.Name()
			var values []string
			for _, occ := range res.Options {
				if occ.Letter == o.Letter {
					values = append(values, occ.Value)
				}
			}
			assert.Equal(t, values, res.Values(name), "Values(%q)", name)
			assert.Equal(t, len(values), res.Count(name), "Count(%q)", name)
			assert.Equal(t, len(values) > 0, res.IsSet(name), "IsSet(%q)", name)
			if len(values) > 0 {
				assert.Equal(t, values[len(values)-1], res.String(name), "String(%q)", name)
			} else {
				assert.Empty(t, res.String(name), "String(%q)", name)
			}
		}
	})
}
