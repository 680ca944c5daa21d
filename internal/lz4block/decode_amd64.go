//go:build gc && !noasm

package lz4block

// decodeBlock decodes the LZ4 block src into dst and returns the length of
// the output, or -1 if src is damaged or dst too short. src is not empty.
//
//go:noescape
func decodeBlock(dst, src []byte) int

// Decode decodes the LZ4 block src into dst and returns the length of the
// output, at dst's start, as pierrec/lz4's UncompressBlock does; unlike
// it, it may write anywhere in dst past the output's end.
func Decode(src, dst []byte) (int, error) {
	if len(src) == 0 {
		return 0, nil
	}
	if n := decodeBlock(dst, src); n >= 0 {
		return n, nil
	}
	return 0, ErrCorrupt
}
