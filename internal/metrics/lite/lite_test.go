package lite

import (
	"bytes"
	"math"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// family is a metric family of the tests, added to a Set and to a
// client_golang registry alike.
type family struct {
	name, help string
	typ        Type
	labels     []string
	samples    []sample
}

type sample struct {
	v         float64
	values    []string
	quantiles []Quantile // a summary's; v is its sum
	count     uint64
}

// families covers what the exposition has to get right: the order of
// families (added unsorted), of samples (by label values, the label
// names sorted: "collector" before "index", and "10" before "2"), the
// escaping of help texts and label values, and numbers as expfmt writes
// them.
var families = []family{
	{name: "zz_last", help: "Added first, written last.", typ: Gauge, samples: []sample{{v: 3}}},
	{name: "a_counter_total", help: `Help with a backslash \ and a
line feed, and "quotes".`, typ: Counter, samples: []sample{{v: 0}}},
	{name: "b_sent_total", help: "Labelled.", typ: Counter, labels: []string{"index", "collector"}, samples: []sample{
		{v: 7, values: []string{"2", "127.0.0.1:2055"}},
		{v: 1e6, values: []string{"10", "[::1]:2055"}},
		{v: 123456789, values: []string{"1", "127.0.0.1:2055"}},
		{v: 1, values: []string{"3", `odd "value" \ with
a line feed, and ünïcode`}},
	}},
	{name: "c_values", help: "Numbers.", typ: Gauge, labels: []string{"v"}, samples: []sample{
		{v: -1, values: []string{"a"}}, {v: math.NaN(), values: []string{"b"}}, {v: math.Inf(1), values: []string{"c"}},
		{v: math.Inf(-1), values: []string{"d"}}, {v: 0.1, values: []string{"e"}}, {v: 1.8446744073709552e+19, values: []string{"f"}},
		{v: 9.223372036854776e+18, values: []string{"g"}}, {v: 1.79651117885e+09, values: []string{"h"}},
		{v: 4096, values: []string{"i"}}, {v: 1e-7, values: []string{"j"}}, {v: -2.5, values: []string{"k"}},
	}},
	{name: "d_empty", help: "No samples: left out.", typ: Gauge},
	{name: "e_summary_seconds", help: "A summary.", typ: Summary, samples: []sample{
		{v: 0.00123, count: 42, quantiles: []Quantile{{1, 0.0005}, {0, 1e-05}, {0.5, 2.5e-05}, {0.25, 2e-05}, {0.75, 3e-05}}},
	}},
	{name: "f_labelled_summary", help: "A summary with labels.", typ: Summary, labels: []string{"b", "a"}, samples: []sample{
		{v: 2, count: 3, values: []string{"x", "y"}, quantiles: []Quantile{{0.5, 1}}},
		{v: 0, count: 0, values: []string{"w", "y"}, quantiles: []Quantile{{0.5, math.NaN()}}},
	}},
}

// constCollector serves families through client_golang.
type constCollector []family

func (c constCollector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c constCollector) Collect(ch chan<- prometheus.Metric) {
	for _, f := range c {
		d := prometheus.NewDesc(f.name, f.help, f.labels, nil)
		for _, s := range f.samples {
			switch f.typ {
			case Counter:
				ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, s.v, s.values...)
			case Gauge:
				ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, s.v, s.values...)
			case Summary:
				qs := map[float64]float64{}
				for _, q := range s.quantiles {
					qs[q.Q] = q.V
				}
				ch <- prometheus.MustNewConstSummary(d, s.count, s.v, qs, s.values...)
			}
		}
	}
}

// clientGolangText is what client_golang's registry and expfmt write for
// c.
func clientGolangText(t *testing.T, c prometheus.Collector) []byte {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		require.NoError(t, enc.Encode(mf))
	}
	return b.Bytes()
}

func TestAppendTextLikeClientGolang(t *testing.T) {
	var set Set
	for _, f := range families {
		fam := set.Family(f.name, f.help, f.typ, f.labels...)
		for _, s := range f.samples {
			if f.typ == Summary {
				fam.AddSummary(s.quantiles, s.v, s.count, s.values...)
			} else {
				fam.Add(s.v, s.values...)
			}
		}
	}
	want := clientGolangText(t, constCollector(families))
	assert.Equal(t, string(want), string(set.AppendText(nil)))
}

// TestGoAndProcessLikeClientGolang: the go_* and process_* families are
// client_golang's default registry's, with the same help texts and
// types, and the values that hold still between two reads are the same.
func TestGoAndProcessLikeClientGolang(t *testing.T) {
	var set Set
	AddGo(&set)
	AddProcess(&set)
	ours := parse(t, set.AppendText(nil))
	mfs, err := prometheus.DefaultGatherer.Gather()
	require.NoError(t, err)
	require.NotEmpty(t, mfs)
	theirs := map[string]string{}
	for _, mf := range mfs {
		var b bytes.Buffer
		_, err := expfmt.MetricFamilyToText(&b, mf)
		require.NoError(t, err)
		for name, text := range parse(t, b.Bytes()) {
			theirs[name] = text
		}
	}
	require.Equal(t, keys(theirs), keys(ours), "the families")
	for name, text := range theirs {
		assert.Equal(t, header(text), header(ours[name]), name)
	}
	for _, name := range []string{"go_info", "go_sched_gomaxprocs_threads", "go_gc_gogc_percent", "go_gc_gomemlimit_bytes",
		"process_max_fds", "process_virtual_memory_max_bytes", "process_start_time_seconds"} {
		assert.Equal(t, theirs[name], ours[name], name)
	}
	// Resident memory moves, but not by a factor: bytes, not pages.
	rss := func(text map[string]string) float64 {
		parser := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := parser.TextToMetricFamilies(bytes.NewBufferString(text["process_resident_memory_bytes"]))
		require.NoError(t, err)
		return fams["process_resident_memory_bytes"].GetMetric()[0].GetGauge().GetValue()
	}
	assert.InEpsilon(t, rss(theirs), rss(ours), 0.5)
}

// parse splits an exposition into its families' text, by name.
func parse(t *testing.T, text []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	var name string
	for line := range bytes.Lines(text) {
		if rest, ok := bytes.CutPrefix(line, []byte("# HELP ")); ok {
			name = string(bytes.Fields(rest)[0])
		}
		require.NotEmpty(t, name, "a sample before any HELP line: %q", line)
		out[name] += string(line)
	}
	return out
}

// header is a family's HELP and TYPE lines.
func header(text string) string {
	lines := bytes.SplitAfterN([]byte(text), []byte("\n"), 3)
	return string(lines[0]) + string(lines[1])
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
