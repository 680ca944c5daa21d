package probe

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	deadline := time.Now().Add(5 * time.Second)
	for !s.sleeping.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	require.True(t, s.sleeping.Load(), "the waiter sleeps")
	done := make(chan struct{})
	go func() {
		runtime.GC()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a collection waited for the goroutine sleeping on the signal")
	}
}

// TestPacer: the counting goroutine works alone for a stretch after a
// stretch of both in which it was stalled for more than a third of the
// time, then both are tried again; each solo stretch in a row is four
// times as long as the one before, up to paceMaxStay, and a stretch of
// both that went well starts them over.
func TestPacer(t *testing.T) {
	var p pacer
	p.start(nil)
	if p.fixed {
		t.Skip("one processor: always alone")
	}
	require.False(t, p.solo)
	now, stalled := p.t, int64(0)
	// window ends a stretch of both that took 1 ms, stalled for st of it.
	window := func(st int64) {
		require.False(t, p.solo)
		require.Equal(t, paceWindow, p.size)
		now += 1e6
		stalled += st
		p.choose(now, stalled)
	}
	window(0)
	assert.False(t, p.solo, "no stalls")
	window(330e3)
	assert.False(t, p.solo, "stalled for under a third")
	stays := []int{paceStay, 4 * paceStay, 16 * paceStay, paceMaxStay, paceMaxStay}
	for _, stay := range stays {
		window(340e3)
		require.True(t, p.solo, "stalled for over a third")
		assert.Equal(t, stay, p.size)
		now += 50e6
		stalled += 50e6 // not counted: both work again after it
		p.choose(now, stalled)
		assert.False(t, p.solo)
	}
	window(100e3)
	assert.False(t, p.solo)
	window(900e3)
	assert.True(t, p.solo)
	assert.Equal(t, paceStay, p.size, "a good stretch starts the solo stretches over")

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
