package netflow

import (
	"encoding/binary"
	"net/netip"

	"github.com/nfgo/nftools/flow"
)

// NetFlow v1, v5 and v7 layouts (Cisco's fixed formats).
const (
	v1HeaderLen  = 16
	v1RecordLen  = 48
	v1MaxRecords = 24
	v5HeaderLen  = 24
	v5RecordLen  = 48
	v7RecordLen  = 52
	v5MaxRecords = 30 // nfcapd checks v7 against the v5 maximum too
)

// v5 header:  version(2) count(2) sysUptime(4) unixSecs(4) unixNsecs(4)
//
//	flowSequence(4) engineType(1) engineID(1) samplingInterval(2)
//
// v5 record:  srcaddr(4) dstaddr(4) nexthop(4) input(2) output(2) dPkts(4)
//
//	dOctets(4) first(4) last(4) srcport(2) dstport(2) pad(1)
//	tcpFlags(1) prot(1) tos(1) srcAS(2) dstAS(2) srcMask(1)
//	dstMask(1) pad(2)              [v7: + routerSc(4)]
//
// v1 header:  version(2) count(2) sysUptime(4) unixSecs(4) unixNsecs(4)
// v1 record:  srcaddr(4) dstaddr(4) nexthop(4) input(2) output(2) dPkts(4)
//
//	dOctets(4) first(4) last(4) srcport(2) dstport(2) pad(2)
//	prot(1) tos(1) tcpFlags(1) pad(7)

// decodeV5 decodes NetFlow v5 and v7 datagrams. As in nfcapd, a datagram may
// hold several header+records blocks back to back.
func (d *Decoder) decodeV5(pkt []byte, from netip.Addr, msecReceived uint64, h Handler) error {
	be := binary.BigEndian
	version := be.Uint16(pkt)
	if len(pkt) < v5HeaderLen {
		return d.fail(nil, from, version, ReasonShort, "%d bytes, header needs %d", len(pkt), v5HeaderLen)
	}
	engineTag := be.Uint16(pkt[20:])
	e, err := d.getExporter(exporterKey{version: version, addr: from, id: uint32(engineTag)}, h)
	if err != nil {
		return err
	}
	if !e.started {
		d.v5Sampler(e, be.Uint16(pkt[22:]), h)
	}
	e.packets++
	d.counters.Datagrams++

	recLen := v5RecordLen
	if version == 7 {
		recLen = v7RecordLen
	}
	r := &d.rec
	vh := d.v3Handler(h)
	for p := pkt; len(p) > 0; {
		if len(p) < v5HeaderLen {
			return d.fail(e, from, version, ReasonLength, "%d trailing bytes", len(p))
		}
		count := int(be.Uint16(p[2:]))
		if count > v5MaxRecords {
			return d.fail(e, from, version, ReasonCount, "record count %d > %d", count, v5MaxRecords)
		}
		if len(p) < v5HeaderLen+count*recLen {
			return d.fail(e, from, version, ReasonLength, "%d records need %d bytes, have %d", count, v5HeaderLen+count*recLen, len(p))
		}
		d.checkSequence(e, be.Uint32(p[16:]), e.lastCount)
		e.lastCount = int64(count)

		sysUp := uint64(be.Uint32(p[4:]))
		boot := uint64(be.Uint32(p[8:]))*1000 + uint64(be.Uint32(p[12:]))/1000000 - sysUp
		tag := be.Uint16(p[20:])
		rec := p[v5HeaderLen:]
		if vh != nil && hostLE {
			// Straight into V3 records (v5Encode loads and stores as
			// the processor does: little-endian ones only).
			d.v5V3Records(vh, e, rec, count, recLen, tag, msecReceived, boot, sysUp)
			p = p[v5HeaderLen+count*recLen:]
			continue
		}
		for i := 0; i < count; i, rec = i+1, rec[recLen:] {
			*r = flow.Record{
				Elements:   flow.Elements(0).With(flow.ElemGeneric).With(flow.ElemIPv4).With(receivedElement(from)),
				NFVersion:  5, // nfcapd stores v7 flows as version 5 too
				EngineType: uint8(tag >> 8),
				EngineID:   uint8(tag),
				ExporterID: e.info.SysID,
				Received:   msecReceived,
				InPackets:  uint64(be.Uint32(rec[16:])),
				InBytes:    uint64(be.Uint32(rec[20:])),
				SrcAddr:    addr4(rec[0:]),
				DstAddr:    addr4(rec[4:]),
				SrcPort:    be.Uint16(rec[32:]),
				DstPort:    be.Uint16(rec[34:]),
				TCPFlags:   rec[37],
				Proto:      rec[38],
				SrcTos:     rec[39],
				Exporter:   from,
			}
			// Optional elements only when set, and without the v5 masks.
			if in, out := be.Uint16(rec[12:]), be.Uint16(rec[14:]); in != 0 || out != 0 {
				r.Elements = r.Elements.With(flow.ElemMisc)
				r.Input, r.Output = uint32(in), uint32(out)
			}
			if sas, das := be.Uint16(rec[40:]), be.Uint16(rec[42:]); sas != 0 || das != 0 {
				r.Elements = r.Elements.With(flow.ElemAS)
				r.SrcAS, r.DstAS = uint32(sas), uint32(das)
			}
			if be.Uint32(rec[8:]) != 0 {
				r.Elements = r.Elements.With(flow.ElemIPNextHopV4)
				r.IPNextHop = addr4(rec[8:])
			}
			d.v5Finish(r, e, rec, boot, sysUp)
			h.Flow(r)
		}
		p = p[v5HeaderLen+count*recLen:]
	}
	return nil
}

// v5Finish is the post-processing of a v5 or v7 record rec decoded into
// r: its times, sampling and ICMP port; the flow is counted.
func (d *Decoder) v5Finish(r *flow.Record, e *exporter, rec []byte, boot, sysUp uint64) {
	be := binary.BigEndian
	r.First, r.Last = sysUpTimes(boot, sysUp, uint64(be.Uint32(rec[24:])), uint64(be.Uint32(rec[28:])), 100000)
	if s := e.v5Sampler; s != nil && s.SpaceInterval > 1 {
		// nfcapd scales only from a space interval of 2 (1:3) on.
		r.InPackets *= uint64(s.SpaceInterval) + 1
		r.InBytes *= uint64(s.SpaceInterval) + 1
		r.Flags |= flow.FlagSampled
	}
	fixICMPPort(r)
	e.flows++
	d.counters.Flows++
}

// decodeV1 decodes NetFlow v1 datagrams (no engine, no sequence numbers).
func (d *Decoder) decodeV1(pkt []byte, from netip.Addr, msecReceived uint64, h Handler) error {
	be := binary.BigEndian
	if len(pkt) < v1HeaderLen {
		return d.fail(nil, from, 1, ReasonShort, "%d bytes, header needs %d", len(pkt), v1HeaderLen)
	}
	e, err := d.getExporter(exporterKey{version: 1, addr: from}, h)
	if err != nil {
		return err
	}
	e.packets++
	d.counters.Datagrams++
	r := &d.rec
	for p := pkt; len(p) > 0; {
		if len(p) < v1HeaderLen {
			return d.fail(e, from, 1, ReasonLength, "%d trailing bytes", len(p))
		}
		count := int(be.Uint16(p[2:]))
		if count > v1MaxRecords {
			return d.fail(e, from, 1, ReasonCount, "record count %d > %d", count, v1MaxRecords)
		}
		if len(p) < v1HeaderLen+count*v1RecordLen {
			return d.fail(e, from, 1, ReasonLength, "%d records need %d bytes, have %d", count, v1HeaderLen+count*v1RecordLen, len(p))
		}
		sysUp := uint64(be.Uint32(p[4:]))
		boot := uint64(be.Uint32(p[8:]))*1000 + uint64(be.Uint32(p[12:]))/1000000 - sysUp
		rec := p[v1HeaderLen:]
		for i := 0; i < count; i, rec = i+1, rec[v1RecordLen:] {
			*r = flow.Record{
				Elements:   flow.Elements(0).With(flow.ElemGeneric).With(flow.ElemIPv4).With(receivedElement(from)),
				NFVersion:  1,
				ExporterID: e.info.SysID,
				Received:   msecReceived,
				InPackets:  uint64(be.Uint32(rec[16:])),
				InBytes:    uint64(be.Uint32(rec[20:])),
				SrcAddr:    addr4(rec[0:]),
				DstAddr:    addr4(rec[4:]),
				SrcPort:    be.Uint16(rec[32:]),
				DstPort:    be.Uint16(rec[34:]),
				Proto:      rec[38],
				SrcTos:     rec[39],
				TCPFlags:   rec[40],
				Exporter:   from,
			}
			if in, out := be.Uint16(rec[12:]), be.Uint16(rec[14:]); in != 0 || out != 0 {
				r.Elements = r.Elements.With(flow.ElemMisc)
				r.Input, r.Output = uint32(in), uint32(out)
			}
			if be.Uint32(rec[8:]) != 0 {
				r.Elements = r.Elements.With(flow.ElemIPNextHopV4)
				r.IPNextHop = addr4(rec[8:])
			}
			// v1 lacks the CSCei12353 tolerance of v5.
			r.First, r.Last = sysUpTimes(boot, sysUp, uint64(be.Uint32(rec[24:])), uint64(be.Uint32(rec[28:])), 0)
			fixICMPPort(r)
			e.flows++
			d.counters.Flows++
			h.Flow(r)
		}
		p = p[v1HeaderLen+count*v1RecordLen:]
	}
	return nil
}

// sysUpTimes turns first/last in msec of sysUpTime into msec since epoch as
// nfcapd does, handling the 32-bit wrap of sysUpTime between first and last
// and after last (beyond a slack of tolerance msec).
func sysUpTimes(boot, sysUp, first, last, tolerance uint64) (uint64, uint64) {
	var start uint64
	if first > last {
		start = boot - 0x100000000 + first
	} else {
		start = boot + first
	}
	end := boot + last
	if last > sysUp && last-sysUp > tolerance {
		start -= 0x100000000
		end -= 0x100000000
	}
	return start, end
}

// fixICMPPort moves a type/code that an exporter put in the source port
// into the destination port, byte-swapped, as nfcapd's v1/v5 path does.
func fixICMPPort(r *flow.Record) {
	r.SrcPort, r.DstPort = icmpPorts(r.Proto, r.SrcPort, r.DstPort)
}

// icmpPorts is fixICMPPort on the values themselves, for a loop that
// keeps them in registers (v5V3Records).
func icmpPorts(proto uint8, src, dst uint16) (uint16, uint16) {
	if proto == flow.ProtoICMP && src != 0 {
		return 0, src>>8 | src<<8
	}
	return src, dst
}

func addr4(b []byte) netip.Addr { return netip.AddrFrom4([4]byte{b[0], b[1], b[2], b[3]}) }

// v5Sampler decides the sampler of a new v5/v7 exporter from its first
// header, once, as nfcapd does: -s -N overrides, then the header's
// sampling field, then -s N.
func (d *Decoder) v5Sampler(e *exporter, field uint16, h Handler) {
	e.started = true
	var s flow.Sampler
	interval := uint32(field & 0x3fff)
	switch rate := d.opts.DefaultSampling; {
	case rate < 0:
		s = flow.Sampler{ID: flow.SamplerOverwrite, SpaceInterval: uint32(-rate)}
	case interval > 0:
		s = flow.Sampler{ID: flow.SamplerGeneric, SpaceInterval: interval, Algorithm: field >> 14}
	case rate > 1:
		s = flow.Sampler{ID: flow.SamplerDefault, SpaceInterval: uint32(rate)}
	default:
		return
	}
	s.PacketInterval = 1
	s.SpaceInterval--
	d.insertSampler(e, s, h)
	e.v5Sampler = &e.samplers[len(e.samplers)-1]
}
