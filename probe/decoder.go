package probe

import (
	"github.com/nfgo/nftools/capture"
)

// Reading a capture file (ReadUntil), the meter reads and decodes frames
// on a goroutine of its own, a batch at a time, while Run's goroutine
// counts the batch decoded before into the cache: on two processors the
// reading of the records, the taking apart of the frames and the hashing
// of their flow keys (a third of goprobe --read's time on a capture of
// few flows) overlap with the counting, which is all that is left on
// the capture loop.
//
// It pays on both shapes of scripts/bench/goprobe.sh's capture and on one
// processor as well (paired runs against the capture loop reading ahead
// itself, a packet a call: few flows 0.92 and many flows 0.91 times the
// elapsed time on a shared machine; pinned to one processor, 0.88 and
// 0.83 times the processor time), more for the batches (the capture loop
// counts a batch's packets in one loop) than for the second processor.
// The hand-overs are what it costs: every wait for a batch parks a
// goroutine and its thread, and waking it costs a futex call and a
// context switch, which on a virtual machine cost more than the work a
// second processor takes over: goprobe --read with GOMAXPROCS=1 used
// 0.86 (few flows) and 0.82 (many) times the processor time it used with
// two, in 1.01 and 0.87 times the elapsed time, on a machine busy with
// other work (paired runs).
//
// Measured again since capture's aheadReader reads the file on a third
// goroutine (1 M packets in a file in the page cache, exporting v9 to
// loopback, paired medians of 20 to 25 runs on two processors shared
// with other work, load 8 to 13): decoding each batch on the counting
// goroutine when it is needed, the batches kept and no hand-over left
// between the two, used 0.93 to 0.96 times the processor time on few
// flows in 0.93 to 1.07 times the elapsed time, and 1.01 to 1.02 and 0.94
// to 1.04 times on many; pinned to one processor it used 1.16 (few) and
// 1.09 (many) times the processor time. Trying the channel eight times,
// with runtime.Gosched between, before parking on it: 0.97 and 0.96
// times the processor time in 1.06 times the elapsed time on both. With
// GOMAXPROCS=1, 0.89 times the processor time and 0.95 the elapsed on
// few flows: what the hand-overs cost is their crossing between threads.
// None of these is a gain to keep on both shapes and both measures.
//
// Since capture's reading goroutine waits for its chunks in the kernel,
// keeping its processor, this goroutine and Run's share the other one on
// a machine of two: their hand-overs are goroutine switches on one
// thread, no longer wake-ups of another. Decoding each batch on Run's
// goroutine was measured again then (paired medians under SCHED_FIFO,
// the machine's other work kept off): 1.01 (few flows) and 1.04 (many)
// times the processor time, 1.00 and 1.04 the elapsed time. Not kept
// either: on a machine of more processors the two still run at once.
//
// Which side sets the pace on two processors: counted on 1 M packets of
// few flows under SCHED_FIFO, the reading goroutine waited for free
// chunks 170 to 270 times a run, and the decoding goroutine found no
// chunk ready 7 to 9 times. The decoding and counting goroutines, on
// their one processor, are what a run waits for; the read(2) copy on
// the other has room to spare, so a faster read alone would not make a
// run shorter there. GOMAXPROCS=3, which lets them run apart while the
// reader waits, took 1.19x the elapsed and 1.24x the processor time
// (paired medians, SCHED_FIFO).
//
// So the file is no longer read on a goroutine of its own when the
// source lets others read it (capture.OpenFileShared, goprobe --read):
// the decoding goroutine and the counting one each take the next chunk
// of the file to read (capture.AheadFiller) when they would otherwise
// wait for the other, and wait in the kernel (signal) only when there
// is no chunk to fill either. Each then has its own processor, and the
// read(2) copy goes to whichever has room: the counting goroutine read
// 1058-1082 of the 1100 chunks of 1 M packets of few flows, the
// decoding one the others. Paired against the three goroutines above
// (16 pairs each, SCHED_FIFO so that the machine's other work, load 5-6,
// stays off): few flows 0.885x the elapsed time (51.8 against 59.0 ms)
// for 1.04x the processor time, many flows 0.86x for 1.06x; without
// SCHED_FIFO at load 5-6, 0.87x the elapsed time (median, spread 0.80
// to 1.50) for 1.09x the processor time. The two goroutines then share
// the batches' and chunks' cache lines across processors; keyHash's
// loads had to be forwarded from the decoder's stores (see
// capture.Packet.ipv4) and the decoding reads its own copies of the
// fields the counting writes beside (capture.Cache.Hasher).
//
// A batch's packets are capture.Slims, 80 bytes of what the cache
// counts, where they were Packets of 144 and a flag, 160 bytes: each
// packet's bytes cross from the decoding processor's cache to the
// counting one's, and the decoding wrote its stores (the Packet's
// zeroing first) into lines the counting had held last. The frame is
// decoded into a Packet of the goroutine's own, which stays in its
// processor's cache, and packed. Paired against the Packets (17 pairs,
// 1 M packets, machine at load 5-7): under SCHED_FIFO few flows 0.959x
// the task-clock and 0.962x the elapsed time (68.1 -> 64.9 ms), many
// flows 0.954x and 0.969x; without SCHED_FIFO 1.01x and 1.01x (few),
// 0.98x and 1.00x (many), the other work then setting the pace.
//
// The batches go round between the two goroutines through two channels,
// as a capture file's chunks do between the goroutine that reads it and
// its frames' reader (capture's aheadReader); a batch carries its
// packets, how many frames were read for them, the source's counters
// after them and, last, the error that ended the source. Three batches
// of 512 packets are 270 KiB: the decoding goroutine must have room for
// the batches it decodes while the counting one reads a chunk (some 30
// µs). Three of 256 made it wait: 1.68x the elapsed time against eight;
// four 1.04x, five and eight alike (SCHED_FIFO, 12 pairs each). Three
// of 512 against six of 256, the same memory in half the hand-overs:
// 0.97-0.99x the processor time (three sets of 16 to 20 pairs, few and
// many flows, at load 8), the elapsed time alike.
const (
	decodeBatch   = 512 // packets a batch holds
	decodeBatches = 3   // one being counted, the others ready or being decoded
)

// decoded is a batch of packets decoded ahead.
type decoded struct {
	pkts   [decodeBatch]capture.Slim
	n      int                 // packets in it
	frames uint64              // frames read for them
	stats  capture.SourceStats // the source's counters after them
	err    error               // the source's error after them, if it ended
}

// decodeAhead is the decoding goroutine and its channels.
type decodeAhead struct {
	full    chan *decoded // batches decoded, in order; closed when the goroutine ends
	empty   chan *decoded // batches the goroutine may fill
	done    chan struct{} // closed to stop the goroutine
	cur     *decoded      // the batch being counted
	i       int           // its next packet
	stats   capture.SourceStats
	err     error // the source's error, once every packet before it is counted
	stopped bool
	// fill reads a chunk of the capture ahead (capture.AheadFiller), if
	// one is free: either goroutine calls it when it would wait for the
	// other. Nil when the source reads ahead by itself.
	fill func() bool
	// toDec moves when a batch is given back or the goroutine is to
	// stop, toCnt when a batch is decoded or the goroutine ended.
	toDec, toCnt signal
}

// startDecoding starts the decoding goroutine; from now on only it reads
// the source and runs the filter.
func (m *CaptureMeter) startDecoding() {
	d := &decodeAhead{full: make(chan *decoded, decodeBatches), empty: make(chan *decoded, decodeBatches),
		done: make(chan struct{})}
	for range decodeBatches {
		d.empty <- new(decoded)
	}
	if f, ok := m.src.(capture.AheadFiller); ok && f.Shared() {
		d.fill = f.FillAhead
	}
	m.decoding = d
	go m.decodeLoop(d)
}

// decodeLoop fills batches until the source ends or fails, or until done.
func (m *CaptureMeter) decodeLoop(d *decodeAhead) {
	defer func() {
		close(d.full)
		d.toCnt.notify()
	}()
	var f capture.Frame
	// Every frame is decoded here, into a Packet that stays in this
	// processor's cache, and handed over as the 80 bytes of a Slim.
	var p capture.Packet
	// The loop's own copies of what it reads for every packet: the
	// meter's and the cache's fields beside them are written by the
	// counting goroutine, on another processor.
	src, filter, dec, hasher := m.src, m.filter, m.dec, m.cache.Hasher()
	for {
		select {
		case <-d.done:
			return
		default:
		}
		var b *decoded
		if d.fill == nil {
			// The goroutine reads the source itself: it parks until the
			// counting gives a batch back, and the two may share a
			// processor.
			select {
			case b = <-d.empty:
			case <-d.done:
				return
			}
		}
		// Otherwise it reads the capture ahead while it waits, and sleeps
		// on toDec when there is nothing to read either.
		for b == nil {
			seq := d.toDec.n.Load()
			select {
			case b = <-d.empty:
				continue
			case <-d.done:
				return
			default:
			}
			if d.fill() {
				continue
			}
			d.toDec.wait(seq)
		}
		b.n, b.frames = 0, 0
		for b.n < decodeBatch && b.err == nil {
			if err := src.Next(&f); err != nil {
				b.err = nextError(err)
				break
			}
			b.frames++
			if (filter == nil || filter(&f)) && dec.Decode(f.Link, &f, &p) == nil {
				hasher.Slim(&p, f.Time, &b.pkts[b.n]) // hashed here rather than in the capture loop
			} else {
				b.pkts[b.n].Skip(f.Time)
			}
			b.n++
		}
		b.stats = src.Stats()
		d.full <- b // never waits: it has room for every batch there is
		d.toCnt.notify()
		if b.err != nil {
			return
		}
	}
}

// take makes sure the batch being counted has a packet left, waiting
// for the next batch when it has not; false at the source's end (d.err
// says why) or when the goroutine stopped.
func (d *decodeAhead) take(m *CaptureMeter) bool {
	for d.cur == nil || d.i == d.cur.n {
		if d.cur != nil {
			if d.cur.err != nil {
				d.err = d.cur.err
				return false
			}
			d.empty <- d.cur
			d.toDec.notify()
			d.cur = nil
		}
		b, ok := d.next()
		if !ok {
			return false // stopped: Flush has taken the rest
		}
		d.cur, d.i = b, 0
		m.packets += b.frames
		d.stats = b.stats
		if !m.cache.Prefetching() {
			continue
		}
		// The first packets of a batch are prefetched here, the others
		// as the packets before them are counted (prefetch).
		for j := range min(readAhead, b.n) {
			m.cache.PrefetchSlim(&b.pkts[j])
		}
		for j := range min(flowAhead, b.n) {
			m.cache.PrefetchFlowSlim(&b.pkts[j])
		}
	}
	return true
}

// next waits for the next batch decoded, reading the capture ahead
// meanwhile where the source lets it.
func (d *decodeAhead) next() (*decoded, bool) {
	if d.fill == nil {
		b, ok := <-d.full
		return b, ok
	}
	for {
		seq := d.toCnt.n.Load()
		select {
		case b, ok := <-d.full:
			return b, ok
		default:
		}
		if d.fill() {
			continue
		}
		d.toCnt.wait(seq)
	}
}

// prefetch reads ahead for the packets that will be counted after the
// current batch's packet i: the index slot of the one readAhead packets
// on, and the entry of the one flowAhead packets on, whose slot came by
// now.
func (d *decodeAhead) prefetch(m *CaptureMeter, i int) {
	b := d.cur
	j, k := i+readAhead-1, i+flowAhead-1
	if k >= b.n {
		return // the next batch's first packets are prefetched as it is taken
	}
	if j >= b.n {
		j = k
	}
	m.cache.PrefetchAheadSlim(&b.pkts[j], &b.pkts[k])
}

// stop ends the decoding goroutine and hands the packets it decoded and
// that are not counted yet, in order, to count.
func (d *decodeAhead) stop(m *CaptureMeter, count func(*capture.Slim)) {
	if d.stopped {
		return
	}
	d.stopped = true
	close(d.done)
	d.toDec.notify()
	for {
		if d.cur != nil {
			for ; d.i < d.cur.n; d.i++ {
				count(&d.cur.pkts[d.i])
			}
		}
		b, ok := <-d.full
		if !ok {
			return
		}
		d.cur, d.i = b, 0
		m.packets += b.frames
		d.stats = b.stats
	}
}
