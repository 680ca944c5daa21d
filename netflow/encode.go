package netflow

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/nfgo/nftools/flow"
)

// Encoder turns flow records into export datagrams of one protocol
// version. It keeps the exporter's state (sequence numbers, boot time,
// which templates were sent and when) and nothing else: no I/O, no clock.
// An Encoder is not safe for concurrent use.
//
// A datagram goes to every collector that shares the encoder, so collectors
// that are sent the same datagrams (fprobe's mirror peers) share one encoder,
// and each collector in a round-robin set gets its own: its sequence numbers
// then count what it received, as fprobe counts them per peer, and it gets
// the v9 and IPFIX templates for the data it is sent.
type Encoder interface {
	// Encode appends one datagram holding records from recs (as many as
	// fit the MTU and the version's record limit, at least one unless
	// recs is empty) to dst[:0] and returns it and how many records of
	// recs it took. now is the export time in ms since the epoch.
	//
	// Records that the version cannot carry at all (IPv6 flows in v1, v5
	// and v7) are taken and skipped, and counted in Stats().Skipped; when
	// every record taken was skipped the datagram is empty and nothing is
	// to be sent. With dst of capacity MTU or more, Encode does not
	// allocate; a smaller dst is replaced by a buffer of the largest
	// datagram at once.
	Encode(dst []byte, recs []flow.Record, now uint64) (datagram []byte, n int)
	// MaxRecords bounds the records one Encode call takes: fewer than
	// MaxRecords always, so that a caller handing over MaxRecords at a
	// time gets the datagrams it would get handing over all (Encode took
	// fewer, or took all there were). 0 means no bound: v1, v5 and v7
	// take and skip any number of IPv6 flows.
	MaxRecords() int
	// Stats returns the totals since the encoder was made.
	Stats() EncoderStats
}

// EncoderStats are an encoder's running totals.
type EncoderStats struct {
	Datagrams uint64 // non-empty datagrams returned
	Records   uint64 // flow records encoded into them
	Skipped   uint64 // records taken but not encoded: IPv6 flows in v1, v5 and v7
	Templates uint64 // v9/IPFIX template records sent, refreshes included
}

// EncoderConfig configures NewEncoder.
type EncoderConfig struct {
	Version int // 1, 5, 7, 9 or 10 (IPFIX)
	// BootTime is the exporter's boot time in ms since the epoch, from
	// which v1, v5, v7 and v9 count sysUpTime and the flow times. Zero
	// selects fprobe's uptime trick (its default build): every datagram
	// claims a sysUpTime of FprobeUptime ms, so the counter never wraps
	// and flows up to 12 days old keep exact times. v9 counts from the
	// whole second at or before BootTime, because its header carries the
	// export time in whole seconds and a collector derives the boot time
	// from both. IPFIX carries absolute times and ignores BootTime.
	BootTime   uint64
	EngineType uint8 // v5 header; fprobe writes 0
	EngineID   uint8 // v5 header; fprobe writes 0
	// SourceID is the v9 source id or the IPFIX observation domain.
	SourceID uint32
	// MTU bounds a datagram (the UDP payload); 0 means DefaultMTU.
	MTU int
	// TemplateEvery re-sends the v9/IPFIX templates every N datagrams (0:
	// DefaultTemplateEvery), TemplateTimeout every T ms of export time
	// (0: DefaultTemplateTimeout), whichever comes first. A template is
	// always sent before the first record that uses it.
	TemplateEvery   int
	TemplateTimeout uint64
}

// Encoder defaults and limits.
const (
	DefaultMTU             = 1500 - 20 - 8 // Ethernet minus IPv4 and UDP headers
	MaxMTU                 = 65535 - 20 - 8
	DefaultTemplateEvery   = 20    // Cisco's default refresh rate
	DefaultTemplateTimeout = 60000 // ms
	// FprobeUptime is the sysUpTime of fprobe's uptime trick: 2^20 s.
	FprobeUptime = 1 << 20 * 1000
)

// NewEncoder returns an encoder for cfg.Version, or an error for a version
// it does not know or an MTU too small for one record.
func NewEncoder(cfg EncoderConfig) (Encoder, error) {
	if cfg.MTU == 0 {
		cfg.MTU = DefaultMTU
	}
	if cfg.MTU < 0 || cfg.MTU > MaxMTU {
		return nil, fmt.Errorf("netflow: MTU %d out of range 1..%d", cfg.MTU, MaxMTU)
	}
	if cfg.TemplateEvery < 0 {
		return nil, fmt.Errorf("netflow: template refresh every %d datagrams", cfg.TemplateEvery)
	}
	if cfg.TemplateEvery == 0 {
		cfg.TemplateEvery = DefaultTemplateEvery
	}
	if cfg.TemplateTimeout == 0 {
		cfg.TemplateTimeout = DefaultTemplateTimeout
	}
	switch cfg.Version {
	case 1, 5, 7:
		return newV5Encoder(cfg)
	case 9, 10:
		return newTemplateEncoder(cfg)
	}
	return nil, fmt.Errorf("netflow: cannot encode version %d (1, 5, 7, 9 or 10)", cfg.Version)
}

var errMTU = errors.New("netflow: MTU too small for one record")

// bootFor returns the boot time (ms since the epoch) that a datagram
// exported at now counts its uptimes from: the configured one, or fprobe's
// trick of a boot FprobeUptime before the export time.
func (c *EncoderConfig) bootFor(now uint64) uint64 {
	if c.BootTime != 0 {
		return c.BootTime
	}
	return now - FprobeUptime
}

// put writes the low n bytes of lo big-endian into b, or for n = 16 the
// two halves of an address as getTarget returns them (lo the first).
func put(b []byte, n int, lo, hi uint64) {
	if n == 16 {
		putU64(b, lo)
		putU64(b[8:], hi)
		return
	}
	for i := n - 1; i >= 0; i-- {
		b[i] = byte(lo)
		lo >>= 8
	}
}

func putU16(b []byte, v uint16) { binary.BigEndian.PutUint16(b, v) }
func putU32(b []byte, v uint32) { binary.BigEndian.PutUint32(b, v) }
func putU64(b []byte, v uint64) { binary.BigEndian.PutUint64(b, v) }

// room returns dst, or a new buffer of capacity n when dst's is smaller:
// a datagram built in a small buffer grew through five sizes on its way
// to the MTU (80 bytes to 1.5 KiB), each in a size class of its own,
// which left garbage in five of Go's spans for every datagram buffer the
// exporter keeps.
func room(dst []byte, n int) []byte {
	if cap(dst) < n {
		return make([]byte, 0, n)
	}
	return dst
}

// grow extends b by n zero bytes and returns it and the new part.
func grow(b []byte, n int) ([]byte, []byte) {
	l := len(b)
	if cap(b)-l < n {
		b = append(b, make([]byte, n)...)
	} else {
		b = b[:l+n]
		clear(b[l:])
	}
	return b, b[l:]
}
