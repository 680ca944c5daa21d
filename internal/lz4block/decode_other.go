//go:build !amd64 || !gc || noasm

package lz4block

import "github.com/pierrec/lz4/v4"

// Decode decodes the LZ4 block src into dst and returns the length of the
// output, at dst's start: on this architecture, with pierrec/lz4's
// UncompressBlock.
func Decode(src, dst []byte) (int, error) {
	n, err := lz4.UncompressBlock(src, dst)
	if err != nil {
		return 0, ErrCorrupt
	}
	return n, nil
}
