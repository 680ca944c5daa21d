package flowfile

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/filter"
	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/flowgen"
	"github.com/nfgo/nftools/internal/testutil"
)

// rawChecked selects with a filter as the reader's RawSelector, and checks
// every record the reader tests on its bytes: the raw test's answer must
// be Match's on the record decoded with every element.
type rawChecked struct {
	t      *testing.T
	f      *filter.Filter
	what   string
	tested *atomic.Int64
}

func (c rawChecked) Match(r *flow.Record) bool { return c.f.Match(r) }
func (c rawChecked) Reads() flow.Elements      { return c.f.Reads() }

func (c rawChecked) ForIdent(ident string, ok bool) Selector {
	if ok {
		c.f = c.f.WithIdent(ident)
	}
	return c
}

func (c rawChecked) RawMatcher(l *flow.Layout) func([]byte) bool {
	m := c.f.RawMatcher(l)
	if m == nil {
		return nil
	}
	return func(rec []byte) bool {
		got := m(rec)
		var r flow.Record
		if _, err := decodeV3(rec, &r, allElements); err != nil {
			c.t.Errorf("%s: a record tested on its bytes does not decode: %v", c.what, err)
			return got
		}
		if want := c.f.Match(&r); got != want {
			c.t.Errorf("%s: on its bytes %v, decoded %v: %+v", c.what, got, want, r)
		}
		c.tested.Add(1)
		return got
	}
}

// matchOnly selects with the filter's Match alone: the reader's way
// before raw selection.
type matchOnly struct{ f *filter.Filter }

func (m matchOnly) Match(r *flow.Record) bool { return m.f.Match(r) }
func (m matchOnly) Reads() flow.Elements      { return m.f.Reads() }

func (m matchOnly) ForIdent(ident string, ok bool) Selector {
	if ok {
		m.f = m.f.WithIdent(ident)
	}
	return m
}

// filterCorpus returns the expressions of the filter package's corpus
// (the differential tests' 400 and more) and the bench's five filters.
func filterCorpus(t testing.TB) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "filter", "testdata", "corpus.txt"))
	require.NoError(t, err)
	defer f.Close()
	exprs := flowgen.BenchFilters()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		s := sc.Text()
		if s == "" || s[0] == '#' {
			continue
		}
		if len(s) > 3 && s[1] == ':' && s[2] == ' ' {
			s = s[3:] // a mark for the differential tests
		}
		exprs = append(exprs, s)
	}
	require.NoError(t, sc.Err())
	require.Greater(t, len(exprs), 400)
	return exprs
}

// rawTestFiles returns the nfcapd 1.7.1 samples and files of generated
// flows: flowgen.Full's, which carry every modeled element in some flows
// and not in others (more layouts than a reader keeps), flowgen.Random's,
// and, last, the bench's (flowgen.New: a dozen layouts).
func rawTestFiles(t *testing.T) []string {
	t.Helper()
	files := testutil.SampleFiles(t)
	dir := t.TempDir()
	for i, ident := range []string{"full", "second", "random", "home"} {
		p := filepath.Join(dir, "nfcapd."+ident)
		w, err := Create(p, WriteOptions{Compression: LZ4, Ident: ident})
		require.NoError(t, err)
		full := flowgen.NewFull(uint64(i+1), 1_795_555_903_000)
		home := flowgen.New(uint64(i+1), 1_795_555_903_000)
		rng := rand.New(rand.NewPCG(uint64(i), 5))
		var r flow.Record
		for n := 0; n < 3000; n++ {
			switch ident {
			case "random":
				r = flowgen.Random(rng)
			case "home":
				home.Next(&r)
			default:
				full.Next(&r)
			}
			require.NoError(t, w.WriteFlow(&r))
		}
		require.NoError(t, w.Close())
		files = append(files, p)
	}
	return files
}

// TestRawSelectLikeMatch reads the sample files and generated files of
// every element with each filter of the corpus twice, selecting on the
// records' bytes and with Match on the decoded records, and checks that
// the same flows come out, in the same order, with the same sums, and
// that every record tested on its bytes got Match's answer.
func TestRawSelectLikeMatch(t *testing.T) {
	files := rawTestFiles(t)
	exprs := filterCorpus(t)
	var tested, processed, rawFilters atomic.Int64
	records := map[string]int64{}
	for _, path := range files {
		records[path] = int64(len(readVisiting(t, path, ReadOptions{}, false, false).flows))
	}
	for n, expr := range exprs {
		f, err := filter.Compile(expr, filter.Options{})
		require.NoError(t, err, expr)
		if f.RawMatcher(&flow.Layout{}) != nil {
			rawFilters.Add(1)
		}
		for _, path := range files {
			what := fmt.Sprintf("%q on %s", expr, filepath.Base(path))
			// Visiting (-s, aggregation) on even corpus lines, the flows
			// handed out (printing, -w) on odd ones.
			visit := n%2 == 0
			want := readVisiting(t, path, ReadOptions{Workers: 2, Select: matchOnly{f}}, visit, false)
			got := readVisiting(t, path, ReadOptions{Workers: 2, Select: rawChecked{t, f, what, &tested}}, visit, false)
			require.Equal(t, len(want.flows), len(got.flows), what)
			for i := range want.flows {
				require.Equal(t, want.flows[i], got.flows[i], "%s: flow %d", what, i)
			}
			require.Equal(t, want.tally, got.tally, what)
			require.Equal(t, want.kinds, got.kinds, what)
			require.Equal(t, want.err, got.err, what)
			require.Equal(t, want.skipped, got.skipped, what)
			processed.Add(records[path])
		}
	}
	// The test means something only if nearly every filter has a raw test
	// and records take it. flowgen.Full's and Random's files hold more
	// layouts than a reader keeps, so most of their records take the way
	// through decoding; TestRawMatchEveryRecord tests each of their
	// records.
	assert.Greater(t, rawFilters.Load(), int64(len(exprs)*9/10), "filters with a raw test")
	assert.Greater(t, tested.Load(), processed.Load()/8, "records tested on their bytes")
	t.Logf("%d of %d filters tested raw, %d of %d records tested on their bytes", rawFilters.Load(), len(exprs), tested.Load(), processed.Load())
}

// TestRawSelectLimit: with -c's limit, selecting on the bytes stops after
// the same flow as Match does, in every mode.
func TestRawSelectLimit(t *testing.T) {
	files := rawTestFiles(t)
	p := files[len(files)-1] // the bench's layouts
	for _, expr := range []string{"proto tcp", "proto udp", "not ipv6", "src port > 1024 and proto tcp"} {
		f, err := filter.Compile(expr, filter.Options{})
		require.NoError(t, err)
		for _, limit := range []uint64{1, 7, 100, 1001, 2999} {
			var tested atomic.Int64
			for mode := range 3 {
				// Summing, visiting, and handing the flows out.
				opts := ReadOptions{Workers: 2, Limit: limit, Tally: mode == 0}
				opts.Select = matchOnly{f}
				want := readVisiting(t, p, opts, mode == 1, false)
				opts.Select = rawChecked{t, f, expr, &tested}
				got := readVisiting(t, p, opts, mode == 1, false)
				assert.Equal(t, want.tally, got.tally, "%s -c %d", expr, limit)
				assert.Equal(t, want.flows, got.flows, "%s -c %d", expr, limit)
			}
			assert.Positive(t, tested.Load())
		}
	}
}

// elementOrders returns record rec (a V3 record of modeled elements, as
// appendV3 writes them) with its elements in the order of picks, each an
// index into rec's elements taken modulo their number, so that elements
// may come in any order, twice, or not at all; the record header is
// rec's with the new size and count, and 8 bytes follow the record.
func elementOrders(rec []byte, picks []byte) []byte {
	var elems [][]byte
	for off := v3HeaderSize; off+elemHdrSize <= len(rec); {
		l := int(le.Uint16(rec[off+2:]))
		elems = append(elems, rec[off:off+l])
		off += l
	}
	out := append([]byte(nil), rec[:v3HeaderSize]...)
	n := 0
	for _, p := range picks {
		if len(elems) == 0 || n == flow.MaxElementsPerFlow {
			break
		}
		out = append(out, elems[int(p)%len(elems)]...)
		n++
	}
	le.PutUint16(out[2:], uint16(len(out)))
	le.PutUint16(out[4:], uint16(n))
	return append(out, make([]byte, 8)...)
}

// rawAgrees checks filter f's raw test against Match on record b (with
// 8 bytes after it), decoded by d as the reader decodes it.
func rawAgrees(t testing.TB, f *filter.Filter, d *v3Decoder, b []byte, what string) bool {
	rec := b[:len(b)-8]
	var r flow.Record
	if _, err := d.decode(rec, &r); err != nil {
		return false
	}
	s := d.find(rec)
	require.NotNil(t, s, "%s: a decoded record's shape is known", what)
	var l flow.Layout
	s.layout(rec, &l)
	m := f.RawMatcher(&l)
	if m == nil {
		return false
	}
	var full flow.Record
	_, err := decodeV3(rec, &full, allElements)
	require.NoError(t, err)
	want := f.Match(&full)
	require.Equal(t, want, m(rec), "%s on %+v", what, full)
	require.Equal(t, want, f.Match(&r), "%s: decoding only the elements the filter reads", what)
	return true
}

// TestRawMatchEveryRecord tests each filter of the corpus on its bytes
// and with Match on every record of flowgen.Full and flowgen.Random, in
// the order appendV3 writes the elements and in shuffled orders with
// elements left out and repeated (IPv4 and IPv6 addresses in one record:
// the last one counts, as in decoding).
func TestRawMatchEveryRecord(t *testing.T) {
	exprs := filterCorpus(t)
	var recs [][]byte
	g := flowgen.NewFull(3, 1_795_555_903_000)
	rng := rand.New(rand.NewPCG(4, 5))
	var l v3Layout
	for i := 0; i < 1500; i++ {
		var r flow.Record
		if i%3 == 0 {
			r = flowgen.Random(rng)
		} else {
			g.Next(&r)
		}
		r.Label = ""
		b := appendV3(nil, &r, &l)
		recs = append(recs, append(b, make([]byte, 8)...))
		if i%2 == 0 {
			picks := make([]byte, 1+rng.IntN(2*flow.MaxModeledElement))
			for j := range picks {
				picks[j] = byte(rng.Uint32())
			}
			recs = append(recs, elementOrders(b, picks))
		}
	}
	tested := 0
	for _, expr := range exprs {
		f, err := filter.Compile(expr, filter.Options{})
		require.NoError(t, err, expr)
		f = f.WithIdent("bench")
		var d v3Decoder
		d.reset(f.Reads())
		for _, b := range recs {
			if rawAgrees(t, f, &d, b, expr) {
				tested++
			}
		}
	}
	assert.Greater(t, tested, len(exprs)*len(recs)*9/10)
}

// FuzzRawMatch: on records of any element order, repeated and missing
// elements and any values, the bench filters and a few of every kind of
// test answer on the bytes as Match does on the decoded record.
func FuzzRawMatch(f *testing.F) {
	exprs := []string{
		"proto tcp and (dst port 80 or dst port 443) and not src net 10.0.0.0/8 or proto udp",
		"ip in [10.0.0.1 10.1.0.0/16 2001:db8::/32 ::1] or next ip in [10.0.0.254] or router ip 10.0.0.1",
		"net 10.0.0.0/8 or net 20.0.0.0/16 or net 21.0.0.0/16 or net 22.0.0.0/16 or net 23.0.0.0/16 or net 24.0.0.0/16 or net 25.0.0.0/16 or net 26.0.0.0/16 or net 2001:db8::/32",
		"(ipv6 and not proto icmp and tos 184 and duration > 1000) or (in if 3 and out if 4 and bpp > 500) or pps > 10 or bps < 100",
		"vlan 0 and not mpls label2 100 and mpls eos 3 or src mac 00:11:22:33:44:55 or as 0 or next as > 5 or dst mask 24",
		"flags SA and not flags R or icmp-type 8 or icmp-code 0 or engine-type 1 or sysid 2 or nfversion 9 or fwdstat 0",
		"bgpnext ip 2001:db8::1 or dst vlan 3 or port in [53 80 443] or out bytes > 1k or client latency > 10",
	}
	var filters []*filter.Filter
	for _, e := range exprs {
		flt, err := filter.Compile(e, filter.Options{})
		require.NoError(f, err, e)
		filters = append(filters, flt)
	}
	g := flowgen.NewFull(1, 1_795_555_903_000)
	var r flow.Record
	for i := 0; i < 8; i++ {
		g.Next(&r)
		var l v3Layout
		r.Label = ""
		f.Add(appendV3(nil, &r, &l), []byte{byte(i), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 1})
	}
	f.Fuzz(func(t *testing.T, rec, picks []byte) {
		if len(rec) < v3HeaderSize || le.Uint16(rec) != recV3 || int(le.Uint16(rec[2:])) != len(rec) {
			return
		}
		if _, err := decodeV3(rec, new(flow.Record), allElements); err != nil {
			return
		}
		b := elementOrders(rec, picks)
		for i, flt := range filters {
			var d v3Decoder
			d.reset(flt.Reads())
			rawAgrees(t, flt, &d, b, exprs[i])
		}
	})
}

// BenchmarkRawMatchBench measures the raw tests of the bench's filters
// (scripts/bench/filter.sh) on records of the home shape that script
// generates, as selectShaped runs them: the test alone, and with finding
// the record's shape and taking its test first.
func BenchmarkRawMatchBench(b *testing.B) {
	g := flowgen.New(1, 1_795_555_903_000)
	var buf []byte
	var l v3Layout
	var offs []int
	for range 4096 {
		var r flow.Record
		g.Next(&r)
		offs = append(offs, len(buf))
		buf = appendV3(buf, &r, &l)
	}
	offs = append(offs, len(buf))
	buf = append(buf, make([]byte, 8)...)
	exprs := filterCorpus(b)[:5]
	for i, expr := range exprs {
		name := []string{"primitive", "five-terms", "ip-list-1000", "net-list-100", "twenty-terms"}[i]
		b.Run(name, func(b *testing.B) {
			f, err := filter.Compile(expr, filter.Options{})
			require.NoError(b, err)
			var d v3Decoder
			d.reset(f.Reads() | flow.TotalsElements)
			var rec flow.Record
			for j := range 4096 {
				_, err := d.decode(buf[offs[j]:offs[j+1]], &rec)
				require.NoError(b, err)
			}
			ms := make([]func([]byte) bool, 4096)
			for j := range ms {
				r := buf[offs[j]:offs[j+1]]
				ms[j] = d.find(r).rawMatch(f, r)
			}
			n := 0
			b.Run("test", func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					j := i & 4095
					if ms[j](buf[offs[j]:offs[j+1]]) {
						n++
					}
				}
			})
			b.Run("shape+test", func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					j := i & 4095
					r := buf[offs[j]:offs[j+1]]
					if d.find(r).rawMatch(f, r)(r) {
						n++
					}
				}
			})
			_ = n
		})
	}
}

// TestRawSelectAllocs: selecting a run of records on their bytes, summing
// or visiting those that pass, allocates nothing once the shapes are
// known and their tests ordered (after the filter's first records of
// each shape).
func TestRawSelectAllocs(t *testing.T) {
	buf := generatedV3(1, 1000)
	f, err := filter.Compile("proto tcp and not src net 10.0.0.0/8 or ip in [10.0.0.1 10.0.1.1]", filter.Options{})
	require.NoError(t, err)
	var d v3Decoder
	d.reset(allElements)
	var rec flow.Record
	v := &recordingVisitor{flows: make([]flow.Record, 0, 1000)}
	run := func() {
		var tally flow.Totals
		v.flows = v.flows[:0]
		for used := 0; used < len(buf)-8; {
			n, _, u, _ := d.selectShaped(buf[used:], 1000, 0, f, nil, 0, &tally, &rec, v)
			if n == 0 {
				_, err := d.decode(buf[used:used+int(le.Uint16(buf[used+2:]))], &rec)
				require.NoError(t, err)
				u = int(le.Uint16(buf[used+2:]))
			}
			used += u
		}
	}
	// Every shape of the run then counted its tests on more than the
	// filter's 512 first records and ordered them.
	for range 600 {
		run()
	}
	assert.NotEmpty(t, v.flows)
	assert.Zero(t, testing.AllocsPerRun(10, run))
}

// checkedSpan is a Span whose raw test checks each answer against Match
// on the record decoded with every element, and counts the records it
// tested.
type checkedSpan struct {
	t      *testing.T
	s      Span
	tested *atomic.Int64
}

func (c checkedSpan) Match(r *flow.Record) bool { return c.s.Match(r) }
func (c checkedSpan) Reads() flow.Elements      { return c.s.Reads() }

func (c checkedSpan) RawMatcher(l *flow.Layout) func([]byte) bool {
	m := c.s.RawMatcher(l)
	if m == nil {
		return nil
	}
	return func(rec []byte) bool {
		got := m(rec)
		var r flow.Record
		_, err := decodeV3(rec, &r, allElements)
		require.NoError(c.t, err)
		if want := c.s.Match(&r); got != want {
			c.t.Errorf("%+v: on its bytes %v, decoded %v: %+v", c.s, got, want, r)
		}
		c.tested.Add(1)
		return got
	}
}

// spanOnly is a Span without its raw test.
type spanOnly struct{ s Span }

func (s spanOnly) Match(r *flow.Record) bool { return s.s.Match(r) }
func (s spanOnly) Reads() flow.Elements      { return s.s.Reads() }

// TestRawSelectSpan: the -t window alone and with a filter (AllOf) selects
// on the records' bytes the flows it selects on the decoded records, on
// the sample files and the generated ones, summing, visiting and handing
// the flows out; and the records are tested on their bytes.
func TestRawSelectSpan(t *testing.T) {
	files := rawTestFiles(t)
	exprs := append(flowgen.BenchFilters(), "any", "ident full or proto udp", "flags S and not flags AFRPU", "not ipv6 and src port > 1024")
	var windowTested, filterTested atomic.Int64
	for _, path := range files {
		all := readVisiting(t, path, ReadOptions{}, false, false)
		if len(all.flows) == 0 {
			continue
		}
		first, last := all.flows[0].First, all.flows[0].Last
		for _, r := range all.flows {
			first, last = min(first, r.First), max(last, r.Last)
		}
		mid := first + (last-first)/2
		spans := []Span{
			{first + (last-first)/4, last - (last-first)/4}, // the middle half
			{0, mid},               // from the start (flows without times pass)
			{mid, ^uint64(0)},      // to the end
			{last + 1, ^uint64(0)}, // after every flow
			// Edges at flows' times, which belong to the span.
			{all.flows[len(all.flows)/3].First, all.flows[2*len(all.flows)/3].Last},
		}
		for i, s := range spans {
			for j, expr := range exprs {
				what := fmt.Sprintf("%s: %+v and %q", filepath.Base(path), s, expr)
				f, err := filter.Compile(expr, filter.Options{})
				require.NoError(t, err, expr)
				wantSel, gotSel := AllOf(spanOnly{s}, matchOnly{f}), AllOf(checkedSpan{t, s, &windowTested}, rawChecked{t, f, what, &filterTested})
				if j == 0 {
					// The window alone.
					wantSel, gotSel = spanOnly{s}, checkedSpan{t, s, &windowTested}
				}
				mode := (i + j) % 3 // summing, visiting, handing the flows out
				opts := ReadOptions{Workers: 2, Tally: mode == 0}
				opts.Select = wantSel
				want := readVisiting(t, path, opts, mode == 1, false)
				opts.Select = gotSel
				got := readVisiting(t, path, opts, mode == 1, false)
				require.Equal(t, len(want.flows), len(got.flows), what)
				for k := range want.flows {
					require.Equal(t, want.flows[k], got.flows[k], "%s: flow %d", what, k)
				}
				require.Equal(t, want.tally, got.tally, what)
				require.Equal(t, want.err, got.err, what)
			}
		}
	}
	assert.Positive(t, windowTested.Load(), "records tested on their bytes by the window")
	assert.Positive(t, filterTested.Load(), "records tested on their bytes by the filter with the window")
	t.Logf("window: %d records tested on their bytes, filter with it: %d", windowTested.Load(), filterTested.Load())
}

// TestRawSelectReordered: a shape's raw test reorders its code after the
// first records it tests (filter.RawMatcher); on a file of the bench's
// layouts long enough for every shape to get there, the reordered tests
// answer as Match does, for the bench's filters and a part of the corpus.
func TestRawSelectReordered(t *testing.T) {
	p := filepath.Join(t.TempDir(), "nfcapd.home")
	w, err := Create(p, WriteOptions{Compression: LZ4})
	require.NoError(t, err)
	g := flowgen.New(7, 1_795_555_903_000)
	var r flow.Record
	for range 40000 {
		g.Next(&r)
		require.NoError(t, w.WriteFlow(&r))
	}
	require.NoError(t, w.Close())
	exprs := filterCorpus(t)
	var tested atomic.Int64
	for i, expr := range exprs {
		if i >= 5 && i%8 != 0 {
			continue
		}
		f, err := filter.Compile(expr, filter.Options{})
		require.NoError(t, err, expr)
		want := readVisiting(t, p, ReadOptions{Workers: 1, Tally: true, Select: matchOnly{f}}, false, false)
		got := readVisiting(t, p, ReadOptions{Workers: 1, Tally: true, Select: rawChecked{t, f, expr, &tested}}, false, false)
		require.Equal(t, want.tally, got.tally, expr)
	}
	assert.Greater(t, tested.Load(), int64(40000*40), "records tested on their bytes")
}

// BenchmarkSelectBlock runs the workers' loop over a block of records of
// the home shape scripts/bench/filter.sh generates, without decompressing
// or reading anything: summing them as godump -o null does, unfiltered
// (sumShaped, "none") and with each of the bench's filters
// (selectShaped). What a filter costs a record is the difference.
func BenchmarkSelectBlock(b *testing.B) {
	const n = 4096
	buf := generatedV3(1, n)
	names := []string{"none", "primitive", "five-terms", "ip-list-1000", "net-list-100", "twenty-terms"}
	exprs := append([]string{""}, flowgen.BenchFilters()...)
	for i, expr := range exprs {
		b.Run(names[i], func(b *testing.B) {
			var sel RawSelector
			want := flow.TotalsElements
			if expr != "" {
				f, err := filter.Compile(expr, filter.Options{})
				require.NoError(b, err)
				sel = f
				want |= f.Reads()
			}
			var d v3Decoder
			d.reset(want)
			var rec flow.Record
			learnShapes(b, &d, buf)
			var t flow.Totals
			b.ReportAllocs()
			for b.Loop() {
				var count uint32
				if sel == nil {
					count, _, _ = d.sumShaped(buf, n, &t, &rec, nil)
				} else {
					count, _, _, _ = d.selectShaped(buf, n, 0, sel, nil, 0, &t, &rec, nil)
				}
				if count != n {
					b.Fatalf("%d of %d records taken", count, n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
		})
	}
}

// TestSelectShapedLikeDecoding: selectShaped, which tests records in
// batches before it counts, marks or visits those that passed, counts,
// sums, marks, hands over and stops as decoding each record and testing
// it with Match does (selectDecoded), for filters that most, some and few
// of the bench's flows pass, with and without a limit.
func TestSelectShapedLikeDecoding(t *testing.T) {
	const n = 3000
	buf := generatedV3(4, n)
	exprs := append([]string{"not proto icmp", "proto udp"}, flowgen.BenchFilters()...)
	for _, expr := range exprs {
		f, err := filter.Compile(expr, filter.Options{})
		require.NoError(t, err)
		for _, limit := range []uint64{0, 1, 63, 64, 200, 1500} {
			for _, mode := range []string{"tally", "visit", "mark"} {
				what := fmt.Sprintf("%s, limit %d, %s", expr, limit, mode)
				var d [2]v3Decoder
				var lists [2]flowList
				var totals [2]flow.Totals
				var marks [2][]uint64
				var res [2][]any
				for i := range d {
					d[i].reset(allElements)
					learnShapes(t, &d[i], buf)
					var v BlockVisitor
					if mode == "visit" {
						v = &lists[i]
					}
					if mode == "mark" {
						marks[i] = make([]uint64, (n+7+63)/64)
					}
					var c, p uint32
					var u int
					var k uint64
					if i == 0 {
						c, p, u, k = selectDecoded(t, &d[i], buf, n, limit, f, marks[i], 7, &totals[i], v)
					} else {
						var rec flow.Record
						c, p, u, k = d[i].selectShaped(buf, n, limit, f, marks[i], 7, &totals[i], &rec, v)
					}
					res[i] = []any{c, p, u, k}
				}
				assert.Equal(t, res[0], res[1], what)
				assert.Equal(t, totals[0], totals[1], what)
				assert.Equal(t, lists[0].flows, lists[1].flows, what)
				assert.Equal(t, marks[0], marks[1], what)
				if limit == 0 {
					assert.Equal(t, uint32(n), res[1][0], what)
				}
				if mode == "visit" {
					assert.Len(t, lists[1].flows, int(res[1][1].(uint32)), what)
				}
			}
		}
	}
}

// selectDecoded is what selectShaped does, the long way: each record
// decoded and tested with Match.
func selectDecoded(tb testing.TB, d *v3Decoder, b []byte, n uint32, limit uint64, sel Selector, mark []uint64, first uint32, t *flow.Totals, v BlockVisitor) (count, passed uint32, used int, skipped uint64) {
	var rec flow.Record
	for count < n && len(b)-used >= v3HeaderSize {
		r := b[used:]
		size := int(le.Uint16(r[2:]))
		if le.Uint16(r) != recV3 || size > len(r)-8 {
			break
		}
		k, err := d.decode(r[:size], &rec)
		require.NoError(tb, err)
		if sel.Match(&rec) {
			switch {
			case mark != nil:
				i := first + count
				mark[i/64] |= 1 << (i % 64)
			case v != nil:
				t.Add(&rec)
				v.Flow(&rec)
			default:
				t.Add(&rec)
			}
			passed++
		}
		skipped += uint64(k)
		count++
		used += size
		if limit > 0 && uint64(passed) == limit {
			break
		}
	}
	return count, passed, used, skipped
}

// flowList is a BlockVisitor that keeps what it is handed, in order.
type flowList struct{ flows []flow.Record }

func (l *flowList) Reset()              { l.flows = l.flows[:0] }
func (l *flowList) Flow(r *flow.Record) { l.flows = append(l.flows, *r) }

// generatedV3 is n flowgen flows of seed stored as V3 records, back to
// back, and 8 bytes of zeros after them: a block's payload as the
// selection loops take it.
func generatedV3(seed uint64, n int) []byte {
	g := flowgen.New(seed, 1_795_555_903_000)
	var buf []byte
	var l v3Layout
	for range n {
		var r flow.Record
		g.Next(&r)
		buf = appendV3(buf, &r, &l)
	}
	return append(buf, make([]byte, 8)...)
}

// learnShapes has d decode each record of buf (generatedV3's) once, so
// that d knows their shapes and the selection loops take them all.
func learnShapes(tb testing.TB, d *v3Decoder, buf []byte) {
	var rec flow.Record
	for pos := 0; pos < len(buf)-8; {
		size := int(le.Uint16(buf[pos+2:]))
		_, err := d.decode(buf[pos:pos+size], &rec)
		require.NoError(tb, err)
		pos += size
	}
}

// batchVisitor is a rawVisitor that also takes the flows that passed a
// filter a batch at a time, and counts the batches.
type batchVisitor struct {
	rawVisitor
	batches int
}

// RawPlan has IPv6 flows decoded, so that they come between those from
// the bytes.
func (v *batchVisitor) RawPlan(l *flow.Layout, flows uint16) any {
	if l.Fam[flow.FieldSrcAddr] == 6 {
		v.plans.Add(1)
		return nil
	}
	return v.rawVisitor.RawPlan(l, flows)
}

func (v *batchVisitor) FlowsRaw(flows []RawFlow) {
	v.batches++
	for _, f := range flows {
		v.FlowRaw(f.Plan, f.Rec)
	}
}

// TestVisitRawBatches: with a filter, a RawBatchVisitor gets the flows
// that passed mostly from their bytes, in batches, and in file order
// with those it gets decoded (IPv6 ones, for which it has no plan): what
// a read that hands out every flow that passed finds in them.
func TestVisitRawBatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	file := randomFile(rng, 20000)
	g := flowgen.NewBorder(43, 1_795_555_903_000)
	for i := range file.flows {
		if i%500 == 0 {
			continue // a random layout, now and then
		}
		g.Next(&file.flows[i])
	}
	p := filepath.Join(t.TempDir(), "f")
	writeTestFile(t, p, WriteOptions{Compression: LZ4}, &file)
	for _, expr := range []string{"proto tcp", "not proto icmp", "src port > 1024 and proto udp"} {
		f, err := filter.Compile(expr, filter.Options{})
		require.NoError(t, err)
		want := readVisiting(t, p, ReadOptions{Select: f}, false, false)
		for _, workers := range []int{1, 2} {
			var plans atomic.Int64
			var visitors []*batchVisitor
			r, err := Open(p, ReadOptions{Workers: workers, Select: f, Visit: func() BlockVisitor {
				v := &batchVisitor{rawVisitor: rawVisitor{plans: &plans}}
				visitors = append(visitors, v)
				return v
			}})
			require.NoError(t, err)
			var got []flow.Record
			for r.Next() {
				if r.Kind() == KindBlock {
					got = append(got, r.Block().(*batchVisitor).flows...)
				}
			}
			require.NoError(t, r.Err())
			require.NoError(t, r.Close())
			what := fmt.Sprintf("%s, %d workers", expr, workers)
			require.Len(t, got, len(want.flows), what)
			for i := range want.flows {
				require.Equal(t, rawFields(&want.flows[i]), got[i], "%s: flow %d", what, i)
			}
			raw, batches := 0, 0
			for _, v := range visitors {
				raw, batches = raw+v.raw, batches+v.batches
			}
			assert.Greater(t, raw, len(got)/2, "%s: most flows from their bytes", what)
			assert.Less(t, raw, len(got)-len(got)/5, "%s: some decoded", what)
			assert.Positive(t, batches, what)
			assert.Less(t, batches, raw/2, "%s: flows a batch at a time", what)
		}
	}
}
