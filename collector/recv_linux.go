//go:build linux

package collector

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// recvBatch is how many datagrams one recvmmsg(2) call may return: on
// loopback the system call, not the copy, is most of the cost of a
// datagram.
const recvBatch = 32

// stopDrain bounds the batches read after close: what a socket buffer of
// 16 MiB holds in datagrams of 128 bytes and more.
const stopDrain = 4096

// The kernel's counters of a socket (SO_MEMINFO, linux/sock_diag.h):
// nine words, the drops last.
const (
	skMeminfoRmemAlloc = 0
	skMeminfoDrops     = 8
	skMeminfoVars      = 9
)

// slotStride is how far apart the batch's datagrams land: room for the
// largest datagram, and 17 cache lines more. Slots (nearly) 64 KiB apart
// put the first bytes of all 32 datagrams into the same set of the
// processor's first- and second-level caches (whose sets repeat every 4
// or 64 KiB, with 8 to 16 ways), so the kernel's copy of a batch evicts
// its first datagrams before the decoder reads them; an odd number of
// lines more spreads the datagrams over the sets. (Measured on the
// loaded bench machine: v5 at 800 000 flows/s, median of 7 paired runs,
// 136 -> 125 ns a flow; v9 unchanged within the noise.)
const slotStride = maxDatagram + 1 + 17*64

// mmsghdr is struct mmsghdr of recvmmsg(2): a msghdr and the bytes
// received, padded to the alignment of the msghdr.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [unsafe.Sizeof(uintptr(0)) - 4]byte
}

// batchReader reads up to recvBatch datagrams a call. Each datagram lands
// in its own slot of slotStride bytes (only the pages a datagram touches
// become resident) and is then packed into a chunk.
//
// It reads a duplicate of the socket's descriptor and closes the socket
// itself, so that the socket is no longer in Go's network poller: there,
// every datagram that arrived woke the thread the runtime keeps waiting
// in epoll for its timers, some 600 times a second at 200 000 flows/s,
// although nothing waited for the socket in the poller most of the time.
// Its waits are its own: poll(2) on the socket and on an eventfd that
// close makes readable.
//
// Its short waits (read with a time limit, sleep) are raw system calls:
// the scheduler goes on seeing the goroutine as running and leaves its
// processor alone. Through Syscall the scheduler's monitor takes the
// processor away from a call that waits longer than 20 microseconds while
// the worker is busy, and then polls every 20 microseconds for a
// millisecond; at 200 000 flows/s that came to about 2 000 hand-offs and
// 8 000 wake-ups of the monitor a second, a fifth of gocapd's CPU time.
// The runtime's preemption signal ends such a wait early, so a stop of the
// world is not held up. A wait without a limit (nothing is held back from
// the worker) is a plain system call, which lets the runtime give the
// processor to others while no datagram comes.
type batchReader struct {
	fd      int // the socket, outside Go's poller
	stopFd  int // an eventfd: readable once close was called
	stopped atomic.Bool
	drained int // reads since close
	hdrs    []mmsghdr
	iovs    []unix.Iovec
	names   []unix.RawSockaddrInet6
	land    []byte
	meminfo [skMeminfoVars]uint32

	pollfds  [2]unix.PollFd
	waitSpec unix.Timespec

	// park's timer: a timerfd in Go's network poller (nil: park
	// sleeps as sleep does).
	timer     *os.File
	timerFd   int
	timerConn syscall.RawConn
	expired   func(uintptr) bool // reads the timer's expirations
	timerBuf  [8]byte
	timerSpec unix.ItimerSpec
	timerMu   sync.Mutex    // close against release
	parks     atomic.Uint64 // parks begun (for the tests)
}

func newBatchReader(conn *net.UDPConn) (*batchReader, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd, derr := -1, error(nil)
	if err := rc.Control(func(s uintptr) { fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, derr
	}
	stopFd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	conn.Close()
	r := &batchReader{
		fd:     fd,
		stopFd: stopFd,
		hdrs:   make([]mmsghdr, recvBatch),
		iovs:   make([]unix.Iovec, recvBatch),
		names:  make([]unix.RawSockaddrInet6, recvBatch),
		land:   make([]byte, recvBatch*slotStride),
	}
	for i := range r.hdrs {
		r.iovs[i].Base = &r.land[i*slotStride]
		r.iovs[i].SetLen(maxDatagram)
		h := &r.hdrs[i].hdr
		h.Iov = &r.iovs[i]
		h.SetIovlen(1)
	}
	r.openTimer()
	r.pollfds[0] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	r.pollfds[1] = unix.PollFd{Fd: int32(stopFd), Events: unix.POLLIN}
	setTimerSlack()
	return r, nil
}

// timerSlack is how late the kernel may fire the timers of gocapd's
// threads (their timer slack, 50 microseconds by default): the receive
// loop's sleep of maxHold and the runtime monitor's of 10 ms, both due
// every 10 ms or so, then end on one timer interrupt instead of two
// apart, and the loop's wake-ups follow the monitor's. v5 at 200 000
// flows/s, CPU of 4 s of load, median of 10 alternating pairs against
// the default slack (load 2): 0.92 with 1 ms (0.85-1.03), 0.94 at 800
// 000 flows/s (8 pairs); 2 ms against 1 ms 0.95, 4 ms against 2 ms 1.01
// (6 pairs each). gocapd.sh with 2 ms against the build without (6
// pairs, load 1-2): v5 0.94 at 200 000 and 0.95 at 800 000 flows/s, v9
// 0.97 and 0.95, context switches 0.92-0.95; v9 drains 1.06 the rate
// (8 pairs, bimodal by the disk as ever). lingerSafe counts it in the
// wait it judges.
const timerSlack = 2 * time.Millisecond

// setTimerSlack sets every thread's timer slack to timerSlack; threads
// made later inherit it from the one that makes them. A thread may set
// its own; another's takes CAP_SYS_NICE, without which those keep theirs
// (the runtime's monitor among them).
func setTimerSlack() {
	unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(timerSlack), 0, 0, 0)
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return
	}
	v := []byte(strconv.FormatInt(int64(timerSlack), 10))
	for _, e := range ents {
		if f, err := os.OpenFile("/proc/"+e.Name()+"/timerslack_ns", os.O_WRONLY, 0); err == nil {
			f.Write(v)
			f.Close()
		}
	}
}

// readBuffer returns the socket's receive buffer size (SO_RCVBUF), or -1.
func (r *batchReader) readBuffer() int {
	v, err := unix.GetsockoptInt(r.fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
	if err != nil {
		return -1
	}
	return v
}

// close makes the reader's next read, or the one waiting, return
// net.ErrClosed; the receive loop then calls release. It may be called
// from any goroutine, more than once.
func (r *batchReader) close() {
	if r.stopped.Swap(true) {
		return
	}
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	unix.Write(r.stopFd, one[:])
	// End a park: after stopped is set, so that a park whose timer is
	// set after this sees it and does not wait.
	r.timerMu.Lock()
	if r.timer != nil {
		spec := unix.ItimerSpec{Value: unix.Timespec{Nsec: 1}}
		unix.TimerfdSettime(r.timerFd, 0, &spec, nil)
	}
	r.timerMu.Unlock()
}

// release closes the descriptors once the receive loop is done.
func (r *batchReader) release() {
	r.timerMu.Lock()
	if r.timer != nil {
		r.timer.Close()
		r.timer = nil
	}
	r.timerMu.Unlock()
	unix.Close(r.fd)
	unix.Close(r.stopFd)
}

// recv is one recvmmsg call that returns at once.
func (r *batchReader) recv() (int, syscall.Errno) {
	m, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(r.fd), uintptr(unsafe.Pointer(&r.hdrs[0])), recvBatch, unix.MSG_DONTWAIT, 0, 0)
	return int(m), e
}

// read returns how many datagrams it read; datagram i is then
// r.datagram(i). With wait > 0 it waits up to wait for one, with wait < 0
// until one comes, and with 0 not at all; it returns 0 when none came,
// and net.ErrClosed once close was called and the socket holds nothing
// more (or stopDrain batches later, under a load that does not stop):
// the last datagrams an exporter sent before the collector was told to
// stop, which may have come while the receive loop slept, are stored.
func (r *batchReader) read(wait time.Duration) (int, error) {
	if r.stopped.Load() {
		if r.drained >= stopDrain {
			return 0, net.ErrClosed
		}
		r.drained++
		wait = 0
	}
	for i := range r.hdrs {
		h := &r.hdrs[i].hdr
		h.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		h.Namelen = uint32(unsafe.Sizeof(r.names[i]))
		h.Flags = 0
	}
	n, errno := r.recv()
	if errno == syscall.EAGAIN && wait != 0 {
		var ts uintptr // no limit
		if wait > 0 {
			r.waitSpec = unix.NsecToTimespec(wait.Nanoseconds())
			ts = uintptr(unsafe.Pointer(&r.waitSpec))
		}
		r.pollfds[0].Revents, r.pollfds[1].Revents = 0, 0
		var m uintptr
		var e syscall.Errno
		if wait > 0 {
			m, _, e = unix.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&r.pollfds[0])), 2, ts, 0, 0, 0)
		} else {
			m, _, e = unix.Syscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&r.pollfds[0])), 2, ts, 0, 0, 0)
		}
		if e == 0 && m > 0 || r.stopped.Load() {
			n, errno = r.recv()
		}
	}
	if r.stopped.Load() && (errno != 0 || n == 0) {
		return 0, net.ErrClosed
	}
	if errno == syscall.EAGAIN || errno == syscall.EINTR {
		return 0, nil
	}
	if errno != 0 {
		return 0, errno
	}
	return n, nil
}

// sleep waits d at the most, a raw system call like the waits of read; a
// signal ends it early. (A plain system call here, although the monitor
// leaves the processor of one alone for 10 ms while another is idle, made
// five times the context switches at 200 000 flows/s.)
//
// It passes through the scheduler after the sleep (goyield), so that
// the runtime's monitor sees the goroutine start afresh every cycle and
// does not preempt it. A goroutine that never passes through the
// scheduler is preempted once the monitor has seen it running for 10 ms,
// some 50 times a second at 200 000 flows/s: a signal (tgkill, the
// handler, sigreturn) that cut this sleep short, so the loop woke once
// more, and then a yield through runtime.Gosched, which puts the
// goroutine on the global queue and wakes a second thread (wakep, for
// the processor the worker left idle) that finds nothing and sleeps
// again. Gosched before each sleep did the same at every sleep, 100
// times a second, and cost more than the preemptions it spared (load
// 7-11, 3 pairs: 110-121 ns a flow without it against 126-132).
// goyield puts the goroutine on its own processor's queue and wakes no
// one; after the sleep, not before it, as the write goroutine a block
// just handed over may still wait on that queue before the sleep, and
// would then run there and hold the processor in pwrite(2) while the
// loop waits behind it (the monitor took the processor back for the
// loop and polled every 20 microseconds: twice its wake-ups). Per
// thread over 5 s at 200 000 v5 flows/s (perf stat, quiet): signals 247
// -> 7, futex calls 605 -> 214, context switches of the Go threads 1 276
// -> 879 (the monitor's 513 -> 487).
//
// Waits the runtime sees cost more, measured against these raw ones
// (v5, 4 pairs of 5 s runs each, load 4-12): the loop on a thread of its
// own (runtime.LockOSThread) waiting in a blocking recvmmsg
// (MSG_WAITFORONE, SO_RCVTIMEO, a shutdown to wake it at close) and
// sleeping through Syscall took 1.41 times the CPU a flow at 800 000
// flows/s (2.4 at 200 000), v9 1.59, with 4.7 times the context switches:
// the runtime's monitor takes the processor of a thread in a system call
// while the worker runs and then polls every 20 microseconds (nanosleep
// 270 -> 2 900 a second, futex 250 -> 650), and it still preempts a
// goroutine that has not been through the scheduler for 10 ms, by
// signal, as often as before (tgkill 48 -> 58 a second); without the
// locked thread 1.50. A sleep that parks the goroutine (time.Sleep) has
// no preemption signals but twice the futex and epoll calls: 1.08-1.17.
// The preemption signals themselves cost little: with GODEBUG
// asyncpreemptoff=1, 0.95-1.00 (within the noise).
func (r *batchReader) sleep(d time.Duration) {
	if r.stopped.Load() {
		return // close was called: read on until the socket is empty
	}
	ts := unix.NsecToTimespec(d.Nanoseconds())
	unix.RawSyscall(unix.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), 0, 0)
	goyield()
}

// datagram returns the bytes and sender of datagram i of the last read.
func (r *batchReader) datagram(i int) ([]byte, netip.Addr) {
	n := int(r.hdrs[i].len)
	b := r.land[i*slotStride : i*slotStride+n]
	sa := &r.names[i]
	var from netip.Addr
	switch sa.Family {
	case unix.AF_INET6:
		from = netip.AddrFrom16(sa.Addr).Unmap()
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		from = netip.AddrFrom4(sa4.Addr)
	}
	return b, from
}

// queued returns the bytes the socket's queue holds, the kernel's
// overhead included (SO_MEMINFO's rmem_alloc, what ss shows as r and
// the receive buffer limits).
func (r *batchReader) queued() (int, bool) {
	if !r.meminfoNow() {
		return 0, false
	}
	return int(r.meminfo[skMeminfoRmemAlloc]), true
}

// meminfoNow reads the socket's SO_MEMINFO counters into r.meminfo.
func (r *batchReader) meminfoNow() bool {
	l := uint32(unsafe.Sizeof(r.meminfo))
	_, _, e := unix.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(r.fd), unix.SOL_SOCKET, unix.SO_MEMINFO,
		uintptr(unsafe.Pointer(&r.meminfo[0])), uintptr(unsafe.Pointer(&l)), 0)
	return e == 0 && l >= skMeminfoVars*4
}

// drops returns how many datagrams the kernel dropped at the socket
// since it opened, for a full receive buffer: its SO_MEMINFO counter, the
// one SO_RXQ_OVFL would attach to every datagram read. One system call
// now and then costs less than the control message that option makes the
// kernel build for each datagram, and than reading it back.
func (r *batchReader) drops() (uint32, bool) {
	if !r.meminfoNow() {
		return 0, false
	}
	return r.meminfo[skMeminfoDrops], true
}

// goyield is the runtime's Gosched that keeps the goroutine on its own
// processor's queue and wakes no other thread (its signature is kept
// for the packages that link to it: go.dev/issue/67401).
//
//go:linkname goyield runtime.goyield
func goyield()

// openTimer makes park's timer, a timerfd that Go's network poller
// waits for; without it park sleeps as sleep does.
func (r *batchReader) openTimer() {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(fd), "timerfd")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return
	}
	r.timer, r.timerFd, r.timerConn = f, fd, rc
	// A raw read: a plain system call wakes the runtime's monitor when
	// it sleeps (entersyscall), and this one never blocks.
	r.expired = func(fd uintptr) bool {
		_, _, e := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&r.timerBuf[0])), uintptr(len(r.timerBuf)))
		return e != syscall.EAGAIN
	}
}

// park waits d at the most, or until close, the goroutine parked in Go's
// network poller on a timerfd: the runtime sees its processor idle, and
// with every processor idle its monitor sleeps until the next timer of
// the runtime's instead of waking every 10 ms as it does while sleep
// holds the processor. The receive loop parks maxHold under a steady load
// and lowHold at low rates, for longer than sleep may: a raw sleep of
// more than 10 ms is cut short by the monitor's preemption signal. The
// timer is set and read in raw system calls: a plain one (entersyscall)
// wakes the sleeping monitor, which then polls every 20 microseconds for
// a millisecond; so are the flow files' block writes in the loop
// (flowfile's WriteHere), without which parking maxHold at 800 000 v5
// flows/s cost 1.07 of sleeping (low1).
func (r *batchReader) park(d time.Duration) {
	if r.timer == nil {
		r.sleep(min(d, maxHold))
		return
	}
	if r.stopped.Load() || d <= 0 {
		return // a timer of 0 would never expire
	}
	r.timerSpec.Value = unix.NsecToTimespec(d.Nanoseconds())
	_, _, e := unix.RawSyscall6(unix.SYS_TIMERFD_SETTIME, uintptr(r.timerFd), 0, uintptr(unsafe.Pointer(&r.timerSpec)), 0, 0, 0)
	if e != 0 || r.stopped.Load() {
		return
	}
	r.parks.Add(1)
	r.timerConn.Read(r.expired)
}
