package probe

import "golang.org/x/sys/unix"

// setRealtime puts the calling thread (Run's, locked to it) under the
// SCHED_FIFO policy at priority prio, as fprobe -r does for its capture
// thread; prio 0 puts it back under the normal policy.
func setRealtime(prio int) error {
	attr := &unix.SchedAttr{Policy: unix.SCHED_FIFO, Priority: uint32(prio)}
	if prio == 0 {
		attr = &unix.SchedAttr{Policy: unix.SCHED_NORMAL}
	}
	return unix.SchedSetAttr(0, attr, 0)
}
