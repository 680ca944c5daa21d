package flowfile

import (
	"fmt"

	"github.com/pierrec/lz4/v4"

	"github.com/nfgo/nftools/internal/lz4block"
)

// lz4Levels maps our levels 1..9 to the HC compressor's search depths.
var lz4Levels = [...]lz4.CompressionLevel{lz4.Fast, lz4.Level1, lz4.Level2, lz4.Level3,
	lz4.Level4, lz4.Level5, lz4.Level6, lz4.Level7, lz4.Level8, lz4.Level9}

// LZ4 blocks are raw LZ4 block streams (not the frame format), as
// LZ4_compress_default writes them. Level 0 uses the compressor that
// follows the C library's default one, which is also the faster one on
// blocks of 64 KiB and more; levels above 0 use the HC compressor, whose
// output is the same block format.
type lz4Compressor struct {
	level int
	c     lz4.CompressorCCompat
	hc    lz4.CompressorHC
}

func newLZ4Compressor(level int) *lz4Compressor {
	z := &lz4Compressor{level: level}
	z.hc.Level = lz4Levels[level]
	return z
}

func (z *lz4Compressor) compress(dst, src []byte) ([]byte, error) {
	start := len(dst)
	bound := lz4.CompressBlockBound(len(src))
	if cap(dst)-start < bound {
		nd := make([]byte, start, start+bound)
		copy(nd, dst)
		dst = nd
	}
	out := dst[start : start+bound]
	var n int
	var err error
	if z.level > 0 {
		n, err = z.hc.CompressBlock(src, out)
	} else {
		n, err = z.c.CompressBlock(src, out)
	}
	if err != nil {
		return dst, fmt.Errorf("lz4: %w", err)
	}
	if n == 0 && len(src) > 0 {
		// Cannot happen with a bound-sized buffer, but a zero length would
		// be taken for an empty block by the reader: refuse it.
		return dst, fmt.Errorf("lz4: incompressible block of %d bytes", len(src))
	}
	return dst[:start+n], nil
}

// lz4Decompressor decodes with lz4block.Decode, an amd64 decoder of ours
// that copies literals and matches 16 and 32 bytes at a time while the
// output buffer has room past them, as the reader's always has (outRoom
// is an eighth of a block more than a block: no slack is needed past
// it); elsewhere it is pierrec/lz4's UncompressBlock. It takes 0.8 of
// pierrec's time on the benchmark archives' blocks (lz4block's doc). Over
// the 2-million-flow archives of godump.sh, against the build with
// pierrec, godump -o null took 0.88 of the CPU time on both shapes, -s
// srcip/bytes -n 10 0.92 (home) and 0.96 (border) (task-clock, median of
// 30 alternating runs, load 4-7); -o null's wall time 0.88 (home) and
// 0.87 (border) (godump.sh with the old build as NFDUMP, median of 21).
type lz4Decompressor struct{}

func (lz4Decompressor) decompress(dst, src []byte) ([]byte, error) {
	// LZ4 reports a short output buffer like any other damage, so every
	// error is worth a retry with more room.
	out, err := growing(dst, src, lz4block.Decode, func(error) bool { return true })
	if err != nil {
		return out, fmt.Errorf("lz4: %w", err)
	}
	return out, nil
}
