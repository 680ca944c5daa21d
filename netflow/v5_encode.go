package netflow

import (
	"github.com/nfgo/nftools/flow"
)

// NetFlow v1, v5 and v7 as fprobe 1.1 writes them (the layouts are in
// v5.go):
//
//   - the header: sysUpTime, the export time in seconds and nanoseconds
//     (fprobe's are microseconds times 1000; ours milliseconds times 10^6),
//     and for v5/v7 the flow sequence: the flows sent before this datagram
//     by this encoder, as fprobe counts them per collector. fprobe writes
//     zero for v5's engine type, engine id and sampling field and for v7's
//     reserved word; the engine fields come from the EncoderConfig, whose
//     zero value is fprobe's.
//   - the records: the record's values, counters and interfaces truncated
//     to the format's 32 and 16 bits (the flow cache splits flows before
//     their counters wrap), first and last as sysUpTime of the flow's
//     times. fprobe writes zero next hop, AS numbers and masks (it knows
//     none); records from goprobe's cache have zeros there too, so the
//     datagrams are the same. v7's flags and router shortcut are zero.
//   - ICMP: Cisco's layout, source port 0 and type<<8|code in the
//     destination port. This is a deliberate difference: fprobe puts the
//     type in the source port and the code in the destination port, and a
//     collector that reads a non-zero ICMP source port as Cisco's
//     type<<8|code (nfcapd does) then shows type.0 for every code (3.0
//     for a port unreachable that is 3.3). Ours show the real code, as v9
//     and IPFIX do.
//   - IPv6 flows do not fit the formats: they are taken and skipped, and
//     counted in EncoderStats.Skipped, as fprobe ignores IPv6 packets.
//
// The record count stops at fprobe's 24 (v1), 30 (v5) and 27 (v7), or
// earlier at the MTU.

type v5Encoder struct {
	cfg     EncoderConfig
	version uint16
	hdrLen  int
	recLen  int
	max     int    // records per datagram
	seq     uint32 // flows sent so far
	stats   EncoderStats
}

func newV5Encoder(cfg EncoderConfig) (*v5Encoder, error) {
	e := &v5Encoder{cfg: cfg, version: uint16(cfg.Version)}
	switch cfg.Version {
	case 1:
		e.hdrLen, e.recLen, e.max = v1HeaderLen, v1RecordLen, v1MaxRecords
	case 5:
		e.hdrLen, e.recLen, e.max = v5HeaderLen, v5RecordLen, v5MaxRecords
	case 7:
		e.hdrLen, e.recLen, e.max = v5HeaderLen, v7RecordLen, v7MaxRecords
	}
	e.max = min(e.max, (cfg.MTU-e.hdrLen)/e.recLen)
	if e.max < 1 {
		return nil, errMTU
	}
	return e, nil
}

// v7MaxRecords is what fprobe and Cisco put in a v7 datagram.
const v7MaxRecords = 27

func (e *v5Encoder) Stats() EncoderStats { return e.stats }

// MaxRecords is 0: a datagram takes as many IPv6 flows as come, skipped.
func (e *v5Encoder) MaxRecords() int { return 0 }

func (e *v5Encoder) Encode(dst []byte, recs []flow.Record, now uint64) ([]byte, int) {
	b, _ := grow(room(dst, e.hdrLen+e.max*e.recLen)[:0], e.hdrLen)
	boot := e.cfg.bootFor(now)
	count, n := 0, 0
	for ; n < len(recs) && count < e.max; n++ {
		r := &recs[n]
		if r.IsIPv6() {
			e.stats.Skipped++
			continue
		}
		var rec []byte
		b, rec = grow(b, e.recLen)
		e.record(rec, r, boot)
		count++
	}
	if count == 0 {
		return b[:0], n
	}
	hdr := b[:e.hdrLen] // b may have moved since grow made it
	putU16(hdr, e.version)
	putU16(hdr[2:], uint16(count))
	putU32(hdr[4:], uint32(now-boot))
	putU32(hdr[8:], uint32(now/1000))
	putU32(hdr[12:], uint32(now%1000)*1000000)
	if e.version != 1 {
		putU32(hdr[16:], e.seq)
		if e.version == 5 {
			hdr[20], hdr[21] = e.cfg.EngineType, e.cfg.EngineID
		}
	}
	e.seq += uint32(count)
	e.stats.Datagrams++
	e.stats.Records += uint64(count)
	return b, n
}

// record writes one flow record; rec is zeroed.
func (e *v5Encoder) record(rec []byte, r *flow.Record, boot uint64) {
	src, _ := addrVal(r.SrcAddr)
	dst, _ := addrVal(r.DstAddr)
	putU32(rec[0:], uint32(src))
	putU32(rec[4:], uint32(dst))
	if r.IPNextHop.Is4() {
		hop, _ := addrVal(r.IPNextHop)
		putU32(rec[8:], uint32(hop))
	}
	putU16(rec[12:], uint16(r.Input))
	putU16(rec[14:], uint16(r.Output))
	putU32(rec[16:], uint32(r.InPackets))
	putU32(rec[20:], uint32(r.InBytes))
	putU32(rec[24:], uint32(r.First-boot))
	putU32(rec[28:], uint32(r.Last-boot))
	sport, dport := r.SrcPort, r.DstPort
	if r.Proto == flow.ProtoICMP {
		// Cisco's layout, which collectors decode to the right type and
		// code (see the file comment for fprobe's).
		sport = 0
	}
	putU16(rec[32:], sport)
	putU16(rec[34:], dport)
	if e.version == 1 {
		// pad(2) prot tos tcpFlags pad(3) reserved(4)
		rec[38], rec[39], rec[40] = r.Proto, r.SrcTos, r.TCPFlags
		return
	}
	// pad tcpFlags prot tos srcAS dstAS srcMask dstMask pad(2) [routerSc]
	rec[37], rec[38], rec[39] = r.TCPFlags, r.Proto, r.SrcTos
	putU16(rec[40:], uint16(r.SrcAS))
	putU16(rec[42:], uint16(r.DstAS))
	rec[44], rec[45] = r.SrcMask, r.DstMask
}
