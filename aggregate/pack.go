package aggregate

import (
	"math/bits"
	"net/netip"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/region"
)

// A table keeps the first flow of each key packed: the record's fields as
// packedWords words at fixed positions, of which only the non-zero ones are
// stored, after a bitmap that says which. A flow as a collector writes it
// carries a dozen non-zero words, so a packed record takes some 100 bytes
// instead of the 368 of a flow.Record, and it holds no pointers, so the
// garbage collector never scans the table. The counters, the times and the
// TCP flags are not packed: the entry's sums replace them whenever a record
// is rebuilt. The last word is the number of the flow's label in the
// table's list of labels (Table.labels), 0 for none.

const packedWords = 32

// Address families as the packed record keeps them, two bits per address.
const (
	famNone = 0
	fam4    = 1
	fam6    = 2
)

func addrFam(a netip.Addr) uint64 {
	switch {
	case a.Is4():
		return fam4
	case a.IsValid():
		return fam6
	}
	return famNone
}

// famAddr rebuilds an address from its family and its words.
func famAddr(fam uint64, hi, lo uint64) netip.Addr {
	switch fam & 3 {
	case fam4:
		return wordsAddr(hi, lo, false)
	case fam6:
		return wordsAddr(hi, lo, true)
	}
	return netip.Addr{}
}

// packRecord writes r's fields and its label number into w at their
// fixed positions.
func packRecord(w *[packedWords]uint64, r *flow.Record, label uint32) {
	w[0] = uint64(r.Elements)
	w[1] = uint64(r.NFVersion) | uint64(r.Flags)<<8 | uint64(r.EngineType)<<16 | uint64(r.EngineID)<<24 |
		uint64(r.ExporterID)<<32 | uint64(r.RevTCPFlags)<<48 | uint64(r.FwdStatus)<<56
	w[2] = r.Received
	w[3] = addrFam(r.SrcAddr) | addrFam(r.DstAddr)<<2 | addrFam(r.BGPNextHop)<<4 |
		addrFam(r.IPNextHop)<<6 | addrFam(r.Exporter)<<8 |
		uint64(r.SrcPort)<<16 | uint64(r.DstPort)<<32 | uint64(r.Proto)<<48 | uint64(r.SrcTos)<<56
	w[4], w[5] = flow.AddrWords(r.SrcAddr)
	w[6], w[7] = flow.AddrWords(r.DstAddr)
	w[8] = uint64(r.DstTos) | uint64(r.SrcMask)<<8 | uint64(r.DstMask)<<16 | uint64(r.Dir)<<24 |
		uint64(r.BiFlowDir)<<32 | uint64(r.EndReason)<<40
	w[9] = uint64(r.Input) | uint64(r.Output)<<32
	w[10] = uint64(r.SrcVLAN) | uint64(r.DstVLAN)<<32
	w[11] = uint64(r.SrcAS) | uint64(r.DstAS)<<32
	w[12] = uint64(r.NextAS) | uint64(r.PrevAS)<<32
	w[13], w[14] = flow.AddrWords(r.BGPNextHop)
	w[15], w[16] = flow.AddrWords(r.IPNextHop)
	w[17], w[18] = flow.AddrWords(r.Exporter)
	w[19], w[20], w[21], w[22] = r.InSrcMAC, r.OutDstMAC, r.InDstMAC, r.OutSrcMAC
	for i := 0; i < 5; i++ {
		w[23+i] = uint64(r.MPLS[2*i]) | uint64(r.MPLS[2*i+1])<<32
	}
	w[28], w[29], w[30] = r.ClientNwDelay, r.ServerNwDelay, r.ApplLatency
	w[31] = uint64(label)
}

// unpackRecord is the inverse of packRecord, and returns the label
// number; the fields packRecord leaves out (counters, times, TCP flags,
// the label) are zero.
func unpackRecord(r *flow.Record, w *[packedWords]uint64) (label uint32) {
	*r = flow.Record{
		Elements:    flow.Elements(w[0]),
		NFVersion:   uint8(w[1]),
		Flags:       uint8(w[1] >> 8),
		EngineType:  uint8(w[1] >> 16),
		EngineID:    uint8(w[1] >> 24),
		ExporterID:  uint16(w[1] >> 32),
		RevTCPFlags: uint8(w[1] >> 48),
		FwdStatus:   uint8(w[1] >> 56),
		Received:    w[2],
		SrcAddr:     famAddr(w[3], w[4], w[5]),
		DstAddr:     famAddr(w[3]>>2, w[6], w[7]),
		BGPNextHop:  famAddr(w[3]>>4, w[13], w[14]),
		IPNextHop:   famAddr(w[3]>>6, w[15], w[16]),
		Exporter:    famAddr(w[3]>>8, w[17], w[18]),
		SrcPort:     uint16(w[3] >> 16),
		DstPort:     uint16(w[3] >> 32),
		Proto:       uint8(w[3] >> 48),
		SrcTos:      uint8(w[3] >> 56),
		DstTos:      uint8(w[8]),
		SrcMask:     uint8(w[8] >> 8),
		DstMask:     uint8(w[8] >> 16),
		Dir:         uint8(w[8] >> 24),
		BiFlowDir:   uint8(w[8] >> 32),
		EndReason:   uint8(w[8] >> 40),
		Input:       uint32(w[9]),
		Output:      uint32(w[9] >> 32),
		SrcVLAN:     uint32(w[10]),
		DstVLAN:     uint32(w[10] >> 32),
		SrcAS:       uint32(w[11]),
		DstAS:       uint32(w[11] >> 32),
		NextAS:      uint32(w[12]),
		PrevAS:      uint32(w[12] >> 32),
		InSrcMAC:    w[19],
		OutDstMAC:   w[20],
		InDstMAC:    w[21],
		OutSrcMAC:   w[22],

		ClientNwDelay: w[28],
		ServerNwDelay: w[29],
		ApplLatency:   w[30],
	}
	for i := 0; i < 5; i++ {
		r.MPLS[2*i] = uint32(w[23+i])
		r.MPLS[2*i+1] = uint32(w[23+i] >> 32)
	}
	return uint32(w[31])
}

// arenaBits is the size of an arena chunk (words, as a power of two); a
// reference to a packed record is its chunk and its offset in 32 bits.
const arenaBits = 20

// firstChunk is the size of an arena's first chunk (words): 512 KiB.
const firstChunk = 1 << 16

// arena holds packed records in chunks that never move.
type arena struct {
	chunks [][]uint64
	mem    *region.Pool // where the chunks come from; nil: Go's heap
}

// put stores r packed, with its label number, and returns its reference.
func (a *arena) put(r *flow.Record, label uint32) uint32 {
	var w [packedWords]uint64
	packRecord(&w, r, label)
	var set uint64
	n := 1
	for i, v := range w {
		if v != 0 {
			set |= 1 << uint(i)
			n++
		}
	}
	last := len(a.chunks) - 1
	if last < 0 || len(a.chunks[last])+n > cap(a.chunks[last]) {
		// The first chunk is small (firstChunk): a small table's
		// records then fit in the pool's first region, of small pages,
		// where a full chunk took a region of its own, advised huge, and
		// the first record's touch cleared a huge page: 2 MiB for a few
		// hundred records, a seventh of godump -B -o extended's processor
		// time on nfcapd's small one-minute files.
		n := 1 << arenaBits
		if last < 0 {
			n = firstChunk
		}
		var c []uint64
		if a.mem != nil {
			c = words(a.mem, n)
		} else {
			c = make([]uint64, n)
		}
		a.chunks = append(a.chunks, c[:0])
		last++
	}
	c := a.chunks[last]
	ref := uint32(last)<<arenaBits | uint32(len(c))
	c = append(c, set)
	for _, v := range w {
		if v != 0 {
			c = append(c, v)
		}
	}
	a.chunks[last] = c
	return ref
}

// get rebuilds the record stored under ref into r and returns its label
// number.
func (a *arena) get(ref uint32, r *flow.Record) (label uint32) {
	c := a.chunks[ref>>arenaBits][ref&(1<<arenaBits-1):]
	var w [packedWords]uint64
	set := c[0]
	j := 1
	for s := set; s != 0; s &= s - 1 {
		w[bits.TrailingZeros64(s)] = c[j]
		j++
	}
	return unpackRecord(r, &w)
}
