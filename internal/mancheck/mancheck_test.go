package mancheck

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/getopt"
)

// TestLintManPages runs mandoc -Tlint on every page in man/.
func TestLintManPages(t *testing.T) {
	NeedMandoc(t)
	pages, err := filepath.Glob("../../man/*.[18]")
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"../../man/gocapd.1", "../../man/godump.1", "../../man/goprobe.8"}, pages)
	for _, page := range pages {
		t.Run(filepath.Base(page), func(t *testing.T) {
			assert.NoError(t, Lint(page))
		})
	}
}

func TestLintReportsProblems(t *testing.T) {
	NeedMandoc(t)
	page := filepath.Join(t.TempDir(), "bad.1")
	require.NoError(t, os.WriteFile(page, []byte(".SH NAME\nbad \\- no title line\n"), 0o644))
	assert.ErrorContains(t, Lint(page), "mandoc -Tlint")
}

const samplePage = `.TH X 1 2026-11-24 "nftools" "User Commands"
.SH NAME
x \- example
.SH DESCRIPTION
.TP
.B \-q
Not in OPTIONS, so not counted.
.SH OPTIONS
.TP
.B \-h
Help.
.TP
.BI \-r " file"
Read file.
.TP
.BR \-6 " (IPv6)"
Full addresses.
.SH "SEE ALSO"
.TP
.B \-x
Not in OPTIONS either.
`

func TestOptions(t *testing.T) {
	letters, err := Options([]byte(samplePage))
	require.NoError(t, err)
	assert.Equal(t, []string{"-h", "-r", "-6"}, letters)
}

func TestOptionsRejectsTagsItCannotRead(t *testing.T) {
	for _, tag := range []string{`.I \-h`, `.B \-\-`, `.B \-\-x`, `.B h`, `\-h`} {
		_, err := Options([]byte(".SH OPTIONS\n.TP\n" + tag + "\nText.\n"))
		assert.Error(t, err, tag)
	}
}

func TestCheck(t *testing.T) {
	spec := &getopt.Spec{Name: "x", Options: []getopt.Option{
		{Letter: 'h', Usage: "help", Implemented: true},
		{Letter: 'r', Arg: getopt.RequiredArg, ArgName: "file", Usage: "read", Implemented: true},
		{Letter: '6', Usage: "ipv6", Implemented: true},
		{Letter: 'q', Usage: "quiet"},
		{Long: "metrics", Arg: getopt.RequiredArg, ArgName: "addr", Usage: "metrics", Implemented: true},
		{Long: "max-age", Arg: getopt.RequiredArg, ArgName: "age", Usage: "age"},
	}}
	tests := []struct {
		name    string
		options string
		wantErr []string
	}{
		{"in sync", ".TP\n.B \\-h\n.TP\n.BI \\-r \" file\"\n.TP\n.B \\-6\n.TP\n.BI \\-\\-metrics \" addr\"\n", nil},
		{"long implemented but undocumented", ".TP\n.B \\-h\n.TP\n.B \\-r\n.TP\n.B \\-6\n", []string{"--metrics is implemented but not in OPTIONS"}},
		{"long documented but not implemented", ".TP\n.B \\-h\n.TP\n.B \\-r\n.TP\n.B \\-6\n.TP\n.B \\-\\-metrics\n.TP\n.B \\-\\-max\\-age\n", []string{"--max-age is in OPTIONS but not implemented"}},
		{"long documented but undeclared", ".TP\n.B \\-h\n.TP\n.B \\-r\n.TP\n.B \\-6\n.TP\n.B \\-\\-metrics\n.TP\n.B \\-\\-nope\n", []string{"--nope is in OPTIONS but x has no such option"}},
		{"implemented but undocumented", ".TP\n.B \\-h\n.TP\n.B \\-6\n.TP\n.B \\-\\-metrics\n", []string{"-r is implemented but not in OPTIONS"}},
		{"documented but not implemented", ".TP\n.B \\-h\n.TP\n.B \\-r\n.TP\n.B \\-6\n.TP\n.B \\-\\-metrics\n.TP\n.B \\-q\n", []string{"-q is in OPTIONS but not implemented"}},
		{"documented but undeclared", ".TP\n.B \\-h\n.TP\n.B \\-r\n.TP\n.B \\-6\n.TP\n.B \\-\\-metrics\n.TP\n.B \\-K\n", []string{"-K is in OPTIONS but x has no such option"}},
		{"documented twice", ".TP\n.B \\-h\n.TP\n.B \\-r\n.TP\n.B \\-6\n.TP\n.B \\-\\-metrics\n.TP\n.B \\-h\n", []string{"-h is in OPTIONS twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := filepath.Join(t.TempDir(), "x.1")
			require.NoError(t, os.WriteFile(page, []byte(".SH OPTIONS\n"+tt.options+".SH \"SEE ALSO\"\n"), 0o644))
			err := Check(page, spec)
			if tt.wantErr == nil {
				assert.NoError(t, err)
				return
			}
			for _, want := range tt.wantErr {
				assert.ErrorContains(t, err, want)
			}
		})
	}
}
