// Package nfverify checks the block structure of an nfdump file and prints
// the report of nfdump -v: the header, a check of every data and appendix
// block (size, decompression, record sizes and counts), the appendix
// offset, and the totals. It does not decode the records' elements; the
// reader does that.
package nfverify

import (
	"bytes"
	"compress/bzip2"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/anchore/go-lzo"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

const (
	magic       = 0xA50C
	headerSize  = 40
	blockHeader = 12
	maxBlock    = 5 * 1024 * 1024 // nfdump's BUFFSIZE
	// flagUncompressed marks a block stored raw in a compressed file; only
	// nfdump -v honours it.
	flagUncompressed = 0x1
)

// errReported ends a check after its message was printed.
var errReported = errors.New("reported")

type checker struct {
	out, errOut io.Writer
}

func (c *checker) logf(format string, a ...any) error {
	fmt.Fprintf(c.errOut, format+"\n", a...)
	return errReported
}

// Verify checks the file at path, prints the report on stdout and the
// problems on stderr as nfdump 1.7.1 does, and reports whether the file is
// sound. Unlike nfdump 1.7.1 it also checks ZSTD files (compression 4),
// which nfdump writes from 1.7.3 on.
func Verify(path string, stdout, stderr io.Writer) bool {
	c := &checker{out: stdout, errOut: stderr}
	return c.verify(path) == nil
}

func (c *checker) verify(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return c.logf("Can't stat '%s': %s", path, errText(err))
	}
	f, err := os.Open(path)
	if err != nil {
		return c.logf("Error open file: %s", errText(err))
	}
	defer f.Close()
	size := fi.Size()
	var h [headerSize]byte
	n, err := io.ReadFull(f, h[:])
	if n < 1 {
		return c.logf("read() error: %v", err)
	}
	le := binary.LittleEndian
	if m := le.Uint16(h[0:]); m != magic {
		return c.logf("Open file '%s': bad magic: 0x%X", path, m)
	}
	fmt.Fprintf(c.out, "File       : %s\n", path)
	version := le.Uint16(h[2:])
	if version != 2 {
		return c.logf("Unknown layout version: %d", version)
	}
	comp := h[16]
	if comp > 4 {
		return c.logf("Unknown compression: %d", comp)
	}
	names := []string{"not compressed", "lzo compressed", "bz2 compressed", "lz4 compressed", "zstd compressed"}
	fmt.Fprintf(c.out, "Version    : %d - %s\n", version, names[comp])
	if h[17] != 0 {
		return c.logf("Unknown encryption: %d", h[17])
	}
	created := int64(le.Uint64(h[8:]))
	fmt.Fprintf(c.out, "Created    : %s\n", time.Unix(created, 0).Format("2006-01-02 15:04:05"))
	fmt.Fprintf(c.out, "nfdump     : %x\n", le.Uint32(h[4:]))
	fmt.Fprintf(c.out, "encryption : no\n")
	appendix := int(le.Uint16(h[18:]))
	numBlocks := int(le.Uint32(h[36:]))
	offAppendix := int64(le.Uint64(h[24:]))
	fmt.Fprintf(c.out, "Appdx blks : %d\n", appendix)
	fmt.Fprintf(c.out, "Data blks  : %d\n", numBlocks)
	if offAppendix >= size {
		return c.logf("Invalid appendix offset: %d", uint32(offAppendix))
	}

	fmt.Fprintf(c.out, "Checking data blocks\n")
	pos := int64(headerSize)
	var types [5]int
	total, counted := 0, 0
	var bh [blockHeader]byte
	payload := make([]byte, 0, maxBlock)
	spinner := []byte{'|', '/', '-', '\\'}
	for i := 0; i < numBlocks+appendix; i++ {
		if counted&0x7 == 0 {
			fmt.Fprintf(c.out, " %c\r", spinner[(counted>>3)&0x2])
		}
		if pos+blockHeader > size {
			c.logf("Unexpected read beyond EOF! File corrupted")
			c.logf("Expected %d blocks, counted %d", numBlocks, i)
			break
		}
		if _, err := io.ReadFull(f, bh[:]); err != nil {
			return c.logf("Error reading block %d: %v", counted, err)
		}
		pos += blockHeader
		counted++
		numRecords := le.Uint32(bh[0:])
		bsize := int64(le.Uint32(bh[4:]))
		btype := le.Uint16(bh[8:])
		flags := le.Uint16(bh[10:])
		if btype < 1 || btype > 4 {
			fmt.Fprintf(c.out, "block %d has unknown type %d\n", counted, btype)
			return errReported
		}
		types[btype]++
		if bsize > maxBlock || pos+bsize > size {
			return c.logf("Expected to seek beyond EOF! File corrupted")
		}
		payload = payload[:bsize]
		if _, err := io.ReadFull(f, payload); err != nil {
			return c.logf("Short read: Expected %d bytes: %v", bsize, err)
		}
		pos += bsize
		data := payload
		bc := comp
		if flags&flagUncompressed != 0 {
			bc = 0
		}
		if bc != 0 {
			d, err := decompress(bc, payload)
			if err != nil {
				return c.logf("%s decommpress failed", []string{"", "LZO", "Bzip2", "LZ4", "ZSTD"}[bc])
			}
			data = d
		}
		records, sum := 0, 0
		if btype == 4 {
			// An array block: one record header, then equal records.
			if len(data) < 4 {
				return c.logf("Error in block: %d, couted array size: %d != header size: %d\n", counted, 4, len(data))
			}
			rsize := int(le.Uint16(data[2:]))
			c.logf("Array block: Record type: %d, size: %d", le.Uint16(data[0:]), rsize)
			sum = 4
			for sum < len(data) && rsize > 0 {
				sum += rsize
				records++
			}
			if sum != len(data) {
				return c.logf("Error in block: %d, couted array size: %d != header size: %d\n", counted, sum, len(data))
			}
		} else {
			for sum < len(data) {
				records++
				if sum+4 > len(data) {
					return c.logf("Record size %d extends beyond block size: %d", sum+4, len(data))
				}
				rtype, rsize := le.Uint16(data[sum:]), int(le.Uint16(data[sum+2:]))
				if sum+rsize > len(data) {
					return c.logf("Record size %d extends beyond block size: %d", sum+rsize, len(data))
				}
				if rsize < 4 {
					c.logf("Error in block: %d, record: %d: record size %d below header size", counted, records, rsize)
					return c.logf("Record %d, type: %d, size: %d - block size: %d\n", records, rtype, rsize, sum)
				}
				sum += rsize
			}
		}
		if uint32(records) != numRecords {
			return c.logf("Block %d num records %d != counted records: %d", i, numRecords, records)
		}
		total += records
		if i+1 == numBlocks {
			if appendix > 0 && pos != offAppendix {
				return c.logf("Invalid appendix offset - Expected: %d, found: %d", uint32(offAppendix), uint32(pos))
			}
			if appendix > 0 {
				fmt.Fprintf(c.out, "Checking appendix blocks\n")
			}
		}
	}
	if pos < size {
		c.logf("Extra data detected after regular blocks: %d bytes", size-pos)
	}
	fmt.Fprintf(c.out, "\nTotal\n")
	for t := 1; t <= 4; t++ {
		if types[t] > 0 {
			fmt.Fprintf(c.out, "Type %d blocks : %d\n", t, types[t])
		}
	}
	fmt.Fprintf(c.out, "Records       : %d\n", total)
	return nil
}

var zstdDec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))

func decompress(comp byte, src []byte) ([]byte, error) {
	switch comp {
	case 1:
		dst := make([]byte, maxBlock)
		n, err := lzo.Decompress(src, dst)
		return dst[:n], err
	case 2:
		r := bzip2.NewReader(bytes.NewReader(src))
		dst := make([]byte, maxBlock+1)
		n, err := io.ReadFull(r, dst)
		if err != io.EOF && err != io.ErrUnexpectedEOF {
			if err == nil {
				err = errors.New("bz2: block too large")
			}
			return nil, err
		}
		return dst[:n], nil
	case 3:
		dst := make([]byte, maxBlock)
		n, err := lz4.UncompressBlock(src, dst)
		return dst[:n], err
	case 4:
		return zstdDec.DecodeAll(src, nil)
	}
	return src, nil
}

// errText is the strerror part of an error, as nfdump prints it.
func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		s := pe.Err.Error()
		if s != "" {
			return string(bytes.ToUpper([]byte(s[:1]))) + s[1:]
		}
	}
	return err.Error()
}
