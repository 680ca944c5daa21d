package probe

import (
	"runtime"
	"sync/atomic"

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
// On a machine busy with other work the two goroutines wait for each
// other: the system gives one's processor to its other work, and the
// other, its batches counted or decoded, sleeps until the first runs
// again (at load 3, against the build before this split: 1.07x the
// processor time and 1.10x the elapsed time). The counting goroutine
// may then read and decode the batches itself, the decoding goroutine
// parked (yield, await): one goroutine doing all used 0.82x to 0.93x
// the processor time of two on a busy machine, and 0.84x the elapsed
// time at load 3; but on a machine saturated with other work two
// threads get twice one thread's share of it, and working alone all
// the time took up to 1.3x the elapsed time there (two busy loops and
// load 10 of other work, 16 pairs), and 1.45x on a quiet machine
// (SCHED_FIFO). So the pacer works alone only after a stretch in which
// the counting goroutine stalled, and for as long as each stretch alone
// is faster than the last of both (see pacer). Paired against both
// always (main's build; two sets of 20 pairs each, medians of the
// ratios; load 3 to 9 from other work besides ours): under SCHED_FIFO
// 1.00-1.02x the task-clock and 0.99x the elapsed time on few flows,
// 0.99-1.02x and 1.00x on many; with one busy loop 0.90-0.96x and
// 1.01x (few), 0.98-0.99x and 1.00x (many); with two 0.93x and
// 0.91-1.23x (few), 0.94-0.96x and 1.04-1.06x (many), the elapsed time
// there set by the share of the machine the system gives.
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
	// full carries the batches decoded, in order, and a nil where the
	// goroutine handed the source over (yield); closed when the goroutine
	// ends.
	full    chan *decoded
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

	// yield says the source is the counting goroutine's, or is to be:
	// the goroutine hands it over and waits on resume until that one
	// asks for it again (asked), says it is ready and waits until yield
	// is cleared.
	yield  atomic.Bool
	resume chan struct{}
	asked  bool
	ready  atomic.Bool
	// solo: the source is the counting goroutine's, which reads and
	// decodes each batch itself, into cur, with own.
	solo bool
	own  frameDecoder
	pace pacer
	// fresh: the goroutine has taken the source, and its first batch is
	// not here yet.
	fresh bool
}

// frameDecoder reads frames from the source and decodes them into
// batches: the decoding goroutine's, and the counting goroutine's for
// when it works alone. Each has its own, whose frame and packet stay in
// its processor's cache, and its own copies of what it reads for every
// packet: the meter's and the cache's fields beside them are written by
// the counting goroutine.
type frameDecoder struct {
	src    capture.Source
	filter func(*capture.Frame) bool
	dec    capture.Decoder
	hasher capture.Hasher
	f      capture.Frame
	// Every frame is decoded into p and handed over as the 80 bytes of
	// a Slim.
	p capture.Packet
}

func (m *CaptureMeter) frameDecoder() frameDecoder {
	return frameDecoder{src: m.src, filter: m.filter, dec: m.dec, hasher: m.cache.Hasher()}
}

// decode fills b with the frames that follow, up to a batch, or up to
// the source's end or error (b.err).
func (r *frameDecoder) decode(b *decoded) {
	src, filter := r.src, r.filter
	b.n, b.frames = 0, 0
	for b.n < decodeBatch && b.err == nil {
		if err := src.Next(&r.f); err != nil {
			b.err = nextError(err)
			break
		}
		b.frames++
		if (filter == nil || filter(&r.f)) && r.dec.Decode(r.f.Link, &r.f, &r.p) == nil {
			r.hasher.Slim(&r.p, r.f.Time, &b.pkts[b.n]) // hashed here rather than in the capture loop
		} else {
			b.pkts[b.n].Skip(r.f.Time)
		}
		b.n++
	}
	b.stats = src.Stats()
}

// startDecoding starts the decoding goroutine; from now on only it reads
// the source and runs the filter, until it hands them over (yield).
func (m *CaptureMeter) startDecoding() {
	// full has room for every batch and the nil of a hand-over.
	d := &decodeAhead{full: make(chan *decoded, decodeBatches+1), empty: make(chan *decoded, decodeBatches),
		done: make(chan struct{}), resume: make(chan struct{}, 1), own: m.frameDecoder()}
	for range decodeBatches {
		d.empty <- new(decoded)
	}
	if f, ok := m.src.(capture.AheadFiller); ok && f.Shared() {
		d.fill = f.FillAhead
	}
	d.pace.start(m.soloHook)
	// The counting goroutine reads the first batches itself, until the
	// goroutine runs: on a busy machine its thread may wait for a
	// processor for a long time (120 ms was seen at load 10).
	d.solo = true
	d.yield.Store(true)
	m.decoding = d
	go m.decodeLoop(d)
}

// decodeLoop fills batches, from when the counting goroutine gives it
// the source, until the source ends or fails, or until done.
func (m *CaptureMeter) decodeLoop(d *decodeAhead) {
	defer func() {
		close(d.full)
		d.toCnt.notify()
	}()
	r := m.frameDecoder()
	own := false // the source is this goroutine's
	for {
		select {
		case <-d.done:
			return
		default:
		}
		if !own || d.yield.Load() {
			if own {
				// Every batch decoded is in full before the nil: the
				// counting goroutine reads on from where this one
				// stopped.
				d.full <- nil
				d.toCnt.notify()
			}
			if own = d.await(); !own {
				return
			}
			continue
		}
		b := d.emptyBatch()
		if b == nil {
			return
		}
		r.decode(b)
		d.full <- b // never waits: it has room for every batch there is
		d.toCnt.notify()
		if b.err != nil {
			return
		}
	}
}

// await waits, parked, until the counting goroutine asks for it
// (resume), then says it is ready and waits, running, until that one
// gives the source back (yield cleared): the counting goroutine goes on
// reading batches itself until then, rather than wait for this one's
// thread to be woken and given a processor (84 to 119 ms at load 10).
// False once done is closed.
func (d *decodeAhead) await() bool {
	select {
	case <-d.resume:
	case <-d.done:
		return false
	}
	d.ready.Store(true)
	for {
		seq := d.toDec.n.Load()
		if !d.yield.Load() {
			return true
		}
		select {
		case <-d.done:
			return false
		default:
		}
		d.toDec.wait(seq)
	}
}

// emptyBatch waits for a batch to fill, reading the capture ahead
// meanwhile where the source lets it; nil once done is closed.
func (d *decodeAhead) emptyBatch() *decoded {
	for {
		seq := d.toDec.n.Load()
		select {
		case b := <-d.empty:
			return b
		case <-d.done:
			return nil
		default:
		}
		if d.fill == nil {
			// The goroutine reads the source itself: it parks until the
			// counting gives a batch back, and the two may share a
			// processor.
			t := monotonic()
			select {
			case b := <-d.empty:
				d.toDec.slept(monotonic() - t)
				return b
			case <-d.done:
				return nil
			}
		}
		// Otherwise it reads the capture ahead while it waits, and sleeps
		// on toDec when there is nothing to read either.
		if !d.fill() {
			d.toDec.wait(seq)
		}
	}
}

// take makes sure the batch being counted has a packet left, getting
// the next batch when it has not; false at the source's end (d.err says
// why) or when the goroutine stopped.
func (d *decodeAhead) take(m *CaptureMeter) bool {
	for d.cur == nil || d.i == d.cur.n {
		if d.cur != nil && d.cur.err != nil {
			d.err = d.cur.err
			return false
		}
		b := d.batch()
		if b == nil {
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

// batch returns the next batch to count, once the current one is
// counted: decoded here when the counting goroutine works alone, else
// the decoding goroutine's next. It switches between the two as the
// pacer says. Nil when the goroutine stopped.
func (d *decodeAhead) batch() *decoded {
	d.pace.step(d)
	solo := d.pace.solo
	if d.solo && !solo {
		if !d.asked {
			d.asked = true
			d.resume <- struct{}{}
		}
		if d.ready.Load() {
			// The goroutine runs: it takes the source back from where
			// this one stopped.
			if d.cur != nil {
				d.empty <- d.cur
				d.cur = nil
			}
			d.solo, d.asked, d.fresh = false, false, true
			d.ready.Store(false)
			d.yield.Store(false)
			d.toDec.notify()
		} else {
			d.pace.n = 0 // the stretch of both has not begun
		}
	}
	if d.solo {
		b := d.cur // the batch just counted, filled again
		if b == nil {
			b = <-d.empty
		}
		d.own.decode(b)
		return b
	}
	if d.cur != nil {
		d.empty <- d.cur
		d.toDec.notify()
		d.cur = nil
	}
	if solo && !d.yield.Load() {
		d.yield.Store(true)
		d.toDec.notify()
	}
	b, ok := d.next()
	switch {
	case !ok:
		return nil
	case b == nil:
		// The goroutine handed the source over, after the batches it
		// decoded before, which the stretch alone does not count.
		d.solo = true
		d.pace.restart(d)
		b = <-d.empty // the parked goroutine holds none
		d.own.decode(b)
	case d.fresh:
		// Nor does a stretch of both count the wait for the goroutine's
		// first batch, after it started or took the source back.
		d.fresh = false
		d.pace.restart(d)
	}
	return b
}

// next waits for the next batch decoded, reading the capture ahead
// meanwhile where the source lets it; nil where the goroutine handed
// the source over, false once it ended.
func (d *decodeAhead) next() (*decoded, bool) {
	for {
		seq := d.toCnt.n.Load()
		select {
		case b, ok := <-d.full:
			return b, ok
		default:
		}
		if d.fill == nil {
			t := monotonic()
			b, ok := <-d.full
			d.toCnt.slept(monotonic() - t)
			return b, ok
		}
		if !d.fill() {
			d.toCnt.wait(seq)
		}
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

// stop ends the decoding goroutine and hands the packets decoded and
// not counted yet, in order, to count.
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
		if b == nil {
			continue // a hand-over: the batches after it are none
		}
		d.cur, d.i = b, 0
		m.packets += b.frames
		d.stats = b.stats
	}
}

// pacer decides, a stretch of paceWindow batches at a time, whether the
// decoding and counting goroutines share the work or the counting one
// reads, decodes and counts alone. Both share it while the counting one
// seldom stalls (paceStalled); when it stalls, working alone is tried
// for a stretch, and kept, for up to stay batches, while each stretch
// alone takes less time a batch than the last stretch of both did.
type pacer struct {
	solo    bool        // the stretch running is the counting goroutine's alone
	trial   bool        // it tries working alone
	back    bool        // it is of both, after stretches alone
	n       int         // batches counted in it
	left    int         // stretches alone left after it
	stay    int         // batches the next stretches alone last
	hold    int         // stretches of both to let pass before a trial
	holdFor int         // and after the next trial or stretch alone that fails
	t       int64       // when it began (monotonic)
	stalled int64       // the counting goroutine's stalls then (signal.stalled)
	per     [2]int64    // ns a batch took in the latest stretch of both, [0], and alone, [1]
	hook    func() bool // tests: says for every batch whether to work alone
	fixed   bool        // one processor: always alone
}

const (
	paceWindow  = 64   // batches a stretch lasts
	paceStay    = 512  // batches alone after the first trial that succeeds
	paceMaxStay = 8192 // and the most, four times as many each time in a row
	paceHold    = 4    // stretches of both without a trial after the first that failed
	paceMaxHold = 64   // and the most, twice as many after each
)

// paceStalled is the share of a stretch's time beyond which the counting
// goroutine, stalled waiting for the decoding one's batches while the
// system ran other work on its processor, may do better decoding them
// itself. On two processors with nothing else to do the stalls are none;
// with other work they take a third to nine tenths of the time.
const (
	paceStalledNum = 1
	paceStalledDen = 3
)

// start sets the first stretch: both goroutines, or alone with one
// processor.
func (p *pacer) start(hook func() bool) {
	p.hook, p.stay, p.holdFor = hook, paceStay, paceHold
	p.fixed = hook == nil && runtime.GOMAXPROCS(0) < 2
	p.solo = p.fixed
	p.t = monotonic()
}

// restart begins the stretch's measure again.
func (p *pacer) restart(d *decodeAhead) { p.n, p.t, p.stalled = 0, monotonic(), d.toCnt.stalled.Load() }

// step counts a batch and, where a stretch ends, chooses the next (in
// p.solo).
func (p *pacer) step(d *decodeAhead) {
	if p.hook != nil {
		p.solo = p.hook()
		return
	}
	if p.fixed {
		return
	}
	if p.n++; p.n < paceWindow {
		return
	}
	p.choose(monotonic(), d.toCnt.stalled.Load())
}

// choose ends a stretch at now, when the counting goroutine's stalls
// came to stalled, and chooses the next.
func (p *pacer) choose(now, stalled int64) {
	per := (now - p.t) / int64(p.n)
	few := (stalled-p.stalled)*paceStalledDen <= (now-p.t)*paceStalledNum
	back := p.back
	p.back = false
	if p.solo {
		p.per[1] = per
	} else if p.hold > 0 {
		p.hold--
	}
	switch {
	case p.solo && per >= p.per[0]:
		// Alone was slower than both were: both again, and no trial
		// for a while. Every stretch alone is checked, not the trial
		// alone: the system lets a thread that slept much run at once
		// for a while, and a trial's first batches alone went faster
		// than the stretches after it (72 against 421 µs a batch).
		p.fail()
		p.solo, p.trial = false, false
	case p.solo && p.trial:
		// Alone was faster: it goes on for a while.
		p.trial, p.left = false, p.stay/paceWindow-1
		p.stay = min(4*p.stay, paceMaxStay)
	case p.solo && p.left > 0:
		p.left--
	case p.solo:
		// Both again, to see whether the stalls have passed. Alone
		// held its pace throughout: the trials that fail after this are
		// held off as after the first.
		p.solo, p.back, p.holdFor = false, true, paceHold
	case few:
		p.per[0], p.stay = per, paceStay
	case back && p.per[1] < per:
		// Stalled, and alone was faster just before: alone again.
		p.per[0], p.solo, p.left = per, true, p.stay/paceWindow-1
		p.stay = min(4*p.stay, paceMaxStay)
	case back:
		p.per[0] = per
		p.fail()
	case p.hold > 0:
		p.per[0] = per
	default:
		p.per[0], p.solo, p.trial = per, true, true
	}
	p.n, p.t, p.stalled = 0, now, stalled
}

// fail notes that working alone was slower than both: no trial for the
// next stretches of both, twice as many as after the failure before.
func (p *pacer) fail() {
	p.hold, p.holdFor = p.holdFor, min(2*p.holdFor, paceMaxHold)
}
