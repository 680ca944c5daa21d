package probe

import (
	"syscall"
	"unsafe"
)

const (
	futexWaitPrivate = 128 // FUTEX_WAIT | FUTEX_PRIVATE_FLAG
	futexWakePrivate = 129 // FUTEX_WAKE | FUTEX_PRIVATE_FLAG
)

var signalTimespec = syscall.NsecToTimespec(signalTimeout)

// sleep waits in the kernel while the count is seq; false when the
// timeout or a signal ended the wait.
func (s *signal) sleep(seq uint32) bool {
	// The raw call does not tell Go's scheduler, which would otherwise
	// hand the goroutine's processor to another thread.
	_, _, e := syscall.RawSyscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(&s.n)), futexWaitPrivate,
		uintptr(seq), uintptr(unsafe.Pointer(&signalTimespec)), 0, 0)
	return e == 0 || e == syscall.EAGAIN
}

func (s *signal) wake() {
	syscall.RawSyscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(&s.n)), futexWakePrivate, 1, 0, 0, 0)
}
