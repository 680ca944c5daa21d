package lz4block

import (
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
