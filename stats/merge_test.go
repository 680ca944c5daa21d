package stats

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/flowgen"
	"github.com/nfgo/nftools/output"
)

// mergeRecords are flows for the merge tests: many keys seen once, in
// some blocks only, and many ties.
func mergeRecords() []flow.Record {
	g := flowgen.New(3, 1795556400000)
	rng := rand.New(rand.NewPCG(41, 42))
	recs := make([]flow.Record, 20000)
	for i := range recs {
		if i%3 == 0 {
			recs[i] = flowgen.Random(rng)
			continue
		}
		g.Next(&recs[i])
		recs[i].InBytes = uint64(i % 7)
	}
	return recs
}

// mergeSpecs are the statistics the merge tests count: the common
// elements, which count from the records' bytes, ascending and descending
// orders, a protocol split, and elements counted through the field table.
var mergeSpecs = []string{"srcip/flows/bytes/pps/bpp", "ip/bytes:a", "dstport:p/packets/obyte", "proto/flows/bps",
	"srcport/bytes", "mpls2/ipkg", "insrcmac/flows"}

// tabler is a Table or a Split.
type tabler interface {
	Len() int
	Top(o Order, topN int, packets, bytes Limit) *output.StatBlock
}

// requireSameTops checks that got prints, for every order of spec, the
// rows (all of them, ties in first-seen order, times, counters) that want
// prints.
func requireSameTops(t *testing.T, spec Spec, want, got tabler, what string) {
	t.Helper()
	require.Equal(t, want.Len(), got.Len(), what)
	for _, o := range spec.Orders {
		for _, topN := range []int{0, 10} {
			w, g := want.Top(o, topN, Limit{}, Limit{}), got.Top(o, topN, Limit{}, Limit{})
			// Compare row by row: a diff of thousands of rows takes
			// minutes to print.
			require.Equal(t, len(w.Rows), len(g.Rows))
			for i := range w.Rows {
				if w.Rows[i] != g.Rows[i] {
					t.Fatalf("%s by %s, top %d: row %d is %+v, want %+v", what, o.Name, topN, i, g.Rows[i], w.Rows[i])
				}
			}
			w.Rows, g.Rows = nil, nil
			assert.Equal(t, w, g)
		}
	}
}

// TestMergeLikeAdd counts flows block by block into a reused table and
// merges the blocks in order, and checks that every order prints what
// counting the flows one by one prints.
func TestMergeLikeAdd(t *testing.T) {
	recs := mergeRecords()
	for _, s := range mergeSpecs {
		spec := mustSpec(t, s)
		want := countAll(spec, recs)
		for _, size := range []int{1, 7, 1000, 5000, len(recs)} {
			got, block := NewTable(spec), NewTable(spec)
			for start := 0; start < len(recs); start += size {
				block.Reset()
				for i := start; i < min(start+size, len(recs)); i++ {
					block.Add(&recs[i])
				}
				got.Merge(block)
			}
			requireSameTops(t, spec, want, got, fmt.Sprintf("%s, blocks of %d", s, size))
		}
	}
}

// countAll counts recs one by one into a table of spec: what every way
// of counting them in blocks must print.
func countAll(spec Spec, recs []flow.Record) *Table {
	t := NewTable(spec)
	for i := range recs {
		t.Add(&recs[i])
	}
	return t
}

// countBlocks counts recs into tables of spec, size flows a block, each
// readied by prepare (when not nil) before its first flow, and reserves
// them in order in split, as godump's reader numbers its blocks.
func countBlocks(split *Split, spec Spec, recs []flow.Record, size int, prepare func(*Table)) (blocks []*Table, bases []uint64) {
	for start := 0; start < len(recs); start += size {
		block := NewTable(spec)
		if prepare != nil {
			prepare(block)
		}
		for i := start; i < min(start+size, len(recs)); i++ {
			block.Add(&recs[i])
		}
		blocks = append(blocks, block)
		bases = append(bases, split.Reserve(block))
	}
	return blocks, bases
}

// TestMergeBlocksLikeAdd counts flows block by block, numbers the blocks
// in order and merges them into a Split on several goroutines at once,
// in an order of their own (the last blocks first), and checks that every
// order prints what counting the flows one by one prints: sums, times and
// the first-seen order of ties do not depend on which block merged first
// or on how many parts the table has.
func TestMergeBlocksLikeAdd(t *testing.T) {
	eachMergeCase(t, func(recs []flow.Record, spec Spec, want *Table, parts, size int, name string) {
		got := NewSplit(spec, parts)
		blocks, bases := countBlocks(got, spec, recs, size, nil)
		next := make(chan int, len(blocks))
		for i := len(blocks) - 1; i >= 0; i-- {
			next <- i
		}
		close(next)
		var wg sync.WaitGroup
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					MergeBlocks([]*Split{got}, blocks[i:i+1], bases[i:i+1])
				}
			}()
		}
		wg.Wait()
		requireSameTops(t, spec, want, got, name)
	})
}

// TestLogModeLikeAdd counts flows block by block into tables in log
// mode (a row for every flow), merges them into Splits as godump's
// workers do, last blocks first, and checks that every order prints
// what counting the flows one by one prints: a key's rows add up, also
// those of one block, and the key ranks as first seen at its first flow.
func TestLogModeLikeAdd(t *testing.T) {
	eachMergeCase(t, func(recs []flow.Record, spec Spec, want *Table, parts, size int, name string) {
		got := NewSplit(spec, parts)
		blocks, bases := countBlocks(got, spec, recs, size, func(block *Table) { block.startLog(parts) })
		for i, block := range blocks {
			if spec.Element.Name != "proto" { // a row for each protocol
				start := i * size
				require.Equal(t, (min(start+size, len(recs))-start)*len(spec.Element.fields), block.Len(), "a row for each key of each flow")
			}
		}
		for i := len(blocks) - 1; i >= 0; i-- {
			MergeBlocks([]*Split{got}, blocks[i:i+1], bases[i:i+1])
		}
		requireSameTops(t, spec, want, got, name+", log mode")
		// Merged in order into one table (Table.Merge).
		one := NewTable(spec)
		for _, b := range blocks {
			one.Merge(b)
		}
		requireSameTops(t, spec, want, one, name+", log mode, Merge")
	})
}

// eachMergeCase runs check for every merge spec, split of 1-3 parts and
// block size (7 and 1000 flows) over mergeRecords, with what counting
// the records one by one gives (want) and a name for the case.
func eachMergeCase(t *testing.T, check func(recs []flow.Record, spec Spec, want *Table, parts, size int, name string)) {
	recs := mergeRecords()
	for _, s := range mergeSpecs {
		spec := mustSpec(t, s)
		want := countAll(spec, recs)
		for _, parts := range []int{1, 2, 3} {
			for _, size := range []int{7, 1000} {
				check(recs, spec, want, parts, size, fmt.Sprintf("%s, %d parts, blocks of %d", s, parts, size))
			}
		}
	}
}

// TestMergeBlocksSeveral merges the blocks of three statistics at once,
// as godump's -s srcip -s dstip -s proto does, and gets what each counts
// alone.
func TestMergeBlocksSeveral(t *testing.T) {
	recs := mergeRecords()
	specs := []Spec{mustSpec(t, "srcip/bytes"), mustSpec(t, "dstip/bytes"), mustSpec(t, "proto/flows")}
	splits := make([]*Split, len(specs))
	blocks := make([]*Table, len(specs))
	bases := make([]uint64, len(specs))
	for i, spec := range specs {
		splits[i], blocks[i] = NewSplit(spec, 2), NewTable(spec)
	}
	for start := 0; start < len(recs); start += 3000 {
		for i, b := range blocks {
			b.Reset()
			for j := start; j < min(start+3000, len(recs)); j++ {
				b.Add(&recs[j])
			}
			bases[i] = splits[i].Reserve(b)
		}
		MergeBlocks(splits, blocks, bases)
	}
	for i, spec := range specs {
		want := countAll(spec, recs)
		requireSameTops(t, spec, want, splits[i], spec.Element.Name)
	}
}

// TestResetKeepsMemory: a block table reused for blocks of no more keys
// than before allocates nothing, and merging keys the table knows
// allocates nothing either.
func TestResetKeepsMemory(t *testing.T) {
	g := flowgen.New(1, 1795556400000)
	recs := make([]flow.Record, 5000)
	for i := range recs {
		g.Next(&recs[i])
	}
	spec := mustSpec(t, "ip/bytes")
	total, block := NewTable(spec), NewTable(spec)
	count := func() {
		block.Reset()
		for i := range recs {
			block.Add(&recs[i])
		}
		total.Merge(block)
	}
	count()
	assert.Zero(t, testing.AllocsPerRun(10, count))
	assert.Equal(t, block.Len(), total.Len())
	block.Reset()
	assert.Zero(t, block.Len())
}

func BenchmarkMerge(b *testing.B) {
	g := flowgen.New(1, 1795556400000)
	recs := make([]flow.Record, 10000)
	for i := range recs {
		g.Next(&recs[i])
	}
	for _, s := range []string{"srcip/bytes", "dstport:p/bytes"} {
		spec, err := ParseSpec(s)
		require.NoError(b, err)
		b.Run(s, func(b *testing.B) {
			total, block := NewTable(spec), NewTable(spec)
			for i := range recs {
				block.Add(&recs[i])
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				total.Merge(block)
			}
			b.ReportMetric(float64(block.Len()), "rows/op")
		})
	}
}

// TestSplitTopLikeTable: a Split ranks each part's rows on a goroutine of
// its own and then the parts' best; that is the top a single table of the
// same flows gives, with ties on the value (its blocks merged out of
// order), limits, and ascending orders (ignored from 100 rows on).
func TestSplitTopLikeTable(t *testing.T) {
	recs := tiedBorder(5, 6000, 4000)
	// Every key the same counters: the first seen rank first.
	same := slices.Clone(recs)
	for i := range same {
		r := &same[i]
		r.InPackets, r.InBytes, r.OutPackets, r.OutBytes, r.Flows = 1, 100, 0, 0, 0
		r.SrcAddr = netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
	}
	testSplitTopLikeTable(t, recs, []string{"srcip/flows/bytes/bpp", "dstport:p/packets/obyte:a", "proto/bytes:a"})
	testSplitTopLikeTable(t, same, []string{"srcip/bytes", "srcip/flows:a"})
}

func testSplitTopLikeTable(t *testing.T, recs []flow.Record, specs []string) {
	for _, s := range specs {
		spec := mustSpec(t, s)
		want := countAll(spec, recs)
		for _, parts := range []int{2, 3} {
			// The blocks merge last first, as MergeBlocks may take them
			// out of order: a part's rows are then not in the order their
			// keys were first seen, which breaks ties.
			got := NewSplit(spec, parts)
			var blocks []*Table
			var bases []uint64
			for start := 0; start < len(recs); start += 1000 {
				block := NewTable(spec)
				for i := start; i < start+1000; i++ {
					block.Add(&recs[i])
				}
				blocks = append(blocks, block)
				bases = append(bases, got.Reserve(block))
			}
			for i := len(blocks) - 1; i >= 0; i-- {
				MergeBlocks([]*Split{got}, blocks[i:i+1], bases[i:i+1])
			}
			for _, o := range spec.Orders {
				for _, lim := range []Limit{{}, {Value: 3000}, {Value: 100000, Less: true}} {
					for _, n := range []int{1, 10, 99, 100, 101, want.Len() - 1, 0} {
						w, g := want.Top(o, n, Limit{}, lim), got.Top(o, n, Limit{}, lim)
						require.Equal(t, w, g, "%s by %s in %d parts, -L %+v, top %d", s, o.Name, parts, lim, n)
					}
				}
			}
		}
	}
}

// TestPartitionHashes checks that partition gives every row of a table,
// once, in the part of its key's hash, with that hash, which it takes
// from the index slot for small keys and from the row for the others.
func TestPartitionHashes(t *testing.T) {
	for _, s := range mergeSpecs {
		spec, err := ParseSpec(s)
		require.NoError(t, err)
		tbl := NewTable(spec)
		for _, r := range mergeRecords() {
			tbl.Add(&r)
		}
		for _, parts := range []int{1, 2, 3, 8} {
			tbl.partition(parts)
			seen := make([]bool, tbl.Len())
			for p, rows := range tbl.byPart {
				for _, r := range rows {
					w := tbl.row(r.num())
					k := w.meta & keyMask
					h := hashKey(w.hi, w.lo, k)
					require.Equal(t, h&^(1<<32-1), r.hash(), s)
					require.Equal(t, isSmall(w.hi, w.lo, k), r.row&rowSmall != 0, s)
					require.Equal(t, w.meta&metaOut != 0, r.out(), s)
					require.Equal(t, p, partOf(h, parts), s)
					require.False(t, seen[r.num()], s)
					seen[r.num()] = true
				}
			}
			require.NotContains(t, seen, false, s)
		}
	}
}
