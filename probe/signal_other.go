//go:build !linux

package probe

import "runtime"

// sleep yields where there is no futex: the waiter spins through Go's
// scheduler.
func (s *signal) sleep(uint32) bool {
	runtime.Gosched()
	return true
}

func (s *signal) wake() {}
