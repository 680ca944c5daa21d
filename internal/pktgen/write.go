package pktgen

import (
	"encoding/binary"
	"io"
)

// Pcap writes a classic pcap file.
type Pcap struct {
	w    io.Writer
	bo   binary.ByteOrder
	nano bool
	snap int
	err  error
}

// PcapOptions are the choices of a pcap file's header.
type PcapOptions struct {
	BigEndian bool
	Nano      bool // nanosecond time stamps (magic a1b23c4d)
	SnapLen   int  // frames are cut to this length (262144 when 0)
}

// NewPcap writes the file header for frames of the link type given.
func NewPcap(w io.Writer, link uint32, o PcapOptions) *Pcap {
	p := &Pcap{w: w, bo: binary.LittleEndian, nano: o.Nano, snap: o.SnapLen}
	if o.BigEndian {
		p.bo = binary.BigEndian
	}
	if p.snap == 0 {
		p.snap = 262144
	}
	h := make([]byte, 24)
	magic := uint32(0xa1b2c3d4)
	if o.Nano {
		magic = 0xa1b23c4d
	}
	p.bo.PutUint32(h, magic)
	p.bo.PutUint16(h[4:], 2)
	p.bo.PutUint16(h[6:], 4)
	p.bo.PutUint32(h[16:], uint32(p.snap))
	p.bo.PutUint32(h[20:], link)
	_, p.err = w.Write(h)
	return p
}

// Write writes a frame captured at t (ns since the epoch), cut to the snap
// length.
func (p *Pcap) Write(t int64, frame []byte) {
	p.WriteRecord(t, frame[:min(len(frame), p.snap)], len(frame))
}

// WriteRecord writes a record of the bytes captured, c, of a frame that
// was wireLen bytes long on the wire.
func (p *Pcap) WriteRecord(t int64, c []byte, wireLen int) {
	if p.err != nil {
		return
	}
	h := make([]byte, 16, 16+len(c))
	p.bo.PutUint32(h, uint32(t/1e9))
	frac := t % 1e9
	if !p.nano {
		frac /= 1000
	}
	p.bo.PutUint32(h[4:], uint32(frac))
	p.bo.PutUint32(h[8:], uint32(len(c)))
	p.bo.PutUint32(h[12:], uint32(wireLen))
	_, p.err = p.w.Write(append(h, c...))
}

// Err returns the first write error.
func (p *Pcap) Err() error { return p.err }

// Pcapng writes a pcapng file.
type Pcapng struct {
	w      io.Writer
	bo     byteOrder
	ifaces []ngIface
	err    error
}

type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

type ngIface struct {
	snap   int
	pow10  bool
	exp    uint8
	offset int64
}

// NewPcapng writes a section header in the byte order given.
func NewPcapng(w io.Writer, bigEndian bool) *Pcapng {
	p := &Pcapng{w: w}
	p.Section(bigEndian)
	return p
}

// Section starts a new section (whose interfaces start anew).
func (p *Pcapng) Section(bigEndian bool) {
	p.bo = binary.LittleEndian
	if bigEndian {
		p.bo = binary.BigEndian
	}
	p.ifaces = nil
	b := p.bo.AppendUint32(nil, 0x1a2b3c4d)
	b = p.bo.AppendUint16(b, 1)
	b = p.bo.AppendUint16(b, 0)
	b = p.bo.AppendUint64(b, ^uint64(0)) // section length not given
	p.block(0x0a0d0d0a, b)
}

// Resolution is an interface's time stamp resolution as pcapng's
// if_tsresol option says it: 10^-n seconds, or 2^-n with the top bit set.
type Resolution uint8

// AddInterface describes an interface and returns its number. A zero
// resolution writes no option (microseconds); offset is if_tsoffset in
// seconds.
func (p *Pcapng) AddInterface(link uint16, snap int, res Resolution, offset int64) int {
	ifc := ngIface{snap: snap, pow10: true, exp: 6, offset: offset}
	b := p.bo.AppendUint16(nil, link)
	b = p.bo.AppendUint16(b, 0)
	b = p.bo.AppendUint32(b, uint32(snap))
	if res != 0 {
		ifc.pow10, ifc.exp = res&0x80 == 0, uint8(res&0x7f)
		b = p.option(b, 9, []byte{byte(res)})
	}
	if offset != 0 {
		b = p.option(b, 14, p.bo.AppendUint64(nil, uint64(offset)))
	}
	if res != 0 || offset != 0 {
		b = p.option(b, 0, nil)
	}
	p.ifaces = append(p.ifaces, ifc)
	p.block(1, b)
	return len(p.ifaces) - 1
}

func (p *Pcapng) option(b []byte, code uint16, v []byte) []byte {
	b = p.bo.AppendUint16(b, code)
	b = p.bo.AppendUint16(b, uint16(len(v)))
	return pad(append(b, v...), 4)
}

// stamp turns t (ns since the epoch) into interface i's units.
func (p *Pcapng) stamp(i int, t int64) uint64 {
	ifc := p.ifaces[i]
	t -= ifc.offset * 1e9
	if !ifc.pow10 {
		return uint64(t) / 1e9 << ifc.exp // whole seconds only: enough for tests
	}
	if ifc.exp <= 9 {
		for e := ifc.exp; e < 9; e++ {
			t /= 10
		}
		return uint64(t)
	}
	u := uint64(t)
	for e := uint8(9); e < ifc.exp; e++ {
		u *= 10
	}
	return u
}

// Write writes an enhanced packet block.
func (p *Pcapng) Write(i int, t int64, frame []byte) {
	ts := p.stamp(i, t)
	c := frame[:min(len(frame), p.ifaces[i].snap)]
	b := p.bo.AppendUint32(nil, uint32(i))
	b = p.bo.AppendUint32(b, uint32(ts>>32))
	b = p.bo.AppendUint32(b, uint32(ts))
	b = p.bo.AppendUint32(b, uint32(len(c)))
	b = p.bo.AppendUint32(b, uint32(len(frame)))
	p.block(6, pad(append(b, c...), 4))
}

// WriteObsolete writes an obsolete packet block (type 2).
func (p *Pcapng) WriteObsolete(i int, t int64, frame []byte) {
	ts := p.stamp(i, t)
	c := frame[:min(len(frame), p.ifaces[i].snap)]
	b := p.bo.AppendUint16(nil, uint16(i))
	b = p.bo.AppendUint16(b, 0) // drops
	b = p.bo.AppendUint32(b, uint32(ts>>32))
	b = p.bo.AppendUint32(b, uint32(ts))
	b = p.bo.AppendUint32(b, uint32(len(c)))
	b = p.bo.AppendUint32(b, uint32(len(frame)))
	p.block(2, pad(append(b, c...), 4))
}

// WriteSimple writes a simple packet block (interface 0, no time stamp).
func (p *Pcapng) WriteSimple(frame []byte) {
	c := frame[:min(len(frame), p.ifaces[0].snap)]
	b := p.bo.AppendUint32(nil, uint32(len(frame)))
	p.block(3, pad(append(b, c...), 4))
}

// WriteBlock writes a block of another type (a reader skips it).
func (p *Pcapng) WriteBlock(typ uint32, body []byte) { p.block(typ, pad(body, 4)) }

func (p *Pcapng) block(typ uint32, body []byte) {
	if p.err != nil {
		return
	}
	n := uint32(12 + len(body))
	b := p.bo.AppendUint32(nil, typ)
	b = p.bo.AppendUint32(b, n)
	b = append(b, body...)
	b = p.bo.AppendUint32(b, n)
	_, p.err = p.w.Write(b)
}

// Err returns the first write error.
func (p *Pcapng) Err() error { return p.err }
