package collector

import (
	"errors"
	"net"
	"time"

	"github.com/nfgo/nftools/flowfile"
)

// How the receive loop hands datagrams to the worker:
//
//   - With nothing held back from the worker the loop waits for the next
//     datagram as long as it takes.
//   - With a chunk being filled, or datagrams read since it last slept or
//     waited, it waits handWait at the most: a socket quiet for that long
//     means the burst is over, and a chunk goes to the worker.
//   - A chunk goes to the worker once it is full or maxHold old, so the
//     worker is woken a few hundred times a second at most, not for every
//     handful of datagrams, and a datagram waits maxHold at the most
//     before the worker sees it.
//   - With no chunk being filled, when the loop may process datagrams
//     itself (inline.go), it decodes a batch where the system call put
//     it, and only what it may not process goes into a chunk.
//   - After a batch that emptied the socket the loop sleeps until the
//     chunk is maxHold old, and after handing a chunk over or processing
//     the batch itself it parks maxHold before it reads again (or until
//     the next rotation, parkFor), when what arrives meanwhile fits the
//     socket's buffer with room to spare (lingerSafe): under a steady
//     load it then wakes up once every maxHold, reads everything that
//     came in one or a few calls, and processes or hands it on. Parked,
//     its processor is idle, and the runtime's monitor sleeps as well
//     while nothing makes a plain system call: the flow files' writers
//     write a full block in the loop, in a raw system call, when the
//     disk has nothing else to do (flowfile's WriteHere).
//   - At a low rate (lowRate: less than a batch a maxHold) it parks for
//     lowHold instead, or until the next rotation when that comes
//     sooner (parkFor).
//
// Its short waits leave the goroutine's processor alone (batchReader);
// handing over fewer, fuller chunks saves the worker's wake-ups, and a
// chunk the receive loop processes itself saves them all (inline.go). On
// a virtual machine, where a context switch costs some 20 microseconds,
// the wake-ups were most of gocapd's CPU time at 200 000 flows/s.
//
// Where the CPU goes at 800 000 v5 flows/s (capd22: perf record -e
// cpu-clock -g at 5 kHz over 5 s runs of 4 M flows, load 1-2, 72-91 ns a
// flow): recvmmsg 37-40% (the copy out of the socket 11%, the kernel's
// IPI that hands each batch's buffers back to the sender's processor
// 3.5%), decoding and encoding in the loop 30% (v5 encode 23%), the write
// goroutine's direct writes 13-16%, the runtime waking a thread for the
// write goroutine at each block handed to the disk (some 75 a second),
// that thread spinning and going back to sleep 7-8%, the runtime's
// monitor 3-4% (it wakes every 10 ms while the loop holds a processor)
// and the loop's own sleeps 2-3%. The loop processes nearly every batch
// itself: 5 300-5 400 a run, 7-18 chunks handed to the worker (when the
// writer had no free block), never behind. The loop and the write
// goroutine move between three or four threads, so a thread's CPU time
// is not a role's. Since then (write2) the writer hands its blocks to
// the write goroutine two at a time, one wake for two (flowfile's
// Writer.hand): 0.90-0.93 of the CPU a flow at 800 000.
// At 200 000 v5 flows/s (low1, perf of 10 s runs) a fixed cost of some
// 50 microseconds a 10 ms cycle comes on top: switching back in after a
// sleep, the monitor's wake-ups 6.4% of the CPU (some 95 a second, 24
// microseconds each on this VM) and the loop's own 4.1%. Parking instead
// (lowRate) pays only below some 77 000 flows/s.
// Parking maxHold above that rate as well, with the blocks written in the
// loop (raw1: flowfile's WriteHere, in raw system calls) rather than by
// the write goroutine, halved gocapd's context switches (2 070 -> 1 030
// a 5 s run at 800 000 v5 flows/s, 1 390 -> 675 at 200 000: the write
// goroutine's thread, its spins and sleeps, and the monitor's wake-ups
// are gone) but saved less CPU than that: against the build before,
// alternating pairs, load 1-2, v5 0.98, 0.96 and 0.94 at 800 000 flows/s
// in three runs of 6 pairs (pairs 0.89-1.03), 0.96 and 0.96 at 200 000
// (0.83-1.16); at 50 000 0.86 and 1.06, at 10 000 1.03 and 0.96 in two
// runs (the noise: 15-30 ms of CPU a run; context switches 330 -> 205
// at 50 000); at 3 875 000 (nfcapd's loss-free rate, where blocks come
// too fast to be written in the loop) 0.99, no loss (4 pairs); v9 0.96
// and 0.95 at 800 000, 0.91 and 0.90 at 200 000 (4 pairs); drains (4
// pairs) 1.01 of the rate for v5, 0.99 for v9. perf
// (5 kHz, 9 s at 800 000 v5) shows where the switches went: in
// finish_task_switch 202 -> 107 samples, but the IPIs with which
// recvmmsg hands the senders' buffers back to their processors
// (skb_attempt_defer_free, native_write_msr) 139 -> 284 for 8% more of
// them (function call interrupts 2 600 -> 2 850 a run): some 11 instead
// of 6 microseconds each, likely as the other processor is now halted
// more often (and this nested VM must wake it) where gocapd's threads
// kept it busy.
// Tried and not kept (CPU a flow against this build, medians of 6-10
// alternating pairs at 800 000 v5 flows/s, load 1-2): of raw1's two
// halves alone, the blocks written in the loop while it sleeps (raw)
// 0.99 against the build before, and parking with the write goroutine
// writing in raw system calls 1.01 (such raw writes held a processor in
// drains too: v5 drains 0.91-0.95 of the rate); parking 20 ms instead
// of maxHold at a steady load, against raw1, 1.02 with no fewer context
// switches (1 080-1 150 a run against 1 000-1 090); the loop holding
// every other block and writing the two in one pwritev(2) (one request
// to the disk instead of two: a virtio kick costs some 36 microseconds
// here, 4.4% of the CPU at 800 000), against raw1, 0.96 at 800 000 (pairs
// 0.86-1.08) with the same context switches, 1.03 at 200 000 with more
// (660 -> 730 a run: the hold's timer); recvBatch 64 1.00;
// maxHold 20 ms 0.985; a yield after a batch that handed a block to the
// disk, so that the write goroutine runs on the loop's processor instead
// of a woken thread's, 0.994 with more context switches; a goroutine
// holding the second processor in raw sleeps, so that readying the write
// goroutine wakes no thread, 1.16 (the monitor then takes the loop's
// processor from the write goroutine's pwrite(2) and polls every 20
// microseconds); GOMAXPROCS=1 1.12 (the worker gets chunks and writes go
// through the ring). A prototype of flowfile's writer that writes a block
// in the caller (the loop) when nothing is in flight, which spares the
// thread's wake-up, spin and sleep, measured 0.972 over 10 pairs, but
// would stop the loop for as long as a stalled disk takes.
const (
	handWait = time.Millisecond
	maxHold  = 10 * time.Millisecond
)

// receive is the receive loop: read batches, repeat, queue.
func (c *Collector) receive() {
	defer close(c.full)
	r := c.reader
	if r == nil {
		return // Run logged why
	}
	defer r.release()
	// The kernel's drops are read every dropsEvery while datagrams come,
	// when the socket goes quiet (the last of a burst's drops, counted
	// before the next burst comes), and once more at the end.
	var lastDrops uint32
	var dropsAt time.Time
	defer func() { c.countDrops(lastDrops) }()
	var k *chunk // being filled
	// since is when the datagrams read since the loop last slept or
	// waited began to come: the first batch's time, or the start of the
	// sleep before it, which keeps the rate lingerSafe sees honest;
	// gathered counts their bytes. A chunk goes to the worker once
	// since is maxHold old.
	var since time.Time
	var gathered, got int // bytes, datagrams
	// fulls counts the full batches read in a row, and fullSince is
	// when the first of them was read (behindAfter).
	var fulls int
	var fullSince time.Time
	// slept is when the last sleep after a hand-over began: the next read
	// does not wait, and when nothing came the loop waits as long as it
	// takes.
	var slept time.Time
	// Half of what the kernel reports: it counts its own overhead, so
	// somewhat less payload fits.
	limit := r.readBuffer()
	rcvbuf := limit / 2
	// wake ends the receive loop's waits for the worker (awaitWorker).
	wake := time.NewTimer(time.Hour)
	wake.Stop()
	leave := awaitBelow(limit)
	for {
		if leave > 0 && c.handed.Load() >= c.readAhead() {
			c.awaitWorker(r, leave, wake)
		}
		wait := time.Duration(-1)
		switch {
		case !slept.IsZero():
			wait = 0 // what came during the sleep, if anything
		case k != nil, !since.IsZero():
			// Datagrams are coming: a short wait, which keeps the
			// goroutine's processor (batchReader), not one that may
			// have to get a processor back before it reads on.
			wait = handWait
		}
		n, err := r.read(wait)
		if err != nil {
			if k != nil {
				c.hand(k)
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			k = nil
			c.cfg.Errorf("ERROR: recvfrom: %v", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if n == 0 {
			slept, since, gathered, got, fulls = time.Time{}, time.Time{}, 0, 0, 0
			lastDrops = c.countDrops(lastDrops)
			// The socket stayed quiet: hand over what we have.
			if k != nil {
				c.deliver(k)
				k = nil
			}
			continue
		}
		// One clock reading a batch: the datagrams of a batch arrived
		// within the time one system call takes.
		at := time.Now()
		if since.IsZero() {
			since = at
			if !slept.IsZero() {
				since = slept
			}
		}
		slept = time.Time{}
		// Behind: full batches in a row (behindEvery), and the socket
		// still holds a backlog; a batch that emptied it is not.
		if n < recvBatch {
			fulls, c.behind = 0, false
		} else if fulls++; fulls == 1 {
			fullSince = at
		} else if leave > 0 && backlogOld(fulls, at.Sub(fullSince)) {
			q, ok := r.queued()
			c.behind = ok && q >= leave/behindShare
		}
		c.datagrams.Add(uint64(n))
		got += n
		if at.Sub(dropsAt) >= dropsEvery {
			dropsAt = at
			lastDrops = c.countDrops(lastDrops)
		}
		i := 0
		if k == nil && !c.behind {
			var size int
			i, size = c.direct(r, n, at)
			gathered += size
		}
		for ; i < n; i++ {
			b, from := r.datagram(i)
			c.repeat(b)
			gathered += len(b)
			if k != nil && !k.add(b, from, at) {
				c.deliver(k)
				k = nil
			}
			if k == nil {
				if k = c.freeChunk(); k == nil {
					c.overflow.Add(1)
					continue
				}
				k.add(b, from, at)
			}
		}
		if n == recvBatch {
			continue // more may be waiting: read on
		}
		// The batch emptied the socket.
		age := at.Sub(since)
		if k != nil && age < maxHold {
			// Let the next datagrams gather rather than wake up for
			// each.
			if lingerSafe(gathered, age, maxHold-age, rcvbuf) {
				r.sleep(maxHold - age)
			}
			continue
		}
		if k != nil {
			c.deliver(k)
			k = nil
		}
		if lingerSafe(gathered, age, maxHold, rcvbuf) {
			// A steady load: the next datagrams gather while the loop
			// sleeps.
			low := lowRate(got, age) && lingerSafe(gathered, age, lowHold, rcvbuf)
			slept, since, gathered, got = at, time.Time{}, 0, 0
			if low {
				r.park(c.parkFor(at))
			} else {
				r.park(min(maxHold, c.parkFor(at)))
			}
		}
	}
}

// lowHold is how long the receive loop parks (batchReader.park) at a low
// rate (lowRate) after a batch that emptied the socket, instead of
// sleeping maxHold: a datagram then waits up to lowHold before it is
// decoded and stored (but not past a rotation: parkFor).
//
// gocapd.sh against the build that slept maxHold at every rate, v5, 6
// pairs, quiet: CPU a flow 0.64 at 10 000 flows/s (388 against 556 ns,
// pairs 0.47-0.88; context switches 992 -> 204 a run), 0.84 at 50 000
// (173 against 207 ns, pairs 0.66-0.87; 1 113 -> 334). 20 ms saved less
// (5 s runs, 3 of each: 10 000 flows/s 18-23 ms of CPU a run against
// 16-18 with 40 ms, 26-30 with maxHold; 50 000 35-39 against 33-36 and
// 38-44); 80 ms no more than 40.
//
// Not at 200 000 flows/s at first (low1; the loop slept maxHold there):
// parking 10 ms there (one wake-up a cycle, the monitor asleep) or 20 ms
// (context switches 1 390 -> 878 a run) cost the same CPU a flow as
// sleeping maxHold (1.03 and 1.01, 6 pairs each): the fewer context
// switches were paid back in the kernel's copy out of the socket and the
// IPIs that free the sender's buffers (perf, 10 s at 200 000, ms: 54 ->
// 37 in finish_task_switch, 42 -> 47 in _copy_to_iter, 12 -> 17 in
// native_write_msr). At 800 000 flows/s parking 10 ms cost 1.07 with
// more context switches: the monitor, asleep while the loop parks, is
// woken by each block's write (a plain system call) and then polls every
// 20 microseconds for a while. Since raw1 the loop parks maxHold at
// those rates, with the blocks written in the loop in raw system calls
// (see receive's comment for the figures).
const lowHold = 40 * time.Millisecond

// parkFor returns how long the receive loop parks after a batch read at
// at: lowHold, or until the next rotation (-t) when that comes sooner, so
// that a datagram that came before the boundary is read by then and not
// stored in the next file for the park's sake (the worker rotates on its
// own timer, as it did while the loop slept maxHold).
func (c *Collector) parkFor(at time.Time) time.Duration {
	d := lowHold
	if end := flowfile.SlotStart(at, c.cfg.Interval).Add(c.cfg.Interval); end.Sub(at) < d {
		d = max(end.Sub(at), time.Microsecond)
	}
	return d
}

// lowRate reports whether got datagrams in age are a low rate: fewer than
// one batch (recvBatch) a maxHold, some 77 000 v5 flows/s in datagrams of
// 24 flows.
func lowRate(got int, age time.Duration) bool {
	return int64(got)*int64(maxHold) < int64(recvBatch)*int64(age)
}

// readAhead is how many chunks the worker may have to process before the
// receive loop leaves datagrams in the socket (awaitWorker), and
// readAheadBehind how many while the socket holds a backlog (behind).
//
// With two chunks ahead in a drain, the loop waited for the worker at
// nearly every chunk: the worker waits for the disk now and then (a free
// block, 100-240 ms of a 0.4 s v5 drain in Go traces), and each of those
// waits then stopped the loop as well, and every hand-over woke the
// other (in a trace of a v5 drain the loop waited 348 times, 121 ms, and
// was runnable 39 ms more before it ran again; the worker, readied 381
// times, waited 68 ms for a processor). Eight chunks (2 MiB) cover a stall
// of the worker of some 2 ms, so the loop goes on reading while the
// worker catches up, and the worker finds the next chunk queued instead
// of being woken for it. Drains of 4 M v5 flows, 8 rounds of 2, 8 and 16
// chunks in turn under a load average of 6-8 from other work: context
// switches 5 649 -> 3 241 (16: 2 821), CPU a flow 80.0 -> 74.4 ns (16:
// 77.6), peak RSS 20.2 -> 22.3 MB (16: 24.4; 64: 37.4 and no faster).
// Only while the socket holds a backlog: under a load the loop keeps up
// with, nothing changes.
const (
	readAhead       = 2
	readAheadBehind = 8
)

// readAhead returns how many chunks the worker may have to process before
// the receive loop leaves datagrams in the socket: more while the socket
// holds a backlog.
func (c *Collector) readAhead() int64 {
	if c.behind {
		return readAheadBehind
	}
	return readAhead
}

// awaitBuffer is the smallest socket receive buffer (as the kernel
// reports it, twice what was asked) in which the receive loop leaves
// datagrams for the worker: one whose half holds the queue's 16 MiB of
// chunks, so that the socket absorbs a stall of the worker at least as
// well as the queue would have. (A variable for the tests.)
var awaitBuffer = 2 * queueChunks * chunkSize

// awaitBelow returns up to how many bytes (the kernel's overhead
// included) the receive loop leaves in a socket whose receive buffer the
// kernel reports as limit bytes: half of it, or 0 (never) when it is
// smaller than awaitBuffer.
func awaitBelow(limit int) int {
	if limit < awaitBuffer {
		return 0
	}
	return limit / 2
}

// behindShare: the receive loop is behind when the socket holds more than
// this share of what it leaves in it (awaitBelow) after a full batch: 2
// MiB with the bench's -B 32 MiB, 1 MiB with gocapd's default, more than
// the 750 KB that 10 ms of lingering gathers at 800 000 v9 flows/s. Then
// it hands every chunk to the worker and does not decode any itself
// (inline.go), so that receiving and decoding run on two processors: the
// load is more than one processor takes. Drains of 4 M flows, 3 pairs
// in turn under a load average of 8-10: v9 5.9-6.5 -> 6.2-7.7 M flows/s
// (1.17-1.24 -> 1.24-1.49 times nfcapd's), v5 6.4-9.2 -> 8.8-9.0 M; the
// CPU a flow 8-10% more for v9 (141-169 -> 152-185 ns), the same for v5.
const behindShare = 16

// behindEvery: the receive loop asks the socket how much it still holds
// (a system call) at every behindEvery-th full batch in a row, not after
// each: a steady load it keeps up with leaves a few batches a sleep,
// some 80 datagrams each maxHold at 200 000 flows/s in datagrams of 24
// flows (two full batches and the rest), 330 at 800 000, and it asked
// after every full one, 200 and 1 000 times a second (perf stat over 5
// s: 1 035 -> 62 calls at 200 000, 4 992 -> 1 497 at 800 000). A backlog
// is seen at most two batches later.
const behindEvery = 3

// behindAfter is how long the receive loop must have read full batches in
// a row before it asks whether it is behind: a backlog it clears within a
// park's length is the park's own. Under a steady load it parks maxHold
// and then finds what came meanwhile in the socket, at nfcapd's loss-free
// rate of 4 M v5 flows/s some 1 700 datagrams, 3.8 MB of the kernel's
// memory, more than behindShare's 2 MiB: it counted as behind after
// every park, and handed every datagram to the worker through a chunk
// (copied there, decoded on the other processor, the worker woken)
// where it clears such a backlog itself in some 3 ms. Drains and loads
// past what one processor takes keep it reading full batches for
// longer, and are behind as before, a maxHold later. gocapd against
// the build before, 5 alternating pairs of 5 s runs at 4 M v5 flows/s
// (load 1): CPU a flow 0.95 (61 against 64 ns; with the threshold simply
// raised eightfold 0.94), the socket asked (getsockopt) some 2 100 ->
// 310 times a second; at 800 000 (no backlog either way) 1.00; drains
// (3 pairs, load 1-2) 0.95 of the rate for v5 and 1.06 for v9, within
// their noise here. (A variable for the tests.)
var behindAfter = maxHold

// backlogOld reports whether the receive loop, having read fulls full
// batches in a row over age, asks the socket whether it holds a backlog
// (behindShare): once the batches span behindAfter, and then every
// behindEvery-th.
func backlogOld(fulls int, age time.Duration) bool {
	return age >= behindAfter && fulls%behindEvery == 0
}

// awaitWorker waits, while the worker has readAhead chunks or more to
// process (c.readAhead: more while the socket holds a backlog) and the
// socket's queue holds less than leave bytes, for the
// worker to give one back, rechecking the socket every handWait. Under a
// load the worker cannot keep up with, the datagrams then wait in the
// socket, as they do for nfcapd, not in chunks the receive loop copied
// them into far ahead of the worker: draining 4 M v9 flows from a full
// socket, the loop read it empty in 0.63 s and the worker went on for
// 0.4 s more, through up to 300 MB of chunks made for the drain and
// cold in the caches by then. Drains of 4 M flows, before and after in
// turn, under a load average of 11-15 from other work: CPU a flow,
// medians of 7 pairs, v9 162 -> 140 ns and IPFIX 168 -> 146, of 3 pairs
// v5 138 -> 115; peak RSS 38-125 -> 20-24 MB; the drain's rate the same
// within the noise (v9 6.7-8.8 against 6.7-7.5 M flows/s). With 4 or 8
// chunks ahead instead of 2 the CPU a flow was no lower then (the drain's
// poller took 40% of a core at the time); while the socket holds a
// backlog the loop now reads 8 ahead (readAheadBehind). A
// worker stalled by the disk still does not turn into kernel drops: past
// leave the loop reads on into the queue as before.
func (c *Collector) awaitWorker(r *batchReader, leave int, wake *time.Timer) {
	for c.handed.Load() >= c.readAhead() {
		q, ok := r.queued()
		if !ok || q >= leave {
			return
		}
		// A backlog that built up while the loop waited (the load came
		// faster than the worker took it) lets it read further ahead.
		c.behind = q >= leave/behindShare
		if c.handed.Load() < c.readAhead() {
			return
		}
		c.awaited.Add(1)
		wake.Reset(awaitRecheck)
		select {
		case <-c.returned:
			wake.Stop()
		case <-wake.C:
		}
	}
}

// gaveBack tells a receive loop waiting in awaitWorker that the worker
// gave a chunk back, without waiting: a signal already pending says the
// same.
func (c *Collector) gaveBack() {
	select {
	case c.returned <- struct{}{}:
	default:
	}
}

// awaitRecheck is how long awaitWorker waits for the worker before it
// looks at the socket again: handWait (a variable for the tests).
//
// It waits for c.returned, which the worker signals as it gives a chunk
// back, and not for a chunk on c.free: c.free also holds the chunks the
// worker gave back before, which the loop had not taken yet (it had a
// spare), so the wait took one at once, put it back and went round again
// without ever blocking. With two processors the worker soon brought
// handed under readAhead; with one (taskset -c 1, GOMAXPROCS 1) the worker
// ran only when the runtime preempted the loop, every 10 ms, and the loop
// spun on: gocapd pinned to one processor at 800 000 v5 flows/s used
// 3.2-4.7 s of CPU over a 5 s run in 5 of 7 runs, against 0.25-0.31 s
// (perf: runtime lock2/unlock2, selectgo, the timer's Reset and Stop and
// SO_MEMINFO's getsockopt, all under awaitWorker).
var awaitRecheck = handWait

// dropsEvery is how often the receive loop reads the kernel's count of
// the datagrams it dropped at the socket, while datagrams come: the
// socket drops only while it is full, that is while datagrams come.
const dropsEvery = 100 * time.Millisecond

// countDrops adds the datagrams the kernel dropped at the socket since
// it reported last, when last: its counter is cumulative (and may wrap).
// It returns the counter now.
func (c *Collector) countDrops(last uint32) uint32 {
	d, ok := c.reader.drops()
	if !ok {
		return last
	}
	c.kdrops.Add(uint64(d - last))
	return d
}

// repeat sends a datagram to the repeaters of -R.
func (c *Collector) repeat(b []byte) {
	for _, rp := range c.cfg.Repeaters {
		c.rep.WriteToUDPAddrPort(b, rp)
	}
}

// freeChunk takes an empty chunk, makes one while fewer than maxChunks
// exist, or returns nil when the worker has them all: the receive loop
// never waits for the worker.
func (c *Collector) freeChunk() *chunk {
	if k := c.spare; k != nil {
		c.spare = nil
		return k
	}
	select {
	case k := <-c.free:
		return k
	default:
	}
	if c.chunks < c.maxChunks {
		c.chunks++
		return newChunk()
	}
	return nil
}
