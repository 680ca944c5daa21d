// Package lite serves Prometheus metrics over HTTP without
// client_golang and without net/http: the endpoint of goprobe's
// --metrics. It writes the text exposition format (version 0.0.4) as
// client_golang's registry and expfmt write it, byte for byte (families
// sorted by name, samples by their labels, numbers as expfmt formats
// them), serves the Go runtime's and the process's metrics (go_*,
// process_*) under client_golang's names and help texts, and answers
// GET /metrics over HTTP/1.1 with a server of its own. The tests check
// the output against client_golang's on the same metrics.
//
// Why not client_golang, as gocapd does (package metrics): goprobe is
// meant to use no more memory than softflowd, and most of a binary's
// pages count in its resident memory, as the kernel maps the neighbours
// of every page a start touches (/proc/PID/smaps of goprobe -h: 9.4 of
// the 12.7 MB binary's pages, the text nearly whole). Linking
// client_golang (with its protobuf model, expfmt and procfs) and net/http
// (with crypto/tls) made goprobe's binary 12.7 MB instead of 5.7 MB and
// its resident memory 13.7 MB instead of 8.5 MB for goprobe -h, whether
// --metrics was given or not; a capture read's peak was 5 MB higher too.
// goprobe's few counters, a scrape at a time, need none of what those
// packages bring (content negotiation, protobuf, compression, HTTP/2,
// TLS). The server answers one request per connection, as a scraper
// needs, with net/http's limits: a bounded header, deadlines, four
// scrapes at a time.
package lite

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// Type is a metric family's type.
type Type uint8

// The types goprobe serves.
const (
	Counter Type = iota
	Gauge
	Summary
)

var typeNames = [...]string{Counter: "counter", Gauge: "gauge", Summary: "summary"}

// Set is the metrics of one scrape: families are added in any order, and
// AppendText writes them sorted, as client_golang's registry gathers
// them.
type Set struct {
	fams []*Family
}

// Family is one metric family of a Set: a name, its help text, its type
// and its label names, and the samples added to it.
type Family struct {
	name, help string
	typ        Type
	labels     []string // the label names as given
	order      []int    // the indexes of labels, sorted by name
	metrics    []metric
}

// metric is one sample of a family (or, for a summary, its quantiles,
// sum and count).
type metric struct {
	values    []string // the label values, in the order of Family.labels
	v         float64  // the value, or a summary's sum
	count     uint64
	quantiles []Quantile
}

// Quantile is one quantile of a summary.
type Quantile struct {
	Q, V float64
}

// Family adds a metric family; labels are its label names.
func (s *Set) Family(name, help string, typ Type, labels ...string) *Family {
	f := &Family{name: name, help: help, typ: typ, labels: labels,
		order: sortedIndex(len(labels), func(a, b int) int { return strings.Compare(labels[a], labels[b]) })}
	s.fams = append(s.fams, f)
	return f
}

// Add adds a sample of value v to a counter or gauge family, with its
// label values in the order the family's label names were given.
func (f *Family) Add(v float64, values ...string) {
	f.metrics = append(f.metrics, metric{values: values, v: v})
}

// AddSummary adds a summary's sample: its quantiles, the sum and the
// count of what it observed.
func (f *Family) AddSummary(quantiles []Quantile, sum float64, count uint64, values ...string) {
	qs := make([]Quantile, 0, len(quantiles))
	for _, i := range sortedIndex(len(quantiles), func(a, b int) int { return cmpFloat(quantiles[a].Q, quantiles[b].Q) }) {
		qs = append(qs, quantiles[i])
	}
	f.metrics = append(f.metrics, metric{values: values, v: sum, count: count, quantiles: qs})
}

// sortedIndex returns the indexes 0 to n-1 sorted stably by cmp. Every
// sort here goes through it, one instantiation of slices' generic sort:
// one for each element type sorted (labels, quantiles, families, samples)
// was 25 KB of goprobe's binary, all of it resident (see internal/inet).
func sortedIndex(n int, cmp func(a, b int) int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, cmp)
	return idx
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// AppendText appends the set in the text exposition format: the families
// sorted by name (those without samples left out), each with its HELP and
// TYPE lines and its samples sorted by their label values, label names in
// order.
func (s *Set) AppendText(b []byte) []byte {
	for _, fi := range sortedIndex(len(s.fams), func(x, y int) int { return strings.Compare(s.fams[x].name, s.fams[y].name) }) {
		f := s.fams[fi]
		if len(f.metrics) == 0 {
			continue
		}
		b = append(b, "# HELP "...)
		b = append(b, f.name...)
		b = append(b, ' ')
		b = appendEscaped(b, f.help, false)
		b = append(b, "\n# TYPE "...)
		b = append(b, f.name...)
		b = append(b, ' ')
		b = append(b, typeNames[f.typ]...)
		b = append(b, '\n')
		ms := f.metrics
		for _, mi := range sortedIndex(len(ms), func(x, y int) int {
			for _, i := range f.order {
				if c := strings.Compare(ms[x].values[i], ms[y].values[i]); c != 0 {
					return c
				}
			}
			return 0
		}) {
			b = f.appendMetric(b, &ms[mi])
		}
	}
	return b
}

// appendMetric appends the lines of one sample.
func (f *Family) appendMetric(b []byte, m *metric) []byte {
	if f.typ != Summary {
		return f.appendSample(b, "", m, -1, m.v)
	}
	for _, q := range m.quantiles {
		b = f.appendSample(b, "", m, q.Q, q.V)
	}
	b = f.appendSample(b, "_sum", m, -1, m.v)
	return f.appendSample(b, "_count", m, -1, float64(m.count))
}

// appendSample appends name+suffix, the labels (and a quantile label
// when q is not negative) and v.
func (f *Family) appendSample(b []byte, suffix string, m *metric, q, v float64) []byte {
	b = append(b, f.name...)
	b = append(b, suffix...)
	sep := byte('{')
	for _, i := range f.order {
		b = append(b, sep)
		b = append(b, f.labels[i]...)
		b = append(b, `="`...)
		b = appendEscaped(b, m.values[i], true)
		b = append(b, '"')
		sep = ','
	}
	if q >= 0 {
		b = append(b, sep)
		b = append(b, `quantile="`...)
		b = appendFloat(b, q)
		b = append(b, '"')
		sep = ','
	}
	if sep == ',' {
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = appendFloat(b, v)
	return append(b, '\n')
}

// appendEscaped appends s with backslashes and line feeds escaped, and
// double quotes too in a label value.
func appendEscaped(b []byte, s string, quote bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, `\\`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '"' && quote:
			b = append(b, `\"`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendFloat appends v as expfmt writes a sample value.
func appendFloat(b []byte, v float64) []byte {
	switch {
	case v == 1:
		return append(b, '1')
	case v == 0:
		return append(b, '0')
	case v == -1:
		return append(b, "-1"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}
