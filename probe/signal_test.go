package probe

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/testutil"
)

// TestSignalWakes: a goroutine waiting on a signal that nobody moves goes
// to sleep, and a notification wakes it.
func TestSignalWakes(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	var s signal
	seq := s.n.Load()
	woke := make(chan struct{})
	go func() {
		for s.n.Load() == seq {
			s.wait(seq)
		}
		close(woke)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for !s.sleeping.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	require.True(t, s.sleeping.Load(), "the waiter sleeps")
	s.notify()
	select {
	case <-woke:
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter was not woken")
	}
}

// TestSignalReturns: a wait whose count has moved since the waiter read
// it returns at once, and one that nobody notifies returns all the same
// after a while (its caller looks again), without a wake-up.
func TestSignalReturns(t *testing.T) {
	var s signal
	seq := s.n.Load()
	s.notify()
	s.wait(seq)
	s.wait(s.n.Load())
	assert.False(t, s.sleeping.Load())
}

// TestSignalYields: a goroutine sleeping on a signal lets Go's runtime
// stop the world (a collection) all the same.
func TestSignalYields(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	var s signal
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			s.wait(s.n.Load())
		}
	}()
	testutil.RequireCollectsWhileAsleep(t, &s.sleeping, "the goroutine sleeping on the signal")
}

// TestPacer: while the counting goroutine seldom stalls both goroutines
// work; once it stalls for more than a third of a stretch, working alone
// is tried, and kept, for four times as long each time in a row, while
// each stretch alone takes less time a batch than the last of both; a
// trial or a stretch alone that is slower holds the next trial off for
// more stretches each time.
func TestPacer(t *testing.T) {
	var p pacer
	p.start(nil)
	if p.fixed {
		t.Skip("one processor: always alone")
	}
	now, stalled := p.t, int64(0)
	// stretch ends the stretch running, its batches in ns (st of them
	// stalled), and checks the next: alone or not, and how many more
	// stretches alone (left >= 0).
	stretch := func(ns, st int64, solo bool, left int, msg string) {
		t.Helper()
		p.n = paceWindow
		now += ns
		stalled += st
		p.choose(now, stalled)
		require.Equal(t, solo, p.solo, msg)
		if left >= 0 {
			require.Equal(t, left, p.left, msg)
		}
	}
	require.False(t, p.solo)
	stretch(1e6, 0, false, -1, "no stalls")
	stretch(1e6, 330e3, false, -1, "stalled for under a third")
	stretch(1e6, 340e3, true, -1, "stalled for over a third: a trial")
	require.True(t, p.trial)
	stretch(0.9e6, 0, true, paceStay/paceWindow-1, "the trial was faster")
	for i := range paceStay/paceWindow - 1 {
		stretch(0.9e6, 0, true, paceStay/paceWindow-2-i, "alone")
	}
	stretch(0.9e6, 0, false, -1, "both again after the stretches alone")
	stretch(1e6, 900e3, true, 4*paceStay/paceWindow-1, "stalled, and alone was faster")
	stretch(0.9e6, 0, true, 4*paceStay/paceWindow-2, "alone")
	stretch(1.1e6, 0, false, -1, "a stretch alone slower than both")
	for i := range paceHold - 1 {
		stretch(1e6, 900e3, false, -1, fmt.Sprintf("held off, %d", i))
	}
	stretch(1e6, 900e3, true, -1, "a trial once held off")
	stretch(1.1e6, 0, false, -1, "the trial was slower")
	for i := range 2*paceHold - 1 {
		stretch(1e6, 900e3, false, -1, fmt.Sprintf("held off twice as long, %d", i))
	}
	stretch(1e6, 900e3, true, -1, "a trial")
	stretch(0.5e6, 0, true, 16*paceStay/paceWindow-1, "alone, four times as long again")
	for i := range 16*paceStay/paceWindow - 1 {
		stretch(0.5e6, 0, true, 16*paceStay/paceWindow-2-i, "alone")
	}
	stretch(0.5e6, 0, false, -1, "both again after the stretches alone")
	stretch(1e6, 0, false, -1, "no stalls")
	stretch(1e6, 900e3, true, -1, "a trial, not held off: alone held its pace")
	stretch(0.5e6, 0, true, paceStay/paceWindow-1, "a stretch without stalls started the stretches alone over")
	stretch(0.5e6, 0, true, paceStay/paceWindow-2, "alone")
	stretch(1e6, 0, false, -1, "the last stretch of both is what alone must beat")
	for i := range paceHold - 1 {
		stretch(1e6, 900e3, false, -1, fmt.Sprintf("held off as after the first failure, %d", i))
	}
	stretch(1e6, 900e3, true, -1, "a trial")

	// The stretch ends after its batches, counted by step.
	p = pacer{}
	p.start(nil)
	d := &decodeAhead{}
	for range paceWindow - 1 {
		p.step(d)
		require.Positive(t, p.n)
	}
	p.step(d)
	assert.Zero(t, p.n)

	// Only the waits long enough that the other goroutine was off its
	// processor count as stalls.
	var s signal
	s.slept(stallTime / 2)
	assert.Zero(t, s.stalled.Load())
	s.slept(2 * stallTime)
	assert.Equal(t, int64(2*stallTime), s.stalled.Load())
}
