//go:build !amd64 || !gc || noasm

package lz4block

import "github.com/pierrec/lz4/v4"

// Decode decodes the LZ4 block src into dst and returns the number of
// bytes written at dst's start, with pierrec/lz4 on this architecture.
func Decode(dst, src []byte) (int, error) {
	n, err := lz4.UncompressBlock(src, dst)
	if err != nil {
		return 0, ErrCorrupt
	}
	return n, nil
}
