package capture

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/pktgen"
)

// TestCacheAddSlim: a cache that counts packets handed over as Slims
// (Hasher.Slim, AddSlim) exports the flows, every field of them, that
// one counting the Packets (Add) exports: generated traffic (VLAN tags,
// MACs, TCP flags, IPv4 and IPv6), and fragments of both in and out of
// order, counting IP lengths and frames' lengths.
func TestCacheAddSlim(t *testing.T) {
	frames := append([]Frame(nil), traffic(20000)...)
	at := frames[len(frames)/2].Time
	for i, id := range []uint16{1, 2} {
		fr := pktgen.Fragment4(pktgen.UDP4(pktgen.V4{Src: c4, Dst: s4, ID: id, TOS: 0x20}, 100+id, 7000, 3000), 1500)
		if i == 1 {
			fr[0], fr[2] = fr[2], fr[0] // the first fragment last
		}
		for _, b := range fr {
			frames = append(frames, Frame{Data: b, WireLen: len(b) + 14, Time: at, Link: LinkRaw})
		}
	}
	for _, b := range pktgen.Fragment6(pktgen.UDP6(pktgen.V6{Src: c6, Dst: s6}, 100, 7000, 3000), 0x10203, 1280) {
		frames = append(frames, Frame{Data: b, WireLen: len(b), Time: at, Link: LinkRaw})
	}
	for _, countLink := range []bool{false, true} {
		conf := cfg
		conf.CountLink = countLink
		c, want := newCache(conf)
		cs, got := newCache(conf)
		h := cs.Hasher()
		var d Decoder
		var p Packet
		var s Slim
		frags := 0
		for i := range frames {
			f := &frames[i]
			if d.Decode(f.Link, f, &p) != nil {
				continue
			}
			if p.Fragment {
				frags++
			}
			c.Add(&p, f.Time)
			h.Slim(&p, f.Time, &s)
			require.True(t, s.Counts())
			require.Equal(t, f.Time, s.Time)
			cs.AddSlim(&s)
		}
		require.GreaterOrEqual(t, frags, 8)
		assert.Equal(t, c.Stats(), cs.Stats())
		c.Flush()
		cs.Flush()
		require.Greater(t, len(want.flows), 1000)
		require.Equal(t, len(want.flows), len(got.flows))
		// One flow at a time: testify's diff of thousands of them
		// takes minutes.
		for i := range want.flows {
			require.Equal(t, want.flows[i], got.flows[i], "CountLink %v, flow %d", countLink, i)
		}
	}
	var s Slim
	h := Hasher{}
	h.Slim(pkt(t, pktgen.UDP4(pktgen.V4{Src: c4, Dst: s4}, 1, 2, 30)), 5, &s)
	s.Skip(7)
	assert.False(t, s.Counts(), "skipped")
	assert.Equal(t, int64(7), s.Time)
}

// TestSlimSize: a Slim is what crosses between the decoding processor
// and the counting one for every packet: 80 bytes, where a Packet is
// 144.
func TestSlimSize(t *testing.T) {
	assert.Equal(t, 80, int(unsafe.Sizeof(Slim{})))
}

// TestAddSlimAllocatesNothing: once the cache has grown to the traffic,
// a packet handed over as a Slim costs no allocation.
func TestAddSlimAllocatesNothing(t *testing.T) {
	frames := traffic(20000)
	c, _ := newCache(cfg)
	h := c.Hasher()
	var d Decoder
	var p Packet
	var s Slim
	count := func() {
		for i := range frames {
			f := &frames[i]
			if d.Decode(f.Link, f, &p) == nil {
				h.Slim(&p, f.Time, &s)
				c.AddSlim(&s)
			}
		}
	}
	count()
	assert.Zero(t, testing.AllocsPerRun(3, count))
}
