package filter_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/filter"
	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/flowfile/fileset"
	"github.com/nfgo/nftools/internal/testarchive"
	"github.com/nfgo/nftools/internal/testutil"
)

// corpusLine is one expression of testdata/corpus.txt with its mark.
type corpusLine struct {
	mark byte // 0, 'X' (dump only) or 'F' (address family fix)
	expr string
	line int
}

func readCorpus(t testing.TB, name string) []corpusLine {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	require.NoError(t, err)
	defer f.Close()
	var out []corpusLine
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		s := sc.Text()
		if s == "" || s[0] == '#' {
			continue
		}
		c := corpusLine{expr: s, line: n}
		if len(s) > 3 && s[1] == ':' && s[2] == ' ' {
			c.mark, c.expr = s[0], s[3:]
		}
		out = append(out, c)
	}
	require.NoError(t, sc.Err())
	return out
}

// testArchive is the directory testarchive.Build fills, with the records
// godump reads from it in nfdump's -R order.
type testArchive struct {
	dir  string
	recs []archived
}

type archived struct {
	rec   flow.Record
	ident string
	has   bool
}

var (
	archiveOnce sync.Once
	archive     testArchive
	archiveErr  error
)

// TestMain removes the archive once every test ran: removed by its test,
// it was gone for that test's second run under -count (stat() error in
// each expression of the second to fourth runs of -count=4).
func TestMain(m *testing.M) {
	code := m.Run()
	if archive.dir != "" {
		os.RemoveAll(archive.dir)
	}
	os.Exit(code)
}

func loadArchive(t *testing.T) *testArchive {
	t.Helper()
	samples := testutil.SampleFiles(t)
	archiveOnce.Do(func() { archiveErr = buildArchive(samples) })
	require.NoError(t, archiveErr)
	return &archive
}

func buildArchive(samples []string) error {
	dir, err := os.MkdirTemp("", "filter-archive-")
	if err != nil {
		return err
	}
	archive.dir = dir
	if err := testarchive.Build(dir, samples); err != nil {
		return err
	}
	files, err := fileset.List(fileset.Spec{Recursive: dir})
	if err != nil {
		return err
	}
	for _, path := range files {
		rd, err := flowfile.Open(path, flowfile.ReadOptions{})
		if err != nil {
			continue // nfdump skips it too
		}
		ident, has := rd.Ident()
		for rd.Next() {
			if rd.Kind() == flowfile.KindFlow {
				archive.recs = append(archive.recs, archived{*rd.Flow(), ident, has})
			}
		}
		rd.Close()
	}
	return nil
}

// passing returns the running numbers of the archive's flows that pass
// f, as nfdump's -o fmt:%cnt prints them.
func (a *testArchive) passing(f *filter.Filter) string {
	var b strings.Builder
	bound := map[string]*filter.Filter{}
	for i := range a.recs {
		ar := &a.recs[i]
		g := f
		if ar.has {
			if bound[ar.ident] == nil {
				bound[ar.ident] = f.WithIdent(ar.ident)
			}
			g = bound[ar.ident]
		}
		if g.MatchCount(&ar.rec, uint64(i+1)) {
			fmt.Fprintf(&b, "%d\n", i+1)
		}
	}
	return b.String()
}

// nfdumpPassing parses nfdump's -o fmt:%cnt -q output.
func nfdumpPassing(stdout string) string {
	var b strings.Builder
	for _, l := range strings.Split(stdout, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l == "No matching flows" || strings.HasPrefix(l, "Resolving ") || strings.HasPrefix(l, "IPv") {
			continue
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

// runAll runs nfdump once for each expression, a few at a time: nfdump
// spends most of a short run starting up, not on the CPU.
func runAll(t *testing.T, corpus []corpusLine, args func(expr string) []string) []testutil.Result {
	out := make([]testutil.Result, len(corpus))
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				out[i] = testutil.RunTool(t, "", "nfdump", args(corpus[i].expr)...)
			}
		}()
	}
	for i := range corpus {
		work <- i
	}
	close(work)
	wg.Wait()
	return out
}

// TestDumpAsNfdump compares -X for every expression of the corpus: the
// compiled tree, block for block, is nfdump's (family-blind for the lines
// marked F).
func TestDumpAsNfdump(t *testing.T) {
	testutil.RequireTool(t, "nfdump")
	corpus := readCorpus(t, "corpus.txt")
	results := runAll(t, corpus, func(expr string) []string { return []string{"-X", expr} })
	for i, c := range corpus {
		want := results[i]
		require.Equal(t, 0, want.Code, "corpus line %d: nfdump -X '%s': %s", c.line, c.expr, want.Stderr)
		compile := filter.Compile
		if c.mark == 'F' {
			// An address list keeps entries of both families that nfdump
			// would drop as overlapping; the family-blind tree is nfdump's.
			compile = filter.CompileFamilyBlind
		}
		f, err := compile(c.expr, filter.Options{})
		require.NoError(t, err, "corpus line %d", c.line)
		var got bytes.Buffer
		require.NoError(t, f.Dump(&got))
		// nfdump prints what it resolves on stdout before the dump.
		stdout := want.Stdout
		if i := strings.Index(stdout, "StartNode:"); i > 0 {
			stdout = stdout[i:]
		}
		assert.Equal(t, stdout, got.String(), "corpus line %d: -X of '%s'", c.line, c.expr)
	}
}

// TestSameFlowsAsNfdump runs every expression of the corpus over the
// sample files and generated flows carrying every element, with nfdump
// and with the filter: the same flows pass, in the same order. Compiled
// family-blind, every expression must agree with nfdump; compiled as
// godump compiles it, exactly the expressions marked F differ.
func TestSameFlowsAsNfdump(t *testing.T) {
	if testing.Short() {
		t.Skip("runs nfdump 660 times; CI runs it without -short")
	}
	testutil.RequireTool(t, "nfdump")
	a := loadArchive(t)
	var corpus []corpusLine
	for _, c := range readCorpus(t, "corpus.txt") {
		if c.mark != 'X' {
			corpus = append(corpus, c)
		}
	}
	results := runAll(t, corpus, func(expr string) []string {
		return []string{"-R", a.dir, "-o", "fmt:%cnt", "-q", expr}
	})
	agreed, fixed := 0, 0
	for i, c := range corpus {
		res := results[i]
		require.Equal(t, 0, res.Code, "corpus line %d: %s", c.line, res.Stderr)
		want := nfdumpPassing(res.Stdout)
		blind, err := filter.CompileFamilyBlind(c.expr, filter.Options{})
		require.NoError(t, err)
		if !assert.Equal(t, want, a.passing(blind), "corpus line %d: '%s' family-blind", c.line, c.expr) {
			continue
		}
		f, err := filter.Compile(c.expr, filter.Options{})
		require.NoError(t, err)
		got := a.passing(f)
		if c.mark == 'F' {
			if assert.NotEqual(t, want, got, "corpus line %d: '%s' is marked F but matches nfdump", c.line, c.expr) {
				fixed++
			}
			continue
		}
		if assert.Equal(t, want, got, "corpus line %d: '%s'", c.line, c.expr) {
			agreed++
		}
	}
	t.Logf("of %d corpus expressions run, %d pass the same flows as nfdump 1.7.1 and %d differ by the address family fix", len(corpus), agreed, fixed)
}

// exitCode is the status godump exits with for a compile error: nfdump's.
func exitCode(err error) int {
	if filter.IsInclude(err) {
		return 255
	}
	return 254
}

// TestBadAsNfdump compiles every expression nfdump rejects: the same
// exit status, and nfdump's message.
func TestBadAsNfdump(t *testing.T) {
	testutil.RequireTool(t, "nfdump")
	corpus := readCorpus(t, "bad.txt")
	results := runAll(t, corpus, func(expr string) []string { return []string{"-Z", expr} })
	for i, c := range corpus {
		want := results[i]
		_, err := filter.Compile(c.expr, filter.Options{})
		if !assert.Error(t, err, "bad.txt line %d: '%s' compiles", c.line, c.expr) {
			continue
		}
		assert.Equal(t, want.Code, exitCode(err), "bad.txt line %d: '%s'", c.line, c.expr)
		assert.Equal(t, want.Stderr, err.Error()+"\n", "bad.txt line %d: '%s'", c.line, c.expr)
	}
	t.Logf("%d bad expressions fail as in nfdump 1.7.1", len(corpus))
}
