package flowgen

import (
	"math/rand/v2"
	"net/netip"

	"github.com/nfgo/nftools/flow"
)

// RandomAddr returns a random IPv4 or IPv6 address (IPv6 outside the
// v4-mapped range).
func RandomAddr(rng *rand.Rand, v6 bool) netip.Addr {
	if v6 {
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		b[0] = 0x20 // keep it out of the v4-mapped range
		return netip.AddrFrom16(b)
	}
	return netip.AddrFrom4([4]byte{byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
}

// Random builds a flow with a random choice of elements, each filled with
// random values, as a reader returns it: Elements lists exactly the
// elements carried, and the fields of other elements are zero. Tests use it
// to cover every element; values are random, not plausible.
func Random(rng *rand.Rand) flow.Record {
	u64 := func() uint64 { return rng.Uint64() >> uint(rng.IntN(64)) }
	u32 := func() uint32 { return uint32(u64()) }
	u8 := func() uint8 { return uint8(rng.IntN(256)) }
	v6 := rng.IntN(3) == 0
	first := uint64(1_700_000_000_000 + rng.Int64N(100_000_000_000))
	r := flow.Record{
		NFVersion: []uint8{1, 5, 9, 10}[rng.IntN(4)], Flags: uint8(rng.IntN(8)),
		EngineType: u8(), EngineID: u8(), ExporterID: uint16(1 + rng.IntN(3)),
		First: first, Last: first + uint64(rng.IntN(300_000)), Received: first + 300_000,
		InPackets: u64(), InBytes: u64(),
		SrcAddr: RandomAddr(rng, v6), DstAddr: RandomAddr(rng, v6),
		SrcPort: uint16(rng.IntN(65536)), DstPort: uint16(rng.IntN(65536)),
		Proto: []uint8{1, 6, 17, 58, 47}[rng.IntN(5)], TCPFlags: u8(), FwdStatus: u8(), SrcTos: u8(),
	}
	e := flow.Elements(0).With(flow.ElemGeneric)
	if v6 {
		e = e.With(flow.ElemIPv6)
	} else {
		e = e.With(flow.ElemIPv4)
	}
	pick := func(id int) bool {
		if rng.IntN(2) == 0 {
			return false
		}
		e = e.With(id)
		return true
	}
	if pick(flow.ElemMisc) {
		r.Input, r.Output, r.SrcMask, r.DstMask = u32(), u32(), uint8(rng.IntN(33)), uint8(rng.IntN(33))
		r.Dir, r.DstTos, r.BiFlowDir, r.EndReason, r.RevTCPFlags = u8(), u8(), u8(), u8(), u8()
	}
	if pick(flow.ElemCounters) {
		r.Flows, r.OutPackets, r.OutBytes = u64(), u64(), u64()
	}
	if pick(flow.ElemVLAN) {
		// 802.1Q ids are 12 bits; nfdump 1.7.1 prints only 16 bits of them.
		r.SrcVLAN, r.DstVLAN = u32()%4096, u32()%4096
	}
	if pick(flow.ElemAS) {
		r.SrcAS, r.DstAS = u32(), u32()
	}
	addrElem := func(v4, v6 int, a *netip.Addr) {
		if rng.IntN(2) == 0 {
			return
		}
		six := rng.IntN(2) == 0
		*a = RandomAddr(rng, six)
		if six {
			e = e.With(v6)
		} else {
			e = e.With(v4)
		}
	}
	addrElem(flow.ElemBGPNextHopV4, flow.ElemBGPNextHopV6, &r.BGPNextHop)
	addrElem(flow.ElemIPNextHopV4, flow.ElemIPNextHopV6, &r.IPNextHop)
	addrElem(flow.ElemExporterIPv4, flow.ElemExporterIPv6, &r.Exporter)
	if pick(flow.ElemMPLS) {
		for i := range r.MPLS[:1+rng.IntN(10)] {
			r.MPLS[i] = u32() & 0xffffff
		}
	}
	if pick(flow.ElemMAC) {
		r.InSrcMAC, r.OutDstMAC, r.InDstMAC, r.OutSrcMAC = u64()&0xffffffffffff, u64()&0xffffffffffff, u64()&0xffffffffffff, u64()&0xffffffffffff
	}
	if pick(flow.ElemAdjacentAS) {
		r.NextAS, r.PrevAS = u32(), u32()
	}
	if pick(flow.ElemLatency) {
		r.ClientNwDelay, r.ServerNwDelay, r.ApplLatency = u64()>>20, u64()>>20, u64()>>20
	}
	r.Elements = e
	return r
}
