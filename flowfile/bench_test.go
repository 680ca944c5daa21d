package flowfile

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/flowgen"
)

// benchRecords is the size of the benchmark files: the target is
// stated for a file of one million records.
const benchRecords = 1_000_000

var benchFiles sync.Map // Compression -> path of a file shared by benchmarks

// TestMain removes the benchmark files, which are shared between
// benchmarks and so outlive each one's TempDir.
func TestMain(m *testing.M) {
	code := m.Run()
	benchFiles.Range(func(_, p any) bool {
		os.RemoveAll(filepath.Dir(p.(string)))
		return true
	})
	os.Exit(code)
}

// benchFile writes (once per test binary) a file of benchRecords generated
// flows with compression c.
func benchFile(b *testing.B, c Compression) string {
	if p, ok := benchFiles.Load(c); ok {
		return p.(string)
	}
	dir, err := os.MkdirTemp("", "flowfile-bench")
	if err != nil {
		b.Fatal(err)
	}
	p := filepath.Join(dir, "nfcapd.bench-"+c.String())
	writeGenerated(b, p, c, benchRecords)
	benchFiles.Store(c, p)
	return p
}

// benchFlows is a pool of generated flows that writers cycle through, so
// the write benchmarks measure the writer, not the generator.
var benchFlows = sync.OnceValue(func() []flow.Record {
	g := flowgen.New(1, 1_795_555_903_000)
	recs := make([]flow.Record, 1<<16)
	for i := range recs {
		g.Next(&recs[i])
	}
	return recs
})

func writeGenerated(b testing.TB, path string, c Compression, n int) {
	w, err := Create(path, WriteOptions{Compression: c, Ident: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	exp := flowgen.New(1, 0).Exporter()
	if err := w.WriteExporter(&exp); err != nil {
		b.Fatal(err)
	}
	recs := benchFlows()
	for i := 0; i < n; i++ {
		if err := w.WriteFlow(&recs[i&(len(recs)-1)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// benchmarkRead reads the whole file per iteration. It reports records/s
// over all cores, and records/s/core (the rate divided by GOMAXPROCS) for the
// per-core target; allocs/op is per file of a million records.
func benchmarkRead(b *testing.B, c Compression) {
	path := benchFile(b, c)
	fi, _ := os.Stat(path)
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		r, err := Open(path, ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		var bytes uint64
		for r.Next() {
			if r.Kind() == KindFlow {
				bytes += r.Flow().InBytes
				n++
			}
		}
		if r.Err() != nil || bytes == 0 {
			b.Fatal(r.Err())
		}
		r.Close()
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(n)/sec, "records/s")
	b.ReportMetric(float64(n)/sec/float64(runtime.GOMAXPROCS(0)), "records/s/core")
}

func BenchmarkReadLZ4(b *testing.B) { benchmarkRead(b, LZ4) }

// BenchmarkTallyLZ4 counts an LZ4 file as godump -o null does: the
// workers sum the flows, the consumer sees none.
func BenchmarkTallyLZ4(b *testing.B) {
	path := benchFile(b, LZ4)
	fi, _ := os.Stat(path)
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	b.ResetTimer()
	var n uint64
	for i := 0; i < b.N; i++ {
		r, err := Open(path, ReadOptions{Tally: true})
		if err != nil {
			b.Fatal(err)
		}
		for r.Next() {
		}
		if r.Err() != nil || r.Tally().Bytes == 0 {
			b.Fatal(r.Err())
		}
		n += r.Tally().Records
		r.Close()
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkSelectLZ4 reads an LZ4 file with a selector ("proto 6"): the
// workers select, Next decodes and hands out only the flows that pass, or
// with Tally the workers count them. allocs/op is per file of a million
// records.
func BenchmarkSelectLZ4(b *testing.B) {
	for _, tally := range []bool{false, true} {
		b.Run(fmt.Sprintf("tally=%v", tally), func(b *testing.B) {
			path := benchFile(b, LZ4)
			fi, _ := os.Stat(path)
			b.SetBytes(fi.Size())
			b.ReportAllocs()
			b.ResetTimer()
			var n uint64
			for i := 0; i < b.N; i++ {
				r, err := Open(path, ReadOptions{Select: protoSelector{6}, Tally: tally})
				if err != nil {
					b.Fatal(err)
				}
				for r.Next() {
				}
				if r.Err() != nil || r.Passed() == 0 || r.Passed() == r.Processed() {
					b.Fatal(r.Err(), r.Passed(), r.Processed())
				}
				n += r.Processed()
				r.Close()
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

func BenchmarkReadNone(b *testing.B) { benchmarkRead(b, None) }
func BenchmarkReadLZO(b *testing.B)  { benchmarkRead(b, LZO) }
func BenchmarkReadZSTD(b *testing.B) { benchmarkRead(b, ZSTD) }

func benchmarkWrite(b *testing.B, c Compression) {
	dir := b.TempDir()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		writeGenerated(b, filepath.Join(dir, "f"), c, benchRecords)
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N*benchRecords)/sec, "records/s")
}

func BenchmarkWriteLZ4(b *testing.B)  { benchmarkWrite(b, LZ4) }
func BenchmarkWriteNone(b *testing.B) { benchmarkWrite(b, None) }
func BenchmarkWriteLZO(b *testing.B)  { benchmarkWrite(b, LZO) }
func BenchmarkWriteBZ2(b *testing.B)  { benchmarkWrite(b, BZ2) }

// BenchmarkDecodeV3 measures the per-record decode on one core, without
// decompression or I/O.
func BenchmarkDecodeV3(b *testing.B) {
	g := flowgen.New(2, 1_795_555_903_000)
	var recs [][]byte
	var r flow.Record
	for i := 0; i < 1024; i++ {
		g.Next(&r)
		recs = append(recs, appendV3(nil, &r, new(v3Layout)))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := decodeV3(recs[i&1023], &r, allElements); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkDecodeV3Shapes is BenchmarkDecodeV3 through a v3Decoder, as
// the reader decodes: records of known layouts without walking them.
func BenchmarkDecodeV3Shapes(b *testing.B) {
	g := flowgen.New(2, 1_795_555_903_000)
	var recs [][]byte
	var r flow.Record
	for i := 0; i < 1024; i++ {
		g.Next(&r)
		recs = append(recs, appendV3(nil, &r, new(v3Layout)))
	}
	var d v3Decoder
	d.reset(allElements)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := d.decode(recs[i&1023], &r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkEncodeV3 measures the per-record encode on one core, for the
// records a collector writes: one element set, as a router's template
// gives, with varying values.
func BenchmarkEncodeV3(b *testing.B) {
	var recs [256]flow.Record
	for i := range recs {
		r := &recs[i]
		r.Elements = flow.Elements(0).With(flow.ElemGeneric).With(flow.ElemIPv4).With(flow.ElemMisc).With(flow.ElemExporterIPv4)
		r.SrcAddr = netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		r.DstAddr = netip.AddrFrom4([4]byte{192, 168, 1, byte(i)})
		r.Exporter = netip.AddrFrom4([4]byte{127, 0, 0, 1})
		r.SrcPort, r.DstPort, r.Proto = uint16(1024+i), 443, 6
		r.InPackets, r.InBytes = uint64(1+i), uint64(64*(1+i))
		r.First, r.Last, r.Received = 1_800_000_000_000, 1_800_000_000_100, 1_800_000_001_000
		r.Input, r.Output = 3, 3
		r.NFVersion = 9
	}
	var l v3Layout
	buf := make([]byte, 0, 1<<20)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if len(buf) > 1<<20-512 {
			buf = buf[:0]
		}
		buf = appendV3(buf, &recs[i&255], &l)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// sumVisitor sums the bytes of its block's flows. Two workers write
// their visitors' sums at every flow: each sum has a cache line of its own,
// or the line would go back and forth between the cores.
type sumVisitor struct {
	bytes uint64
	_     [56]byte
}

func (v *sumVisitor) Reset()              { v.bytes = 0 }
func (v *sumVisitor) Flow(r *flow.Record) { v.bytes += r.InBytes }

// sumVisits returns the read options of the visiting benchmarks: the
// workers count into sumVisitors, which go back to a free list once the
// consumer has taken their block, as godump's visitors do.
func sumVisits() ReadOptions {
	var free []BlockVisitor
	return ReadOptions{
		Elements: flow.TotalsElements,
		Visit: func() BlockVisitor {
			if n := len(free); n > 0 {
				v := free[n-1]
				free = free[:n-1]
				return v
			}
			return &sumVisitor{}
		},
		Release: func(v BlockVisitor) { free = append(free, v) },
	}
}

// readSums reads r to its end through its sumVisitors and closes it. It
// returns the records r read, and fails b when r fails or counted no
// bytes.
func readSums(b *testing.B, r *Reader) uint64 {
	var bytes uint64
	for r.Next() {
		if r.Kind() == KindBlock {
			bytes += r.Block().(*sumVisitor).bytes
		}
	}
	if r.Err() != nil || bytes == 0 {
		b.Fatal(r.Err())
	}
	n := r.Tally().Records
	r.Close()
	return n
}

// BenchmarkVisitLZ4 reads an LZ4 file as godump -s does: the workers decode
// each block's flows into a visitor, the consumer merges the visitors in
// file order. allocs/op is per file of a million records.
func BenchmarkVisitLZ4(b *testing.B) {
	path := benchFile(b, LZ4)
	fi, _ := os.Stat(path)
	b.SetBytes(fi.Size())
	opts := sumVisits()
	b.ReportAllocs()
	b.ResetTimer()
	var n uint64
	for i := 0; i < b.N; i++ {
		r, err := Open(path, opts)
		if err != nil {
			b.Fatal(err)
		}
		n += readSums(b, r)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkVisitSetLZ4 reads a set of 8 LZ4 files of 125 000 records each
// as godump -s -R does, each file's reader on its own (alone) or all
// through one Pipeline, each file opened while the one before is read
// (pipeline): the difference is what starting and draining the workers
// at every file costs. allocs/op is per set of a million records.
func BenchmarkVisitSetLZ4(b *testing.B) {
	dir := b.TempDir()
	paths := make([]string, 8)
	for i := range paths {
		paths[i] = filepath.Join(dir, fmt.Sprintf("nfcapd.%d", i))
		writeGenerated(b, paths[i], LZ4, benchRecords/len(paths))
	}
	for _, piped := range []bool{false, true} {
		name := "alone"
		if piped {
			name = "pipeline"
		}
		b.Run(name, func(b *testing.B) {
			opts := sumVisits()
			open := func(path string) *Reader {
				r, err := Open(path, opts)
				if err != nil {
					b.Fatal(err)
				}
				return r
			}
			b.ReportAllocs()
			b.ResetTimer()
			var n uint64
			for i := 0; i < b.N; i++ {
				var p *Pipeline
				if piped {
					p = NewPipeline(0, opts)
					opts.Pipeline = p
				}
				next := open(paths[0])
				for k := range paths {
					r := next
					if k+1 < len(paths) && piped {
						next = open(paths[k+1])
					}
					n += readSums(b, r)
					if k+1 < len(paths) && !piped {
						next = open(paths[k+1])
					}
				}
				if p != nil {
					p.Close()
					opts.Pipeline = nil
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
