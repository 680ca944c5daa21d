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
	out, err := growing(dst, src, lzo.Decompress, func(err error) bool { return err == lzo.ErrOutputOverrun })
	if err != nil {
		return out, fmt.Errorf("lzo: %w", err)
	}
	return out, nil
}
