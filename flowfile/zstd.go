package flowfile

import (
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// ZSTD blocks are single zstd frames, as nfdump 1.7.3 and later write them
// (compression code 4). nfdump 1.7.1 cannot read them.
type zstdCompressor struct{ enc *zstd.Encoder }

func newZSTDCompressor(level int) (*zstdCompressor, error) {
	opts := []zstd.EOption{zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true)}
	if level > 0 {
		opts = append(opts, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)))
	}
	enc, err := zstd.NewWriter(nil, opts...)
	if err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	return &zstdCompressor{enc: enc}, nil
}

func (z *zstdCompressor) compress(dst, src []byte) ([]byte, error) {
	return z.enc.EncodeAll(src, dst), nil
}

type zstdDecompressor struct{ dec *zstd.Decoder }

func newZSTDDecompressor() (*zstdDecompressor, error) {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxMemory(maxBlockSize), zstd.WithDecoderMaxWindow(maxBlockSize))
	if err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	return &zstdDecompressor{dec: dec}, nil
}

func (z *zstdDecompressor) decompress(dst, src []byte) ([]byte, error) {
	out, err := z.dec.DecodeAll(src, dst[:0])
	if err != nil {
		return dst[:0], fmt.Errorf("zstd: %w", err)
	}
	if len(out) > maxBlockSize {
		return out[:0], fmt.Errorf("zstd: block decompresses to more than %d bytes", maxBlockSize)
	}
	return out, nil
}
