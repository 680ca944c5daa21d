package probe

import (
	"os"
	"syscall"

	"github.com/nfgo/nftools/internal/mmsg"
)

// batchConn hands a collector's socket several datagrams in one
// sendmmsg(2) call.
type batchConn struct {
	rc syscall.RawConn
	b  mmsg.Batch
	// The call's arguments and results, and the function RawConn.Write
	// runs, made once: a closure made for every call went to the heap
	// with what it captured.
	dgs   [][]byte
	n     int
	errno syscall.Errno
	write func(fd uintptr) bool
}

// newBatchConn returns conn's batchConn, or nil when the socket has no
// raw access: its datagrams are then written one by one.
func newBatchConn(conn *os.File) *batchConn {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil
	}
	c := &batchConn{rc: rc}
	c.write = func(fd uintptr) bool {
		c.n, c.errno = c.b.Send(fd, c.dgs)
		return c.errno != syscall.EAGAIN
	}
	return c
}

// send sends dgs (at least one), in order, and returns how many the
// socket took from the first, or none and the error that the first met.
func (c *batchConn) send(dgs [][]byte) (int, error) {
	c.dgs = dgs
	err := c.rc.Write(c.write)
	c.dgs = nil
	switch {
	case err != nil:
		return 0, err
	case c.errno != 0:
		return 0, c.errno
	case c.n == 0:
		return 0, syscall.EIO // the kernel took none and said nothing: never seen
	}
	// Fewer than all: the kernel stopped part of the way, and the next
	// call says why or sends the rest.
	return c.n, nil
}
