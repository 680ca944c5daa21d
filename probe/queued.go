package probe

import (
	"net/netip"

	"github.com/nfgo/nftools/flow"
)

// queued is a flow as the export queue carries it: the fields a probe's
// flow cache fills (capture.Cache's records), in 104 bytes where a
// flow.Record takes 352. The capture's gathering buffer, the queue's and
// the exporter's each hold a batch of them (256 flows reading a
// capture: three buffers of 26 KiB, where three of records were 264
// KiB, a sixth of goprobe's Go heap at the end of a capture of few
// flows), and the exporter turns them back into records for the
// encoders a few dozen at a time (exporter.records). It holds no
// pointer, so Go's collector never scans the buffers either.
//
// Only these fields are carried: times, counters, addresses (no zone),
// ports, protocol, ToS, TCP flags, interfaces, the source VLAN, the
// input MACs and the end reason. TestQueuedCarries lists them.
type queued struct {
	first, last    uint64 // ms
	packets, bytes uint64
	srcMAC, dstMAC uint64   // InSrcMAC, InDstMAC
	src, dst       [16]byte // an IPv4 address in the first 4 bytes
	input, output  uint32
	vlan           uint32 // SrcVLAN
	sport, dport   uint16
	srcFam, dstFam uint8 // 4, 6, or 0 for no address
	proto, tos     uint8
	flags, end     uint8 // TCPFlags, EndReason
}

// pack sets q from r's carried fields.
func (q *queued) pack(r *flow.Record) {
	*q = queued{first: r.First, last: r.Last, packets: r.InPackets, bytes: r.InBytes,
		srcMAC: r.InSrcMAC, dstMAC: r.InDstMAC, input: r.Input, output: r.Output, vlan: r.SrcVLAN,
		sport: r.SrcPort, dport: r.DstPort, proto: r.Proto, tos: r.SrcTos, flags: r.TCPFlags, end: r.EndReason}
	q.srcFam = packAddr(&q.src, r.SrcAddr)
	q.dstFam = packAddr(&q.dst, r.DstAddr)
}

// unpack sets r's carried fields from q. r's others are left as they are:
// zero, in a record only unpack has written.
func (q *queued) unpack(r *flow.Record) {
	r.First, r.Last, r.InPackets, r.InBytes = q.first, q.last, q.packets, q.bytes
	r.InSrcMAC, r.InDstMAC, r.Input, r.Output, r.SrcVLAN = q.srcMAC, q.dstMAC, q.input, q.output, q.vlan
	r.SrcPort, r.DstPort, r.Proto, r.SrcTos, r.TCPFlags, r.EndReason = q.sport, q.dport, q.proto, q.tos, q.flags, q.end
	r.SrcAddr = unpackAddr(&q.src, q.srcFam)
	r.DstAddr = unpackAddr(&q.dst, q.dstFam)
}

func packAddr(b *[16]byte, a netip.Addr) uint8 {
	switch {
	case a.Is4():
		*(*[4]byte)(b[:4]) = a.As4()
		return 4
	case a.Is6():
		*b = a.As16()
		return 6
	}
	return 0
}

func unpackAddr(b *[16]byte, fam uint8) netip.Addr {
	switch fam {
	case 4:
		return netip.AddrFrom4([4]byte(b[:4]))
	case 6:
		return netip.AddrFrom16(*b)
	}
	return netip.Addr{}
}
