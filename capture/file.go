package capture

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"os"
)

// The file formats: classic pcap in either byte order with micro- or
// nanosecond stamps (and Alexey Kuznetsov's modified pcap, whose records
// are 8 bytes longer), and pcapng (section, interface, enhanced, simple and
// obsolete packet blocks; other blocks are skipped). The messages for bad
// files are libpcap's, since fprobe and nfcapd printed libpcap's.

const (
	magicMicro    = 0xa1b2c3d4
	magicNano     = 0xa1b23c4d
	magicModified = 0xa1b2cd34
	magicNG       = 0x0a0d0d0a // pcapng section header block type
	ngByteOrder   = 0x1a2b3c4d

	// maxCapLen is libpcap's largest snap length: a record claiming more
	// is a damaged file, not a frame.
	maxCapLen = 262144
	// maxBlock bounds a pcapng block, as libpcap does (16 MiB).
	maxBlock = 16 << 20
	// bufSize is a stream's read buffer (a file is read ahead: see
	// ahead.go). Frames and blocks up to its size are handed out of it
	// without a copy; larger ones (a loopback's 64 KiB segments) are read
	// into a buffer of their own. It is small on purpose: a buffer of a
	// megabyte was a megabyte of goprobe's memory.
	bufSize = 64 << 10
)

// fileSource reads a capture file or stream.
type fileSource struct {
	name   string
	closer io.Closer // nil for a stream the caller owns
	r      reader    // a *bufio.Reader, or an *aheadReader for a file
	peek   int       // the most r.Peek returns: longer blocks go through big
	ahead  *aheadReader
	big    []byte // blocks larger than the read buffer
	link   LinkType
	stats  SourceStats
	next   func(f *Frame) error

	// classic pcap
	pcap    bool // the file is one: Next calls nextPcap itself, not through next
	le      bool // bo is binary.LittleEndian
	fast    bool // pcap, le and 16-byte record headers: Next's fast path
	bo      binary.ByteOrder
	nano    bool
	recSize int // record header: 16, or 24 in the modified format

	// pcapng: the current section's interfaces
	ifaces []ngIface
}

// ngIface is a pcapng interface: its link type and how to turn its time
// stamps into nanoseconds.
type ngIface struct {
	link    LinkType
	snapLen uint32
	pow10   bool  // resolution 10^-exp seconds, else 2^-exp
	exp     uint8 // resolution exponent (6 by default: microseconds)
	offset  int64 // if_tsoffset, seconds
}

// OpenFile opens a pcap or pcapng file, which a goroutine reads ahead
// until Close.
func OpenFile(path string) (Source, error) {
	return openAhead(path, newAheadReader)
}

// OpenFileShared opens a pcap or pcapng file as OpenFile does, but reads
// it ahead without a goroutine of its own: the frames' reader fills a
// chunk when it finds none ready, and its user's other goroutines fill
// the next ones when they would otherwise wait (FillAhead).
func OpenFileShared(path string) (Source, error) {
	return openAhead(path, newSharedReader)
}

// openAhead opens path and reads it through the read-ahead newReader
// makes of it.
func openAhead(path string, newReader func(io.Reader) *aheadReader) (Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	a := newReader(f)
	s, err := newFileSource(a, path)
	if err != nil {
		a.Close()
		f.Close()
		return nil, err
	}
	s.closer, s.ahead = f, a
	return s, nil
}

// FillAhead reads the next chunk of a file opened by OpenFileShared, if
// one is free and no other goroutine is reading one, and reports whether
// it did. Any goroutine may call it, while another reads the frames.
func (s *fileSource) FillAhead() bool {
	a := s.ahead
	return a != nil && a.fillOne()
}

// Shared reports whether the file was opened by OpenFileShared where Go
// runs two goroutines at once: its reader then waits for the chunks
// that others fill, and FillAhead may fill them. Otherwise FillAhead
// never does.
func (s *fileSource) Shared() bool { return s.ahead != nil && s.ahead.shared }

// AheadFiller is a Source that other goroutines may help read ahead
// (OpenFileShared).
type AheadFiller interface {
	FillAhead() bool
	Shared() bool
}

// NewFileSource reads a pcap or pcapng stream from r (goprobe -i - reads
// stdin); name names it in errors. Closing the source does not close r.
func NewFileSource(r io.Reader, name string) (Source, error) {
	return newFileSource(r, name)
}

func newFileSource(r io.Reader, name string) (*fileSource, error) {
	s := &fileSource{name: name}
	if a, ok := r.(*aheadReader); ok {
		s.r, s.peek = a, aheadHeadroom
	} else {
		s.r, s.peek = bufio.NewReaderSize(r, bufSize), bufSize
	}
	m, err := s.r.Peek(4)
	if err != nil {
		if err != io.EOF && err != io.ErrUnexpectedEOF {
			return nil, &FileError{name, err.Error()}
		}
		return nil, s.errorf("truncated dump file; tried to read 4 file header bytes")
	}
	switch binary.LittleEndian.Uint32(m) {
	case magicMicro, magicNano, magicModified:
		s.bo = binary.LittleEndian
	case bswap(magicMicro), bswap(magicNano), bswap(magicModified):
		s.bo = binary.BigEndian
	case magicNG:
		return s, s.openNG()
	default:
		return nil, s.errorf("unknown file format")
	}
	return s, s.openPcap()
}

func bswap(v uint32) uint32 { return bits.ReverseBytes32(v) }

func (s *fileSource) errorf(format string, args ...any) error {
	return &FileError{s.name, fmt.Sprintf(format, args...)}
}

func (s *fileSource) LinkType() LinkType { return s.link }
func (s *fileSource) Stats() SourceStats { return s.stats }
func (s *fileSource) Next(f *Frame) error {
	if a := s.ahead; a != nil && s.fast {
		// A little-endian pcap record whole in the chunk read ahead (the
		// usual case) is taken from it here, its header read through one
		// bounds check: through nextPcap's general path, a record cost
		// about 150 instructions, a fifth of goprobe --read's on a
		// capture of few flows.
		if rest := a.cur[a.pos:a.end]; len(rest) >= 16 {
			h := (*[16]byte)(rest)
			le := binary.LittleEndian
			capLen := le.Uint32(h[8:])
			if n := 16 + uint64(capLen); capLen <= maxCapLen && uint64(len(rest)) >= n {
				frac := le.Uint32(h[4:])
				if !s.nano {
					frac *= 1000
				}
				f.Data, f.WireLen, f.Link = rest[16:n:n], int(max(le.Uint32(h[12:]), capLen)), s.link
				f.Time = int64(le.Uint32(h[:]))*1e9 + int64(frac)
				a.pos += int(n)
				s.stats.Received++
				return nil
			}
		}
	}
	var err error
	if s.pcap {
		err = s.nextPcap(f)
	} else {
		err = s.next(f)
	}
	if err != nil {
		return err
	}
	s.stats.Received++
	return nil
}

// Close closes the file (a stream from NewFileSource stays open).
func (s *fileSource) Close() error {
	if s.ahead != nil {
		s.ahead.Close()
		s.ahead = nil
	}
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}

// bytes returns the next n bytes, consumed; they stay valid until the next
// call. Short is the number of bytes there were when the input ended early
// (then the error is io.ErrUnexpectedEOF, or io.EOF when there was none).
func (s *fileSource) bytes(n int) ([]byte, int, error) {
	if n <= s.peek {
		b, err := s.r.Peek(n)
		if err != nil {
			if err == io.EOF && len(b) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, len(b), err
		}
		s.r.Discard(n)
		return b, n, nil
	}
	// A block longer than the buffer is read into a buffer that grows with
	// what arrives, so that a damaged length does not cost its size.
	b := s.big[:0]
	for len(b) < n {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		m, err := s.r.Read(b[len(b):min(cap(b), n)])
		b = b[:len(b)+m]
		if err != nil {
			s.big = b
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, len(b), err
		}
	}
	s.big = b
	return b, n, nil
}

func (s *fileSource) openPcap() error {
	h, _, err := s.bytes(24)
	if err != nil {
		return s.errorf("truncated dump file; tried to read 24 file header bytes")
	}
	switch s.bo.Uint32(h) {
	case magicNano:
		s.nano = true
	case magicModified:
		s.recSize = 8
	}
	s.recSize += 16
	// The upper bits of the link type field say whether frames end in an
	// FCS; the frames are decoded by their IP lengths, so it does not
	// matter here.
	s.link = LinkType(s.bo.Uint32(h[20:]) & 0xffff)
	s.pcap, s.le = true, s.bo == binary.LittleEndian
	s.fast = s.le && s.recSize == 16
	return nil
}

func (s *fileSource) nextPcap(f *Frame) error {
	// A record whole in the chunk read ahead is taken from it at once,
	// without a Peek and a Discard through the reader for its header and
	// for its data.
	a := s.ahead
	fast := a != nil && a.end-a.pos >= s.recSize
	var h []byte
	if fast {
		h = a.cur[a.pos : a.pos+s.recSize]
	} else {
		var err error
		if h, _, err = s.bytes(s.recSize); err != nil {
			if err == io.EOF {
				return io.EOF
			}
			return s.errorf("truncated dump file; tried to read %d header bytes", s.recSize)
		}
	}
	var sec, frac, capLen, wireLen uint32
	if s.le {
		// The usual order, read without a call through the interface
		// for each field.
		le := binary.LittleEndian
		sec, frac, capLen, wireLen = le.Uint32(h), le.Uint32(h[4:]), le.Uint32(h[8:]), le.Uint32(h[12:])
	} else {
		sec, frac, capLen, wireLen = s.bo.Uint32(h), s.bo.Uint32(h[4:]), s.bo.Uint32(h[8:]), s.bo.Uint32(h[12:])
	}
	var data []byte
	if n := s.recSize + int(capLen); fast && capLen <= maxCapLen && a.end-a.pos >= n {
		data = a.cur[a.pos+s.recSize : a.pos+n : a.pos+n]
		a.pos += n
	} else {
		if fast {
			a.pos += s.recSize // the header, read: h is not used again
		}
		if capLen > maxCapLen {
			return s.errorf("invalid packet capture length %d, bigger than maximum of %d", capLen, maxCapLen)
		}
		var err error
		if data, _, err = s.bytes(int(capLen)); err != nil {
			return s.errorf("truncated dump file; tried to read %d captured bytes", capLen)
		}
	}
	if !s.nano {
		frac *= 1000
	}
	f.Data, f.WireLen, f.Link = data, int(max(wireLen, capLen)), s.link
	f.Time = int64(sec)*1e9 + int64(frac)
	return nil
}

// openNG reads the section header and the blocks up to the first
// interface description, whose link type is the source's.
func (s *fileSource) openNG() error {
	if err := s.sectionHeader(); err != nil {
		return err
	}
	s.link = LinkEthernet // a section without interfaces has no frames either
	for {
		typ, body, err := s.block()
		if err == io.EOF {
			s.next = func(*Frame) error { return io.EOF }
			return nil
		}
		if err != nil {
			return err
		}
		switch typ {
		case magicNG:
			if err := s.sectionHeader(); err != nil {
				return err
			}
		case 1:
			if err := s.addIface(body); err != nil {
				return err
			}
			s.link = s.ifaces[0].link
			s.next = s.nextNG
			return nil
		case 2, 3, 6:
			return s.errorf("the first pcapng packet block comes before any interface description")
		}
	}
}

// sectionHeader reads a section header block (type already peeked) and
// starts a section: its byte order and no interfaces yet.
func (s *fileSource) sectionHeader() error {
	h, _, err := s.bytes(12)
	if err != nil {
		return s.errorf("truncated pcapng section header")
	}
	switch binary.LittleEndian.Uint32(h[8:]) {
	case ngByteOrder:
		s.bo = binary.LittleEndian
	case bswap(ngByteOrder):
		s.bo = binary.BigEndian
	default:
		return s.errorf("the pcapng section header has an unknown byte-order magic")
	}
	n := s.bo.Uint32(h[4:])
	if n < 28 || n > maxBlock || n%4 != 0 {
		return s.errorf("pcapng section header of %d bytes", n)
	}
	if _, _, err := s.bytes(int(n) - 12); err != nil {
		return s.errorf("truncated pcapng section header")
	}
	s.ifaces = s.ifaces[:0]
	return nil
}

// block reads the next block and returns its type and body (without the
// trailing length). A section header is returned with its type only,
// unread, for sectionHeader.
func (s *fileSource) block() (uint32, []byte, error) {
	h, err := s.r.Peek(8)
	if err != nil {
		if err == io.EOF && len(h) == 0 {
			return 0, nil, io.EOF
		}
		return 0, nil, s.errorf("truncated pcapng block header")
	}
	if binary.LittleEndian.Uint32(h) == magicNG {
		return magicNG, nil, nil
	}
	typ, n := s.bo.Uint32(h), s.bo.Uint32(h[4:])
	if n < 12 || n > maxBlock || n%4 != 0 {
		return 0, nil, s.errorf("pcapng block of type %d has a length of %d bytes", typ, n)
	}
	b, _, err := s.bytes(int(n))
	if err != nil {
		return 0, nil, s.errorf("truncated pcapng block; tried to read %d bytes", n)
	}
	return typ, b[8 : n-4], nil
}

// addIface reads an interface description block.
func (s *fileSource) addIface(b []byte) error {
	if len(b) < 8 {
		return s.errorf("pcapng interface description block too short")
	}
	ifc := ngIface{link: LinkType(s.bo.Uint16(b)), snapLen: s.bo.Uint32(b[4:]), pow10: true, exp: 6}
	for opts := b[8:]; len(opts) >= 4; {
		code, n := s.bo.Uint16(opts), int(s.bo.Uint16(opts[2:]))
		if code == 0 || 4+n > len(opts) {
			break
		}
		v := opts[4 : 4+n]
		switch {
		case code == 9 && n == 1: // if_tsresol
			ifc.pow10, ifc.exp = v[0]&0x80 == 0, v[0]&0x7f
			if ifc.pow10 && ifc.exp > 18 || !ifc.pow10 && ifc.exp > 63 {
				return s.errorf("pcapng interface has a time stamp resolution of %#x", v[0])
			}
		case code == 14 && n == 8: // if_tsoffset
			ifc.offset = int64(s.bo.Uint64(v))
		}
		opts = opts[4+(n+3)&^3:]
	}
	s.ifaces = append(s.ifaces, ifc)
	return nil
}

// nanos turns an interface's time stamp into nanoseconds since the epoch.
func (ifc *ngIface) nanos(ts uint64) int64 {
	var ns uint64
	switch {
	case ifc.pow10 && ifc.exp <= 9:
		ns = ts * pow10[9-ifc.exp]
	case ifc.pow10:
		ns = ts / pow10[ifc.exp-9]
	default:
		hi, lo := bits.Mul64(ts, 1e9)
		ns = lo>>ifc.exp | hi<<(64-ifc.exp) // a shift by 64 gives 0
	}
	return int64(ns) + ifc.offset*1e9
}

var pow10 = [...]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

func (s *fileSource) nextNG(f *Frame) error {
	for {
		typ, b, err := s.block()
		if err != nil {
			return err
		}
		switch typ {
		case magicNG:
			if err := s.sectionHeader(); err != nil {
				return err
			}
		case 1:
			if err := s.addIface(b); err != nil {
				return err
			}
		case 6, 2: // enhanced packet; obsolete packet (a 16-bit interface and a drop count)
			if len(b) < 20 {
				return s.errorf("pcapng packet block too short")
			}
			ifc := s.bo.Uint32(b)
			if typ == 2 {
				ifc = uint32(s.bo.Uint16(b))
			}
			ts := uint64(s.bo.Uint32(b[4:]))<<32 | uint64(s.bo.Uint32(b[8:]))
			capLen, wireLen := s.bo.Uint32(b[12:]), s.bo.Uint32(b[16:])
			if int(ifc) >= len(s.ifaces) {
				return s.errorf("a pcapng packet block names interface %d of %d", ifc, len(s.ifaces))
			}
			if uint64(capLen) > uint64(len(b)-20) {
				return s.errorf("a pcapng packet block's capture length %d is beyond its end", capLen)
			}
			i := &s.ifaces[ifc]
			f.Data, f.WireLen, f.Link = b[20:20+capLen], int(max(wireLen, capLen)), i.link
			f.Time = i.nanos(ts)
			return nil
		case 3: // simple packet, on interface 0, without a time stamp
			if len(b) < 4 || len(s.ifaces) == 0 {
				return s.errorf("a pcapng simple packet block without an interface")
			}
			wireLen := s.bo.Uint32(b)
			data := b[4:]
			if uint64(len(data)) > uint64(wireLen) {
				data = data[:wireLen]
			}
			if snap := s.ifaces[0].snapLen; snap != 0 && uint64(len(data)) > uint64(snap) {
				data = data[:snap]
			}
			f.Data, f.WireLen, f.Link, f.Time = data, int(wireLen), s.ifaces[0].link, 0
			return nil
		}
	}
}
