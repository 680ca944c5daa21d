package flowfile

import (
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A direct write that overlaps others (putAsync: a burst, the blocks
// queue up) is handed to the kernel through an io_uring, and its
// goroutine waits for it in Go's network poller (an eventfd the ring
// signals), not in a system call. A write past the page cache waits for
// the disk, a millisecond or more for a block; made with pwrite(2), the
// goroutine sat in a system call all that time, and the runtime's monitor
// (sysmon), seeing a processor held by a system call while the others
// were busy, took it back for them and then polled every 20
// microseconds: in a v5 drain of 4 M flows, where such writes run nearly
// all the time, its thread woke 2 400 times in 0.35 s, a tenth of
// gocapd's CPU time. The ring takes the write to a kernel worker (io-wq,
// a thread of this process, whose CPU time is still gocapd's) and
// returns at once; no processor is held and sysmon has nothing to take
// back (some 1 000 wake-ups). Drains of 4 M v5 flows, 6 pairs against
// pwrite(2) at a load of 8-9: CPU 353 -> 321 ms (median ratio 0.875,
// every pair lower), context switches 0.74x, rate 1.07x.
//
// A write with nothing to overlap (a steady load: the write goroutine
// writes the block itself) stays a pwritev(2) of its own: through the
// ring it costs the worker's wake-up and the poller's as well, and
// gocapd at 800 000 v5 flows/s took 1.065x the CPU (median of 5 pairs)
// with every write through it. Where io_uring is missing or refused (an old kernel, a
// seccomp filter, kernel.io_uring_disabled), pwritev(2) without the ring.

// ring is an io_uring of one entry and the eventfd that tells of its
// completions. One goroutine uses it at a time (takeRing, putRing).
type ring struct {
	fd   int
	mem  []byte // the submission and completion rings (one mapping)
	sqes []byte // the submission queue entries
	ev   *os.File

	sqTail, sqMask *uint32
	sqArray        *uint32
	cqHead, cqTail *uint32
	cqMask         *uint32
	cqes           unsafe.Pointer
	iov            [maxBatch]unix.Iovec // writev's
}

// The kernel's struct io_uring_params, io_uring_sqe and io_uring_cqe
// (linux/io_uring.h).
type uringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sqOff                                                                  struct {
		head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
		userAddr                                                        uint64
	}
	cqOff struct {
		head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
		userAddr                                                        uint64
	}
}

type uringSQE struct {
	opcode, flags uint8
	ioprio        uint16
	fd            int32
	off, addr     uint64
	len, rwFlags  uint32
	userData      uint64
	_             [24]byte
}

type uringCQE struct {
	userData uint64
	res      int32
	flags    uint32
}

const (
	uringOpWritev        = 2 // IORING_OP_WRITEV
	uringEnterGetEvents  = 1 // IORING_ENTER_GETEVENTS
	uringRegisterEventfd = 4 // IORING_REGISTER_EVENTFD
	uringFeatSingleMmap  = 1 // IORING_FEAT_SINGLE_MMAP
	uringOffSQEs         = 0x10000000
	uringSQESize         = 64
	uringCQESize         = 16
	uringParamsSize      = 120
	maxIdleRings         = 16
)

var rings struct {
	sync.Mutex
	idle []*ring
	// off: io_uring could not be set up (or failed once): pwritev(2)
	// from then on.
	off atomic.Bool
}

// ringWritev writes bufs one after the other from off on through fd with
// a ring (IORING_OP_WRITEV), and reports false where it could not (no
// ring: the caller uses pwritev(2)).
func ringWritev(fd int, bufs [][]byte, off int64) (int, error, bool) {
	return ringDo(func(r *ring) (int, error, bool) { return r.writev(fd, bufs, off) })
}

// ringDo makes a write with a ring (ringWritev).
func ringDo(write func(*ring) (int, error, bool)) (int, error, bool) {
	r := takeRing()
	if r == nil {
		return 0, nil, false
	}
	n, err, ok := write(r)
	if ok && (err == syscall.EINVAL || err == syscall.EOPNOTSUPP) {
		// A ring that cannot take the write (an old kernel, a
		// seccomp filter); an O_DIRECT write the file refuses
		// fails with pwritev(2) as well.
		ok = false
	}
	if !ok {
		rings.off.Store(true)
		r.close()
		return 0, nil, false
	}
	putRing(r)
	return n, err, true
}

// takeRing returns an idle ring, a new one, or nil where there is none.
func takeRing() *ring {
	if rings.off.Load() {
		return nil
	}
	rings.Lock()
	if n := len(rings.idle); n > 0 {
		r := rings.idle[n-1]
		rings.idle = rings.idle[:n-1]
		rings.Unlock()
		return r
	}
	rings.Unlock()
	r, err := newRing()
	if err != nil {
		rings.off.Store(true)
		return nil
	}
	return r
}

// putRing keeps r for the next write, or closes it when enough are kept.
func putRing(r *ring) {
	rings.Lock()
	if len(rings.idle) < maxIdleRings {
		rings.idle = append(rings.idle, r)
		r = nil
	}
	rings.Unlock()
	if r != nil {
		r.close()
	}
}

func newRing() (*ring, error) {
	var p uringParams
	if unsafe.Sizeof(p) != uringParamsSize || unsafe.Sizeof(uringSQE{}) != uringSQESize {
		return nil, syscall.EINVAL
	}
	fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, 1, uintptr(unsafe.Pointer(&p)), 0)
	if e != 0 {
		return nil, e
	}
	r := &ring{fd: int(fd)}
	if p.features&uringFeatSingleMmap == 0 {
		unix.Close(r.fd)
		return nil, syscall.ENOSYS
	}
	size := max(p.sqOff.array+p.sqEntries*4, p.cqOff.cqes+p.cqEntries*uringCQESize)
	mem, err := unix.Mmap(r.fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		unix.Close(r.fd)
		return nil, err
	}
	r.mem = mem
	sqes, err := unix.Mmap(r.fd, uringOffSQEs, int(p.sqEntries)*uringSQESize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		r.close()
		return nil, err
	}
	r.sqes = sqes
	at := func(off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&mem[off])) }
	r.sqTail, r.sqMask, r.sqArray = at(p.sqOff.tail), at(p.sqOff.ringMask), at(p.sqOff.array)
	r.cqHead, r.cqTail, r.cqMask = at(p.cqOff.head), at(p.cqOff.tail), at(p.cqOff.ringMask)
	r.cqes = unsafe.Pointer(&mem[p.cqOff.cqes])
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		r.close()
		return nil, err
	}
	// Non-blocking, so os.NewFile puts it in the network poller.
	r.ev = os.NewFile(uintptr(efd), "io_uring eventfd")
	arg := int32(efd)
	if _, _, e := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), uringRegisterEventfd, uintptr(unsafe.Pointer(&arg)), 1, 0, 0); e != 0 {
		r.close()
		return nil, e
	}
	return r, nil
}

func (r *ring) close() {
	if r.ev != nil {
		r.ev.Close()
	}
	if r.sqes != nil {
		unix.Munmap(r.sqes)
	}
	if r.mem != nil {
		unix.Munmap(r.mem)
	}
	unix.Close(r.fd)
}

// writev writes bufs (maxBatch at most) one after the other from off on
// through fd and waits for it in the network poller. ok false: the ring
// failed (not the write), and the caller writes bufs with pwritev(2)
// instead.
func (r *ring) writev(fd int, bufs [][]byte, off int64) (n int, err error, ok bool) {
	// In the ring, not on the stack: the kernel reads the vector as it
	// takes the request, and the goroutine's stack may move while it
	// waits in the poller.
	setIovecs(r.iov[:], bufs)
	n, err, ok = r.do(uringSQE{opcode: uringOpWritev, fd: int32(fd), off: uint64(off), addr: uint64(uintptr(unsafe.Pointer(&r.iov[0]))), len: uint32(len(bufs)), userData: 1})
	runtime.KeepAlive(bufs)
	return n, err, ok
}

// do submits req and waits for its completion in the network poller.
func (r *ring) do(req uringSQE) (n int, err error, ok bool) {
	tail := atomic.LoadUint32(r.sqTail)
	sqe := (*uringSQE)(unsafe.Pointer(&r.sqes[0]))
	*sqe = req
	*(*uint32)(unsafe.Add(unsafe.Pointer(r.sqArray), 4*(tail&*r.sqMask))) = 0
	atomic.StoreUint32(r.sqTail, tail+1)
	// Raw: the kernel queues the write (an extending or blocking one
	// goes to a worker thread) and returns.
	m, _, e := unix.RawSyscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), 1, 0, 0, 0, 0)
	if e != 0 || m != 1 {
		// Not submitted: the ring is of no more use.
		return 0, nil, false
	}
	var buf [8]byte
	for {
		head := atomic.LoadUint32(r.cqHead)
		if head != atomic.LoadUint32(r.cqTail) {
			cqe := (*uringCQE)(unsafe.Add(r.cqes, uringCQESize*uintptr(head&*r.cqMask)))
			res := cqe.res
			atomic.StoreUint32(r.cqHead, head+1)
			if res < 0 {
				return 0, syscall.Errno(-res), true
			}
			return int(res), nil, true
		}
		if _, err := r.ev.Read(buf[:]); err != nil {
			// Not expected of an eventfd; the write may still be
			// under way, and b must not be reused before it ends:
			// wait for it in the kernel.
			unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), 0, 1, uringEnterGetEvents, 0, 0)
		}
	}
}
