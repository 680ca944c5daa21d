package flowfile

import (
	"fmt"
	"strconv"
	"strings"
)

// Compression is the per-file block compression method, as stored in the
// header's compression byte.
type Compression uint8

// The methods nfdump knows. ZSTD (4) exists from nfdump 1.7.3 on; 1.7.1
// rejects files that use it.
const (
	None Compression = 0
	LZO  Compression = 1
	BZ2  Compression = 2
	LZ4  Compression = 3
	ZSTD Compression = 4
)

var compressionNames = [...]string{None: "none", LZO: "lzo", BZ2: "bz2", LZ4: "lz4", ZSTD: "zstd"}

// String returns the method's short name.
func (c Compression) String() string {
	if int(c) < len(compressionNames) {
		return compressionNames[c]
	}
	return "compression(" + strconv.Itoa(int(c)) + ")"
}

// ParseCompression reads a compression as nfdump's -z=, -J and nfcapd take
// it: a name (none, lzo, bz2 or bzip2, lz4, zstd) or its number, optionally
// followed by ":level" (lz4:9, zstd:3, bz2:5). Level 0 means the method's
// default.
func ParseCompression(s string) (Compression, int, error) {
	name, lvl, hasLevel := strings.Cut(strings.ToLower(strings.TrimSpace(s)), ":")
	var c Compression
	switch name {
	case "0", "none", "no":
		c = None
	case "1", "lzo":
		c = LZO
	case "2", "bz2", "bzip2":
		c = BZ2
	case "3", "lz4":
		c = LZ4
	case "4", "zstd":
		c = ZSTD
	default:
		return 0, 0, fmt.Errorf("unknown compression %q (want none, lzo, bz2, lz4 or zstd)", s)
	}
	level := 0
	if hasLevel {
		n, err := strconv.Atoi(lvl)
		if err != nil || n < 0 {
			return 0, 0, fmt.Errorf("bad compression level in %q", s)
		}
		max := maxLevel(c)
		if n > max {
			return 0, 0, fmt.Errorf("compression level %d out of range for %s (at most %d)", n, c, max)
		}
		level = n
	}
	return c, level, nil
}

func maxLevel(c Compression) int {
	switch c {
	case LZ4:
		return 9
	case BZ2:
		return 9
	case ZSTD:
		return 22
	}
	return 0
}

// A blockCompressor compresses one block payload into a complete stream of
// its method, appended to dst. Each writer worker owns one, so
// implementations keep their tables between calls and need no locking.
type blockCompressor interface {
	compress(dst, src []byte) ([]byte, error)
}

// A blockDecompressor restores a payload. It may reuse dst's capacity and
// must fail, not grow, past maxBlockSize.
type blockDecompressor interface {
	decompress(dst, src []byte) ([]byte, error)
}

func newCompressor(c Compression, level int) (blockCompressor, error) {
	switch c {
	case None:
		return noneCodec{}, nil
	case LZO:
		return newLZOCompressor(), nil
	case BZ2:
		return newBZ2Compressor(level), nil
	case LZ4:
		return newLZ4Compressor(level), nil
	case ZSTD:
		return newZSTDCompressor(level)
	}
	return nil, fmt.Errorf("unknown compression %d", c)
}

func newDecompressor(c Compression) (blockDecompressor, error) {
	switch c {
	case None:
		return noneCodec{}, nil
	case LZO:
		return lzoDecompressor{}, nil
	case BZ2:
		return &bz2Decompressor{}, nil
	case LZ4:
		return lz4Decompressor{}, nil
	case ZSTD:
		return newZSTDDecompressor()
	}
	return nil, fmt.Errorf("Unknown compression: %d", c)
}

// noneCodec stores payloads as they are.
type noneCodec struct{}

func (noneCodec) compress(dst, src []byte) ([]byte, error) { return append(dst, src...), nil }

func (noneCodec) decompress(dst, src []byte) ([]byte, error) {
	return append(dst[:0], src...), nil
}

// growing runs a block decompressor that needs the output room up front
// (LZ4 and LZO blocks do not store their decompressed size). It tries what
// dst already has or, for a new buffer, a size fitted to the input, so a
// small appendix block does not cost a megabyte; then what a writer puts in
// a block (WriteBlockSize); then the reader's hard limit. retry says whether
// an error may mean "too small".
func growing(dst, src []byte, run func(src, dst []byte) (int, error), retry func(error) bool) ([]byte, error) {
	size := cap(dst)
	if size == 0 {
		size = min(WriteBlockSize+WriteBlockSize/8, max(64<<10, 16*len(src)))
	}
	for {
		dst = grow(dst, size)
		n, err := run(src, dst)
		if err == nil {
			return dst[:n], nil
		}
		if !retry(err) || size >= maxBlockSize {
			return dst[:0], err
		}
		if size < WriteBlockSize+WriteBlockSize/8 {
			size = WriteBlockSize + WriteBlockSize/8
		} else {
			size = maxBlockSize
		}
	}
}

// grow returns dst with room for n bytes, reusing its array when it can.
func grow(dst []byte, n int) []byte {
	if cap(dst) >= n {
		return dst[:n]
	}
	return make([]byte, n)
}
