// Package lz4block decodes LZ4 blocks (the raw block format, as
// LZ4_compress_default writes them) for the flow file reader.
package lz4block

import "errors"

// ErrCorrupt is the one error of Decode: src is damaged or dst too short,
// which LZ4 blocks cannot tell apart. Its text is pierrec/lz4's, which
// users saw before.
var ErrCorrupt = errors.New("lz4: invalid source or destination buffer too short")
