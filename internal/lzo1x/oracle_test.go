package lzo1x

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	lzo "github.com/anchore/go-lzo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The oracle tests hand our streams to the real nfdump 1.7.1 (Debian package
// nfdump), the program whose files we must write. The layout of its files is
// described in /work/shared/notes/nffile-v2.md, sections 1 and 2.

const (
	nfdumpPath = "/usr/bin/nfdump"
	// samplePath is a flow file written by the real nfcapd 1.7.1 with LZO
	// compression (nfcapd -z), relative to this package's directory.
	samplePath = "../../../shared/testdata/nfcapd-1.7.1/sample-nfcapd-lzo"

	fileHeaderSize  = 40
	blockHeaderSize = 12
	compressionLZO  = 1
	blockType3      = 3
	// maxBlockPayload is nfdump's BUFFSIZE, the largest block it reads.
	maxBlockPayload = 5 << 20
)

// needOracle returns the path of nfdump and of the sample file, skipping the
// test when they are missing, except in CI where that is a failure.
func needOracle(t *testing.T) (nfdump, sample string) {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format+" (the test fails instead when CI=true)", args...)
	}
	if _, err := os.Stat(nfdumpPath); err != nil {
		missing("nfdump 1.7.1 is not installed at %s (Debian package nfdump): %v", nfdumpPath, err)
	}
	if _, err := os.Stat(samplePath); err != nil {
		missing("sample flow file missing: %v", err)
	}
	return nfdumpPath, samplePath
}

// nfBlock is one block of a flow file with its payload decompressed.
type nfBlock struct {
	numRecords uint32
	typ, flags uint16
	payload    []byte
}

// nfFile is a parsed LZO flow file: the 40-byte header, the data blocks and
// the appendix blocks.
type nfFile struct {
	header   []byte
	data     []nfBlock
	appendix []nfBlock
}

// readBlocks reads n blocks starting at off and returns them with the offset
// after the last one.
func readBlocks(raw []byte, off, n int) ([]nfBlock, int, error) {
	var blocks []nfBlock
	for range n {
		if off+blockHeaderSize > len(raw) {
			return nil, 0, errors.New("block header past the end of the file")
		}
		h := raw[off : off+blockHeaderSize]
		b := nfBlock{
			numRecords: binary.LittleEndian.Uint32(h[0:]),
			typ:        binary.LittleEndian.Uint16(h[8:]),
			flags:      binary.LittleEndian.Uint16(h[10:]),
		}
		size := int(binary.LittleEndian.Uint32(h[4:]))
		off += blockHeaderSize
		if off+size > len(raw) {
			return nil, 0, errors.New("block payload past the end of the file")
		}
		buf := make([]byte, maxBlockPayload)
		m, err := lzo.Decompress(raw[off:off+size], buf)
		if err != nil && !errors.Is(err, lzo.ErrOutputOverrun) {
			return nil, 0, err
		}
		if err != nil {
			return nil, 0, errors.New("block decompresses to more than 5 MiB")
		}
		b.payload = buf[:m]
		blocks = append(blocks, b)
		off += size
	}
	return blocks, off, nil
}

// parseLZOFile parses a flow file written with LZO compression.
func parseLZOFile(t *testing.T, raw []byte) nfFile {
	t.Helper()
	require.GreaterOrEqual(t, len(raw), fileHeaderSize)
	h := raw[:fileHeaderSize]
	require.Equal(t, uint16(0xA50C), binary.LittleEndian.Uint16(h[0:]), "magic")
	require.Equal(t, uint16(2), binary.LittleEndian.Uint16(h[2:]), "layout version")
	require.Equal(t, byte(compressionLZO), h[16], "compression")
	appendixBlocks := int(binary.LittleEndian.Uint16(h[18:]))
	offAppendix := int(binary.LittleEndian.Uint64(h[24:]))
	numBlocks := int(binary.LittleEndian.Uint32(h[36:]))

	f := nfFile{header: bytes.Clone(h)}
	var err error
	var end int
	f.data, end, err = readBlocks(raw, fileHeaderSize, numBlocks)
	require.NoError(t, err, "data blocks")
	require.Equal(t, offAppendix, end, "the appendix must follow the data blocks")
	f.appendix, end, err = readBlocks(raw, offAppendix, appendixBlocks)
	require.NoError(t, err, "appendix blocks")
	require.Equal(t, len(raw), end, "bytes after the appendix")
	return f
}

// build writes f as a flow file, compressing every block with c, and returns
// the file and the compressed size of each block (data blocks first). With a
// nil c it writes an uncompressed file instead.
func (f nfFile) build(c *Compressor) ([]byte, []int) {
	out := bytes.Clone(f.header)
	if c == nil {
		out[16] = 0 // no compression
	}
	var sizes []int
	put := func(b nfBlock) {
		start := len(out)
		out = append(out, make([]byte, blockHeaderSize)...)
		if c != nil {
			out = c.Compress(out, b.payload)
		} else {
			out = append(out, b.payload...)
		}
		size := len(out) - start - blockHeaderSize
		h := out[start:]
		binary.LittleEndian.PutUint32(h[0:], b.numRecords)
		binary.LittleEndian.PutUint32(h[4:], uint32(size))
		binary.LittleEndian.PutUint16(h[8:], b.typ)
		binary.LittleEndian.PutUint16(h[10:], b.flags)
		sizes = append(sizes, size)
	}
	for _, b := range f.data {
		put(b)
	}
	binary.LittleEndian.PutUint64(out[24:], uint64(len(out))) // offAppendix
	binary.LittleEndian.PutUint32(out[36:], uint32(len(f.data)))
	binary.LittleEndian.PutUint16(out[18:], uint16(len(f.appendix)))
	for _, b := range f.appendix {
		put(b)
	}
	return out, sizes
}

// runNfdump runs nfdump with args and returns its exit error, its standard
// output and its standard error.
func runNfdump(t *testing.T, nfdump string, args ...string) (error, string, string) {
	t.Helper()
	cmd := exec.Command(nfdump, args...)
	// Times are printed in local time; pin the zone so that two runs agree.
	cmd.Env = append(os.Environ(), "TZ=UTC")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return err, stdout.String(), stderr.String()
}

// verifyFile checks that nfdump -v accepts the file: exit status 0 and no
// complaint in its output.
func verifyFile(t *testing.T, nfdump, path string) {
	t.Helper()
	err, stdout, stderr := runNfdump(t, nfdump, "-v", path)
	require.NoError(t, err, "nfdump -v %s\nstdout:\n%s\nstderr:\n%s", path, stdout, stderr)
	all := strings.ToLower(stdout + stderr)
	for _, bad := range []string{"error", "corrupt", "fail", "skip"} {
		require.NotContains(t, all, bad, "nfdump -v output:\n%s%s", stdout, stderr)
	}
	require.Contains(t, stdout, "lzo compressed")
}

// rawDump returns nfdump -r FILE -o raw without the timing line, which
// differs from run to run.
func rawDump(t *testing.T, nfdump, path string) string {
	t.Helper()
	err, stdout, stderr := runNfdump(t, nfdump, "-r", path, "-o", "raw")
	require.NoError(t, err, "nfdump -r %s -o raw\nstderr:\n%s", path, stderr)
	require.Empty(t, stderr, "nfdump -r %s -o raw", path)
	var keep []string
	for line := range strings.Lines(stdout) {
		if !strings.HasPrefix(line, "Sys:") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "")
}

// sameDump compares two nfdump outputs and reports the first line that
// differs instead of thousands of lines of diff.
func sameDump(t *testing.T, want, got string) {
	t.Helper()
	if want == got {
		return
	}
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range min(len(w), len(g)) {
		if w[i] != g[i] {
			t.Fatalf("nfdump output differs at line %d:\nwant %q\ngot  %q", i+1, w[i], g[i])
		}
	}
	t.Fatalf("nfdump output has %d lines, want %d", len(g), len(w))
}

// TestOracleNfdump recompresses the blocks of a real nfcapd LZO file with our
// compressor and checks that nfdump 1.7.1 reads the result exactly like the
// original.
func TestOracleNfdump(t *testing.T) {
	nfdump, sample := needOracle(t)
	raw, err := os.ReadFile(sample)
	require.NoError(t, err)
	f := parseLZOFile(t, raw)
	require.Len(t, f.data, 1)
	require.Len(t, f.appendix, 1)
	dir := t.TempDir()

	// nfdump prints the file name only in -v output, so a copy of the
	// original in the same directory keeps the raw dumps comparable.
	orig := filepath.Join(dir, "original")
	require.NoError(t, os.WriteFile(orig, raw, 0o644))
	want := rawDump(t, nfdump, orig)
	require.Contains(t, want, "Flow Record:")

	var c Compressor
	t.Run("recompressed sample", func(t *testing.T) {
		file, sizes := f.build(&c)
		t.Logf("data block %d -> %d bytes (nfcapd: %d), appendix %d -> %d bytes",
			len(f.data[0].payload), sizes[0], binary.LittleEndian.Uint32(raw[fileHeaderSize+4:]),
			len(f.appendix[0].payload), sizes[1])
		path := filepath.Join(dir, "recompressed")
		require.NoError(t, os.WriteFile(path, file, 0o644))

		verifyFile(t, nfdump, path)
		sameDump(t, want, rawDump(t, nfdump, path))
		// Our streams contain real matches: the 376-byte data block must
		// not be stored as literals.
		_, ops, err := decodeStrict(file[fileHeaderSize+blockHeaderSize : fileHeaderSize+blockHeaderSize+sizes[0]])
		require.NoError(t, err)
		assert.Greater(t, countMatches(ops), 0)
		assert.Less(t, sizes[0], len(f.data[0].payload))
	})

	t.Run("big data block", func(t *testing.T) {
		// The data block holds an exporter record, three flow records and
		// an exporter statistics record. Repeat the flows to fill a block
		// of about 900 KB, a typical size for a busy nfcapd.
		block := f.data[0]
		sizes := recordSizes(t, block.payload)
		require.Len(t, sizes, 5)
		require.Equal(t, uint32(5), block.numRecords)
		first, last := sizes[0], sizes[len(sizes)-1]
		require.Equal(t, 32, first)
		require.Equal(t, 32, last)
		flows := block.payload[first : len(block.payload)-last]
		repeats := 900_000 / len(flows)

		payload := bytes.Clone(block.payload[:first])
		payload = append(payload, bytes.Repeat(flows, repeats)...)
		payload = append(payload, block.payload[len(block.payload)-last:]...)
		big := f
		big.data = []nfBlock{{numRecords: uint32(2 + 3*repeats), typ: block.typ, flags: block.flags, payload: payload}}

		file, compSizes := big.build(&c)
		t.Logf("data block %d -> %d bytes (%.2f%%), %d flows", len(payload), compSizes[0],
			100*float64(compSizes[0])/float64(len(payload)), 3*repeats)
		assert.Less(t, compSizes[0], len(payload)/50, "the repeated records must compress well")
		path := filepath.Join(dir, "big")
		require.NoError(t, os.WriteFile(path, file, 0o644))

		verifyFile(t, nfdump, path)
		err, stdout, stderr := runNfdump(t, nfdump, "-r", path, "-o", "csv", "-q")
		require.NoError(t, err, "nfdump -r -o csv -q\nstderr:\n%s", stderr)
		assert.Empty(t, stderr)
		assert.Equal(t, 3*repeats, strings.Count(stdout, "\n"), "flows printed")
	})

	t.Run("M4 distances", func(t *testing.T) {
		// Matches reaching more than 16 KiB back use M4, which the
		// sample is too small to need. Make variants of the three flows
		// that differ in addresses, ports and counters, and cycle through
		// 60 of them (a period of 18720 bytes: M4 without the H bit), then
		// through 120 others (37440 bytes: M4 with the H bit). The LZO file
		// must read exactly like the same records stored uncompressed.
		block := f.data[0]
		sizes := recordSizes(t, block.payload)
		first, last := sizes[0], sizes[len(sizes)-1]
		flows := block.payload[first : len(block.payload)-last]

		payload := bytes.Clone(block.payload[:first])
		records := 2
		for _, cycle := range []struct{ variants, repeats int }{{60, 4}, {120, 3}} {
			var period []byte
			for v := range cycle.variants {
				period = append(period, flowVariant(t, flows, uint64(len(payload)+v))...)
			}
			payload = append(payload, bytes.Repeat(period, cycle.repeats)...)
			records += 3 * cycle.variants * cycle.repeats
		}
		payload = append(payload, block.payload[len(block.payload)-last:]...)
		m4 := f
		m4.data = []nfBlock{{numRecords: uint32(records), typ: block.typ, flags: block.flags, payload: payload}}

		file, compSizes := m4.build(&c)
		stream := file[fileHeaderSize+blockHeaderSize : fileHeaderSize+blockHeaderSize+compSizes[0]]
		_, ops, err := decodeStrict(stream)
		require.NoError(t, err)
		var near, far int // M4 without and with the H bit
		for _, o := range ops {
			switch {
			case o.kind == opM4 && o.dist < 32768:
				near++
			case o.kind == opM4:
				far++
			}
		}
		t.Logf("data block %d -> %d bytes, M4 matches %d below and %d above 32 KiB", len(payload), compSizes[0], near, far)
		require.Positive(t, near, "no M4 match without the H bit")
		require.Positive(t, far, "no M4 match with the H bit")

		path := filepath.Join(dir, "m4")
		require.NoError(t, os.WriteFile(path, file, 0o644))
		plain, _ := m4.build(nil)
		plainPath := filepath.Join(dir, "m4-uncompressed")
		require.NoError(t, os.WriteFile(plainPath, plain, 0o644))

		verifyFile(t, nfdump, path)
		plainDump := rawDump(t, nfdump, plainPath)
		assert.Equal(t, records-2, strings.Count(plainDump, "Flow Record:"))
		sameDump(t, plainDump, rawDump(t, nfdump, path))
	})

	t.Run("oracle rejects a stream with trailing bytes", func(t *testing.T) {
		// A control for the test itself: nfdump must notice when a stream
		// does not consume its whole block, or the checks above would
		// prove nothing.
		file, sizes := f.build(&c)
		end := fileHeaderSize + blockHeaderSize + sizes[0]
		bad := bytes.Clone(file[:end])
		bad = append(bad, 0) // one byte after the end marker
		bad = append(bad, file[end:]...)
		binary.LittleEndian.PutUint32(bad[fileHeaderSize+4:], uint32(sizes[0]+1))
		binary.LittleEndian.PutUint64(bad[24:], uint64(end+1))
		path := filepath.Join(dir, "bad")
		require.NoError(t, os.WriteFile(path, bad, 0o644))

		// nfdump -r still exits 0 here; the error only shows on stderr,
		// which is why rawDump and the csv check insist on an empty one.
		_, _, stderr := runNfdump(t, nfdump, "-r", path, "-o", "raw")
		assert.Contains(t, stderr, "LZO error: -8", "LZO_E_INPUT_NOT_CONSUMED")
		err, stdout, stderr := runNfdump(t, nfdump, "-v", path)
		assert.Error(t, err, "nfdump -v accepted the broken file:\n%s%s", stdout, stderr)
	})
}

// flowVariant returns a copy of the V3 flow records in flows with the
// addresses, ports and counters replaced by values derived from seed, so that
// every variant differs from the others in about 20 bytes per record.
func flowVariant(t *testing.T, flows []byte, seed uint64) []byte {
	t.Helper()
	out := bytes.Clone(flows)
	noise := randomBytes(seed, 64)
	for off := 0; off < len(out); {
		rec := out[off:]
		size := int(binary.LittleEndian.Uint16(rec[2:]))
		require.Equal(t, uint16(11), binary.LittleEndian.Uint16(rec), "V3 record")
		// Walk the elements: a 4-byte header (ID, length) each.
		for e := 12; e < size; {
			id := binary.LittleEndian.Uint16(rec[e:])
			length := int(binary.LittleEndian.Uint16(rec[e+2:]))
			require.GreaterOrEqual(t, length, 4)
			p := rec[e+4 : e+length]
			switch id {
			case 1: // EXgenericFlow: packets, bytes and source port
				copy(p[24:28], noise[0:4])
				copy(p[32:36], noise[4:8])
				copy(p[40:42], noise[8:10])
			case 2: // EXipv4Flow: both addresses
				copy(p[0:8], noise[16:24])
			}
			e += length
		}
		off += size
	}
	return out
}

// recordSizes walks the records of a block payload and returns their sizes.
func recordSizes(t *testing.T, payload []byte) []int {
	t.Helper()
	var sizes []int
	for off := 0; off < len(payload); {
		require.LessOrEqual(t, off+4, len(payload), "record header")
		size := int(binary.LittleEndian.Uint16(payload[off+2:]))
		require.GreaterOrEqual(t, size, 4, "record size")
		sizes = append(sizes, size)
		off += size
		require.LessOrEqual(t, off, len(payload), "record past the end of the block")
	}
	return sizes
}

// countMatches counts the match instructions among ops.
func countMatches(ops []op) int {
	n := 0
	for _, o := range ops {
		if o.kind != opLiterals {
			n++
		}
	}
	return n
}
