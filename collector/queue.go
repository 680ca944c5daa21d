package collector

import (
	"net/netip"
	"time"
)

// The queue between the receive loop and the worker is a fixed set of
// chunks: byte buffers into which the receive loop packs datagrams back to
// back. A chunk goes to the worker whole and comes back empty, so the
// queue costs two channel operations per batch of datagrams, not per
// datagram, and its memory is bounded in bytes (queueChunks*chunkSize, or
// what -B asks the socket to hold when that is more: queueLen) whatever
// the exporters send. Chunks are made as the queue needs them, so
// a collector that keeps up holds a few and the bound is only reached while
// the worker stalls (a slow disk), which it absorbs for a while. When every
// chunk is with the worker, the receive loop drops and counts what it reads
// (Queue Overflow) but keeps draining the socket, so a slow disk never turns
// into kernel drops. The receive loop hands its chunk over when it is full,
// maxHold old, or the socket has been quiet for handWait (receive.go).
const (
	chunkSize   = 256 << 10
	queueChunks = 64 // 16 MiB at the most
	maxDatagram = 65535
)

// queueLen returns how many chunks the queue may hold for a socket whose
// receive buffer the kernel reports as rcvbuf bytes (twice what was asked,
// half of it overhead): queueChunks, or as many as the bytes asked for
// when that is more. The receive loop drains the socket into the queue,
// so the queue, not the socket, is what absorbs a stall of the worker:
// with -B 32 MiB and a queue of 16 MiB, gocapd lost flows at a rate that
// nfcapd, holding them in its socket, did not.
func queueLen(rcvbuf int) int {
	return max(queueChunks, rcvbuf/2/chunkSize)
}

// chunk is a batch of datagrams on its way to the worker.
type chunk struct {
	buf  []byte
	ents []entry
	next int // the first datagram not processed yet
}

// entry locates one datagram in its chunk.
type entry struct {
	off, n int32
	from   netip.Addr
	at     time.Time // when its batch was read
}

func newChunk() *chunk {
	return &chunk{buf: make([]byte, 0, chunkSize), ents: make([]entry, 0, 256)}
}

// add appends a datagram, reporting false when it does not fit.
func (k *chunk) add(b []byte, from netip.Addr, at time.Time) bool {
	if len(k.buf)+len(b) > cap(k.buf) {
		return false
	}
	k.ents = append(k.ents, entry{off: int32(len(k.buf)), n: int32(len(b)), from: from, at: at})
	k.buf = append(k.buf, b...)
	return true
}

func (k *chunk) reset() {
	k.buf, k.ents, k.next = k.buf[:0], k.ents[:0], 0
}

// datagram returns the i-th datagram of the chunk.
func (k *chunk) datagram(i int) ([]byte, netip.Addr, time.Time) {
	e := &k.ents[i]
	return k.buf[e.off : e.off+e.n], e.from, e.at
}

// lingerSafe reports whether the receive loop may leave the socket alone
// for d after reading n bytes in age: only when what arrives at that rate
// meanwhile, with the timer's slack (timerSlack) and a millisecond of
// scheduling latency, fills at most half of the socket's receive buffer
// (rcvbuf bytes), so lingering never turns into kernel drops. With the
// kernel's default buffer (208 KiB) and d = maxHold that rules it out
// from about 4 MB/s on; a collector for real load sets -B (gocapd asks
// for 16 MiB without it).
func lingerSafe(n int, age, d time.Duration, rcvbuf int) bool {
	if rcvbuf <= 0 {
		return false
	}
	// A rate measured over a few microseconds says nothing; take at
	// least 100 µs.
	age = max(age, 100*time.Microsecond)
	expect := float64(n) / age.Seconds() * (d + timerSlack + time.Millisecond).Seconds()
	return expect <= float64(rcvbuf)/2
}
