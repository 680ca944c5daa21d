package probe

import (
	"runtime"
	"sync/atomic"
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
	_        [56]byte // the other signal's words on another line
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
	if s.n.Load() == seq && !s.sleep(seq) {
		runtime.Gosched()
	}
	s.sleeping.Store(false)
}
