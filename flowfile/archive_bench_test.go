package flowfile

import (
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/filter"
	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/flowgen"
)

// archiveBlocks returns the decompressed data blocks of the flow file
// NFBENCH_FILE names, skipping the benchmark when it names none; with
// NFBENCH_BLOCKS=k only its first k, so that they stay in the cache, as
// a block does between the worker's decompressing and walking it. Under
// callgrind (GODEBUG=asyncpreemptoff=1, or it aborts on a preemption
// signal) the benchmark's instructions a record are those of the loops
// the workers run, apart from decompressing.
func archiveBlocks(b *testing.B) [][]byte {
	path := os.Getenv("NFBENCH_FILE")
	if path == "" {
		b.Skip("NFBENCH_FILE names no flow file")
	}
	r, err := Open(path, ReadOptions{})
	require.NoError(b, err)
	comp := r.Header().Compression
	n := r.Header().NumBlocks
	require.NoError(b, r.Close())
	raw, err := os.ReadFile(path)
	require.NoError(b, err)
	dec, err := newDecompressor(comp)
	require.NoError(b, err)
	var blocks [][]byte
	off := HeaderSize
	for range n {
		var h blockHeader
		h.unmarshal(raw[off:])
		in := raw[off+blockHeaderSize : off+blockHeaderSize+int(h.Size)]
		off += blockHeaderSize + int(h.Size)
		if h.Type != blockTypeV3 {
			continue
		}
		out, err := dec.decompress(nil, in)
		require.NoError(b, err)
		blocks = append(blocks, append(out, make([]byte, 8)...)[:len(out)])
	}
	if k, err := strconv.Atoi(os.Getenv("NFBENCH_BLOCKS")); err == nil && k < len(blocks) {
		blocks = blocks[:k]
	}
	return blocks
}

// sumBlock sums the records of block b as scanBlock does without a
// selector or visitor: runs of known shapes (sumTotals), each record that
// ends one decoded on its own.
func sumBlock(d *v3Decoder, b []byte, t *flow.Totals, rec *flow.Record) uint64 {
	var n uint64
	for pos := 0; pos < len(b); {
		c, used, _ := d.sumTotals(b[pos:], ^uint32(0), t)
		n += uint64(c)
		pos += used
		if pos >= len(b) {
			break
		}
		size := int(le.Uint16(b[pos+2:]))
		if le.Uint16(b[pos:]) == recV3 {
			if _, err := d.decode(b[pos:pos+size], rec); err != nil {
				panic(err)
			}
			n++
		}
		pos += size
	}
	return n
}

// BenchmarkArchiveSum sums the records of a benchmark archive's file,
// decompressed beforehand, as godump -o null does (sumTotals), and with
// NFBENCH_FILTER set (one of internal/flowgen.BenchFilters by number, 0
// to 4) selects them as godump -o null -f does (selectShaped).
func BenchmarkArchiveSum(b *testing.B) {
	blocks := archiveBlocks(b)
	var sel RawSelector
	want := flow.TotalsElements
	if fs := os.Getenv("NFBENCH_FILTER"); fs != "" {
		f, err := filter.Compile(flowgen.BenchFilters()[int(fs[0]-'0')], filter.Options{})
		require.NoError(b, err)
		sel, want = f, want|f.Reads()
	}
	var d v3Decoder
	d.reset(want)
	var rec flow.Record
	var t flow.Totals
	var n uint64
	for b.Loop() {
		for _, blk := range blocks {
			if sel == nil {
				n += sumBlock(&d, blk, &t, &rec)
				continue
			}
			for pos := 0; pos < len(blk); {
				c, _, used, _ := d.selectShaped(blk[pos:len(blk)+8], ^uint32(0), 0, sel, nil, 0, &t, &rec, nil)
				n += uint64(c)
				pos += used
				if pos >= len(blk) {
					break
				}
				size := int(le.Uint16(blk[pos+2:]))
				if le.Uint16(blk[pos:]) == recV3 {
					if _, err := d.decode(blk[pos:pos+size], &rec); err != nil {
						panic(err)
					}
					n++
				}
				pos += size
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/record")
}
