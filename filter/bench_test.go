package filter_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nfgo/nftools/filter"
	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/flowgen"
)

// benchFlows are flows carrying every element, for the Match benchmarks.
func benchFlows() []flow.Record {
	g := flowgen.NewFull(1, 1_795_555_903_000)
	recs := make([]flow.Record, 4096)
	for i := range recs {
		g.Next(&recs[i])
	}
	return recs
}

func benchMatch(b *testing.B, expr string) {
	f, err := filter.Compile(expr, filter.Options{})
	if err != nil {
		b.Fatal(err)
	}
	recs := benchFlows()
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		if f.Match(&recs[i&4095]) {
			n++
		}
	}
	_ = n
}

// BenchmarkMatch measures Match per primitive: ns per record, and no
// allocation.
func BenchmarkMatch(b *testing.B) {
	for _, expr := range []string{
		"any",
		"proto tcp",
		"port 80",
		"src port > 1024",
		"ip 10.0.0.1",
		"net 10.0.0.0/8",
		"net 2001:db8::/32",
		"bytes > 1k",
		"flags SA",
		"not flags SA",
		"pps > 1000",
		"duration > 1000",
		"vlan 100",
		"mac 00:11:22:33:44:55",
		"mpls any 5",
		"as 64512",
		"next ip 10.0.0.1",
		"router ip 127.0.0.1",
		"port in [22 53 80 443 8080]",
		"ip in [10.0.0.1 10.0.0.2 192.168.0.0/16 2001:db8::/32]",
		"client latency > 1000",
		"proto tcp and (port 80 or port 443) and not net 10.0.0.0/8 or proto udp and dst port 53",
	} {
		b.Run(expr, func(b *testing.B) { benchMatch(b, expr) })
	}
}

// ipList returns an `ip in [...]` of n IPv4 addresses, one of which is in
// the benchmark flows.
func ipList(n int) string {
	var sb strings.Builder
	sb.WriteString("ip in [10.0.0.1")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&sb, " 11.%d.%d.%d", i>>16&255, i>>8&255, i&255)
	}
	sb.WriteString("]")
	return sb.String()
}

// BenchmarkMatchIPList shows that an address list costs the same per flow
// whatever its length: a hash probe per prefix length, not a scan.
func BenchmarkMatchIPList(b *testing.B) {
	for _, n := range []int{10, 1000, 100_000} {
		expr := ipList(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchMatch(b, expr) })
	}
}

// BenchmarkCompileIPList measures compiling a list of 100 000 addresses.
func BenchmarkCompileIPList(b *testing.B) {
	expr := ipList(100_000)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := filter.Compile(expr, filter.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompileTerms measures compiling a megabyte of or-ed terms.
func BenchmarkCompileTerms(b *testing.B) {
	var sb strings.Builder
	for i := 0; sb.Len() < 1<<20; i++ {
		fmt.Fprintf(&sb, "port %d or ", i%65536)
	}
	sb.WriteString("proto tcp")
	expr := sb.String()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := filter.Compile(expr, filter.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMatchNetList measures an or of 100 networks, which nfdump
// walks block by block.
func BenchmarkMatchNetList(b *testing.B) {
	var sb strings.Builder
	for i := 0; i < 100; i++ {
		if i > 0 {
			sb.WriteString(" or ")
		}
		fmt.Fprintf(&sb, "net %d.%d.0.0/16", 20+i, (i*37)%256)
	}
	benchMatch(b, sb.String())
}

// benchFilters are the five filters of scripts/bench/filter.sh.
var benchFilters = flowgen.BenchFilters()

// BenchmarkMatchBench measures Match with the filters of
// scripts/bench/filter.sh, on flows of the home shape that script
// generates (scripts/nfgen).
func BenchmarkMatchBench(b *testing.B) {
	g := flowgen.New(1, 1_795_555_903_000)
	recs := make([]flow.Record, 4096)
	for i := range recs {
		g.Next(&recs[i])
	}
	for i, expr := range benchFilters {
		name := []string{"primitive", "five-terms", "ip-list-1000", "net-list-100", "twenty-terms"}[i]
		b.Run(name, func(b *testing.B) {
			f, err := filter.Compile(expr, filter.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			n := 0
			for i := 0; b.Loop(); i++ {
				if f.Match(&recs[i&4095]) {
					n++
				}
			}
			_ = n
		})
	}
}
