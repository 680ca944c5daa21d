package capture

import (
	"syscall"
	"unsafe"
)

// waker waits on aheadReader.released with the futex system call.
type waker struct{}

func (a *aheadReader) initWaker() {}

const (
	futexWaitPrivate = 128 // FUTEX_WAIT | FUTEX_PRIVATE_FLAG
	futexWakePrivate = 129 // FUTEX_WAKE | FUTEX_PRIVATE_FLAG
)

// sleepTimeout bounds a wait in the kernel, after which the goroutine
// yields to Go's runtime (waitFree).
var sleepTimeout = syscall.Timespec{Nsec: 1e6}

// sleep waits while released is r; false when a signal or the timeout
// ended the wait rather than a wake-up (or released had moved).
func (a *aheadReader) sleep(r uint32) bool {
	// The raw call does not tell Go's scheduler, which would otherwise
	// hand the goroutine's processor to another thread.
	_, _, e := syscall.RawSyscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(&a.released)), futexWaitPrivate,
		uintptr(r), uintptr(unsafe.Pointer(&sleepTimeout)), 0, 0)
	return e == 0 || e == syscall.EAGAIN
}

// wake wakes the goroutine if it sleeps.
func (a *aheadReader) wake() {
	syscall.RawSyscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(&a.released)), futexWakePrivate, 1, 0, 0, 0)
}
