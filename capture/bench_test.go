package capture

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/pktgen"
)

// trafficFrames keeps the benchmarks' frames between their runs.
var trafficFrames []Frame

// traffic returns n frames of generated traffic (see pktgen.Traffic).
func traffic(n int) []Frame {
	if len(trafficFrames) >= n {
		return trafficFrames[:n]
	}
	g := pktgen.NewTraffic(1, pktgen.Start)
	frames := make([]Frame, n)
	for i := range frames {
		t, b := g.Next()
		frames[i] = Frame{Data: append([]byte(nil), b...), WireLen: len(b), Time: t, Link: LinkEthernet}
	}
	trafficFrames = frames
	return frames
}

// run decodes the frames into a cache with fprobe's defaults, shifted by
// offset, scanning every 5 s of packet time as fprobe's -s 5.
func run(d *Decoder, c *Cache, p *Packet, frames []Frame, offset int64) {
	next := frames[0].Time + offset
	for i := range frames {
		f := &frames[i]
		if d.Decode(f.Link, f, p) != nil {
			continue
		}
		now := f.Time + offset
		c.Add(p, now)
		if now >= next {
			c.Expire(now)
			next = now + 5*sec
		}
	}
}

// TestDecodeAndCacheAllocateNothing: once the cache has grown to the
// traffic, a packet costs no allocation from frame to flow.
func TestDecodeAndCacheAllocateNothing(t *testing.T) {
	frames := traffic(100000)
	var d Decoder
	var p Packet
	flows := 0
	c := NewCache(cfg, func(*flow.Record, ExpiryReason) { flows++ })
	run(&d, c, &p, frames, 0)
	c.Flush()
	span := frames[len(frames)-1].Time - frames[0].Time + int64(time.Hour)
	pass := int64(0)
	allocs := testing.AllocsPerRun(3, func() {
		pass++
		run(&d, c, &p, frames, pass*span)
		c.Flush()
	})
	assert.Zero(t, allocs)
	assert.Greater(t, flows, 10000)
}

// BenchmarkCache is the cost of counting a decoded packet, scans
// included, on generated traffic of about 4000 concurrent flows.
func BenchmarkCache(b *testing.B) {
	frames := traffic(200000)
	var d Decoder
	packets := make([]Packet, len(frames))
	for i := range frames {
		d.Decode(frames[i].Link, &frames[i], &packets[i])
	}
	c := NewCache(cfg, func(*flow.Record, ExpiryReason) {})
	span := frames[len(frames)-1].Time - frames[0].Time + sec
	// One pass first grows the cache to the traffic, as a long run does.
	run(&d, c, &Packet{}, frames, -span)
	b.ReportAllocs()
	b.ResetTimer()
	next := int64(0)
	for i := 0; i < b.N; i++ {
		j := i % len(frames)
		now := frames[j].Time + int64(i/len(frames))*span
		c.Add(&packets[j], now)
		if now >= next {
			c.Expire(now)
			next = now + 5*sec
		}
	}
}

// BenchmarkCacheSlim is BenchmarkCache for the Slims that goprobe
// --read's counting goroutine counts (AddSlim).
func BenchmarkCacheSlim(b *testing.B) {
	frames := traffic(200000)
	var d Decoder
	c := NewCache(cfg, func(*flow.Record, ExpiryReason) {})
	h := c.Hasher()
	slims := make([]Slim, len(frames))
	var p Packet
	for i := range frames {
		d.Decode(frames[i].Link, &frames[i], &p)
		h.Slim(&p, frames[i].Time, &slims[i])
	}
	span := frames[len(frames)-1].Time - frames[0].Time + sec
	run(&d, c, &Packet{}, frames, -span)
	b.ReportAllocs()
	b.ResetTimer()
	next := int64(0)
	for i := 0; i < b.N; i++ {
		j := i % len(frames)
		s := &slims[j]
		s.Time = frames[j].Time + int64(i/len(frames))*span
		c.AddSlim(s)
		if s.Time >= next {
			c.Expire(s.Time)
			next = s.Time + 5*sec
		}
	}
}

// trafficPcap keeps BenchmarkFileToFlows's capture between its runs.
var trafficPcap []byte

// BenchmarkFileToFlows is goprobe --read's work per packet: a capture file
// (generated traffic, snap length 256 as fprobe's default) read from
// memory, decoded and counted, scans included.
func BenchmarkFileToFlows(b *testing.B) {
	if trafficPcap == nil {
		var buf bytes.Buffer
		w := pktgen.NewPcap(&buf, 1, pktgen.PcapOptions{SnapLen: 256})
		for _, f := range traffic(200000) {
			w.Write(f.Time, f.Data)
		}
		trafficPcap = buf.Bytes()
	}
	var d Decoder
	var p Packet
	var f Frame
	c := NewCache(cfg, func(*flow.Record, ExpiryReason) {})
	pass := func(offset int64) int {
		s, err := NewFileSource(bytes.NewReader(trafficPcap), "traffic")
		if err != nil {
			b.Fatal(err)
		}
		n, next := 0, int64(0)
		for s.Next(&f) == nil {
			n++
			if d.Decode(f.Link, &f, &p) != nil {
				continue
			}
			now := f.Time + offset
			c.Add(&p, now)
			if now >= next {
				c.Expire(now)
				next = now + 5*sec
			}
		}
		return n
	}
	const span = int64(time.Hour)
	pass(-span)
	b.ReportAllocs()
	b.ResetTimer()
	packets := 0
	for i := 0; packets < b.N; i++ {
		packets += pass(int64(i) * span)
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
}
