package flowfile

import (
	"bytes"
	"fmt"

	"github.com/nfgo/nftools/flow"
)

// Sizes of the fixed-size records (shared/notes/nffile-v2.md section 5).
const (
	exporterInfoSize  = 32
	exporterStatHdr   = 8
	exporterStatEntry = 24
	samplerSize       = 24
	statRecordSize    = 4 + 144

	afInet  = 2  // Linux AF_INET, as nfcapd stores it
	afInet6 = 10 // Linux AF_INET6
)

func decodeExporter(b []byte, e *flow.Exporter) error {
	if len(b) != exporterInfoSize {
		return fmt.Errorf("corrupt exporter record: size %d, want %d", len(b), exporterInfoSize)
	}
	e.Version = le.Uint32(b[4:])
	switch le.Uint16(b[24:]) {
	case afInet6:
		e.Addr = addr6(b[8:])
	default:
		// The IPv4 number is the low half of the second 64-bit word.
		e.Addr = addr4(le.Uint32(b[16:]))
	}
	e.SysID = le.Uint16(b[26:])
	e.ID = le.Uint32(b[28:])
	return nil
}

func appendExporter(dst []byte, e *flow.Exporter) []byte {
	var b [exporterInfoSize]byte
	le.PutUint16(b[0:], recExporterInfo)
	le.PutUint16(b[2:], exporterInfoSize)
	le.PutUint32(b[4:], e.Version)
	if e.Addr.Is6() && !e.Addr.Is4In6() {
		putAddr6(b[8:], e.Addr)
		le.PutUint16(b[24:], afInet6)
	} else {
		putAddr4(b[16:], e.Addr.Unmap())
		le.PutUint16(b[24:], afInet)
	}
	le.PutUint16(b[26:], e.SysID)
	le.PutUint32(b[28:], e.ID)
	return append(dst, b[:]...)
}

// decodeExporterStats decodes a type-8 record into dst, reusing its array.
func decodeExporterStats(b []byte, dst []flow.ExporterStat) ([]flow.ExporterStat, error) {
	if len(b) < exporterStatHdr {
		return dst[:0], fmt.Errorf("corrupt exporter stat record: size %d", len(b))
	}
	n := int(le.Uint32(b[4:]))
	if n == 0 || len(b) != exporterStatHdr+n*exporterStatEntry {
		return dst[:0], fmt.Errorf("corrupt exporter stat record: size %d for %d entries", len(b), n)
	}
	dst = dst[:0]
	for i := 0; i < n; i++ {
		p := b[exporterStatHdr+i*exporterStatEntry:]
		dst = append(dst, flow.ExporterStat{
			SysID:            le.Uint32(p[0:]),
			SequenceFailures: le.Uint32(p[4:]),
			Packets:          le.Uint64(p[8:]),
			Flows:            le.Uint64(p[16:]),
		})
	}
	return dst, nil
}

func appendExporterStats(dst []byte, stats []flow.ExporterStat) []byte {
	size := exporterStatHdr + len(stats)*exporterStatEntry
	var h [exporterStatHdr]byte
	le.PutUint16(h[0:], recExporterStat)
	le.PutUint16(h[2:], uint16(size))
	le.PutUint32(h[4:], uint32(len(stats)))
	dst = append(dst, h[:]...)
	for _, s := range stats {
		var p [exporterStatEntry]byte
		le.PutUint32(p[0:], s.SysID)
		le.PutUint32(p[4:], s.SequenceFailures)
		le.PutUint64(p[8:], s.Packets)
		le.PutUint64(p[16:], s.Flows)
		dst = append(dst, p[:]...)
	}
	return dst
}

// maxExporterStats keeps a type-8 record below the 64 KiB record limit.
const maxExporterStats = (65535 - exporterStatHdr) / exporterStatEntry

func decodeSampler(b []byte, s *flow.Sampler) error {
	switch len(b) {
	case samplerSize:
		s.ExporterSysID = le.Uint16(b[4:])
		s.Algorithm = le.Uint16(b[6:])
		s.ID = int64(le.Uint64(b[8:]))
		s.PacketInterval = le.Uint32(b[16:])
		s.SpaceInterval = le.Uint32(b[20:])
	case 16:
		// The legacy V0 layout, which nfdump converts when it arrives as
		// type 15: id, interval, algorithm, exporter sysid.
		s.ID = int64(int32(le.Uint32(b[4:])))
		interval := le.Uint32(b[8:])
		s.Algorithm = le.Uint16(b[12:])
		s.ExporterSysID = le.Uint16(b[14:])
		s.PacketInterval = 1
		if interval > 0 {
			s.SpaceInterval = interval - 1
		}
	default:
		return fmt.Errorf("corrupt sampler record: size %d", len(b))
	}
	return nil
}

func appendSampler(dst []byte, s *flow.Sampler) []byte {
	var b [samplerSize]byte
	le.PutUint16(b[0:], recSampler)
	le.PutUint16(b[2:], samplerSize)
	le.PutUint16(b[4:], s.ExporterSysID)
	le.PutUint16(b[6:], s.Algorithm)
	le.PutUint64(b[8:], uint64(s.ID))
	le.PutUint32(b[16:], s.PacketInterval)
	le.PutUint32(b[20:], s.SpaceInterval)
	return append(dst, b[:]...)
}

func appendIdent(dst []byte, ident string) []byte {
	var h [recordHdrSize]byte
	le.PutUint16(h[0:], recIdent)
	le.PutUint16(h[2:], uint16(recordHdrSize+len(ident)+1))
	dst = append(dst, h[:]...)
	dst = append(dst, ident...)
	return append(dst, 0)
}

// decodeIdent returns the NUL-terminated string of an ident record; nfdump
// ignores idents of 128 bytes or more.
func decodeIdent(b []byte) (string, bool) {
	if len(b) >= 128 || len(b) <= recordHdrSize {
		return "", false
	}
	p := b[recordHdrSize:]
	if i := bytes.IndexByte(p, 0); i >= 0 {
		p = p[:i]
	}
	return string(p), true
}

// CheckIdent reports whether nfdump can store ident: at most 122 bytes, no
// NUL byte.
func CheckIdent(ident string) error {
	if len(ident) > maxIdentLength {
		return fmt.Errorf("ident %q is longer than %d characters", ident, maxIdentLength)
	}
	if bytes.IndexByte([]byte(ident), 0) >= 0 {
		return fmt.Errorf("ident %q contains a NUL byte", ident)
	}
	return nil
}
