package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/nfgo/nftools/internal/pktgen"
)

// config is what to send, and how fast.
type config struct {
	Rate     float64       // frames per second; 0: as fast as possible
	Duration time.Duration // stop after this long; 0: no limit
	Count    int64         // frames to send; 0: no limit
	Full     bool          // IPv6 and VLAN tags too, not only plain IPv4
	Ring     int           // distinct frames, sent round and round
	Batch    int           // frames handed to the kernel in one call
	Seed     uint64
}

func (c config) check() error {
	switch {
	case c.Duration <= 0 && c.Count <= 0:
		return errors.New("give a duration (-d) or a count of frames (-n)")
	case c.Rate < 0 || c.Count < 0 || c.Duration < 0:
		return errors.New("rate, count and duration must not be negative")
	case c.Batch < 1 || c.Batch > 1024:
		return fmt.Errorf("batch of %d frames: want 1 to 1024", c.Batch)
	case c.Ring < c.Batch:
		return fmt.Errorf("ring of %d frames: want at least the batch, %d", c.Ring, c.Batch)
	}
	return nil
}

// report is what was sent.
type report struct {
	Frames  int64
	Bytes   int64 // whole frames, Ethernet header included
	Elapsed time.Duration
}

// FramesPerSec is the achieved rate.
func (r report) FramesPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Frames) / r.Elapsed.Seconds()
}

// batchWriter hands frames to the kernel.
type batchWriter interface {
	// MTU is the largest IP packet the interface takes.
	MTU() int
	// WriteBatch sends every frame of batch, in order, or fails.
	WriteBatch(batch [][]byte) error
}

// buildRing makes cfg.Ring frames of pktgen's traffic, one after the
// other in a single buffer, leaving out the few that the interface's MTU
// cannot carry (an IPv6 packet with the biggest payload is 20 bytes over
// 1500).
func buildRing(cfg config, mtu int) [][]byte {
	g := pktgen.NewIPv4Traffic(cfg.Seed, 0)
	if cfg.Full {
		g = pktgen.NewTraffic(cfg.Seed, 0)
	}
	frames := make([][]byte, 0, cfg.Ring)
	var slab []byte
	for len(frames) < cfg.Ring {
		_, f := g.Next()
		if len(f)-l2Len(f) > mtu {
			continue
		}
		if len(slab) < len(f) {
			slab = make([]byte, 1<<20)
		}
		n := copy(slab, f)
		frames = append(frames, slab[:n:n])
		slab = slab[n:]
	}
	return frames
}

// l2Len is the length of an Ethernet header and its 802.1Q tags.
func l2Len(f []byte) int {
	n := 14
	for len(f) >= n+4 {
		if t := binary.BigEndian.Uint16(f[n-2:]); t != 0x8100 && t != 0x88a8 {
			break
		}
		n += 4
	}
	return n
}

// due is how many frames should have been sent after elapsed at rate
// frames per second.
func due(elapsed time.Duration, rate float64) int64 {
	return int64(elapsed.Seconds() * rate)
}

// until is how long after the start n frames are due at rate.
func until(n int64, rate float64) time.Duration {
	return time.Duration(float64(n) / rate * float64(time.Second))
}

// send sends what cfg asks for and reports what went out. It stops early,
// with what was sent so far, when ctx is done or a send fails.
func send(ctx context.Context, w batchWriter, cfg config) (report, error) {
	if err := cfg.check(); err != nil {
		return report{}, err
	}
	frames := buildRing(cfg, w.MTU())
	batch := make([][]byte, 0, cfg.Batch)
	var rep report
	next := 0
	start := time.Now()
	for ctx.Err() == nil {
		elapsed := time.Since(start)
		if cfg.Duration > 0 && elapsed >= cfg.Duration {
			break
		}
		n := int64(cfg.Batch)
		if cfg.Count > 0 {
			n = min(n, cfg.Count-rep.Frames)
		}
		if n <= 0 {
			break
		}
		if cfg.Rate > 0 && due(elapsed, cfg.Rate)-rep.Frames < n {
			// Wait for a whole batch to be due: a batch a system call
			// is what lets the sender reach the higher rates.
			wait := until(rep.Frames+n, cfg.Rate) - elapsed
			if cfg.Duration > 0 {
				wait = min(wait, cfg.Duration-elapsed)
			}
			time.Sleep(wait)
			continue
		}
		batch = batch[:0]
		var bytes int64
		for range n {
			batch = append(batch, frames[next])
			bytes += int64(len(frames[next]))
			next = (next + 1) % len(frames)
		}
		if err := w.WriteBatch(batch); err != nil {
			rep.Elapsed = time.Since(start)
			return rep, err
		}
		rep.Frames += n
		rep.Bytes += bytes
	}
	rep.Elapsed = time.Since(start)
	return rep, nil
}
