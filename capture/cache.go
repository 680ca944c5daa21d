package capture

import (
	"encoding/binary"
	"math"
	"net/netip"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/region"
	"github.com/nfgo/nftools/internal/slotindex"
)

// The flow cache counts packets into flows under fprobe's key (addresses,
// ports, protocol, ToS) and hands each flow, when it ends, to an export
// function as a flow.Record. It never reads the clock: every call says
// what time it is.
//
// Flows sit in a slab of entries found through an open-addressing index
// (internal/slotindex) by a keyed hash (keyHash, seeded at random per
// cache as Go's maps are against crafted keys: fprobe's xor of the
// addresses and ports lets a sender put every flow in one chain). The
// slab is one array of entries for the flow-count limit, mapped outside
// Go's heap (region.Map) so that only the part the flows have used is
// memory: it never grows, moves or copies, leaves no old slab behind for
// the garbage collector, and an entry is found by its number alone.
//
// A packet of a known flow costs a hash, an index probe and its entry's
// counters, nothing more: the flows are not kept in order of their last
// packet. They are filed instead in a timing wheel by the deadline they
// had when filed, the earlier of their idle and active timeouts, in
// buckets of a fixed span of time. A flow that sees packets keeps its
// place; only when its bucket comes due does a scan look at it, export
// it if it is idle or too old, and file it again at its new deadline
// otherwise. So a scan costs the flows whose deadline it passes (each
// flow is looked at about once per idle timeout while it lives), never
// the flows the cache holds, and every check compares the flow's own
// times with the time of the scan: expiry is exact. At the flow-count
// limit the flow with the earliest deadline goes first, unless it saw a
// packet since it was filed: then it is filed again and the next one is
// looked at (a second chance, as the CLOCK page replacement does).
//
// Fragments: a fragmented datagram's first fragment carries the ports,
// later fragments only the IP id. The cache remembers, per datagram (its
// addresses, protocol and id), the first fragment's ports for the
// fragment lifetime (-g) and counts later fragments to the flow of those
// ports. Fragments that come before their first fragment wait in the
// datagram's entry and join the flow when it comes; if it never does,
// they are counted to a flow without ports when the lifetime ends, as
// fprobe does.

// ExpiryReason says why a flow left the cache.
type ExpiryReason uint8

// The reasons. A flow both idle and too old at a scan is idle.
const (
	Idle    ExpiryReason = iota // no packet for the idle timeout (-d)
	Active                      // longer than the active timeout (-e)
	TCPEnd                      // a TCP flow that saw FIN or RST, at the next scan
	Split                       // a counter would pass 32 bits (v1/v5/v7 carry no more)
	Evicted                     // exported early at the flow-count limit
	Flush                       // exported by Flush (shutdown, end of a file)

	NumExpiryReasons = 6 // how many reasons there are
)

var reasonNames = [NumExpiryReasons]string{"idle", "active", "tcp-end", "split", "evicted", "flush"}

func (r ExpiryReason) String() string {
	if r < NumExpiryReasons {
		return reasonNames[r]
	}
	return "unknown"
}

// endReason is IPFIX's flowEndReason for each expiry reason.
var endReason = [NumExpiryReasons]uint8{Idle: 1, Active: 2, TCPEnd: 3, Split: 2, Evicted: 5, Flush: 4}

// CacheConfig sets up a cache. Zero durations expire at once; the caller
// fills fprobe's defaults (-d 60, -e 300, -g 30).
type CacheConfig struct {
	Idle, Active, Fragment time.Duration // -d, -e, -g

	MaxFlows int // flow-count limit; 0 means DefaultMaxFlows
	MemoryKB int // -m: a lower limit, as many flows as fit; 0 for none

	// CountLink counts each packet's whole frame as it was on the wire,
	// link header included, instead of its IP length (-k).
	CountLink bool

	Input, Output uint32 // -x: the SNMP interfaces every flow gets

	// Split32 splits a flow before a packet or byte counter would pass
	// 2^32-1, which NetFlow v1, v5 and v7 cannot carry.
	Split32 bool
}

// DefaultMaxFlows is the flow-count limit when the config gives none:
// at most about 140 MB of flows (the cache costs what it holds, perFlow
// bytes a flow at most). fprobe has no limit by default; this one only
// keeps a flood of new flows from taking the machine's memory.
const DefaultMaxFlows = 1 << 20

// CacheStats counts what a cache did.
type CacheStats struct {
	Flows     int    // flows in the cache now
	Fragments int    // fragmented datagrams the cache waits on
	Packets   uint64 // packets counted
	Bytes     uint64 // bytes counted
	Created   uint64 // flows started
	// Exported counts the flows handed to the export function, by
	// reason (Exported[Evicted] are the flows the limit pushed out).
	Exported    [NumExpiryReasons]uint64
	FragPackets uint64 // fragments among the packets
	FragOrphans uint64 // datagrams whose first fragment never came: counted without ports
	FragEvicted uint64 // datagrams given up early at the limit
	Limit       int    // the flow-count limit in force
}

// flowKey is fprobe's key: source and destination address (IPv4 in the
// first 4 bytes of each), and in one word the ports, protocol, ToS and
// IP version. A fragment's datagram key has the IP id in place of the
// ports and no ToS.
//
// The word is put together in a register and stored at once: stored a
// field at a time, as bytes of the key, it stalled the hash that reads it
// back as a word right after (a load cannot take its bytes from several
// stores still on their way), for about as long as the rest of the
// hashing took.
type flowKey struct {
	addr [32]byte // source, destination
	tail uint64   // source port, destination port<<16, protocol<<32, ToS<<40, version<<48
}

// keyTail adds rather than ors the fields: the compiler merges an or of
// the two ports' loads into one load of 4 bytes, which cannot be
// forwarded from the decoder's two stores of 2 (see Packet.ipv4): 96% of
// the samples of the packet's hash once it was taken on another
// processor than the counting.
func keyTail(sport, dport uint16, proto, tos, version uint8) uint64 {
	return uint64(sport) + uint64(dport)<<16 + uint64(proto)<<32 + uint64(tos)<<40 + uint64(version)<<48
}

func (k *flowKey) sport() uint16  { return uint16(k.tail) }
func (k *flowKey) dport() uint16  { return uint16(k.tail >> 16) }
func (k *flowKey) proto() uint8   { return uint8(k.tail >> 32) }
func (k *flowKey) tos() uint8     { return uint8(k.tail >> 40) }
func (k *flowKey) version() uint8 { return uint8(k.tail >> 48) }

// setPorts sets the ports; setTOS the ToS.
func (k *flowKey) setPorts(sport, dport uint16) {
	k.tail = k.tail&^0xffffffff | uint64(sport) | uint64(dport)<<16
}
func (k *flowKey) setTOS(tos uint8) { k.tail = k.tail&^(0xff<<40) | uint64(tos)<<40 }

// equal compares two keys a word at a time: Go compares the addresses'
// array through a call, which costs more than the five loads.
func (k *flowKey) equal(o *flowKey) bool {
	le := binary.LittleEndian
	return k.tail == o.tail && le.Uint64(k.addr[0:]) == le.Uint64(o.addr[0:]) &&
		le.Uint64(k.addr[8:]) == le.Uint64(o.addr[8:]) &&
		le.Uint64(k.addr[16:]) == le.Uint64(o.addr[16:]) && le.Uint64(k.addr[24:]) == le.Uint64(o.addr[24:])
}

// equalPacket says whether k is the key of packet p, whose key's last
// word is tail (see packetKey).
func (k *flowKey) equalPacket(p *Packet, tail uint64) bool {
	le := binary.LittleEndian
	return k.tail == tail && le.Uint64(k.addr[0:]) == le.Uint64(p.Src[0:]) &&
		le.Uint64(k.addr[8:]) == le.Uint64(p.Src[8:]) &&
		le.Uint64(k.addr[16:]) == le.Uint64(p.Dst[0:]) && le.Uint64(k.addr[24:]) == le.Uint64(p.Dst[8:])
}

// entry is a flow in the cache, 96 bytes: what a packet of the flow reads
// and writes comes first, in the first 64.
type entry struct {
	key     flowKey
	last    int64 // ns
	packets uint64
	bytes   uint64
	first   int64    // ns
	mac     [12]byte // destination and source MAC
	vlan    uint16   // the outer VLAN id
	flags   uint8    // TCP flags OR-ed
	state   uint8    // the st bits
	// The entry's neighbours in its wheel bucket (or the ended list), or
	// the free list's next entry. An end of a bucket's list is -1-slot,
	// so that an entry can be taken out of its bucket without being told
	// which one it is.
	prev, next int32
}

// Entry states.
const (
	stUsed    = 1 << iota // the entry holds a flow
	stEnded               // the flow saw FIN or RST
	stTouched             // the flow saw a packet since it was filed
)

// The timing wheel: wheelSize buckets of a span of time the timeouts
// decide. Twice as many buckets as the longest timeout needs, so that a
// flow's deadline is a bucket ahead of the scan, not a lap.
const (
	wheelSize = 1024
	wheelMask = wheelSize - 1

	// endedSlot is the list after the wheel's buckets, of the TCP flows
	// that saw FIN or RST, in the order they did, for the next scan.
	endedSlot = wheelSize
)

// bucket is the list of the entries of one wheel bucket; -1 when empty.
type bucket struct{ head, tail int32 }

// fragEntry is a fragmented datagram the cache has seen part of.
type fragEntry struct {
	key        flowKey
	hash       uint64
	last       int64 // last fragment, ns
	firstSeen  bool  // the first fragment came: ports and ToS are known
	sport      uint16
	dport      uint16
	tos        uint8
	got, total int // data bytes seen; the datagram's length once the last fragment came (else -1)
	// Fragments before the first one, waiting for its ports.
	waiting    flowCounts
	prev, next int32 // by last fragment
}

// flowCounts is what a packet (or packets) add to a flow.
type flowCounts struct {
	first, last int64
	packets     uint64
	bytes       uint64
	flags       uint8
	srcMAC      uint64
	dstMAC      uint64
	vlan        uint16 // the outer VLAN id
}

// list is a doubly linked list of fragment entries.
type list struct{ head, tail int32 }

// Cache is a flow cache. It is not safe for concurrent use: the capture
// loop owns it (and takes a lock to let the expiry ticker in).
type Cache struct {
	cfg    CacheConfig
	idle   int64 // ns
	active int64 // ns
	export func(*flow.Record, ExpiryReason)
	hash   keyHash
	limit  int

	idx  slotindex.Index // in mapped memory once it has grown (regions.idx)
	ents []entry         // the slab: room for limit entries, in mapped memory
	slab int32           // entries used so far, in use or free
	free int32           // the first free entry (chained by next), or -1

	// The wheel. Bucket number b (time b*span to (b+1)*span) is
	// wheel[b&wheelMask]; the buckets from due on are the ones that may
	// hold flows, and a flow is filed no further than wheelSize-1 buckets
	// ahead of due (one whose deadline is further is filed there, and
	// looked at early). low is at or before the first bucket not empty.
	// The TCP flows that ended wait in wheel[endedSlot] instead, chained
	// through their entries as the buckets' are: a list of their numbers
	// beside the slab grew with them between two scans, and left the
	// garbage collector 360 KB of old copies at the peak of the
	// benchmark's 67 000 flows (a capture read of two seconds, no scan).
	wheel   [wheelSize + 1]bucket
	span    int64
	due     int64
	low     int64
	started bool

	fidx    slotindex.Index
	frags   []fragEntry
	ffree   []int32
	flru    list
	flimit  int
	nfrags  int
	nflows  int
	rec     flow.Record
	stats   CacheStats
	scratch flowKey
	id      uint64 // the cache's mark on the packets it hashed ahead
	// Prefetch works from this many flows on (prefetchFlows; tests set
	// it to 0).
	prefetchFrom int
	mem          *regions
	hugeAt       int32 // adviseSlab at this many slab entries
}

// regions is the memory a cache keeps outside Go's heap, freed when the
// cache is collected: a value of its own, so that the cleanup does not
// keep the cache reachable.
type regions struct {
	slab []byte // the entries
	idx  []byte // the index's slots; nil while they are Go's
}

func (r *regions) free() {
	region.Free(r.slab)
	region.Free(r.idx)
}

// prefetchFlows is the flow count from which Prefetch fetches: below it
// the entries and their index slots (about 120 bytes a flow) fit in a
// processor's L2 cache, and reading ahead costs more than it saves (a
// tenth of goprobe --read's samples on a capture of 700 flows).
const prefetchFlows = 2048

// smallIndex is the index size (slots, 8 bytes each) up to which the
// index grows at one half full rather than three quarters.
const smallIndex = 8192

// cacheIDs numbers the caches, for the mark Prefetch leaves on a packet.
var cacheIDs atomic.Uint64

// perFlow is what a flow costs at most: its entry, 8/3 index slots (the
// index doubles when three quarters full) and an eighth of a fragment wait with its
// slots, as the fragment table may hold an eighth as many datagrams.
const perFlow = int(unsafe.Sizeof(entry{})) + 22 + (int(unsafe.Sizeof(fragEntry{}))+32)/8

// NewCache returns an empty cache that hands every flow that ends to
// export, with the reason. The record is the cache's: export copies what
// it keeps, and must not call the cache.
func NewCache(cfg CacheConfig, export func(r *flow.Record, why ExpiryReason)) *Cache {
	limit := cfg.MaxFlows
	if limit <= 0 {
		limit = DefaultMaxFlows
	}
	if cfg.MemoryKB > 0 {
		limit = min(limit, max(cfg.MemoryKB*1024/perFlow, 1))
	}
	c := &Cache{
		cfg:          cfg,
		idle:         int64(cfg.Idle),
		active:       int64(cfg.Active),
		export:       export,
		hash:         newKeyHash(),
		id:           cacheIDs.Add(1),
		prefetchFrom: prefetchFlows,
		limit:        limit,
		idx:          slotindex.New(10),
		free:         -1,
		fidx:         slotindex.New(6),
		flru:         list{-1, -1},
		// A datagram waits at most -g for its fragments; an eighth of
		// the flows is room for a fragment storm without crowding them.
		flimit: max(limit/8, 1),
		// Half the wheel covers the longer timeout.
		span: max(int64(max(cfg.Idle, cfg.Active))/(wheelSize/2), int64(time.Millisecond)),
	}
	for i := range c.wheel {
		c.wheel[i] = bucket{-1, -1}
	}
	slab, mapped := region.Map(limit*int(unsafe.Sizeof(entry{})), limit*int(unsafe.Sizeof(entry{})))
	c.ents = unsafe.Slice((*entry)(unsafe.Pointer(unsafe.SliceData(slab))), limit)
	c.mem = &regions{}
	c.hugeAt = math.MaxInt32
	if mapped {
		c.mem.slab = slab
		c.hugeAt = int32(min(slabSmall/int(unsafe.Sizeof(entry{})), limit))
	}
	runtime.AddCleanup(c, (*regions).free, c.mem)
	c.stats.Limit = limit
	return c
}

// slabSmall is how much of the slab stays in small pages: the memory of
// the flows they hold, page by page. Past it the slab is asked for huge
// pages (MADV_HUGEPAGE), which the kernel fills 2 MiB at a time as the
// flows reach them: the flows are then read through few TLB entries, at
// the cost of up to 2 MiB not used yet in the last one, which past 8 MiB
// is at most a fifth of what the slab holds. Huge pages from 2 MiB on
// took 0.88 times the processor time of small pages on the 67 000 flows
// of scripts/bench/goprobe.sh (paired medians of 15), but 16.1 MiB at the
// peak against 14.2: more than softflowd's 14.1 MiB for the same flows
// (-m 1000000). Filling the small pages ahead of the flows, 256 KiB at a
// time (MADV_POPULATE_WRITE), saved no processor time over faulting them
// one by one (1.13 times the huge pages' too). Making each 2 MiB a huge
// page once full instead (MADV_COLLAPSE) kept the unused memory back, but
// the copies cost more than the huge pages saved.
const slabSmall = 8 << 20

// adviseSlab asks for huge pages in the slab from slabSmall on, whole
// ones, once its flows have filled the small pages.
func (c *Cache) adviseSlab() {
	c.hugeAt = math.MaxInt32
	if end := len(c.mem.slab) &^ (region.HugePage - 1); slabSmall < end {
		region.AdviseHuge(c.mem.slab[slabSmall:end])
	}
}

// Stats returns the counts so far.
func (c *Cache) Stats() CacheStats {
	s := c.stats
	s.Flows, s.Fragments = c.nflows, c.nfrags
	return s
}

// at returns entry i.
func (c *Cache) at(i int32) *entry { return &c.ents[i] }

// Add counts packet p, seen at now (ns since the epoch: the packet's time
// for a capture file, the clock for a live capture), to its flow.
func (c *Cache) Add(p *Packet, now int64) {
	n := uint64(p.IPLen)
	if c.cfg.CountLink {
		n = uint64(p.WireLen)
	}
	c.stats.Packets++
	c.stats.Bytes += n
	k := &c.scratch
	if p.Fragment {
		packetKey(k, p)
		c.stats.FragPackets++
		pc := flowCounts{first: now, last: now, packets: 1, bytes: n, flags: p.TCPFlags,
			srcMAC: p.SrcMAC, dstMAC: p.DstMAC, vlan: p.VLAN[0]}
		if !c.fragment(p, k, &pc, now) {
			return // waits for the first fragment
		}
		c.count(k, &pc, now, c.hash.sum(k))
		return
	}
	tail := keyTail(p.SrcPort, p.DstPort, p.Proto, p.TOS, p.Version)
	h := p.hash
	if p.hashBy != c.id {
		h = c.hash.packetTail(p, tail)
	}
	// A packet of a flow the cache holds, which is what most packets are,
	// is counted in place, found by its own fields: the flow key is put
	// together only for a new flow. Through count, its counts would be
	// gathered in a flowCounts first: a struct written a field at a time
	// and read back at once, which stalls the processor (the wide loads
	// cannot take the narrow stores' bytes on the way) for more than the
	// rest of the counting.
	i := c.lookupPacket(p, tail, h)
	if i >= 0 && c.countIn(i, n, p.TCPFlags, now) {
		if p.TCPFlags&(flow.TCPFin|flow.TCPRst) != 0 {
			c.ended1(i)
		}
		return
	}
	setKey(k, p, tail)
	pc := flowCounts{first: now, last: now, packets: 1, bytes: n, flags: p.TCPFlags,
		srcMAC: p.SrcMAC, dstMAC: p.DstMAC, vlan: p.VLAN[0]}
	c.countAt(i, k, &pc, now, h)
}

// countIn counts a packet of n bytes and TCP flags, seen at now, into
// flow i, the packet's, if the flow may take it: it is neither idle nor
// active for too long, its counters stay within v5's 32 bits where they
// must, and it did not start after the packet. Add and AddSlim count
// most packets here, inlined, and then call ended1 for a FIN or RST
// themselves: the call in here made it too large for the inliner (cost
// 144 against a budget of 80; 77 without).
func (c *Cache) countIn(i int32, n uint64, flags uint8, now int64) bool {
	e := c.at(i)
	if now-e.last > c.idle || now-e.first > c.active ||
		c.cfg.Split32 && (e.packets >= math.MaxUint32 || e.bytes+n > math.MaxUint32) || now < e.first {
		return false
	}
	e.packets++
	e.bytes += n
	e.flags |= flags
	e.last = max(e.last, now)
	e.state |= stTouched
	return true
}

// ended1 notes that flow i saw FIN or RST, once, for the next scan to
// export it if it is TCP: it moves from its wheel bucket to the ended
// list.
func (c *Cache) ended1(i int32) {
	e := c.at(i)
	if e.state&stEnded == 0 && e.key.proto() == protoTCP {
		c.unlink(i)
		e.state |= stEnded
		c.link(i)
	}
}

// packetKey sets every byte of k to packet p's flow key. A fragment's
// ports are not its flow's: the cache finds those through the datagram.
func packetKey(k *flowKey, p *Packet) {
	setKey(k, p, keyTail(p.SrcPort, p.DstPort, p.Proto, p.TOS, p.Version))
}

// setKey is packetKey with the key's last word given.
func setKey(k *flowKey, p *Packet, tail uint64) {
	copy(k.addr[:16], p.Src[:])
	copy(k.addr[16:], p.Dst[:])
	k.tail = tail
}

// Prefetch and PrefetchFlow read ahead, into the processor's cache, the
// memory that Add(p) will look at, and change nothing the cache holds. A
// capture loop calls Prefetch(p) as it decodes p, PrefetchFlow(p) a few
// packets later and Add(p) a few packets after that: the memory of
// several packets then comes at once, where each packet would wait for
// its own index slot and then for its entry: two trips to memory in a
// cache of many flows, a third of goprobe --read's time on the 1 M
// packets of scripts/bench/goprobe.sh. p must not change from Prefetch
// to Add.
//
// Prefetch hashes p's flow key, unless Hash did (Add uses the hash), and
// prefetches the index slot where its lookup starts.
//
// Prefetch and PrefetchFlow are small enough to be inlined where they do
// nothing, as in a cache of few flows, and cost no call there.
func (c *Cache) Prefetch(p *Packet) {
	if p.Fragment || c.nflows < c.prefetchFrom {
		// A fragment's key is the first fragment's, found in Add. A
		// cache of a few flows is in the processor's cache already:
		// Add hashes the key itself, and nothing is fetched twice.
		return
	}
	c.prefetchSlot(p)
}

func (c *Cache) prefetchSlot(p *Packet) {
	if p.hashBy != c.id {
		c.Hash(p)
	}
	pos, _ := c.idx.Home(p.hash)
	prefetch(uintptr(unsafe.Pointer(c.idx.SlotAddr(pos))))
}

// PrefetchFlow reads p's index slot, which Prefetch(p) brought in, and
// prefetches the entry it points to: both cache lines of it.
func (c *Cache) PrefetchFlow(p *Packet) {
	if p.hashBy == c.id && c.nflows >= c.prefetchFrom {
		c.prefetchEntry(p)
	}
}

// Prefetching says whether Prefetch and PrefetchFlow fetch anything now:
// a capture loop that asks once a batch need not call them for every
// packet of a cache of few flows, where they do nothing.
func (c *Cache) Prefetching() bool { return c.nflows >= c.prefetchFrom }

// Hash hashes p's flow key for Add, which then need not: a goroutine that
// decodes packets for the cache's takes the hashing off it. Unlike the
// cache's other methods, Hash may be called on any goroutine while the
// cache is in use: it reads only the cache's hash keys, fixed when the
// cache was made. A fragment is not hashed: its key is the first
// fragment's, found in Add.
func (c *Cache) Hash(p *Packet) {
	if !p.Fragment {
		p.hash, p.hashBy = c.hash.packet(p), c.id
	}
}

// Hasher returns a copy of the cache's hash keys, which hash as the
// cache does (Hasher.Slim): a goroutine on another processor that hashes packets for the
// cache reads its own copy, not the cache's line that the counting
// writes to (its statistics beside the keys).
func (c *Cache) Hasher() Hasher { return Hasher{c.hash, c.id, c.cfg.CountLink} }

// Hasher hashes packets for a cache (Cache.Hasher).
type Hasher struct {
	hash      keyHash
	id        uint64
	countLink bool // the cache's CountLink, for Slim
}

func (c *Cache) prefetchEntry(p *Packet) {
	pos, tag := c.idx.Home(p.hash)
	if i, ok := slotindex.Match(c.idx.Slot(pos), tag); ok && int32(i) < c.slab {
		a := uintptr(unsafe.Pointer(c.at(int32(i))))
		prefetch(a)
		prefetch(a + 64)
	}
}

// count adds pc to the flow of key k (hash h), making the flow if there
// is none.
func (c *Cache) count(k *flowKey, pc *flowCounts, now int64, h uint64) {
	c.countAt(c.lookup(k, h), k, pc, now, h)
}

// countAt is count with the flow's entry looked up already: i, or -1.
func (c *Cache) countAt(i int32, k *flowKey, pc *flowCounts, now int64, h uint64) {
	if i >= 0 {
		e := c.at(i)
		switch {
		case now-e.last > c.idle:
			c.expire(i, Idle)
			i = -1
		case now-e.first > c.active:
			c.expire(i, Active)
			i = -1
		case c.cfg.Split32 && (e.packets+pc.packets > math.MaxUint32 || e.bytes+pc.bytes > math.MaxUint32):
			c.expire(i, Split)
			i = -1
		}
	}
	var e *entry
	if i < 0 {
		i = c.insert(k, h, pc)
		e = c.at(i)
	} else {
		e = c.at(i)
		e.packets += pc.packets
		e.bytes += pc.bytes
		e.flags |= pc.flags
		e.last = max(e.last, pc.last)
		e.state |= stTouched
		if pc.first < e.first {
			// A packet out of order, or fragments that waited for
			// their first one, can be older than the flow: its
			// deadline comes earlier.
			e.first = pc.first
			c.file(i)
		}
	}
	if e.flags&(flow.TCPFin|flow.TCPRst) != 0 {
		c.ended1(i)
	}
}

// lookup returns the entry of key k (hash h), or -1.
func (c *Cache) lookup(k *flowKey, h uint64) int32 {
	pos, tag := c.idx.Home(h)
	for s := c.idx.Slot(pos); s != 0; pos, s = c.idx.Next(pos) {
		if i, ok := slotindex.Match(s, tag); ok && c.at(int32(i)).key.equal(k) {
			return int32(i)
		}
	}
	return -1
}

// lookupPacket is lookup for the key of packet p (not a fragment), whose
// last word is tail: the key is compared with the packet's fields
// instead of being copied together first: 13 instructions a packet
// fewer of the 580 that goprobe --read took on a capture of few flows
// (cachegrind).
func (c *Cache) lookupPacket(p *Packet, tail, h uint64) int32 {
	pos, tag := c.idx.Home(h)
	for s := c.idx.Slot(pos); s != 0; pos, s = c.idx.Next(pos) {
		if i, ok := slotindex.Match(s, tag); ok && c.at(int32(i)).key.equalPacket(p, tail) {
			return int32(i)
		}
	}
	return -1
}

// insert makes a flow of key k with the counts pc.
func (c *Cache) insert(k *flowKey, h uint64, pc *flowCounts) int32 {
	if c.nflows >= c.limit {
		c.evict()
	}
	i := c.free
	if i >= 0 {
		c.free = c.at(i).next
	} else {
		i = c.slab
		c.slab++
		if c.slab >= c.hugeAt {
			c.adviseSlab()
		}
	}
	e := c.at(i)
	*e = entry{key: *k, first: pc.first, last: pc.last, packets: pc.packets, bytes: pc.bytes,
		flags: pc.flags, vlan: pc.vlan, state: stUsed}
	putMAC(e.mac[:6], pc.dstMAC)
	putMAC(e.mac[6:], pc.srcMAC)
	// The index grows when three quarters full, where godump's tables
	// grow at one half: a flow's slot is a quarter of its memory, and
	// the probes stay short enough with the tags in the slots (the
	// benchmark's cpu time did not move; its index went from 2 to 1 MiB).
	// A small index grows at one half all the same: it costs little
	// (smallIndex slots at most), and in a cache of few flows, where a
	// packet costs little else, its probes are much of the time: at
	// three quarters, the 654 flows of the benchmark's few-flows capture
	// took 1.73 probes a packet in 1024 slots.
	if n := c.idx.Len(); 4*(c.nflows+1) > 3*n || n <= smallIndex && 2*(c.nflows+1) > n {
		// Into mapped memory, the old slots freed at once: Go's heap would
		// keep a megabyte or more of them at the peak of a cache of some
		// 100 000 flows, whose index is a fifth of its memory.
		c.idx.GrowMapped(&c.mem.idx)
	}
	pos, tag := c.idx.Home(h)
	for s := c.idx.Slot(pos); s != 0; pos, s = c.idx.Next(pos) {
	}
	c.idx.Put(pos, tag, uint32(i))
	if !c.started {
		c.started = true
		c.due = floorDiv(pc.first, c.span)
		c.low = c.due
	}
	e.prev, e.next = -1, -1
	c.link(i)
	c.nflows++
	c.stats.Created++
	return i
}

func putMAC(b []byte, m uint64) {
	binary.BigEndian.PutUint16(b, uint16(m>>32))
	binary.BigEndian.PutUint32(b[2:], uint32(m))
}

func getMAC(b []byte) uint64 {
	return uint64(binary.BigEndian.Uint16(b))<<32 | uint64(binary.BigEndian.Uint32(b[2:]))
}

// floorDiv is a/b rounded down.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// deadline is the bucket entry e is due in: that of the earlier of its
// idle and active timeouts, kept within the wheel's lap ahead of due.
func (c *Cache) deadline(e *entry) int64 {
	b := floorDiv(min(e.last+c.idle, e.first+c.active), c.span)
	return min(max(b, c.due), c.due+wheelSize-1)
}

// link files unfiled entry i in the bucket of its deadline, last, or an
// ended flow's in the ended list.
func (c *Cache) link(i int32) {
	e := c.at(i)
	slot := int32(endedSlot)
	if e.state&stEnded == 0 {
		b := c.deadline(e)
		c.low = min(c.low, b)
		slot = int32(b & wheelMask)
	}
	w := &c.wheel[slot]
	e.next = -1 - slot
	if w.tail >= 0 {
		e.prev = w.tail
		c.at(w.tail).next = i
	} else {
		e.prev = -1 - slot
		w.head = i
	}
	w.tail = i
}

// unlink takes entry i out of its bucket.
func (c *Cache) unlink(i int32) {
	e := c.at(i)
	if e.prev >= 0 {
		c.at(e.prev).next = e.next
	} else {
		c.wheel[-1-e.prev].head = max(e.next, -1)
	}
	if e.next >= 0 {
		c.at(e.next).prev = e.prev
	} else {
		c.wheel[-1-e.next].tail = max(e.prev, -1)
	}
}

// file files entry i again, at its deadline now, as not touched since.
func (c *Cache) file(i int32) {
	c.unlink(i)
	c.at(i).state &^= stTouched
	c.link(i)
}

// evict exports a TCP flow that ended, which the next scan would export
// anyway, or else the flow of the earliest deadline that saw no packet
// since it was filed, filing the others again on the way.
func (c *Cache) evict() {
	if i := c.wheel[endedSlot].head; i >= 0 {
		c.expire(i, Evicted)
		return
	}
	for {
		for c.wheel[c.low&wheelMask].head < 0 {
			c.low++
		}
		i := c.wheel[c.low&wheelMask].head
		if c.at(i).state&stTouched == 0 {
			c.expire(i, Evicted)
			return
		}
		c.file(i)
	}
}

// expire exports flow i and removes it.
func (c *Cache) expire(i int32, why ExpiryReason) {
	c.report(i, why)
	e := c.at(i)

	// The entry keeps no hash: finding its index slot again costs one.
	pos, _ := c.idx.Home(c.hash.sum(&e.key))
	for s := c.idx.Slot(pos); s != 0; pos, s = c.idx.Next(pos) {
		if j, _ := slotindex.Match(s, 0); int32(j) == i {
			c.idx.Delete(pos)
			break
		}
	}
	c.unlink(i)
	e.state = 0
	e.next = c.free
	c.free = i
	c.nflows--
}

// report hands flow i to the export function as a record.
func (c *Cache) report(i int32, why ExpiryReason) {
	e := c.at(i)
	r := &c.rec
	*r = flow.Record{}
	r.First, r.Last = uint64(e.first/1e6), uint64(e.last/1e6)
	r.InPackets, r.InBytes = e.packets, e.bytes
	if e.key.version() == 4 {
		r.SrcAddr = netip.AddrFrom4([4]byte(e.key.addr[:4]))
		r.DstAddr = netip.AddrFrom4([4]byte(e.key.addr[16:20]))
	} else {
		r.SrcAddr = netip.AddrFrom16([16]byte(e.key.addr[:16]))
		r.DstAddr = netip.AddrFrom16([16]byte(e.key.addr[16:32]))
	}
	r.SrcPort, r.DstPort = e.key.sport(), e.key.dport()
	r.Proto, r.SrcTos, r.TCPFlags = e.key.proto(), e.key.tos(), e.flags
	r.Input, r.Output = c.cfg.Input, c.cfg.Output
	// The frame's (outer) VLAN is the flow's source VLAN. DstVLAN is the
	// VLAN after forwarding, which a probe does not see; QinQ's inner tag
	// has no place in the record (nfdump 1.7.1 has none for it).
	r.SrcVLAN = uint32(e.vlan)
	r.InDstMAC, r.InSrcMAC = getMAC(e.mac[:6]), getMAC(e.mac[6:])
	r.EndReason = endReason[why]
	c.stats.Exported[why]++
	c.export(r, why)
}

// Expire is the scan (fprobe's -s): it ends the fragment waits older than
// the fragment lifetime, the TCP flows that saw FIN or RST, and the flows
// idle for longer than the idle timeout or older than the active timeout,
// in that order.
func (c *Cache) Expire(now int64) {
	for c.flru.head >= 0 && now-c.frags[c.flru.head].last > int64(c.cfg.Fragment) {
		c.dropFrag(c.flru.head, false)
	}
	for c.wheel[endedSlot].head >= 0 {
		c.expire(c.wheel[endedSlot].head, TCPEnd)
	}
	if !c.started {
		return
	}
	// The buckets from due to now's, once each, now's included: it is due
	// in part, and the next scan looks at it again.
	from, to := c.due, max(floorDiv(now, c.span), c.due)
	c.due = to
	c.low = max(c.low, to)
	for b := from; b <= min(to, from+wheelSize-1); b++ {
		c.sweep(int32(b&wheelMask), now)
	}
}

// sweep looks at the flows of one bucket as they were when it began,
// exporting those idle or too old at now and filing the others at their
// deadlines.
func (c *Cache) sweep(slot int32, now int64) {
	w := &c.wheel[slot]
	if w.head < 0 {
		return
	}
	last := w.tail
	for i := w.head; ; {
		e := c.at(i)
		next := e.next
		switch {
		case now-e.last > c.idle:
			c.expire(i, Idle)
		case now-e.first > c.active:
			c.expire(i, Active)
		default:
			c.file(i)
		}
		if i == last {
			return
		}
		i = next
	}
}

// Flush exports every flow, the TCP flows that ended first and then the
// others earliest deadline first, fragments waiting for their first
// fragment included.
func (c *Cache) Flush() {
	for c.flru.head >= 0 {
		c.dropFrag(c.flru.head, false)
	}
	// Every flow goes, the ended ones first, then bucket by bucket: the
	// wheel, the index and the slab are emptied at once afterwards, where
	// expiring flow by flow cost a hash and an index probe for each.
	left := c.nflows
	for i := c.wheel[endedSlot].head; i >= 0; i = c.at(i).next {
		c.report(i, Flush)
		left--
	}
	c.wheel[endedSlot] = bucket{-1, -1}
	for ; left > 0; c.low++ {
		w := &c.wheel[c.low&wheelMask]
		for i := w.head; i >= 0; i = c.at(i).next {
			c.report(i, Flush)
			left--
		}
		*w = bucket{-1, -1}
	}
	c.idx.Reset()
	c.slab, c.free, c.nflows, c.started = 0, -1, 0, false
}

// fragment takes a fragment of a datagram. When the datagram's first
// fragment has come, it fills the flow key k's ports and ToS from it and
// returns true: the packet is counted to that flow. Otherwise the packet
// waits in the datagram's entry.
func (c *Cache) fragment(p *Packet, k *flowKey, pc *flowCounts, now int64) bool {
	fk := *k
	fk.setPorts(uint16(p.FragID>>16), uint16(p.FragID))
	fk.setTOS(0)
	h := c.hash.sum(&fk)
	j := c.lookupFrag(&fk, h)
	if j < 0 {
		j = c.insertFrag(&fk, h, p.TOS)
	} else {
		c.unlinkFrag(j)
		c.pushFrag(j)
	}
	f := &c.frags[j]
	f.last = now
	f.got += p.FragLen
	if !p.MoreFrags {
		f.total = p.FragOff + p.FragLen
	}
	if p.FragOff == 0 && !f.firstSeen {
		f.firstSeen = true
		f.sport, f.dport, f.tos = p.SrcPort, p.DstPort, p.TOS
		if f.waiting.packets > 0 {
			pc.merge(&f.waiting)
			f.waiting = flowCounts{}
		}
	}
	if !f.firstSeen {
		f.waiting.merge(pc)
		return false
	}
	k.setPorts(f.sport, f.dport)
	k.setTOS(f.tos)
	if f.total >= 0 && f.got >= f.total {
		c.removeFrag(j) // every byte of the datagram came
	}
	return true
}

// merge adds the counts of o.
func (pc *flowCounts) merge(o *flowCounts) {
	if pc.packets == 0 {
		*pc = *o
		return
	}
	pc.packets += o.packets
	pc.bytes += o.bytes
	pc.flags |= o.flags
	pc.first = min(pc.first, o.first)
	pc.last = max(pc.last, o.last)
}

func (c *Cache) lookupFrag(k *flowKey, h uint64) int32 {
	pos, tag := c.fidx.Home(h)
	for s := c.fidx.Slot(pos); s != 0; pos, s = c.fidx.Next(pos) {
		if i, ok := slotindex.Match(s, tag); ok && c.frags[i].key == *k {
			return int32(i)
		}
	}
	return -1
}

// insertFrag makes the entry of a datagram, giving up the oldest one at
// the limit.
func (c *Cache) insertFrag(k *flowKey, h uint64, tos uint8) int32 {
	if c.nfrags >= c.flimit {
		c.stats.FragEvicted++
		c.dropFrag(c.flru.head, true)
	}
	var j int32
	if n := len(c.ffree); n > 0 {
		j = c.ffree[n-1]
		c.ffree = c.ffree[:n-1]
	} else {
		j = int32(len(c.frags))
		c.frags = grow(c.frags, c.flimit)
	}
	c.frags[j] = fragEntry{key: *k, hash: h, tos: tos, total: -1}
	if c.fidx.Full(c.nfrags) {
		c.fidx.Grow()
	}
	pos, tag := c.fidx.Home(h)
	for s := c.fidx.Slot(pos); s != 0; pos, s = c.fidx.Next(pos) {
	}
	c.fidx.Put(pos, tag, uint32(j))
	c.pushFrag(j)
	c.nfrags++
	return j
}

// dropFrag ends the wait for datagram j: fragments still waiting for
// their first fragment are counted to a flow without ports.
func (c *Cache) dropFrag(j int32, evicted bool) {
	f := &c.frags[j]
	if !f.firstSeen && f.waiting.packets > 0 {
		c.stats.FragOrphans++
		k := f.key
		k.setPorts(0, 0)
		k.setTOS(f.tos)
		w := f.waiting
		c.removeFrag(j)
		c.count(&k, &w, w.last, c.hash.sum(&k))
		return
	}
	c.removeFrag(j)
}

func (c *Cache) removeFrag(j int32) {
	f := &c.frags[j]
	pos, _ := c.fidx.Home(f.hash)
	for s := c.fidx.Slot(pos); s != 0; pos, s = c.fidx.Next(pos) {
		if i, _ := slotindex.Match(s, 0); int32(i) == j {
			c.fidx.Delete(pos)
			break
		}
	}
	c.unlinkFrag(j)
	c.ffree = append(c.ffree, j)
	c.nfrags--
}

func (c *Cache) pushFrag(j int32) {
	f := &c.frags[j]
	f.prev, f.next = c.flru.tail, -1
	if c.flru.tail >= 0 {
		c.frags[c.flru.tail].next = j
	} else {
		c.flru.head = j
	}
	c.flru.tail = j
}

func (c *Cache) unlinkFrag(j int32) {
	f := &c.frags[j]
	if f.prev >= 0 {
		c.frags[f.prev].next = f.next
	} else {
		c.flru.head = f.next
	}
	if f.next >= 0 {
		c.frags[f.next].prev = f.prev
	} else {
		c.flru.tail = f.prev
	}
}

// grow appends a zero element to s, whose length never passes limit: the
// capacity doubles up to the limit and no further, so that -m's budget
// holds.
func grow[T any](s []T, limit int) []T {
	if len(s) == cap(s) {
		g := make([]T, len(s), min(max(2*cap(s), 64), limit))
		copy(g, s)
		s = g
	}
	return append(s, *new(T))
}
