package flowfile

import (
	"fmt"

	lzo "github.com/anchore/go-lzo"

	"github.com/nfgo/nftools/internal/lzo1x"
)

// LZO blocks are raw LZO1X streams as minilzo's lzo1x_1_compress writes
// them; nfdump decodes them with lzo1x_decompress_safe, which insists that
// the whole input is consumed. We compress with our own LZO1X-1 encoder and
// decompress with go-lzo, which checks the same.
type lzoCompressor struct{ c lzo1x.Compressor }

func newLZOCompressor() *lzoCompressor { return &lzoCompressor{} }

func (z *lzoCompressor) compress(dst, src []byte) ([]byte, error) {
	return z.c.Compress(dst, src), nil
}

type lzoDecompressor struct{}

func (lzoDecompressor) decompress(dst, src []byte) ([]byte, error) {
	dst = grow(dst, max(cap(dst), WriteBlockSize+WriteBlockSize/8))
	n, err := lzo.Decompress(src, dst)
	if err == lzo.ErrOutputOverrun && len(dst) < maxBlockSize {
		dst = grow(dst, maxBlockSize)
		n, err = lzo.Decompress(src, dst)
	}
	if err != nil {
		return dst[:0], fmt.Errorf("lzo: %w", err)
	}
	return dst[:n], nil
}
