package capture

import (
	"fmt"
	"net/netip"
	"runtime"
	"sort"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/pktgen"
	"github.com/nfgo/nftools/internal/slotindex"
)

// exported is a flow the cache handed out, with why.
type exported struct {
	r   flow.Record
	why ExpiryReason
}

// sink collects a cache's flows.
type sink struct{ flows []exported }

func (s *sink) export(r *flow.Record, why ExpiryReason) { s.flows = append(s.flows, exported{*r, why}) }

// take returns the flows collected since the last take.
func (s *sink) take() []exported {
	f := s.flows
	s.flows = nil
	return f
}

const sec = int64(time.Second)

// cfg is fprobe's defaults.
var cfg = CacheConfig{Idle: 60 * time.Second, Active: 300 * time.Second, Fragment: 30 * time.Second}

func newCache(c CacheConfig) (*Cache, *sink) {
	s := &sink{}
	return NewCache(c, s.export), s
}

// pkt decodes a raw IPv4 or IPv6 packet.
func pkt(t testing.TB, ip []byte) *Packet {
	var p Packet
	var d Decoder
	require.NoError(t, d.Decode(LinkRaw, &Frame{Data: ip, WireLen: len(ip)}, &p))
	return &p
}

// short describes a flow in one line: reason, times in seconds from t0,
// protocol, addresses and ports, ToS, flags, packets and bytes.
func short(e exported) string {
	r := e.r
	return fmt.Sprintf("%s %d-%d %d %s:%d>%s:%d tos=%d flags=%s %d/%d", e.why,
		int64(r.First)-t0/1e6, int64(r.Last)-t0/1e6, r.Proto, r.SrcAddr, r.SrcPort, r.DstAddr, r.DstPort,
		r.SrcTos, flow.TCPFlagString(r.TCPFlags), r.InPackets, r.InBytes)
}

func shorts(flows []exported) []string {
	var out []string
	for _, f := range flows {
		out = append(out, short(f))
	}
	return out
}

var (
	up   = pktgen.V4{Src: c4, Dst: s4}
	down = pktgen.V4{Src: s4, Dst: c4}
)

func TestCacheCountsFlows(t *testing.T) {
	c, s := newCache(cfg)
	c.Add(pkt(t, pktgen.TCP4(up, 1000, 80, pktgen.SYN, 0)), t0)
	c.Add(pkt(t, pktgen.TCP4(down, 80, 1000, pktgen.SYN|pktgen.ACK, 0)), t0+1e6)
	c.Add(pkt(t, pktgen.TCP4(up, 1000, 80, pktgen.ACK, 0)), t0+2e6)
	c.Add(pkt(t, pktgen.TCP4(up, 1000, 80, pktgen.PSH|pktgen.ACK, 100)), t0+3*sec)
	c.Add(pkt(t, pktgen.UDP4(up, 53, 53, 10)), t0+4*sec)
	// The same ports with another ToS: another flow, as fprobe keys it.
	c.Add(pkt(t, pktgen.UDP4(pktgen.V4{Src: c4, Dst: s4, TOS: 0xb8}, 53, 53, 10)), t0+5*sec)
	c.Add(pkt(t, pktgen.ICMP4(up, 8, 0, 56)), t0+6*sec)
	c.Add(pkt(t, pktgen.ICMP4(down, 3, 3, 28)), t0+6*sec)
	c.Add(pkt(t, pktgen.UDP6(pktgen.V6{Src: c6, Dst: s6, TC: 0x10}, 5000, 5001, 100)), t0+7*sec)
	assert.Empty(t, s.flows, "nothing ends before its time")
	st := c.Stats()
	assert.Equal(t, 7, st.Flows)
	assert.Equal(t, uint64(9), st.Packets)
	assert.Equal(t, uint64(40+40+40+140+38+38+84+56+148), st.Bytes)
	c.Flush()
	assert.Equal(t, []string{
		"flush 0-3000 6 192.0.2.1:1000>198.51.100.1:80 tos=0 flags=...AP.S. 3/220",
		"flush 1-1 6 198.51.100.1:80>192.0.2.1:1000 tos=0 flags=...A..S. 1/40",
		"flush 4000-4000 17 192.0.2.1:53>198.51.100.1:53 tos=0 flags=........ 1/38",
		"flush 5000-5000 17 192.0.2.1:53>198.51.100.1:53 tos=184 flags=........ 1/38",
		"flush 6000-6000 1 192.0.2.1:0>198.51.100.1:2048 tos=0 flags=........ 1/84",
		"flush 6000-6000 1 198.51.100.1:0>192.0.2.1:771 tos=0 flags=........ 1/56",
		"flush 7000-7000 17 2001:db8::1:5000>2001:db8:1::80:5001 tos=16 flags=........ 1/148",
	}, shorts(s.flows))
	assert.Zero(t, c.Stats().Flows)
	assert.Equal(t, uint64(7), c.Stats().Exported[Flush])
}

// TestCacheRecord: everything a record carries beside the key.
func TestCacheRecord(t *testing.T) {
	conf := cfg
	conf.Input, conf.Output = 3, 7
	c, s := newCache(conf)
	frame := pktgen.Ethernet(pktgen.RouterMAC, pktgen.ClientMAC, 0x0800, []uint16{200, 300}, pktgen.TCP4(up, 1, 2, pktgen.SYN, 0))
	var p Packet
	var d Decoder
	require.NoError(t, d.Decode(LinkEthernet, &Frame{Data: frame, WireLen: len(frame)}, &p))
	c.Add(&p, t0)
	c.Flush()
	require.Len(t, s.flows, 1)
	r := s.flows[0].r
	want := flow.Record{
		First: uint64(t0 / 1e6), Last: uint64(t0 / 1e6), InPackets: 1, InBytes: 40,
		SrcAddr: netip.AddrFrom4(c4), DstAddr: netip.AddrFrom4(s4), SrcPort: 1, DstPort: 2,
		Proto: 6, TCPFlags: flow.TCPSyn, Input: 3, Output: 7, SrcVLAN: 200,
		InSrcMAC: pktgen.ClientMAC, InDstMAC: pktgen.RouterMAC, EndReason: 4,
	}
	assert.Equal(t, want, r)
}

func TestCacheCountLink(t *testing.T) {
	conf := cfg
	conf.CountLink = true
	c, s := newCache(conf)
	frame := pktgen.Ethernet(1, 2, 0x0800, []uint16{5}, pktgen.UDP4(up, 1, 2, 100))
	var p Packet
	var d Decoder
	require.NoError(t, d.Decode(LinkEthernet, &Frame{Data: frame[:60], WireLen: len(frame)}, &p))
	c.Add(&p, t0)
	c.Flush()
	assert.Equal(t, uint64(18+128), s.flows[0].r.InBytes, "the frame on the wire, VLAN tag included")
}

func TestCacheIdle(t *testing.T) {
	c, s := newCache(cfg)
	a := pkt(t, pktgen.UDP4(up, 1, 2, 0))
	c.Add(a, t0)
	c.Add(a, t0+10*sec)
	c.Expire(t0 + 70*sec)
	assert.Empty(t, s.take(), "idle exactly the idle timeout: not yet")
	c.Expire(t0 + 70*sec + 1)
	assert.Equal(t, []string{"idle 0-10000 17 192.0.2.1:1>198.51.100.1:2 tos=0 flags=........ 2/56"}, shorts(s.take()))
	// A packet after the idle timeout starts a new flow even before a
	// scan ended the old one.
	c.Add(a, t0+100*sec)
	c.Add(a, t0+161*sec)
	assert.Equal(t, []string{"idle 100000-100000 17 192.0.2.1:1>198.51.100.1:2 tos=0 flags=........ 1/28"}, shorts(s.take()))
	assert.Equal(t, 1, c.Stats().Flows)
}

func TestCacheActive(t *testing.T) {
	conf := cfg
	conf.Active = 30 * time.Second
	c, s := newCache(conf)
	a, b := pkt(t, pktgen.UDP4(up, 1, 2, 0)), pkt(t, pktgen.UDP4(up, 3, 4, 0))
	for i := int64(0); i <= 30; i += 10 {
		c.Add(a, t0+i*sec)
	}
	c.Add(b, t0+20*sec)
	c.Expire(t0 + 30*sec)
	assert.Empty(t, s.take())
	c.Expire(t0 + 30*sec + 1)
	assert.Equal(t, []string{"active 0-30000 17 192.0.2.1:1>198.51.100.1:2 tos=0 flags=........ 4/112"}, shorts(s.take()))
	// A packet past the active timeout ends the flow it would join.
	c.Add(b, t0+50*sec) // 30 s after its first packet: still the flow's
	c.Add(b, t0+51*sec)
	c.Add(b, t0+52*sec)
	assert.Equal(t, []string{"active 20000-50000 17 192.0.2.1:3>198.51.100.1:4 tos=0 flags=........ 2/56"}, shorts(s.take()))
	c.Flush()
	assert.Equal(t, []string{"flush 51000-52000 17 192.0.2.1:3>198.51.100.1:4 tos=0 flags=........ 2/56"}, shorts(s.take()))
}

func TestCacheTCPEnd(t *testing.T) {
	c, s := newCache(cfg)
	c.Add(pkt(t, pktgen.TCP4(up, 1, 80, pktgen.SYN, 0)), t0)
	c.Add(pkt(t, pktgen.TCP4(up, 1, 80, pktgen.FIN|pktgen.ACK, 0)), t0+sec)
	c.Add(pkt(t, pktgen.TCP4(up, 1, 80, pktgen.ACK, 0)), t0+2*sec) // the last ACK still counts
	c.Add(pkt(t, pktgen.TCP4(down, 80, 1, pktgen.RST, 0)), t0+2*sec)
	c.Add(pkt(t, pktgen.TCP4(up, 2, 80, pktgen.SYN, 0)), t0+2*sec)
	// UDP has no FIN, whatever its bytes say.
	c.Add(pkt(t, pktgen.UDP4(up, 3, 4, 0)), t0+2*sec)
	c.Expire(t0 + 3*sec)
	assert.Equal(t, []string{
		"tcp-end 0-2000 6 192.0.2.1:1>198.51.100.1:80 tos=0 flags=...A..SF 3/120",
		"tcp-end 2000-2000 6 198.51.100.1:80>192.0.2.1:1 tos=0 flags=.....R.. 1/40",
	}, shorts(s.take()))
	assert.Equal(t, 2, c.Stats().Flows)
	// A flow that ended another way before the scan is not exported twice.
	c.Add(pkt(t, pktgen.TCP4(up, 2, 80, pktgen.RST, 0)), t0+4*sec)
	c.Flush()
	c.Expire(t0 + 5*sec)
	assert.Len(t, s.take(), 2)
	assert.Equal(t, uint64(2), c.Stats().Exported[TCPEnd])
}

// TestCacheEndedAllocateNothing: TCP flows that end wait for the scan in
// their entries, not in a list that grows with them: 20 000 of them, the
// packets decoded beforehand, cost the cache no memory from Go's heap (a
// list of their numbers would take 80 KB at least; the bound leaves room
// for what the runtime and the test framework may allocate meanwhile).
func TestCacheEndedAllocateNothing(t *testing.T) {
	c, s := newCache(cfg)
	const n = 20000
	fins := make([]*Packet, n)
	for i := range fins {
		h := pktgen.V4{Src: c4, Dst: pktgen.A4(fmt.Sprintf("10.0.%d.%d", i>>8, i&255))}
		fins[i] = pkt(t, pktgen.TCP4(h, uint16(i), 80, pktgen.FIN|pktgen.ACK, 0))
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i, p := range fins {
		c.Add(p, t0+int64(i))
	}
	runtime.ReadMemStats(&after)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(4096), "bytes allocated for %d ended flows", n)
	c.Add(pkt(t, pktgen.UDP4(up, 1, 2, 0)), t0+sec)
	c.Expire(t0 + 2*sec)
	assert.Equal(t, uint64(n), c.Stats().Exported[TCPEnd])
	assert.Equal(t, 1, c.Stats().Flows)
	assert.Len(t, s.take(), n)
}

// TestCacheLimitEndedFirst: at the flow-count limit a TCP flow that ended,
// which the next scan exports anyway, goes before the flow idle longest;
// Flush exports the ended flows first too.
func TestCacheLimitEndedFirst(t *testing.T) {
	conf := cfg
	conf.MaxFlows = 3
	c, s := newCache(conf)
	c.Add(pkt(t, pktgen.UDP4(up, 1, 9, 0)), t0)
	c.Add(pkt(t, pktgen.TCP4(up, 2, 80, pktgen.SYN, 0)), t0+sec)
	c.Add(pkt(t, pktgen.TCP4(up, 2, 80, pktgen.FIN|pktgen.ACK, 0)), t0+2*sec)
	c.Add(pkt(t, pktgen.TCP4(up, 3, 80, pktgen.RST, 0)), t0+3*sec)
	c.Add(pkt(t, pktgen.UDP4(up, 4, 9, 0)), t0+4*sec)
	assert.Equal(t, []string{
		"evicted 1000-2000 6 192.0.2.1:2>198.51.100.1:80 tos=0 flags=...A..SF 2/80",
	}, shorts(s.take()))
	c.Flush()
	assert.Equal(t, []string{
		"flush 3000-3000 6 192.0.2.1:3>198.51.100.1:80 tos=0 flags=.....R.. 1/40",
		"flush 0-0 17 192.0.2.1:1>198.51.100.1:9 tos=0 flags=........ 1/28",
		"flush 4000-4000 17 192.0.2.1:4>198.51.100.1:9 tos=0 flags=........ 1/28",
	}, shorts(s.take()))
	assert.Equal(t, uint64(1), c.Stats().Exported[Evicted])
}

func TestCacheSplit32(t *testing.T) {
	for _, split := range []bool{false, true} {
		conf := cfg
		conf.Split32, conf.CountLink = split, true
		c, s := newCache(conf)
		p := pkt(t, pktgen.UDP4(up, 1, 2, 0))
		p.WireLen = 1 << 30 // each packet counts 1 GiB: three fit in 32 bits
		for i := int64(0); i < 4; i++ {
			c.Add(p, t0+i*sec)
		}
		c.Flush()
		if split {
			assert.Equal(t, []string{
				"split 0-2000 17 192.0.2.1:1>198.51.100.1:2 tos=0 flags=........ 3/3221225472",
				"flush 3000-3000 17 192.0.2.1:1>198.51.100.1:2 tos=0 flags=........ 1/1073741824",
			}, shorts(s.take()))
		} else {
			assert.Equal(t, []string{"flush 0-3000 17 192.0.2.1:1>198.51.100.1:2 tos=0 flags=........ 4/4294967296"}, shorts(s.take()))
		}
	}
}

func TestCacheSplit32Packets(t *testing.T) {
	conf := cfg
	conf.Split32 = true
	c, s := newCache(conf)
	p := pkt(t, pktgen.UDP4(up, 1, 2, 0))
	c.Add(p, t0)
	// Make the flow hold 2^32-1 packets, as years of a busy link would.
	c.at(0).packets = 1<<32 - 1
	c.Add(p, t0+sec)
	assert.Equal(t, []ExpiryReason{Split}, []ExpiryReason{s.take()[0].why})
}

// TestCacheLimit: at the flow-count limit the flow idle the longest goes
// first, and the cache never holds more.
func TestCacheLimit(t *testing.T) {
	conf := cfg
	conf.MaxFlows = 3
	c, s := newCache(conf)
	for port := uint16(1); port <= 3; port++ {
		c.Add(pkt(t, pktgen.UDP4(up, port, 9, 0)), t0+int64(port)*sec)
	}
	c.Add(pkt(t, pktgen.UDP4(up, 1, 9, 0)), t0+4*sec) // flow 1 is fresh again
	c.Add(pkt(t, pktgen.UDP4(up, 4, 9, 0)), t0+5*sec)
	c.Add(pkt(t, pktgen.UDP4(up, 5, 9, 0)), t0+6*sec)
	assert.Equal(t, []string{
		"evicted 2000-2000 17 192.0.2.1:2>198.51.100.1:9 tos=0 flags=........ 1/28",
		"evicted 3000-3000 17 192.0.2.1:3>198.51.100.1:9 tos=0 flags=........ 1/28",
	}, shorts(s.take()))
	st := c.Stats()
	assert.Equal(t, 3, st.Flows)
	assert.Equal(t, uint64(2), st.Exported[Evicted])
	assert.Equal(t, 3, st.Limit)
}

func TestCacheMemoryLimit(t *testing.T) {
	conf := cfg
	conf.MemoryKB = 100
	c, _ := newCache(conf)
	assert.Equal(t, 100*1024/perFlow, c.Stats().Limit)
	conf.MemoryKB = 1
	conf.MaxFlows = 2
	c, _ = newCache(conf)
	assert.Equal(t, 2, c.Stats().Limit, "the lower of the two")
	c, _ = newCache(cfg)
	assert.Equal(t, DefaultMaxFlows, c.Stats().Limit)

	// Full, the cache holds no more than its budget.
	conf.MemoryKB, conf.MaxFlows = 64, 0
	c, _ = newCache(conf)
	for i := 0; i < 3*c.Stats().Limit; i++ {
		c.Add(pkt(t, pktgen.UDP4(up, uint16(i), 9, 0)), t0)
	}
	assert.Equal(t, c.Stats().Limit, c.Stats().Flows)
	assert.LessOrEqual(t, len(c.ents)*int(unsafe.Sizeof(entry{})), 64*1024)
}

func TestCacheFragments(t *testing.T) {
	dgram := func(id uint16, sport uint16) [][]byte {
		return pktgen.Fragment4(pktgen.UDP4(pktgen.V4{Src: c4, Dst: s4, ID: id, TOS: 0x20}, sport, 7000, 3000), 1500)
	}
	c, s := newCache(cfg)
	// In order: the later fragments find the first one's ports.
	for i, f := range dgram(1, 100) {
		c.Add(pkt(t, f), t0+int64(i)*sec)
	}
	assert.Zero(t, c.Stats().Fragments, "a whole datagram leaves nothing to wait for")
	// Out of order: the last two wait for the first.
	fr := dgram(2, 200)
	c.Add(pkt(t, fr[2]), t0+10*sec)
	c.Add(pkt(t, fr[1]), t0+11*sec)
	assert.Equal(t, 1, c.Stats().Fragments)
	assert.Equal(t, 1, c.Stats().Flows)
	c.Add(pkt(t, fr[0]), t0+12*sec)
	assert.Zero(t, c.Stats().Fragments)
	// An orphan: its first fragment never comes.
	c.Add(pkt(t, dgram(3, 300)[1]), t0+20*sec)
	// A first fragment alone: its rest never comes.
	c.Add(pkt(t, dgram(4, 400)[0]), t0+20*sec)
	c.Expire(t0 + 50*sec)
	assert.Equal(t, 2, c.Stats().Fragments, "kept for the fragment lifetime")
	c.Expire(t0 + 50*sec + 1)
	assert.Zero(t, c.Stats().Fragments)
	c.Flush()
	assert.Equal(t, []string{
		"flush 0-2000 17 192.0.2.1:100>198.51.100.1:7000 tos=32 flags=........ 3/3068",
		"flush 10000-12000 17 192.0.2.1:200>198.51.100.1:7000 tos=32 flags=........ 3/3068",
		"flush 20000-20000 17 192.0.2.1:400>198.51.100.1:7000 tos=32 flags=........ 1/1500",
		"flush 20000-20000 17 192.0.2.1:0>198.51.100.1:0 tos=32 flags=........ 1/1500",
	}, shorts(s.take()))
	st := c.Stats()
	assert.Equal(t, uint64(8), st.FragPackets)
	assert.Equal(t, uint64(1), st.FragOrphans)
}

func TestCacheFragments6(t *testing.T) {
	c, s := newCache(cfg)
	fr := pktgen.Fragment6(pktgen.UDP6(pktgen.V6{Src: c6, Dst: s6}, 100, 7000, 3000), 77, 1280)
	c.Add(pkt(t, fr[1]), t0)
	c.Add(pkt(t, fr[0]), t0+sec)
	c.Add(pkt(t, fr[2]), t0+2*sec)
	assert.Zero(t, c.Stats().Fragments)
	c.Flush()
	assert.Equal(t, []string{"flush 0-2000 17 2001:db8::1:100>2001:db8:1::80:7000 tos=0 flags=........ 3/3152"}, shorts(s.take()))
}

// TestCacheFragmentLimit: a storm of fragments whose first fragments never
// come is bounded; the datagrams given up are counted without ports.
func TestCacheFragmentLimit(t *testing.T) {
	conf := cfg
	conf.MaxFlows = 16 // room for 2 datagrams
	c, s := newCache(conf)
	for id := uint16(1); id <= 5; id++ {
		f := pktgen.Fragment4(pktgen.UDP4(pktgen.V4{Src: c4, Dst: s4, ID: id}, 1, 2, 3000), 1500)[1]
		c.Add(pkt(t, f), t0+int64(id)*sec)
	}
	st := c.Stats()
	assert.Equal(t, 2, st.Fragments)
	assert.Equal(t, uint64(3), st.FragEvicted)
	assert.Equal(t, uint64(3), st.FragOrphans)
	c.Flush()
	assert.Equal(t, []string{"flush 1000-5000 17 192.0.2.1:0>198.51.100.1:0 tos=0 flags=........ 5/7500"}, shorts(s.take()))
}

// TestCacheCraftedKeys: flows made so that fprobe's hash (the xor of
// addresses and ports) puts them all in one chain spread over our index
// like any others.
func TestCacheCraftedKeys(t *testing.T) {
	c, _ := newCache(cfg)
	const n = 50000
	for i := 0; i < n; i++ {
		// src ^ sport is constant, and so is dst ^ dport.
		src := pktgen.A4(fmt.Sprintf("10.0.%d.%d", i>>8&0xff, i&0xff))
		v := uint16(i)
		c.Add(pkt(t, pktgen.UDP4(pktgen.V4{Src: src, Dst: src}, v^0x1234, v^0x4321, 0)), t0)
	}
	require.Equal(t, n, c.Stats().Flows)
	longest, total := 0, 0
	for i := range c.slab {
		e := c.at(i)
		pos, _ := c.idx.Home(c.hash.sum(&e.key))
		probes := 1
		for s := c.idx.Slot(pos); ; pos, s = c.idx.Next(pos) {
			if j, _ := slotindex.Match(s, 0); int32(j) == int32(i) {
				break
			}
			probes++
		}
		longest = max(longest, probes)
		total += probes
	}
	assert.Less(t, float64(total)/n, 2.0, "average probes")
	assert.Less(t, longest, 64, "longest probe")
}

// TestCacheInvariants: a random mix of packets, scans and times at a low
// flow-count limit. Every packet and byte ends in exactly one flow, no flow
// lasts longer than the active timeout, flows of one key follow each other
// without overlapping, and every flow started is exported once.
func TestCacheInvariants(t *testing.T) {
	conf := CacheConfig{Idle: 5 * time.Second, Active: 20 * time.Second, Fragment: 3 * time.Second, MaxFlows: 15}
	c, s := newCache(conf)
	var pkts, bytes uint64
	rnd := uint64(7)
	next := func(n int) int { rnd = rnd*6364136223846793005 + 1442695040888963407; return int(rnd>>33) % n }
	now := t0
	for i := 0; i < 20000; i++ {
		now += int64(next(300)) * int64(time.Millisecond)
		p := pkt(t, pktgen.UDP4(pktgen.V4{Src: c4, Dst: s4, TOS: uint8(next(2))}, uint16(next(10)), 53, next(100)))
		c.Add(p, now)
		pkts++
		bytes += uint64(p.IPLen)
		if next(20) == 0 {
			c.Expire(now)
		}
		require.LessOrEqual(t, c.Stats().Flows, 15)
	}
	c.Flush()
	var gotP, gotB uint64
	seen := map[string]int64{} // key -> last of the previous flow
	sort.SliceStable(s.flows, func(i, j int) bool { return s.flows[i].r.First < s.flows[j].r.First })
	for _, f := range s.flows {
		gotP += f.r.InPackets
		gotB += f.r.InBytes
		assert.LessOrEqual(t, f.r.Last-f.r.First, uint64(20000), "no flow lasts longer than the active timeout")
		k := fmt.Sprint(f.r.SrcPort, f.r.SrcTos)
		if last, ok := seen[k]; ok {
			assert.Less(t, last, int64(f.r.First)+1, "flows of one key do not overlap")
		}
		seen[k] = int64(f.r.Last)
	}
	assert.Equal(t, pkts, gotP)
	assert.Equal(t, bytes, gotB)
	st := c.Stats()
	var exp uint64
	for _, n := range st.Exported {
		exp += n
	}
	assert.Equal(t, st.Created, exp)
	assert.Equal(t, uint64(len(s.flows)), exp)
	for _, why := range []ExpiryReason{Idle, Active, Evicted, Flush} {
		assert.Positive(t, st.Exported[why], why.String())
	}
}

// TestCacheFlushStartsOver: after Flush the cache is as new: the flows it
// held are new flows when their packets come again, even from an earlier
// capture, and they expire by their own times.
func TestCacheFlushStartsOver(t *testing.T) {
	c, s := newCache(cfg)
	for i := range 3000 {
		c.Add(pkt(t, pktgen.UDP4(up, uint16(i), 9, 0)), t0+int64(i)*sec/100)
	}
	c.Flush()
	require.Len(t, s.take(), 3000)
	st := c.Stats()
	assert.Zero(t, st.Flows)
	// The same flows an hour earlier: all new, and the cache counts them.
	early := t0 - 3600*sec
	for i := range 3000 {
		c.Add(pkt(t, pktgen.UDP4(up, uint16(i), 9, 0)), early+int64(i)*sec/100)
	}
	assert.Equal(t, 3000, c.Stats().Flows)
	assert.Equal(t, uint64(6000), c.Stats().Created)
	c.Add(pkt(t, pktgen.UDP4(up, 0, 9, 0)), early+31*sec)
	assert.Equal(t, uint64(6000), c.Stats().Created, "found again")
	// A scan 60 s after the last packet but one ends all of them but the
	// flow that just saw one.
	c.Expire(early + 30*sec + 61*sec)
	got := s.take()
	assert.Len(t, got, 2999)
	for _, f := range got {
		assert.Equal(t, Idle, f.why)
	}
	c.Flush()
	require.Len(t, s.flows, 1)
	assert.Equal(t, uint64(2), s.flows[0].r.InPackets)
}
