package flowfile

import (
	"encoding/binary"
	"fmt"
	"time"
)

// File format constants (shared/notes/nffile-v2.md sections 1 and 2).
const (
	Magic          = 0xA50C
	LayoutVersion2 = 2
	HeaderSize     = 40
	// NFDVersion is what nfdump 1.7.1 writes into the header; nfdump only
	// prints it, but we claim the version whose format we write.
	NFDVersion = 0x01070100

	blockHeaderSize = 12
	// maxBlockSize is the reader's hard limit for a block payload, on disk
	// and decompressed: nfdump's BUFFSIZE.
	maxBlockSize = 5 * 1024 * 1024
	// WriteBlockSize is where a writer starts a new block: the uncompressed
	// payload never grows past it, as in nfcapd (WRITE_BUFFSIZE).
	WriteBlockSize = 1024 * 1024

	blockTypeV2    = 2 // nfdump 1.6 blocks, processed like type 3
	blockTypeV3    = 3 // the normal 1.7 block
	recordHdrSize  = 4
	maxIdentLength = 122 // nfdump accepts ident records shorter than 128 bytes
)

// Header is the 40-byte file header.
type Header struct {
	Magic          uint16
	Version        uint16
	NFDVersion     uint32
	Created        int64 // seconds since the epoch
	Compression    Compression
	Encryption     uint8
	AppendixBlocks uint16
	Creator        uint32 // "unused" in 1.7.1, the creating program from 1.7.3 on
	OffAppendix    int64
	BlockSize      uint32 // never used by nfdump
	NumBlocks      uint32 // data blocks only, not the appendix
}

// CreatedTime returns Created as a time.
func (h *Header) CreatedTime() time.Time { return time.Unix(h.Created, 0) }

func (h *Header) marshal(b []byte) {
	le := binary.LittleEndian
	le.PutUint16(b[0:], h.Magic)
	le.PutUint16(b[2:], h.Version)
	le.PutUint32(b[4:], h.NFDVersion)
	le.PutUint64(b[8:], uint64(h.Created))
	b[16] = byte(h.Compression)
	b[17] = h.Encryption
	le.PutUint16(b[18:], h.AppendixBlocks)
	le.PutUint32(b[20:], h.Creator)
	le.PutUint64(b[24:], uint64(h.OffAppendix))
	le.PutUint32(b[32:], h.BlockSize)
	le.PutUint32(b[36:], h.NumBlocks)
}

func (h *Header) unmarshal(b []byte) {
	le := binary.LittleEndian
	h.Magic = le.Uint16(b[0:])
	h.Version = le.Uint16(b[2:])
	h.NFDVersion = le.Uint32(b[4:])
	h.Created = int64(le.Uint64(b[8:]))
	h.Compression = Compression(b[16])
	h.Encryption = b[17]
	h.AppendixBlocks = le.Uint16(b[18:])
	h.Creator = le.Uint32(b[20:])
	h.OffAppendix = int64(le.Uint64(b[24:]))
	h.BlockSize = le.Uint32(b[32:])
	h.NumBlocks = le.Uint32(b[36:])
}

// check rejects headers this package cannot read, with nfdump's wording
// where it has one.
func (h *Header) check() error {
	switch {
	case h.Magic != Magic:
		return fmt.Errorf("bad magic: 0x%X", h.Magic)
	case h.Version == 1:
		return fmt.Errorf("layout version 1 (nfdump 1.6) is not supported")
	case h.Version != LayoutVersion2:
		return fmt.Errorf("unknown layout version %d", h.Version)
	case h.Compression > ZSTD:
		return fmt.Errorf("Unknown compression: %d", h.Compression)
	case h.Encryption != 0:
		return fmt.Errorf("Unknown encryption: %d", h.Encryption)
	}
	return nil
}

// blockHeader is the 12-byte header in front of every block.
type blockHeader struct {
	NumRecords uint32
	Size       uint32 // payload bytes on disk (compressed length)
	Type       uint16
	Flags      uint16
}

func (b *blockHeader) marshal(p []byte) {
	le := binary.LittleEndian
	le.PutUint32(p[0:], b.NumRecords)
	le.PutUint32(p[4:], b.Size)
	le.PutUint16(p[8:], b.Type)
	le.PutUint16(p[10:], b.Flags)
}

func (b *blockHeader) unmarshal(p []byte) {
	le := binary.LittleEndian
	b.NumRecords = le.Uint32(p[0:])
	b.Size = le.Uint32(p[4:])
	b.Type = le.Uint16(p[8:])
	b.Flags = le.Uint16(p[10:])
}
