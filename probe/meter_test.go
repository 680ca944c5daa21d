package probe

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/capture"
	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/pktgen"
)

// TestCaptureMeter: a capture file read through the real decoder and flow
// cache, reading ahead or not: the flows of its IP packets leave at the
// scans and at the end, frames that are not IP or that the filter refuses
// are counted as not counted, and nothing is lost.
func TestCaptureMeter(t *testing.T) {
	for _, ahead := range []bool{false, true} {
		t.Run(map[bool]string{false: "frame by frame", true: "reading ahead"}[ahead], func(t *testing.T) {
			testCaptureMeter(t, ahead)
		})
	}
}

func testCaptureMeter(t *testing.T, ahead bool) {
	h := pktgen.V4{Src: pktgen.A4("192.0.2.1"), Dst: pktgen.A4("192.0.2.2")}
	eth := func(ip []byte) []byte { return pktgen.Ethernet(pktgen.RouterMAC, pktgen.ClientMAC, 0x0800, nil, ip) }
	var buf bytes.Buffer
	w := pktgen.NewPcap(&buf, 1, pktgen.PcapOptions{})
	sec := int64(time.Second)
	w.Write(pktgen.Start, eth(pktgen.TCP4(h, 40000, 80, pktgen.SYN, 0)))
	w.Write(pktgen.Start+sec, pktgen.ARP(pktgen.ClientMAC, h.Src, h.Dst))
	w.Write(pktgen.Start+2*sec, eth(pktgen.UDP4(h, 40001, 53, 20)))
	w.Write(pktgen.Start+3*sec, eth(pktgen.TCP4(h, 40000, 80, pktgen.ACK, 100)))
	w.Write(pktgen.Start+4*sec, eth(pktgen.UDP4(h, 40002, 9999, 20))) // the filter refuses port 9999
	w.Write(pktgen.Start+70*sec, eth(pktgen.ICMP4(h, 8, 0, 8)))
	require.NoError(t, w.Err())

	src, err := capture.NewFileSource(&buf, "test")
	require.NoError(t, err)
	s := newSink(t, "udp4", "127.0.0.1:0")
	p, _ := newProbe(t, Config{Collectors: []Collector{s.collector("")}, Scan: 5 * time.Second})
	m := NewCaptureMeter(src, MeterConfig{
		Cache: capture.CacheConfig{Idle: 60 * time.Second, Active: 300 * time.Second, Fragment: 30 * time.Second},
		Filter: func(f *capture.Frame) bool {
			// UDP (IPv4 protocol 17) to port 9999 does not pass.
			ip := f.Data[14:]
			return !(ip[9] == 17 && binary.BigEndian.Uint16(ip[22:]) == 9999)
		},
		ReadAhead: ahead,
	}, p)
	require.NoError(t, p.Run(context.Background(), m))
	require.NoError(t, m.Close())

	// At 70 s the scan finds the UDP flow (last seen at 2 s) and the TCP
	// flow (3 s) idle for 60 s; the ICMP flow leaves at the end. ICMP echo
	// is type 8 code 0, in the destination port.
	got := s.wait(3)
	assert.Equal(t, []string{"0>2048:1", "40000>80:2", "40001>53:1"}, flowsOf(got))
	for _, d := range got {
		assert.Equal(t, uint64((pktgen.Start+70*sec)/1e6), d.now, "exported at the scan of 70 s or at the end")
	}
	st := p.Stats()
	assert.Equal(t, MeterStats{Packets: 6, Ignored: 2, Expired: [capture.NumExpiryReasons]uint64{capture.Idle: 2, capture.Flush: 1}}, st.MeterStats)
	assert.Equal(t, uint64(3), st.Flows)
}

// TestCaptureMeterReadAhead: reading ahead counts the same packets into
// the same flows as reading frame by frame, whatever comes: a capture
// that ends inside a frame has every frame before the damage counted
// before the error is told, and Flush counts the packets read ahead that
// Read has not counted yet.
func TestCaptureMeterReadAhead(t *testing.T) {
	var buf bytes.Buffer
	g := pktgen.NewTraffic(3, pktgen.Start)
	w := pktgen.NewPcap(&buf, 1, pktgen.PcapOptions{SnapLen: 128})
	const frames = 5000
	for range frames {
		w.Write(g.Next())
	}
	require.NoError(t, w.Err())
	damaged := buf.Bytes()[:buf.Len()-10] // the last frame is cut short

	cfg := capture.CacheConfig{Idle: 60 * time.Second, Active: 300 * time.Second, Fragment: 30 * time.Second}
	type result struct {
		flows   []string
		packets uint64
		err     string
	}
	run := func(ahead bool, reads int) result {
		src, err := capture.NewFileSource(bytes.NewReader(damaged), "test")
		require.NoError(t, err)
		var flows []string
		m := newCaptureMeter(src, MeterConfig{Cache: cfg, ReadAhead: ahead}, func(r *flow.Record, why capture.ExpiryReason) {
			flows = append(flows, fmt.Sprint(r.SrcAddr, r.SrcPort, r.DstAddr, r.DstPort, r.Proto, r.InPackets, r.InBytes, r.First, r.Last, why))
		})
		var res result
		for i := 0; reads < 0 || i < reads; i++ {
			if _, err := m.Read(); err != nil {
				res.err = err.Error()
				break
			}
		}
		m.Flush()
		sort.Strings(flows)
		res.flows, res.packets = flows, m.CacheStats().Packets
		return res
	}
	want := run(false, -1)
	assert.Equal(t, "test: truncated dump file; tried to read 128 captured bytes", want.err)
	assert.Equal(t, uint64(frames-1), want.packets)
	assert.Equal(t, want, run(true, -1))
	// Stopped after 100 reads, the meter reading ahead has read further;
	// Flush counts what it read.
	stopped := run(true, 100)
	assert.Greater(t, stopped.packets, uint64(100))
	assert.Equal(t, stopped, run(false, int(stopped.packets)))
}

// TestCaptureMeterReadUntil: ReadUntil counts the packets Read counts one
// by one, into the same flows, a batch at a time: never more than
// readBatch, none after the first at or after until, and it returns the
// latest time among them; the error that ends the capture comes after
// its packets.
func TestCaptureMeterReadUntil(t *testing.T) {
	var buf bytes.Buffer
	g := pktgen.NewTraffic(5, pktgen.Start)
	w := pktgen.NewPcap(&buf, 1, pktgen.PcapOptions{SnapLen: 128, Nano: true})
	var times []int64
	for range 3000 {
		ts, f := g.Next()
		times = append(times, ts)
		w.Write(ts, f)
	}
	require.NoError(t, w.Err())
	damaged := buf.Bytes()[:buf.Len()-10] // the last frame is cut short
	times = times[:len(times)-1]

	cfg := capture.CacheConfig{Idle: time.Second, Active: 300 * time.Second, Fragment: 30 * time.Second}
	path := filepath.Join(t.TempDir(), "test")
	require.NoError(t, os.WriteFile(path, damaged, 0o644))
	run := func(batch, shared bool) ([]string, string) {
		src, err := capture.NewFileSource(bytes.NewReader(damaged), "test")
		if shared {
			// Read ahead by the goroutines of the meter, which both fill
			// the file's chunks (capture.OpenFileShared).
			src, err = capture.OpenFileShared(path)
			defer src.Close()
		}
		require.NoError(t, err)
		var flows []string
		m := newCaptureMeter(src, MeterConfig{Cache: cfg, ReadAhead: true}, func(r *flow.Record, why capture.ExpiryReason) {
			flows = append(flows, fmt.Sprint(r.SrcAddr, r.SrcPort, r.DstAddr, r.DstPort, r.Proto, r.InPackets, r.InBytes, r.First, r.Last, why))
		})
		counted := 0
		for call := 0; ; call++ {
			// Every third call asks for the next packet's time, so that
			// the batch stops at once; the others at times ahead.
			until := times[min(counted+call%3*40, len(times)-1)]
			if call%3 == 0 {
				until = math.MinInt64
			}
			var now int64
			if batch {
				now, err = m.ReadUntil(until)
			} else {
				now, err = m.Read()
			}
			if err != nil {
				break
			}
			n := int(m.CacheStats().Packets) - counted
			require.Positive(t, n, "call %d", call)
			if !batch {
				require.Equal(t, 1, n)
			} else {
				require.LessOrEqual(t, n, readBatch, "call %d", call)
				for _, ts := range times[counted : counted+n-1] {
					require.Less(t, ts, until, "call %d: a packet after the batch's end", call)
				}
				last := times[counted+n-1]
				if n < readBatch && counted+n < len(times) {
					require.GreaterOrEqual(t, last, until, "call %d stopped early", call)
				}
				require.Equal(t, slices.Max(times[counted:counted+n]), now, "call %d", call)
			}
			counted += n
		}
		assert.Equal(t, len(times), counted)
		m.Flush()
		sort.Strings(flows)
		return flows, err.Error()
	}
	flows, err := run(false, false)
	assert.Equal(t, "test: truncated dump file; tried to read 128 captured bytes", err)
	batched, berr := run(true, false)
	assert.Equal(t, err, berr)
	assert.Equal(t, flows, batched)
	assert.Greater(t, len(flows), 100)
	shared, serr := run(true, true)
	assert.Equal(t, err, strings.Replace(serr, path, "test", 1))
	assert.Equal(t, flows, shared)
}

// TestCaptureMeterReadUntilStopped: a capture read stopped part of the
// way (the context ended) counts, at Flush, every frame its decoding
// goroutine read, into the flows that reading those frames one by one
// makes; Close stops the goroutine, with or without Flush.
func TestCaptureMeterReadUntilStopped(t *testing.T) {
	var buf bytes.Buffer
	g := pktgen.NewTraffic(7, pktgen.Start)
	w := pktgen.NewPcap(&buf, 1, pktgen.PcapOptions{SnapLen: 128})
	for range 20 * decodeBatch {
		w.Write(g.Next())
	}
	require.NoError(t, w.Err())
	cfg := capture.CacheConfig{Idle: time.Second, Active: 300 * time.Second, Fragment: 30 * time.Second}
	before := runtime.NumGoroutine()
	meter := func(ahead bool) (*CaptureMeter, *[]string) {
		src, err := capture.NewFileSource(bytes.NewReader(buf.Bytes()), "test")
		require.NoError(t, err)
		flows := new([]string)
		m := newCaptureMeter(src, MeterConfig{Cache: cfg, ReadAhead: ahead}, func(r *flow.Record, why capture.ExpiryReason) {
			*flows = append(*flows, fmt.Sprint(r.SrcAddr, r.SrcPort, r.DstAddr, r.DstPort, r.Proto, r.InPackets, r.InBytes, r.First, r.Last, why))
		})
		return m, flows
	}
	m, batched := meter(true)
	_, err := m.ReadUntil(math.MaxInt64)
	require.NoError(t, err)
	// The counting goroutine reads the first batches itself, until the
	// decoding one runs and takes the source at the next batch.
	deadline := time.Now().Add(10 * time.Second)
	for !m.decoding.ready.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	for range 9 {
		_, err := m.ReadUntil(math.MaxInt64)
		require.NoError(t, err)
	}
	// The goroutine fills the batches not being counted: wait for it, so
	// that what it read ahead does not depend on how busy the machine is.
	deadline = time.Now().Add(10 * time.Second)
	for len(m.decoding.full) < decodeBatches-1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	m.Flush()
	read := m.Stats().Packets
	assert.Greater(t, read, uint64(10*readBatch), "the goroutine read ahead")
	assert.Equal(t, read, m.CacheStats().Packets, "every frame read is counted")
	require.NoError(t, m.Close())

	one, single := meter(false)
	for range read {
		_, err := one.Read()
		require.NoError(t, err)
	}
	one.Flush()
	sort.Strings(*batched)
	sort.Strings(*single)
	assert.True(t, slices.Equal(*single, *batched), "the flows of the frames read one by one")

	// Closed without a Flush, part of the way.
	m, _ = meter(true)
	_, err = m.ReadUntil(math.MaxInt64)
	require.NoError(t, err)
	require.NoError(t, m.Close())
	deadline = time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before)
}

// TestCaptureMeterSolo: the counting goroutine that takes the source
// over from the decoding one and gives it back (forced here, batch by
// batch, by the pacer's hook) counts the frames in the order they come,
// into the flows that reading them one by one makes, the capture's
// error last, whichever goroutine reads the file's chunks ahead; and a
// meter stopped while it works alone, or while the goroutine is handing
// the source over, counts every frame read at Flush.
func TestCaptureMeterSolo(t *testing.T) {
	var buf bytes.Buffer
	g := pktgen.NewTraffic(11, pktgen.Start)
	w := pktgen.NewPcap(&buf, 1, pktgen.PcapOptions{SnapLen: 128})
	const frames = 40*decodeBatch + 100
	for range frames {
		w.Write(g.Next())
	}
	require.NoError(t, w.Err())
	damaged := buf.Bytes()[:buf.Len()-10] // the last frame is cut short
	path := filepath.Join(t.TempDir(), "test")
	require.NoError(t, os.WriteFile(path, damaged, 0o644))
	cfg := capture.CacheConfig{Idle: time.Second, Active: 300 * time.Second, Fragment: 30 * time.Second}

	// Without ahead, frame by frame.
	meter := func(shared, ahead bool, hook func(m *CaptureMeter) bool) (*CaptureMeter, *[]string) {
		src, err := capture.NewFileSource(bytes.NewReader(damaged), "test")
		if shared {
			src, err = capture.OpenFileShared(path)
		}
		require.NoError(t, err)
		flows := new([]string)
		m := newCaptureMeter(src, MeterConfig{Cache: cfg, ReadAhead: ahead}, func(r *flow.Record, why capture.ExpiryReason) {
			*flows = append(*flows, fmt.Sprint(r.SrcAddr, r.SrcPort, r.DstAddr, r.DstPort, r.Proto, r.InPackets, r.InBytes, r.First, r.Last, why))
		})
		if hook != nil {
			m.soloHook = func() bool { return hook(m) }
		}
		return m, flows
	}
	// The flows and error of the frames read one by one.
	one, want := meter(false, false, nil)
	var werr error
	for werr == nil {
		_, werr = one.Read()
	}
	one.Flush()
	require.NoError(t, one.Close())
	sort.Strings(*want)
	require.Greater(t, len(*want), 100)

	for _, shared := range []bool{false, true} {
		for name, pattern := range map[string]func(batch int) bool{
			"both":       func(int) bool { return false },
			"alone":      func(int) bool { return true },
			"every 3":    func(b int) bool { return b/3%2 == 1 },
			"every 1":    func(b int) bool { return b%2 == 1 },
			"alone at 5": func(b int) bool { return b >= 5 },
		} {
			t.Run(fmt.Sprintf("%s shared=%v", name, shared), func(t *testing.T) {
				batch, switches := 0, 0
				var modes [2]int // batches the goroutine and the counting one decoded
				m, flows := meter(shared, true, func(m *CaptureMeter) bool {
					d := m.decoding
					if !pattern(batch) && d.solo && d.asked {
						// The goroutine was asked for: let it come, so
						// that the pattern's stretches of both happen.
						deadline := time.Now().Add(10 * time.Second)
						for !d.ready.Load() && time.Now().Before(deadline) {
							time.Sleep(100 * time.Microsecond)
						}
					}
					if batch > 0 && m.decoding.solo {
						modes[1]++
					} else if batch > 0 {
						modes[0]++
					}
					if solo := pattern(batch); batch == 0 || solo != pattern(batch-1) {
						switches++
					}
					batch++
					return pattern(batch - 1)
				})
				var err error
				for err == nil {
					_, err = m.ReadUntil(math.MaxInt64)
				}
				m.Flush()
				require.NoError(t, m.Close())
				assert.Equal(t, werr.Error(), strings.Replace(err.Error(), path, "test", 1))
				sort.Strings(*flows)
				assert.True(t, slices.Equal(*want, *flows), "the flows of the frames read one by one")
				assert.Equal(t, uint64(frames-1), m.Stats().Packets)
				if !pattern(1) || pattern(3) != pattern(4) {
					assert.Positive(t, modes[0], "batches decoded by the goroutine")
				}
				if pattern(1) || pattern(3) != pattern(4) || pattern(9) {
					assert.Positive(t, modes[1], "batches decoded alone")
				}
			})
		}
	}

	// Stopped while alone, and while the goroutine hands the source
	// over (it may hand it over before or after Flush stops it).
	for _, at := range []int{3, 4} {
		for _, shared := range []bool{false, true} {
			batch := 0
			m, flows := meter(shared, true, func(*CaptureMeter) bool { batch++; return batch >= at })
			for range 5 {
				_, err := m.ReadUntil(math.MaxInt64)
				require.NoError(t, err)
			}
			m.Flush()
			read := m.Stats().Packets
			assert.Equal(t, read, m.CacheStats().Packets, "every frame read is counted")
			require.NoError(t, m.Close())
			ref, single := meter(false, false, nil)
			for range read {
				_, err := ref.Read()
				require.NoError(t, err)
			}
			ref.Flush()
			require.NoError(t, ref.Close())
			sort.Strings(*flows)
			sort.Strings(*single)
			assert.True(t, slices.Equal(*single, *flows), "stopped at %d: the flows of the frames read one by one", at)
		}
	}

	// With one processor the counting goroutine works alone from the
	// start.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	m, flows := meter(false, true, nil)
	var err error
	for err == nil {
		_, err = m.ReadUntil(math.MaxInt64)
	}
	assert.True(t, m.decoding.solo, "alone")
	m.Flush()
	require.NoError(t, m.Close())
	assert.Equal(t, werr, err)
	sort.Strings(*flows)
	assert.True(t, slices.Equal(*want, *flows), "one processor: the flows of the frames read one by one")
}
