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
