package lz4block

import (
	"testing"

	"github.com/pierrec/lz4/v4"
)

func benchmarkArchive(b *testing.B, shape string, decode func(dst, src []byte) (int, error)) {
	blocks := archiveBlocks(b, shape)
	dst := make([]byte, outRoom)
	var out int64
	for _, src := range blocks {
		n, err := decode(dst, src)
		if err != nil {
			b.Fatal(err)
		}
		out += int64(n)
	}
	b.SetBytes(out)
	b.ResetTimer()
	for b.Loop() {
		for _, src := range blocks {
			decode(dst, src)
		}
	}
}

func pierrec(dst, src []byte) (int, error) { return lz4.UncompressBlock(src, dst) }

func BenchmarkHome(b *testing.B)          { benchmarkArchive(b, "home", Decode) }
func BenchmarkHomePierrec(b *testing.B)   { benchmarkArchive(b, "home", pierrec) }
func BenchmarkBorder(b *testing.B)        { benchmarkArchive(b, "border", Decode) }
func BenchmarkBorderPierrec(b *testing.B) { benchmarkArchive(b, "border", pierrec) }
