// Package metricstest reads what a --metrics endpoint serves, for the
// tests of gocapd and goprobe: the samples of a scrape, and the metric
// names a man page's METRICS section lists, so that each command's test
// checks that the page and the endpoint name the same metrics.
package metricstest

import (
	"fmt"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Scrape reads the endpoint at url into a map from each sample, written as
// Sample writes it, to its value.
func Scrape(t testing.TB, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	out := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName(), l.GetValue())
			}
			out[Sample(name, labels...)] = m.GetCounter().GetValue() + m.GetGauge().GetValue() + m.GetUntyped().GetValue()
		}
	}
	return out
}

// Sample names a sample: name{label="value",...} with the labels sorted,
// or the bare name without labels. The labels are name, value, name,
// value...
func Sample(name string, labels ...string) string {
	var ls []string
	for i := 0; i+1 < len(labels); i += 2 {
		ls = append(ls, fmt.Sprintf("%s=%q", labels[i], labels[i+1]))
	}
	if len(ls) == 0 {
		return name
	}
	sort.Strings(ls)
	return name + "{" + strings.Join(ls, ",") + "}"
}

// Served returns the names of the metrics in a scrape that start with
// prefix, sorted.
func Served(samples map[string]float64, prefix string) []string {
	seen := map[string]bool{}
	for k := range samples {
		name, _, _ := strings.Cut(k, "{")
		if strings.HasPrefix(name, prefix) {
			seen[name] = true
		}
	}
	var names []string
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Listed returns the metric names starting with prefix that the METRICS
// section of the man page at path lists (each on a line ".B name"),
// sorted.
func Listed(t testing.TB, path, prefix string) []string {
	t.Helper()
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(page), "\n.SH METRICS\n")
	if !ok {
		t.Fatalf("%s has no METRICS section", path)
	}
	section, _, _ = strings.Cut(section, "\n.SH ")
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^\.B (`+regexp.QuoteMeta(prefix)+`\w+)$`).FindAllStringSubmatch(section, -1) {
		names = append(names, m[1])
	}
	sort.Strings(names)
	return names
}
