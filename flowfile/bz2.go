package flowfile

import (
	"bytes"
	"compress/bzip2"
	"fmt"
	"io"

	dsbzip2 "github.com/dsnet/compress/bzip2"
)

// BZ2 blocks are complete bzip2 streams. nfdump writes them at level 9, so
// that is our default too. The standard library reads them; it cannot write
// bzip2, so dsnet/compress does.
type bz2Compressor struct {
	level int
	buf   bytes.Buffer
}

func newBZ2Compressor(level int) *bz2Compressor {
	if level == 0 {
		level = 9
	}
	return &bz2Compressor{level: level}
}

func (z *bz2Compressor) compress(dst, src []byte) ([]byte, error) {
	z.buf.Reset()
	w, err := dsbzip2.NewWriter(&z.buf, &dsbzip2.WriterConfig{Level: z.level})
	if err != nil {
		return dst, fmt.Errorf("bz2: %w", err)
	}
	if _, err := w.Write(src); err != nil {
		return dst, fmt.Errorf("bz2: %w", err)
	}
	if err := w.Close(); err != nil {
		return dst, fmt.Errorf("bz2: %w", err)
	}
	return append(dst, z.buf.Bytes()...), nil
}

type bz2Decompressor struct{ src bytes.Reader }

func (z *bz2Decompressor) decompress(dst, src []byte) ([]byte, error) {
	z.src.Reset(src)
	r := bzip2.NewReader(&z.src)
	dst = grow(dst, maxBlockSize+1)
	n, err := io.ReadFull(r, dst)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return dst[:n], nil
	case err != nil:
		return dst[:0], fmt.Errorf("bz2: %w", err)
	}
	return dst[:0], fmt.Errorf("bz2: block decompresses to more than %d bytes", maxBlockSize)
}
