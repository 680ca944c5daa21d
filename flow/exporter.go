package flow

import "net/netip"

// Exporter describes a device that sent flows, as the collector saw it. The
// collector numbers exporters from 1 (SysID) in the order it meets them, and
// every Record points at its exporter through Record.ExporterID.
type Exporter struct {
	Version uint32     // protocol version: 1, 5, 7, 9, 10 (IPFIX), 9999 (sFlow)
	Addr    netip.Addr // where its datagrams come from
	SysID   uint16     // collector-assigned id, from 1
	// ID is what the device calls itself: the engine type<<8 | engine id for
	// NetFlow v5/v7, the source id for v9, the observation domain for IPFIX.
	ID uint32
}

// ExporterStat counts what one exporter sent during one file.
type ExporterStat struct {
	SysID            uint32
	SequenceFailures uint32
	Packets          uint64 // datagrams received
	Flows            uint64
}

// Sampler ids with a special meaning in nfdump files.
const (
	SamplerGeneric   = -1 // from the packet header (NetFlow v5 sampling field)
	SamplerDefault   = -2 // collector default, nfcapd -s N
	SamplerOverwrite = -3 // collector override, nfcapd -s -N
)

// Sampler describes how an exporter samples packets: one packet out of
// PacketInterval+SpaceInterval is taken, PacketInterval in a row (normally 1).
type Sampler struct {
	ExporterSysID  uint16
	Algorithm      uint16 // IPFIX IE 304 / NetFlow v9 field 35
	ID             int64  // sampler id, or SamplerGeneric/Default/Overwrite
	PacketInterval uint32 // IPFIX IE 305
	SpaceInterval  uint32 // IPFIX IE 306: rate 1:N is stored as N-1
}

// Rate returns the sampling rate N of a 1:N sampler (1 for unsampled).
func (s *Sampler) Rate() uint64 {
	pi := uint64(s.PacketInterval)
	if pi == 0 {
		pi = 1
	}
	return (pi + uint64(s.SpaceInterval)) / pi
}

// ExporterSummary is an exporter with what a file says about it, as
// nfdump -E lists it: the sums of its exporter statistics and its
// samplers, each once, in the order met.
type ExporterSummary struct {
	Exporter
	SequenceFailures uint64
	Packets, Flows   uint64
	Samplers         []Sampler
}
