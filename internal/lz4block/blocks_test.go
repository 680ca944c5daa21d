package lz4block

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// benchArchives are the benchmark archives' two shapes (read-only).
var benchArchives = map[string]string{
	"home":   "/work/bench/dump/home-2000000-8",
	"border": "/work/bench/dump/border-2000000-8",
}

// fileBlocks returns the stored LZ4 blocks of the nfdump file at path
// (layout 2: a 40-byte header, then blocks of a 12-byte header and their
// payload), or nil if the file is not there or not LZ4.
func fileBlocks(tb testing.TB, path string) [][]byte {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	const hdr, bhdr = 40, 12
	if len(raw) < hdr || binary.LittleEndian.Uint16(raw) != 0xA50C || raw[16] != 3 {
		return nil
	}
	var blocks [][]byte
	for off := hdr; off+bhdr <= len(raw); {
		size := int(binary.LittleEndian.Uint32(raw[off+4:]))
		off += bhdr
		if off+size > len(raw) {
			tb.Fatalf("%s: block at %d runs past the end", path, off)
		}
		blocks = append(blocks, raw[off:off+size:off+size])
		off += size
	}
	return blocks
}

// archiveBlocks returns the blocks of the first file of the archive of the
// given shape, skipping tb when the archive is not there.
func archiveBlocks(tb testing.TB, shape string) [][]byte {
	files, _ := filepath.Glob(filepath.Join(benchArchives[shape], "nfcapd.*"))
	if len(files) == 0 {
		tb.Skipf("no %s archive", shape)
	}
	b := fileBlocks(tb, files[0])
	if len(b) == 0 {
		tb.Skipf("%s: no LZ4 blocks", files[0])
	}
	return b
}
