package lz4block

import (
	"bytes"
	"testing"

	"github.com/pierrec/lz4/v4"
)

// outRoom is the output buffer the tests and benchmarks give a block: as
// the flow file reader's, 1 MiB and an eighth.
const outRoom = 1<<20 + 1<<17

func TestArchiveBlocks(t *testing.T) {
	for _, shape := range []string{"home", "border"} {
		t.Run(shape, func(t *testing.T) {
			want := make([]byte, outRoom)
			got := make([]byte, outRoom)
			for i, src := range archiveBlocks(t, shape) {
				wn, werr := lz4.UncompressBlock(src, want)
				gn, gerr := Decode(got, src)
				if werr != nil || gerr != nil || wn != gn || !bytes.Equal(want[:wn], got[:gn]) {
					t.Fatalf("block %d: pierrec %d %v, ours %d %v", i, wn, werr, gn, gerr)
				}
			}
		})
	}
}
