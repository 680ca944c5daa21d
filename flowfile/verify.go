package flowfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// Verify checks the block structure of the flow file at path as nfdump -v
// does, prints nfdump 1.7.1's report on stdout and its messages about
// problems on stderr, and reports whether the file is sound: the header,
// every data and appendix block (size, decompression, record sizes and
// counts), the appendix offset, and the totals. It decompresses with the
// reader's own decompressors, so -v and reading agree on a file, and
// leaves decoding the records' elements to the reader. Unlike nfdump 1.7.1
// it also checks ZSTD files (compression 4), which nfdump writes from 1.7.3
// on.
func Verify(path string, stdout, stderr io.Writer) bool {
	v := &verifier{out: stdout, errOut: stderr}
	return v.verify(path) == nil
}

// blockFlagRaw marks a block stored uncompressed in a compressed file;
// only nfdump -v honours it.
const blockFlagRaw = 0x1

// errReported ends a check after its message was printed.
var errReported = errors.New("reported")

type verifier struct {
	out, errOut io.Writer
}

func (v *verifier) logf(format string, a ...any) error {
	fmt.Fprintf(v.errOut, format+"\n", a...)
	return errReported
}

// verifyNames are nfdump's words for the compressions, in the report and
// in its decompression error.
var (
	verifyNames = [...]string{None: "not compressed", LZO: "lzo compressed", BZ2: "bz2 compressed", LZ4: "lz4 compressed", ZSTD: "zstd compressed"}
	failNames   = [...]string{LZO: "LZO", BZ2: "Bzip2", LZ4: "LZ4", ZSTD: "ZSTD"}
)

func (v *verifier) verify(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return v.logf("Can't stat '%s': %s", path, errText(err))
	}
	f, err := os.Open(path)
	if err != nil {
		return v.logf("Error open file: %s", errText(err))
	}
	defer f.Close()
	size := fi.Size()
	var hb [HeaderSize]byte
	n, err := io.ReadFull(f, hb[:])
	if n < 1 {
		return v.logf("read() error: %v", err)
	}
	var h Header
	h.unmarshal(hb[:])
	if h.Magic != Magic {
		return v.logf("Open file '%s': bad magic: 0x%X", path, h.Magic)
	}
	fmt.Fprintf(v.out, "File       : %s\n", path)
	if h.Version != LayoutVersion2 {
		return v.logf("Unknown layout version: %d", h.Version)
	}
	if h.Compression > ZSTD {
		return v.logf("Unknown compression: %d", h.Compression)
	}
	fmt.Fprintf(v.out, "Version    : %d - %s\n", h.Version, verifyNames[h.Compression])
	if h.Encryption != 0 {
		return v.logf("Unknown encryption: %d", h.Encryption)
	}
	fmt.Fprintf(v.out, "Created    : %s\n", h.CreatedTime().Format("2006-01-02 15:04:05"))
	fmt.Fprintf(v.out, "nfdump     : %x\n", h.NFDVersion)
	fmt.Fprintf(v.out, "encryption : no\n")
	fmt.Fprintf(v.out, "Appdx blks : %d\n", h.AppendixBlocks)
	fmt.Fprintf(v.out, "Data blks  : %d\n", h.NumBlocks)
	if h.OffAppendix >= size {
		return v.logf("Invalid appendix offset: %d", uint32(h.OffAppendix))
	}
	dec, err := newDecompressor(h.Compression)
	if err != nil {
		return v.logf("%v", err)
	}

	fmt.Fprintf(v.out, "Checking data blocks\n")
	pos := int64(HeaderSize)
	var types [5]int
	total, counted := 0, 0
	var (
		bhb           [blockHeaderSize]byte
		bh            blockHeader
		payload, data []byte
	)
	numBlocks, appendix := int(h.NumBlocks), int(h.AppendixBlocks)
	spinner := []byte{'|', '/', '-', '\\'}
	for i := 0; i < numBlocks+appendix; i++ {
		if counted&0x7 == 0 {
			fmt.Fprintf(v.out, " %c\r", spinner[(counted>>3)&0x2])
		}
		if pos+blockHeaderSize > size {
			v.logf("Unexpected read beyond EOF! File corrupted")
			v.logf("Expected %d blocks, counted %d", numBlocks, i)
			break
		}
		if _, err := io.ReadFull(f, bhb[:]); err != nil {
			return v.logf("Error reading block %d: %v", counted, err)
		}
		pos += blockHeaderSize
		counted++
		bh.unmarshal(bhb[:])
		if bh.Type < 1 || bh.Type > 4 {
			fmt.Fprintf(v.out, "block %d has unknown type %d\n", counted, bh.Type)
			return errReported
		}
		types[bh.Type]++
		bsize := int64(bh.Size)
		if bsize > maxBlockSize || pos+bsize > size {
			return v.logf("Expected to seek beyond EOF! File corrupted")
		}
		payload = grow(payload, int(bsize))
		if _, err := io.ReadFull(f, payload); err != nil {
			return v.logf("Short read: Expected %d bytes: %v", bsize, err)
		}
		pos += bsize
		block := payload
		if h.Compression != None && bh.Flags&blockFlagRaw == 0 {
			if data, err = dec.decompress(data, payload); err != nil {
				return v.logf("%s decommpress failed", failNames[h.Compression])
			}
			block = data
		}
		records, err := v.countRecords(block, bh.Type, counted)
		if err != nil {
			return err
		}
		if uint32(records) != bh.NumRecords {
			return v.logf("Block %d num records %d != counted records: %d", i, bh.NumRecords, records)
		}
		total += records
		if i+1 == numBlocks {
			if appendix > 0 && pos != h.OffAppendix {
				return v.logf("Invalid appendix offset - Expected: %d, found: %d", uint32(h.OffAppendix), uint32(pos))
			}
			if appendix > 0 {
				fmt.Fprintf(v.out, "Checking appendix blocks\n")
			}
		}
	}
	if pos < size {
		v.logf("Extra data detected after regular blocks: %d bytes", size-pos)
	}
	fmt.Fprintf(v.out, "\nTotal\n")
	for t := 1; t <= 4; t++ {
		if types[t] > 0 {
			fmt.Fprintf(v.out, "Type %d blocks : %d\n", t, types[t])
		}
	}
	fmt.Fprintf(v.out, "Records       : %d\n", total)
	return nil
}

// countRecords walks the records of the decompressed block number counted
// (1-based) of type typ as nfdump -v does, and returns how many it holds.
func (v *verifier) countRecords(data []byte, typ uint16, counted int) (int, error) {
	records, sum := 0, 0
	if typ == 4 {
		// An array block: one record header, then equal records.
		if len(data) < recordHdrSize {
			return 0, v.logf("Error in block: %d, couted array size: %d != header size: %d\n", counted, recordHdrSize, len(data))
		}
		rsize := int(le.Uint16(data[2:]))
		v.logf("Array block: Record type: %d, size: %d", le.Uint16(data[0:]), rsize)
		sum = recordHdrSize
		for sum < len(data) && rsize > 0 {
			sum += rsize
			records++
		}
		if sum != len(data) {
			return 0, v.logf("Error in block: %d, couted array size: %d != header size: %d\n", counted, sum, len(data))
		}
		return records, nil
	}
	for sum < len(data) {
		records++
		if sum+recordHdrSize > len(data) {
			return 0, v.logf("Record size %d extends beyond block size: %d", sum+recordHdrSize, len(data))
		}
		rtype, rsize := le.Uint16(data[sum:]), int(le.Uint16(data[sum+2:]))
		if sum+rsize > len(data) {
			return 0, v.logf("Record size %d extends beyond block size: %d", sum+rsize, len(data))
		}
		if rsize < recordHdrSize {
			v.logf("Error in block: %d, record: %d: record size %d below header size", counted, records, rsize)
			return 0, v.logf("Record %d, type: %d, size: %d - block size: %d\n", records, rtype, rsize, sum)
		}
		sum += rsize
	}
	return records, nil
}

// errText is the strerror part of an error, as nfdump prints it.
func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		if s := pe.Err.Error(); s != "" {
			return string(bytes.ToUpper([]byte(s[:1]))) + s[1:]
		}
	}
	return err.Error()
}
