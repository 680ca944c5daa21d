package testutil

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// RequireCollectsWhileAsleep waits until asleep is set (a goroutine that
// waits in a raw system call, keeping its processor, says so), then
// requires a garbage collection to end: a goroutine that never yields
// there would hang every collection for good. The bound is generous
// because each stop of the world waits until the sleeper's thread gets a
// processor of the machine's again: at nice 19 beside two CPU hogs and
// the whole suite (load 12-17), a collection took up to 17.7 s, and 5 s
// failed capture's and probe's tests 9 runs of 60 and 18 of 120, where
// 60 s passed 60 of 60 and 120 of 120 (flake1).
func RequireCollectsWhileAsleep(t *testing.T, asleep *atomic.Bool, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !asleep.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if !asleep.Load() {
		t.Fatalf("%s: never asleep", what)
	}
	done := make(chan struct{})
	go func() {
		runtime.GC()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatalf("a collection waited for %s", what)
	}
}
