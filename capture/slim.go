package capture

import (
	"encoding/binary"
	"math"
	"unsafe"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/slotindex"
)

// Slim is what a Cache counts of a packet, 80 bytes where a Packet is 144:
// a goroutine that decodes packets on one processor for a cache counting
// them on another hands them over in Slims (Hasher.Slim, Cache.AddSlim),
// and every byte of them crosses between the processors' caches.
// The flow key is put together (its last word, its hash) on the decoding
// side, where the Packet it comes from is still in the processor's cache.
type Slim struct {
	src, dst [16]byte
	tail     uint64 // the flow key's last word (keyTail)
	// hash is the flow key's hash; for a fragment, which is not hashed,
	// its offset<<32 | the bytes of data it carries.
	hash   uint64
	Time   int64  // the packet's time, ns since the epoch
	bytes  uint32 // what it adds to its flow's bytes: IP length, or the frame's (CountLink)
	fragID uint32 // a fragment's identification
	// The MACs fill the low 48 bits of their words; above them, srcMAC
	// carries the outer VLAN id and dstMAC the TCP flags and the slim
	// bits.
	srcMAC, dstMAC uint64
}

// The Slim's bits, in the top byte of dstMAC.
const (
	slimCounts    = 1 << iota // the packet counts (passed the filter, decoded)
	slimFragment              // a fragment
	slimMoreFrags             // a fragment with more after it
)

const macMask = 1<<48 - 1

// Counts says whether the packet counts: s was made by Hasher.Slim, not
// by Skip.
func (s *Slim) Counts() bool { return s.dstMAC>>56&slimCounts != 0 }

// Skip makes s a packet of time t that does not count (filtered out, not
// IP).
func (s *Slim) Skip(t int64) {
	s.Time, s.dstMAC = t, 0
}

// Slim puts in s what the cache whose Hasher h is counts of packet p,
// seen at t, and hashes its flow key (not a fragment's: its key is the
// first fragment's, found by the cache).
func (h *Hasher) Slim(p *Packet, t int64, s *Slim) {
	le := binary.LittleEndian
	// The addresses a word at a time: they are the hash's words.
	s0, s1 := le.Uint64(p.Src[0:]), le.Uint64(p.Src[8:])
	d0, d1 := le.Uint64(p.Dst[0:]), le.Uint64(p.Dst[8:])
	*(*uint64)(unsafe.Pointer(&s.src)) = s0
	*(*uint64)(unsafe.Pointer(&s.src[8])) = s1
	*(*uint64)(unsafe.Pointer(&s.dst)) = d0
	*(*uint64)(unsafe.Pointer(&s.dst[8])) = d1
	tail := keyTail(p.SrcPort, p.DstPort, p.Proto, p.TOS, p.Version)
	s.tail = tail
	s.Time = t
	n := p.IPLen
	if h.countLink {
		n = p.WireLen
	}
	// A frame's length is a pcap record's 32 bits; the IP length no
	// more than that.
	s.bytes = uint32(min(uint(n), math.MaxUint32))
	bits := uint64(slimCounts)
	if p.Fragment {
		bits |= slimFragment
		if p.MoreFrags {
			bits |= slimMoreFrags
		}
		s.fragID = p.FragID
		s.hash = uint64(uint32(p.FragOff))<<32 | uint64(uint32(p.FragLen))
	} else {
		s.fragID = 0
		s.hash = h.hash.words(s0, s1, d0, d1, tail)
	}
	s.srcMAC = p.SrcMAC&macMask | uint64(p.VLAN[0])<<48
	s.dstMAC = p.DstMAC&macMask | uint64(p.TCPFlags)<<48 | bits<<56
}

// packet rebuilds the Packet s was made of, as far as the cache reads
// it: for a fragment, counted by Add.
func (s *Slim) packet(p *Packet) {
	flags := s.dstMAC >> 56
	*p = Packet{Src: s.src, Dst: s.dst, IPLen: int(s.bytes), WireLen: int(s.bytes),
		SrcPort: uint16(s.tail), DstPort: uint16(s.tail >> 16), Proto: uint8(s.tail >> 32),
		TOS: uint8(s.tail >> 40), Version: uint8(s.tail >> 48),
		TCPFlags: uint8(s.dstMAC >> 48), SrcMAC: s.srcMAC & macMask, DstMAC: s.dstMAC & macMask,
		VLAN:     [2]uint16{uint16(s.srcMAC >> 48)},
		Fragment: flags&slimFragment != 0, MoreFrags: flags&slimMoreFrags != 0, FragID: s.fragID,
		FragOff: int(s.hash >> 32), FragLen: int(uint32(s.hash))}
}

// AddSlim is Add for a packet handed over as a Slim, which must count
// (Counts) and have been made by c's Hasher.
func (c *Cache) AddSlim(s *Slim) {
	now := s.Time
	if s.dstMAC>>56&slimFragment != 0 {
		var p Packet
		s.packet(&p)
		c.Add(&p, now)
		return
	}
	n := uint64(s.bytes)
	c.stats.Packets++
	c.stats.Bytes += n
	flags := uint8(s.dstMAC >> 48)
	// As in Add: a packet of a flow the cache holds is counted in place.
	i := c.lookupSlim(s)
	if i >= 0 && c.countIn(i, n, flags, now) {
		if flags&(flow.TCPFin|flow.TCPRst) != 0 {
			c.ended1(i)
		}
		return
	}
	k := &c.scratch
	k.addr = *(*[32]byte)(unsafe.Pointer(&s.src)) // src and dst, side by side
	k.tail = s.tail
	pc := flowCounts{first: now, last: now, packets: 1, bytes: n, flags: flags,
		srcMAC: s.srcMAC & macMask, dstMAC: s.dstMAC & macMask, vlan: uint16(s.srcMAC >> 48)}
	c.countAt(i, k, &pc, now, s.hash)
}

// lookupSlim is lookupPacket for a Slim.
func (c *Cache) lookupSlim(s *Slim) int32 {
	pos, tag := c.idx.Home(s.hash)
	for sl := c.idx.Slot(pos); sl != 0; pos, sl = c.idx.Next(pos) {
		if i, ok := slotindex.Match(sl, tag); ok && c.at(int32(i)).key.equalSlim(s) {
			return int32(i)
		}
	}
	return -1
}

// equalSlim says whether k is the key of s.
func (k *flowKey) equalSlim(s *Slim) bool {
	le := binary.LittleEndian
	return k.tail == s.tail && le.Uint64(k.addr[0:]) == le.Uint64(s.src[0:]) &&
		le.Uint64(k.addr[8:]) == le.Uint64(s.src[8:]) &&
		le.Uint64(k.addr[16:]) == le.Uint64(s.dst[0:]) && le.Uint64(k.addr[24:]) == le.Uint64(s.dst[8:])
}

// hashed says whether s has its flow key's hash: it counts and is not a
// fragment.
func (s *Slim) hashed() bool { return s.dstMAC>>56&(slimCounts|slimFragment) == slimCounts }

// PrefetchSlim is Prefetch and PrefetchFlow for a Slim: what a capture
// loop does for the first packets of a batch.
func (c *Cache) PrefetchSlim(s *Slim) {
	if s.hashed() && c.nflows >= c.prefetchFrom {
		pos, _ := c.idx.Home(s.hash)
		prefetch(uintptr(unsafe.Pointer(c.idx.SlotAddr(pos))))
	}
}

// PrefetchFlowSlim is PrefetchFlow for a Slim.
func (c *Cache) PrefetchFlowSlim(s *Slim) {
	if s.hashed() && c.nflows >= c.prefetchFrom {
		pos, tag := c.idx.Home(s.hash)
		if i, ok := slotindex.Match(c.idx.Slot(pos), tag); ok && int32(i) < c.slab {
			a := uintptr(unsafe.Pointer(c.at(int32(i))))
			prefetch(a)
			prefetch(a + 64)
		}
	}
}

// PrefetchAheadSlim is PrefetchSlim(s) and PrefetchFlowSlim(e) in one
// call, for a capture loop that found Prefetching true (a Slim that was
// not hashed, a fragment, is passed over): the two calls and their three
// of the assembly cost some 130 instructions a packet, a seventh of
// goprobe --read's on a capture of many flows.
func (c *Cache) PrefetchAheadSlim(s, e *Slim) {
	// Where there is nothing to fetch, the cache's counters are fetched,
	// which the packet's AddSlim reads anyway.
	sa := uintptr(unsafe.Pointer(&c.stats))
	ea := sa
	if s.hashed() {
		pos, _ := c.idx.Home(s.hash)
		sa = uintptr(unsafe.Pointer(c.idx.SlotAddr(pos)))
	}
	if e.hashed() {
		pos, tag := c.idx.Home(e.hash)
		if i, ok := slotindex.Match(c.idx.Slot(pos), tag); ok && int32(i) < c.slab {
			ea = uintptr(unsafe.Pointer(c.at(int32(i))))
		}
	}
	prefetch3(sa, ea, ea+64)
}
