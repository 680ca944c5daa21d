package filter_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/filter"
	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/internal/testutil"
)

// TestFlowLabelAsNfdump has nfdump write a file whose flows carry labels
// (its -w with a labelled filter), then selects from it with flowlabel
// primitives in nfdump and here: the same flows pass.
func TestFlowLabelAsNfdump(t *testing.T) {
	testutil.RequireTool(t, "nfdump")
	samples := testutil.SampleFiles(t)
	labelled := filepath.Join(t.TempDir(), "labelled")
	res := testutil.RunTool(t, "", "nfdump", "-r", samples[0], "-w", labelled,
		"(proto tcp) %Web or (proto udp) %dns or (proto icmp) %dnsx")
	require.Equal(t, 0, res.Code, res.Stderr)
	rd, err := flowfile.Open(labelled, flowfile.ReadOptions{})
	require.NoError(t, err)
	var recs []archived
	for rd.Next() {
		if rd.Kind() == flowfile.KindFlow {
			recs = append(recs, archived{rec: *rd.Flow()})
		}
	}
	require.NoError(t, rd.Err())
	rd.Close()
	a := testArchive{recs: recs}
	for _, expr := range []string{
		"flowlabel web", "flowlabel WEB", "flowlabel dns", "flowlabel dnsx", "flowlabel d",
		"not flowlabel web", "flowlabel web or flowlabel dns", "proto tcp and not flowlabel dns",
		"(proto udp) %other and flowlabel dns",
	} {
		res := testutil.RunTool(t, "", "nfdump", "-r", labelled, "-o", "fmt:%cnt", "-q", expr)
		require.Equal(t, 0, res.Code, "%s: %s", expr, res.Stderr)
		f, err := filter.Compile(expr, filter.Options{})
		require.NoError(t, err)
		got := a.passing(f)
		require.Equal(t, nfdumpPassing(res.Stdout), got, expr)
		if expr == "flowlabel web" {
			require.NotEmpty(t, strings.TrimSpace(got), "the sample has TCP flows")
		}
	}
}
