package capture

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"net/netip"
	"time"
	"unsafe"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/slotindex"
)

// The flow cache counts packets into flows under fprobe's key (addresses,
// ports, protocol, ToS) and hands each flow, when it ends, to an export
// function as a flow.Record. It never reads the clock: every call says
// what time it is.
//
// Flows sit in a slab of entries found through an open-addressing index
// (internal/slotindex) by a keyed hash (hash/maphash, seeded at random per
// cache, the hash Go's own maps use against crafted keys: fprobe's xor of
// the addresses and ports lets a sender put every flow in one chain). Two
// lists thread the entries: by last packet (idle expiry walks it from the
// oldest and stops at the first flow still active; the flow-count limit
// evicts from its head) and by first packet (active expiry). So a scan
// costs the flows it ends, not the flows the cache holds, and once the
// slab and the index have grown to the traffic, counting a packet
// allocates nothing.
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

// The reasons, in the order Expire looks for them.
const (
	Idle    ExpiryReason = iota // no packet for the idle timeout (-d)
	Active                      // longer than the active timeout (-e)
	TCPEnd                      // a TCP flow that saw FIN or RST, at the next scan
	Split                       // a counter would pass 32 bits (v1/v5/v7 carry no more)
	Evicted                     // the oldest flow, exported early at the flow-count limit
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
// at most about 180 MB of flows (the cache grows to what it holds).
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
// first 4 bytes), ports, protocol, ToS, and the IP version. A fragment's
// datagram key uses the same layout with the IP id in place of the ports
// and no ToS.
type flowKey [40]byte

const (
	kSrcPort = 32
	kDstPort = 34
	kProto   = 36
	kTOS     = 37
	kVersion = 38
)

// entry is a flow in the cache.
type entry struct {
	key         flowKey
	hash        uint64
	first, last int64 // ns
	packets     uint64
	bytes       uint64
	srcMAC      uint64
	dstMAC      uint64
	vlan        uint16 // the outer VLAN id
	flags       uint8  // TCP flags OR-ed
	ended       bool   // saw FIN or RST
	used        bool
	// The lists: by last packet (idle) and by first packet (age); -1
	// ends a list.
	idlePrev, idleNext int32
	agePrev, ageNext   int32
}

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

// list is a doubly linked list of slab entries.
type list struct{ head, tail int32 }

// Cache is a flow cache. It is not safe for concurrent use: the capture
// loop owns it (and takes a lock to let the expiry ticker in).
type Cache struct {
	cfg    CacheConfig
	export func(*flow.Record, ExpiryReason)
	seed   maphash.Seed
	limit  int

	idx     slotindex.Index
	entries []entry
	free    []int32
	idle    list // by last packet
	age     list // by first packet
	ended   []int32

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
}

// perFlow is what a flow costs at most: its entry, four index slots (the
// index doubles when half full) and an eighth of a fragment wait with its
// slots, as the fragment table may hold an eighth as many datagrams.
const perFlow = int(unsafe.Sizeof(entry{})) + 32 + (int(unsafe.Sizeof(fragEntry{}))+32)/8

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
		cfg:    cfg,
		export: export,
		seed:   maphash.MakeSeed(),
		limit:  limit,
		idx:    slotindex.New(10),
		fidx:   slotindex.New(6),
		idle:   list{-1, -1},
		age:    list{-1, -1},
		flru:   list{-1, -1},
		// A datagram waits at most -g for its fragments; an eighth of
		// the flows is room for a fragment storm without crowding them.
		flimit: max(limit/8, 1),
	}
	c.stats.Limit = limit
	return c
}

// Stats returns the counts so far.
func (c *Cache) Stats() CacheStats {
	s := c.stats
	s.Flows, s.Fragments = c.nflows, c.nfrags
	return s
}

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
	*k = flowKey{}
	copy(k[:16], p.Src[:])
	copy(k[16:32], p.Dst[:])
	k[kProto] = p.Proto
	k[kVersion] = p.Version
	pc := flowCounts{first: now, last: now, packets: 1, bytes: n, flags: p.TCPFlags,
		srcMAC: p.SrcMAC, dstMAC: p.DstMAC, vlan: p.VLAN[0]}
	if p.Fragment {
		c.stats.FragPackets++
		if !c.fragment(p, k, &pc, now) {
			return // waits for the first fragment
		}
	} else {
		binary.BigEndian.PutUint16(k[kSrcPort:], p.SrcPort)
		binary.BigEndian.PutUint16(k[kDstPort:], p.DstPort)
		k[kTOS] = p.TOS
	}
	c.count(k, &pc, now)
}

// count adds pc to the flow of key k, making the flow if there is none.
func (c *Cache) count(k *flowKey, pc *flowCounts, now int64) {
	h := maphash.Bytes(c.seed, k[:])
	i := c.lookup(k, h)
	if i >= 0 {
		e := &c.entries[i]
		switch {
		case now-e.last > int64(c.cfg.Idle):
			c.expire(i, Idle)
			i = -1
		case now-e.first > int64(c.cfg.Active):
			c.expire(i, Active)
			i = -1
		case c.cfg.Split32 && (e.packets+pc.packets > math.MaxUint32 || e.bytes+pc.bytes > math.MaxUint32):
			c.expire(i, Split)
			i = -1
		}
	}
	if i < 0 {
		i = c.insert(k, h, pc)
	} else {
		e := &c.entries[i]
		e.packets += pc.packets
		e.bytes += pc.bytes
		e.flags |= pc.flags
		e.first = min(e.first, pc.first)
		e.last = max(e.last, pc.last)
		c.unlink(&c.idle, i, true)
		c.push(&c.idle, i, true)
	}
	e := &c.entries[i]
	if e.flags&(flow.TCPFin|flow.TCPRst) != 0 && !e.ended && e.key[kProto] == protoTCP {
		e.ended = true
		c.ended = append(c.ended, i)
	}
}

// lookup returns the entry of key k (hash h), or -1.
func (c *Cache) lookup(k *flowKey, h uint64) int32 {
	pos, tag := c.idx.Home(h)
	for s := c.idx.Slot(pos); s != 0; pos, s = c.idx.Next(pos) {
		if i, ok := slotindex.Match(s, tag); ok && c.entries[i].key == *k {
			return int32(i)
		}
	}
	return -1
}

// insert makes a flow of key k with the counts pc.
func (c *Cache) insert(k *flowKey, h uint64, pc *flowCounts) int32 {
	if c.nflows >= c.limit {
		c.expire(c.idle.head, Evicted)
	}
	var i int32
	if n := len(c.free); n > 0 {
		i = c.free[n-1]
		c.free = c.free[:n-1]
	} else {
		i = int32(len(c.entries))
		c.entries = grow(c.entries, c.limit)
	}
	c.entries[i] = entry{key: *k, hash: h, first: pc.first, last: pc.last, packets: pc.packets, bytes: pc.bytes,
		flags: pc.flags, srcMAC: pc.srcMAC, dstMAC: pc.dstMAC, vlan: pc.vlan, used: true}
	if c.idx.Full(c.nflows) {
		c.idx.Grow()
	}
	pos, tag := c.idx.Home(h)
	for s := c.idx.Slot(pos); s != 0; pos, s = c.idx.Next(pos) {
	}
	c.idx.Put(pos, tag, uint32(i))
	c.push(&c.idle, i, true)
	c.push(&c.age, i, false)
	c.nflows++
	c.stats.Created++
	return i
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

// expire exports flow i and removes it.
func (c *Cache) expire(i int32, why ExpiryReason) {
	e := &c.entries[i]
	r := &c.rec
	*r = flow.Record{}
	r.First, r.Last = uint64(e.first/1e6), uint64(e.last/1e6)
	r.InPackets, r.InBytes = e.packets, e.bytes
	if e.key[kVersion] == 4 {
		r.SrcAddr = netip.AddrFrom4([4]byte(e.key[:4]))
		r.DstAddr = netip.AddrFrom4([4]byte(e.key[16:20]))
	} else {
		r.SrcAddr = netip.AddrFrom16([16]byte(e.key[:16]))
		r.DstAddr = netip.AddrFrom16([16]byte(e.key[16:32]))
	}
	r.SrcPort = binary.BigEndian.Uint16(e.key[kSrcPort:])
	r.DstPort = binary.BigEndian.Uint16(e.key[kDstPort:])
	r.Proto, r.SrcTos, r.TCPFlags = e.key[kProto], e.key[kTOS], e.flags
	r.Input, r.Output = c.cfg.Input, c.cfg.Output
	// The frame's (outer) VLAN is the flow's source VLAN. DstVLAN is the
	// VLAN after forwarding, which a probe does not see; QinQ's inner tag
	// has no place in the record (nfdump 1.7.1 has none for it).
	r.SrcVLAN = uint32(e.vlan)
	r.InSrcMAC, r.InDstMAC = e.srcMAC, e.dstMAC
	r.EndReason = endReason[why]
	c.stats.Exported[why]++
	c.export(r, why)

	pos, _ := c.idx.Home(e.hash)
	for s := c.idx.Slot(pos); s != 0; pos, s = c.idx.Next(pos) {
		if j, _ := slotindex.Match(s, 0); int32(j) == i {
			c.idx.Delete(pos)
			break
		}
	}
	c.unlink(&c.idle, i, true)
	c.unlink(&c.age, i, false)
	e.used, e.ended = false, false
	c.free = append(c.free, i)
	c.nflows--
}

// push appends entry i to list l (the idle list, or the age list).
func (c *Cache) push(l *list, i int32, idle bool) {
	prev, next := c.links(i, idle)
	*prev, *next = l.tail, -1
	if l.tail >= 0 {
		_, tn := c.links(l.tail, idle)
		*tn = i
	} else {
		l.head = i
	}
	l.tail = i
}

// unlink takes entry i out of list l.
func (c *Cache) unlink(l *list, i int32, idle bool) {
	prev, next := c.links(i, idle)
	if *prev >= 0 {
		_, pn := c.links(*prev, idle)
		*pn = *next
	} else {
		l.head = *next
	}
	if *next >= 0 {
		np, _ := c.links(*next, idle)
		*np = *prev
	} else {
		l.tail = *prev
	}
}

func (c *Cache) links(i int32, idle bool) (prev, next *int32) {
	e := &c.entries[i]
	if idle {
		return &e.idlePrev, &e.idleNext
	}
	return &e.agePrev, &e.ageNext
}

// Expire is the scan (fprobe's -s): it ends the fragment waits older than
// the fragment lifetime, the TCP flows that saw FIN or RST, the flows idle
// for longer than the idle timeout and those older than the active
// timeout, in that order.
func (c *Cache) Expire(now int64) {
	for c.flru.head >= 0 && now-c.frags[c.flru.head].last > int64(c.cfg.Fragment) {
		c.dropFrag(c.flru.head, false)
	}
	for _, i := range c.ended {
		if e := &c.entries[i]; e.used && e.ended {
			c.expire(i, TCPEnd)
		}
	}
	c.ended = c.ended[:0]
	for c.idle.head >= 0 && now-c.entries[c.idle.head].last > int64(c.cfg.Idle) {
		c.expire(c.idle.head, Idle)
	}
	for c.age.head >= 0 && now-c.entries[c.age.head].first > int64(c.cfg.Active) {
		c.expire(c.age.head, Active)
	}
}

// Flush exports every flow (oldest first), fragments waiting for their
// first fragment included.
func (c *Cache) Flush() {
	for c.flru.head >= 0 {
		c.dropFrag(c.flru.head, false)
	}
	c.ended = c.ended[:0]
	for c.age.head >= 0 {
		c.expire(c.age.head, Flush)
	}
}

// fragment takes a fragment of a datagram. When the datagram's first
// fragment has come, it fills the flow key k's ports and ToS from it and
// returns true: the packet is counted to that flow. Otherwise the packet
// waits in the datagram's entry.
func (c *Cache) fragment(p *Packet, k *flowKey, pc *flowCounts, now int64) bool {
	fk := *k
	binary.BigEndian.PutUint32(fk[kSrcPort:], p.FragID)
	h := maphash.Bytes(c.seed, fk[:])
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
	binary.BigEndian.PutUint16(k[kSrcPort:], f.sport)
	binary.BigEndian.PutUint16(k[kDstPort:], f.dport)
	k[kTOS] = f.tos
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
		binary.BigEndian.PutUint32(k[kSrcPort:], 0)
		k[kTOS] = f.tos
		w := f.waiting
		c.removeFrag(j)
		c.count(&k, &w, w.last)
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
