package capture

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/pktgen"
)

// model is the flow cache as fprobe's semantics state it, with nothing
// clever: a map of flows and a look at every one of them at every scan.
// The timing wheel must export exactly what it exports.
type model struct {
	idle, active int64
	flows        map[string]*modelFlow
	ended        []string
	out          []string
}

type modelFlow struct {
	first, last    int64
	packets, bytes uint64
	flags          uint8
	proto          uint8
	ended          bool
	sport, dport   uint16
}

func (m *model) export(k string, f *modelFlow, why ExpiryReason) {
	m.out = append(m.out, fmt.Sprintf("%s %s %d-%d %d/%d", why, k, f.first/1e6, f.last/1e6, f.packets, f.bytes))
	delete(m.flows, k)
}

func (m *model) add(p *Packet, now int64) {
	k := fmt.Sprint(p.Proto, p.SrcPort, p.DstPort, p.TOS)
	f := m.flows[k]
	if f != nil {
		switch {
		case now-f.last > m.idle:
			m.export(k, f, Idle)
			f = nil
		case now-f.first > m.active:
			m.export(k, f, Active)
			f = nil
		}
	}
	if f == nil {
		f = &modelFlow{first: now, last: now, proto: p.Proto}
		m.flows[k] = f
	}
	f.first, f.last = min(f.first, now), max(f.last, now)
	f.packets++
	f.bytes += uint64(p.IPLen)
	f.flags |= p.TCPFlags
	if f.flags&(flow.TCPFin|flow.TCPRst) != 0 && !f.ended && f.proto == protoTCP {
		f.ended = true
		m.ended = append(m.ended, k)
	}
}

func (m *model) expire(now int64) {
	for _, k := range m.ended {
		if f := m.flows[k]; f != nil && f.ended {
			m.export(k, f, TCPEnd)
		}
	}
	m.ended = m.ended[:0]
	for k, f := range m.flows {
		switch {
		case now-f.last > m.idle:
			m.export(k, f, Idle)
		case now-f.first > m.active:
			m.export(k, f, Active)
		}
	}
}

func (m *model) take() []string {
	out := m.out
	m.out = nil
	sort.Strings(out)
	return out
}

// TestCacheWheelExact: random traffic, with scans at random moments (some
// in the same bucket of the wheel as the scan before, some many laps of
// the wheel later, some at the very nanosecond a flow's timeout ends),
// through the cache and through the model: after every scan both have
// exported the same flows, for the same reasons.
func TestCacheWheelExact(t *testing.T) {
	for _, tc := range []struct {
		name         string
		idle, active time.Duration
	}{
		{"fprobe's defaults", 60 * time.Second, 300 * time.Second},
		{"short", 2 * time.Second, 5 * time.Second},
		{"active shorter than idle", 10 * time.Second, 3 * time.Second},
		{"zero", 0, 0},
		{"active of a day", 30 * time.Second, 24 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &model{idle: int64(tc.idle), active: int64(tc.active), flows: map[string]*modelFlow{}}
			var got []string
			c := NewCache(CacheConfig{Idle: tc.idle, Active: tc.active}, func(r *flow.Record, why ExpiryReason) {
				k := fmt.Sprint(r.Proto, r.SrcPort, r.DstPort, r.SrcTos)
				got = append(got, fmt.Sprintf("%s %s %d-%d %d/%d", why, k, r.First, r.Last, r.InPackets, r.InBytes))
			})
			rnd := uint64(11)
			next := func(n int) int { rnd = rnd*6364136223846793005 + 1442695040888963407; return int(rnd>>33) % n }
			step := max(int64(tc.idle), int64(tc.active), int64(time.Second)) / 50
			now := t0
			checked := 0
			for i := 0; i < 20000; i++ {
				switch r := next(1000); {
				case r < 3: // a long silence: laps of the wheel
					now += int64(next(40)+1) * max(int64(tc.active), int64(time.Minute))
				case r < 500:
					now += int64(next(int(step)))
				}
				h := pktgen.V4{Src: c4, Dst: s4, TOS: uint8(next(2))}
				var ip []byte
				if next(2) == 0 {
					flags := uint8(pktgen.ACK)
					if next(30) == 0 {
						flags = pktgen.FIN | pktgen.ACK
					}
					ip = pktgen.TCP4(h, uint16(next(30)), 80, flags, next(50))
				} else {
					ip = pktgen.UDP4(h, uint16(next(30)), 53, next(50))
				}
				p := pkt(t, ip)
				at := now
				if next(20) == 0 {
					// A packet a little out of order, as captures from
					// several queues have them: older than the last scan.
					at -= int64(next(int(4 * step)))
				}
				c.Add(p, at)
				m.add(p, at)
				if next(50) == 0 {
					scans := []int64{now}
					if next(3) == 0 && len(m.flows) > 0 {
						// The moment a flow's idle timeout ends, and a
						// nanosecond later.
						for _, f := range m.flows {
							at := max(now, f.last+int64(tc.idle))
							scans = []int64{at, at + 1}
							break
						}
					}
					for _, now = range scans {
						c.Expire(now)
						m.expire(now)
						sort.Strings(got)
						require.Equal(t, m.take(), got, "after the scan at %d ns", now-t0)
						checked += len(got)
						got = nil
					}
				}
			}
			sort.Strings(got)
			require.Equal(t, m.take(), got, "the flows the last packets ended")
			got = nil
			c.Flush()
			assert.Equal(t, len(m.flows), len(got), "the rest at the flush")
			assert.Equal(t, len(m.flows), int(c.Stats().Exported[Flush]))
			assert.Greater(t, checked, 1000)
		})
	}
}

// TestCachePrefetch: packets that Prefetch and PrefetchFlow read ahead for
// are counted into the same flows as packets added straight away, and so
// are Slims that PrefetchSlim, PrefetchFlowSlim and PrefetchAheadSlim read
// ahead for; a packet another cache hashed ahead is hashed again, not looked up under the
// other cache's hash.
func TestCachePrefetch(t *testing.T) {
	frames := traffic(30000)
	var d Decoder
	pkts := make([]Packet, len(frames))
	for i := range frames {
		require.NoError(t, d.Decode(frames[i].Link, &frames[i], &pkts[i]))
	}
	run := func(prefetch func(c *Cache, i int)) []string {
		var out []string
		c := NewCache(cfg, func(r *flow.Record, why ExpiryReason) { out = append(out, short(exported{*r, why})) })
		c.prefetchFrom = 0
		for i := range pkts {
			prefetch(c, i)
			p := pkts[i]
			c.Add(&p, frames[i].Time)
		}
		c.Flush()
		sort.Strings(out)
		return out
	}
	want := run(func(*Cache, int) {})
	assert.Greater(t, len(want), 1000)
	assert.Equal(t, want, run(func(c *Cache, i int) {
		// Ahead of the copy Add takes: the last packets' prefetches are
		// not followed by their Add.
		if i+8 < len(pkts) {
			c.Prefetch(&pkts[i+8])
		}
		if i+4 < len(pkts) {
			c.PrefetchFlow(&pkts[i+4])
		}
		pkts[i].hash, pkts[i].hashBy = 0, 0
	}), "prefetching ahead")
	// As the meter's decoding goroutine hands the packets over: Slims
	// made by the cache's Hasher, the first ones prefetched one by one,
	// the others ahead in one call, counted by AddSlim.
	var slimOut []string
	c := NewCache(cfg, func(r *flow.Record, why ExpiryReason) { slimOut = append(slimOut, short(exported{*r, why})) })
	c.prefetchFrom = 0
	h := c.Hasher()
	slims := make([]Slim, len(pkts))
	for i := range pkts {
		h.Slim(&pkts[i], frames[i].Time, &slims[i])
	}
	for i := range 8 {
		c.PrefetchSlim(&slims[i])
		c.PrefetchFlowSlim(&slims[i])
	}
	for i := range slims {
		if i+8 < len(slims) {
			c.PrefetchAheadSlim(&slims[i+8], &slims[i+4])
		}
		c.AddSlim(&slims[i])
	}
	c.Flush()
	sort.Strings(slimOut)
	assert.Equal(t, want, slimOut, "Slims prefetched ahead")

	other := NewCache(cfg, func(*flow.Record, ExpiryReason) {})
	other.prefetchFrom = 0
	assert.Equal(t, want, run(func(_ *Cache, i int) {
		other.Prefetch(&pkts[i])
		require.NotZero(t, pkts[i].hashBy)
	}), "hashed by another cache")

	assert.Equal(t, want, run(func(c *Cache, i int) {
		c.prefetchFrom = prefetchFlows
		pkts[i].hash, pkts[i].hashBy = 0, 0
		c.Hash(&pkts[i])
		require.Equal(t, !pkts[i].Fragment, pkts[i].hashBy == c.id)
	}), "hashed by Hash, without prefetching")

	// A cache of fewer flows than prefetchFlows hashes in Add.
	small := NewCache(cfg, func(*flow.Record, ExpiryReason) {})
	p := pkts[0]
	p.hash, p.hashBy = 0, 0
	small.Prefetch(&p)
	assert.Zero(t, p.hashBy, "a small cache does not read ahead")
}
