package probe

import (
	"runtime"
	"sync/atomic"
	"time"
)

// signal is a count that one goroutine waits on for another to move it:
// the decoding and counting goroutines of a capture read (decoder.go),
// each waiting for the batches, or the chunks of the file, that the
// other hands it.
//
// The waiter waits in the kernel (futex, where there is one), keeping
// its processor, rather than parked by Go's scheduler: parked, a
// goroutine's wake-up lands on the waker's processor, whose thread is
// busy, and the two goroutines can end up sharing one processor while
// the other idles; spinning instead, one burnt the processor time the
// other lost to the system's other work (on a machine at load 6, 2.1x
// the processor time). It spins a little first, since the other
// goroutine usually moves within microseconds.
type signal struct {
	n        atomic.Uint32
	sleeping atomic.Bool
	// stalled is the time in ns the waiter spent in sleeps longer than
	// stallTime: the meter's pacer reads it (see decoder.go). Only the
	// waiter adds to it.
	stalled atomic.Int64
	_       [48]byte // the other signal's words on another line
}

// signalSpins is how many times wait looks at the count before it
// sleeps.
const signalSpins = 1 << 10

// signalTimeout bounds a sleep, after which the waiter yields to Go's
// runtime, which cannot stop a goroutine in the kernel for a collection.
const signalTimeout = 1e6 // ns

// notify moves the count and wakes the waiter if it sleeps. The one
// that sees it sleeping wakes it, once: the notifications that follow
// until it is awake again cost no system call (each sleep had drawn 3
// wake-ups on a busy machine).
func (s *signal) notify() {
	s.n.Add(1)
	if s.sleeping.Load() && s.sleeping.CompareAndSwap(true, false) {
		s.wake()
	}
}

// wait returns once the count is no longer seq (read before the waiter
// last looked at what it waits for), or after a while.
func (s *signal) wait(seq uint32) {
	for range signalSpins {
		if s.n.Load() != seq {
			return
		}
	}
	s.sleeping.Store(true)
	// notify moves the count before it looks at sleeping: either it sees
	// sleeping, or this sees the count moved, or the kernel does not let
	// this sleep on the count it moved from.
	if s.n.Load() == seq {
		t := monotonic()
		if !s.sleep(seq) {
			runtime.Gosched()
		}
		s.slept(monotonic() - t)
	}
	s.sleeping.Store(false)
}

// stallTime is how long a wait lasts at least when the other goroutine
// was off its processor, the system running other work there, rather
// than merely slower: ten times a batch's decoding or counting (some 20
// µs on the machine measured).
const stallTime = 200e3 // ns

// slept notes a wait of ns.
func (s *signal) slept(ns int64) {
	if ns > stallTime {
		s.stalled.Add(ns)
	}
}

// epoch is what monotonic counts from.
var epoch = time.Now()

// monotonic returns the time in ns on the monotonic clock: one read of
// it (time.Since of a time that has a monotonic reading reads nothing
// else).
func monotonic() int64 { return int64(time.Since(epoch)) }
