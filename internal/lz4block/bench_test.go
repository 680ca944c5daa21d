package lz4block

import (
	"math/rand/v2"
	"testing"

	"github.com/pierrec/lz4/v4"
)

func benchmarkArchive(b *testing.B, shape string, decode func(src, dst []byte) (int, error)) {
	blocks := archiveBlocks(b, shape)
	dst := make([]byte, outRoom)
	var out int64
	for _, src := range blocks {
		n, err := decode(src, dst)
		if err != nil {
			b.Fatal(err)
		}
		out += int64(n)
	}
	b.SetBytes(out)
	b.ResetTimer()
	for b.Loop() {
		for _, src := range blocks {
			decode(src, dst)
		}
	}
}

func BenchmarkHome(b *testing.B)          { benchmarkArchive(b, "home", Decode) }
func BenchmarkHomePierrec(b *testing.B)   { benchmarkArchive(b, "home", lz4.UncompressBlock) }
func BenchmarkBorder(b *testing.B)        { benchmarkArchive(b, "border", Decode) }
func BenchmarkBorderPierrec(b *testing.B) { benchmarkArchive(b, "border", lz4.UncompressBlock) }

// The Hot benchmarks decode the archive's first block over and over: its
// input and output stay in the cache, as they do not when a reader
// decodes a file's blocks.
func benchmarkHot(b *testing.B, shape string, decode func(src, dst []byte) (int, error)) {
	src := archiveBlocks(b, shape)[0]
	dst := make([]byte, outRoom)
	n, err := decode(src, dst)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(n))
	for b.Loop() {
		decode(src, dst)
	}
}

func BenchmarkHomeHot(b *testing.B)          { benchmarkHot(b, "home", Decode) }
func BenchmarkHomeHotPierrec(b *testing.B)   { benchmarkHot(b, "home", lz4.UncompressBlock) }
func BenchmarkBorderHot(b *testing.B)        { benchmarkHot(b, "border", Decode) }
func BenchmarkBorderHotPierrec(b *testing.B) { benchmarkHot(b, "border", lz4.UncompressBlock) }

// benchmarkData decodes a block of data compressed by pierrec's fast
// compressor: the shapes flow files do not have, to see that the exact
// path costs no more than pierrec there either.
func benchmarkData(b *testing.B, data []byte, decode func(src, dst []byte) (int, error)) {
	var c lz4.Compressor
	src := make([]byte, lz4.CompressBlockBound(len(data)))
	n, err := c.CompressBlock(data, src)
	if err != nil || n == 0 {
		b.Fatal(n, err)
	}
	src = src[:n]
	dst := make([]byte, outRoom)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		decode(src, dst)
	}
}

func randomData() []byte {
	r := rand.New(rand.NewPCG(5, 6))
	b := make([]byte, 1<<20)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func BenchmarkRandom(b *testing.B)        { benchmarkData(b, randomData(), Decode) }
func BenchmarkRandomPierrec(b *testing.B) { benchmarkData(b, randomData(), lz4.UncompressBlock) }
func BenchmarkZeros(b *testing.B)         { benchmarkData(b, make([]byte, 1<<20), Decode) }
func BenchmarkZerosPierrec(b *testing.B)  { benchmarkData(b, make([]byte, 1<<20), lz4.UncompressBlock) }
