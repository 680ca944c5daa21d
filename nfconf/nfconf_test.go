package nfconf

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConfigExporters: what nfcapd 1.7.1 takes from a config file, and its
// parser's messages; every case was run through the real nfcapd.
func TestConfigExporters(t *testing.T) {
	tests := []struct {
		name, text string
		want       []Exporter
		err        string
	}{
		{"two exporters", "[nfcapd]\nexporter.up = [\"192.0.2.1\", \"/a\"]\nexporter.peer = [\"192.0.2.2\", \"/b\"]\n",
			[]Exporter{{"up", "192.0.2.1", "/a"}, {"peer", "192.0.2.2", "/b"}}, ""},
		{"nfdump's section is ignored", "[nfdump]\nfmt.x = \"%ts\"\ngeodb.path = \"/x\"\n", nil, ""},
		{"only exporter entries count", "[nfcapd]\nmaxworkers = 4\n", nil, ""},
		{"sub table, literal strings, multi-line array, comments",
			"[nfcapd.exporter] # c\nb = [ '::1' ,\n  \"/b\", ]\n", []Exporter{{"b", "::1", "/b"}}, ""},
		{"escapes", "[nfcapd]\nexporter.e = [\"10.0.0.1\", \"/t\\u0061b\"]\n", []Exporter{{"e", "10.0.0.1", "/tab"}}, ""},
		{"quoted key", "[nfcapd]\nexporter.\"a b\" = [\"::1\", \"/\"]\n", []Exporter{{"a b", "::1", "/"}}, ""},
		{"extra elements ignored", "[nfcapd]\nexporter.b = [\"1.2.3.4\", \"/b\", \"x\"]\n", []Exporter{{"b", "1.2.3.4", "/b"}}, ""},
		{"stops at a short array", "[nfcapd]\nexporter.b = [\"1.2.3.4\", \"/b\"]\nexporter.a = [\"1.2.3.5\"]\nexporter.c = [\"1.2.3.6\", \"/c\"]\n",
			[]Exporter{{"b", "1.2.3.4", "/b"}}, ""},
		{"a plain value hides all", "[nfcapd]\nexporter.b = [\"1.2.3.4\", \"/b\"]\nexporter.a = \"1.2.3.5\"\n", nil, ""},
		{"numbers are no strings", "[nfcapd]\nexporter.b = [1, 2]\n", nil, ""},
		{"other values parse", "a = 1979-05-27T07:32:00Z\nb = 3.14\nc = true\nd = [1, [2], {x = 1}]\ne = { f = 'g' }\n", nil, ""},
		{"key exists", "[nfcapd]\nexporter.a = [\"1\", \"/\"]\nexporter.a = [\"2\", \"/\"]\n", nil, "line 3: key exists"},
		{"table twice", "[nfcapd]\n[nfcapd]\n", nil, "line 2: key exists"},
		{"missing =", "[nfcapd]\nexporter.a [\"1\", \"/\"]\n", nil, "line 2: missing ="},
		{"unterminated quote", "[nfcapd]\nexporter.a = [\"1\", \"/]\n", nil, "line 2: unterminated quote"},
		{"unterminated s-quote", "a = 'x\n", nil, "line 1: unterminated s-quote"},
		{"unterminated triple", "\n\na = \"\"\"x\n", nil, "line 3: unterminated triple-d-quote"},
		{"bad escape", "a = \"x\\q\"\n", nil, "line 1: bad escape char"},
		{"open header", "[nfcapd\n", nil, "line 1: invalid key"},
		{"empty header", "[]\n", nil, "line 1: invalid or missing key"},
		{"extra after header", "[nfcapd] x\n", nil, "line 1: extra chars after ] or ]]"},
		{"extra after value", "a = [\"1\"] x\n", nil, "line 1: extra chars after value"},
		{"bad key", "a+b = 1\n", nil, "line 1: bad key"},
		{"no key", "\n\n= 3\n", nil, "line 3: syntax error"},
		{"no value", "a = @\n", nil, "line 1: extra chars after value"},
		{"inline table closed", "a = { b = 1 }\na.c = 2\n", nil, "line 2: cannot insert new entry into existing table"},
		{"inline table on two lines", "a = { b = 1,\n c = 2 }\n", nil, "line 1: newline not allowed in inline table"},
		{"missing ] of an array", "a = [\"x\" \"y\"]\n", nil, "line 1: syntax error"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(dir, "nfdump.conf")
			require.NoError(t, os.WriteFile(file, []byte(tt.text), 0o644))
			got, err := Exporters(file, Paths{})
			if tt.err != "" {
				assert.EqualError(t, err, "Failed to parse config file "+file+": "+tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestConfigLookup: -C, NFCONF and the default file, found as nfcapd
// finds them.
func TestConfigLookup(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "nfdump.conf")
	require.NoError(t, os.WriteFile(conf, []byte("[nfcapd]\nexporter.x = [\"::1\", \"/\"]\n"), 0o644))
	missing := filepath.Join(dir, "missing")
	x := []Exporter{{"x", "::1", "/"}}
	tests := []struct {
		name  string
		flag  string
		paths Paths
		want  []Exporter
		err   string
	}{
		{"none reads nothing", None, Paths{Env: missing}, nil, ""},
		{"-C first", conf, Paths{Env: missing}, x, ""},
		{"then NFCONF", "", Paths{Env: conf, Probe: missing}, x, ""},
		{"NFCONF must exist", "", Paths{Env: missing}, nil, "path does not exist: " + missing},
		{"-C must be a file", dir, Paths{}, nil, "not a regular file: " + dir},
		{"default when the probe exists", "", Paths{Default: conf, Probe: conf}, x, ""},
		{"default must exist then", "", Paths{Default: missing, Probe: conf}, nil, "path does not exist: " + missing},
		{"no default without the probe", "", Paths{Default: conf, Probe: missing}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Exporters(tt.flag, tt.paths)
			if tt.err != "" {
				assert.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
