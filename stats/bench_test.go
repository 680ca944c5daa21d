package stats

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/flowgen"
)

// BenchmarkCountBorder counts an archive of the border shape (200 k hosts,
// 50 k ports) as godump does, block by block into a block's table merged
// into the total, and, for comparison, flow by flow into the total. An op
// is one archive of 1 M flows in blocks of 8000 (about what a 1 MiB block
// holds); ns/flow is the figure to compare.
func BenchmarkCountBorder(b *testing.B) {
	const flows, perBlock = 1 << 20, 8000
	g := flowgen.NewBorder(1, 1795556400000)
	blocks := make([][]flow.Record, 0, flows/perBlock)
	for n := 0; n < flows; n += perBlock {
		blk := make([]flow.Record, perBlock)
		for i := range blk {
			g.Next(&blk[i])
		}
		blocks = append(blocks, blk)
	}
	for _, s := range []string{"srcip/bytes", "dstport/bytes", "proto/bytes", "as/bytes", "vlan/bytes"} {
		spec, err := ParseSpec(s)
		require.NoError(b, err)
		b.Run(s+"/blocks", func(b *testing.B) {
			block := NewTable(spec)
			b.ReportAllocs()
			c0 := cpuNanos()
			for i := 0; i < b.N; i++ {
				total := NewTable(spec)
				for _, blk := range blocks {
					block.Reset()
					for j := range blk {
						block.Add(&blk[j])
					}
					total.Merge(block)
				}
			}
			b.ReportMetric(float64(cpuNanos()-c0)/float64(b.N*len(blocks)*perBlock), "cpu-ns/flow")
		})
		b.Run(s+"/direct", func(b *testing.B) {
			b.ReportAllocs()
			c0 := cpuNanos()
			for i := 0; i < b.N; i++ {
				total := NewTable(spec)
				for _, blk := range blocks {
					for j := range blk {
						total.Add(&blk[j])
					}
				}
			}
			b.ReportMetric(float64(cpuNanos()-c0)/float64(b.N*len(blocks)*perBlock), "cpu-ns/flow")
		})
	}
}

func cpuNanos() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkMergeBorder merges border-shaped block tables into the run's
// table: one part, or a Split of two or eight parts merged one after the
// other (what goroutines do side by side). cpu-ns/flow is the figure.
func BenchmarkMergeBorder(b *testing.B) {
	const flows, perBlock = 1 << 20, 8000
	g := flowgen.NewBorder(1, 1795556400000)
	spec, err := ParseSpec("srcip/bytes")
	require.NoError(b, err)
	var blocks []*Table
	for n := 0; n < flows; n += perBlock {
		t := NewTable(spec)
		var r flow.Record
		for i := 0; i < perBlock; i++ {
			g.Next(&r)
			t.Add(&r)
		}
		blocks = append(blocks, t)
	}
	for _, parts := range []int{1, 2, 8} {
		b.Run(fmt.Sprint(parts), func(b *testing.B) {
			c0 := cpuNanos()
			for i := 0; i < b.N; i++ {
				s := NewSplit(spec, parts)
				for _, blk := range blocks {
					MergeBlocks([]*Split{s}, []*Table{blk}, []uint64{s.Reserve(blk)})
				}
			}
			b.ReportMetric(float64(cpuNanos()-c0)/float64(b.N*flows), "cpu-ns/flow")
		})
	}
}

// BenchmarkAddRawHome counts home-shaped records (a few hundred hosts)
// from their bytes into a block's tables, as godump's workers do: -s
// srcip alone, and the lab's srcip, dstip and proto together. The
// records lie one after the other in a buffer of a block's size, as
// decompressed. ns/flow is the figure.
func BenchmarkAddRawHome(b *testing.B) {
	const perBlock = 8000
	g := flowgen.New(1, 1795556400000)
	l, f := rawLayout(4, true)
	var buf []byte
	for i := 0; i < perBlock; i++ {
		var r flow.Record
		g.Next(&r)
		rec, _ := rawRecord(r, &l, f)
		buf = append(buf, rec...)
	}
	for _, specs := range [][]string{{"srcip/bytes"}, {"srcip/bytes", "dstip/bytes", "proto/bytes"}} {
		b.Run(fmt.Sprint(len(specs)), func(b *testing.B) {
			tables := make([]*Table, len(specs))
			plans := make([]RawPlan, len(specs))
			for i, s := range specs {
				spec, err := ParseSpec(s)
				require.NoError(b, err)
				tables[i] = NewTable(spec)
				var ok bool
				plans[i], ok = tables[i].Plan(&l, f)
				require.True(b, ok)
			}
			b.ReportAllocs()
			b.ResetTimer()
			c0 := cpuNanos()
			for i := 0; i < b.N; i++ {
				for _, t := range tables {
					t.Reset()
				}
				for off := 0; off < len(buf); off += 128 {
					AddRawAll(tables, plans, buf[off:off+128])
				}
			}
			b.ReportMetric(float64(cpuNanos()-c0)/float64(b.N*perBlock), "cpu-ns/flow")
			b.ReportMetric(float64(tables[0].Len()), "rows")
		})
	}
}

// BenchmarkTopBorder ranks a table of the border shape's 200 k source
// addresses in two parts, as godump's run holds it, for -n 10: the main
// goroutine's work once the reader's workers are done.
func BenchmarkTopBorder(b *testing.B) {
	const flows, perBlock = 2_000_000, 8000
	g := flowgen.NewBorder(1, 1795556400000)
	spec, err := ParseSpec("srcip/bytes")
	require.NoError(b, err)
	s := NewSplit(spec, 2)
	blk := NewTable(spec)
	var r flow.Record
	for n := 0; n < flows; n += perBlock {
		blk.Reset()
		for i := 0; i < perBlock; i++ {
			g.Next(&r)
			blk.Add(&r)
		}
		MergeBlocks([]*Split{s}, []*Table{blk}, []uint64{s.Reserve(blk)})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Top(spec.Orders[0], 10, Limit{}, Limit{})
	}
}
