package main

import (
	"fmt"
	"net"
	"syscall"

	"github.com/nfgo/nftools/internal/mmsg"
)

// batchWriter hands a batch of datagrams to the kernel in one sendmmsg(2)
// call: on loopback the system call, not the copy, is most of the cost of
// a datagram, and the sender must outrun the collectors on two cores.
type batchWriter struct {
	rc syscall.RawConn
	b  *mmsg.Batch
}

func newBatchWriter(conn *net.UDPConn) (batchWriter, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return batchWriter{}, err
	}
	return batchWriter{rc: rc, b: new(mmsg.Batch)}, nil
}

// write sends every datagram of batch, in order, on the connected socket.
func (w batchWriter) write(batch [][]byte) error {
	refused := 0
	for len(batch) > 0 {
		var n int
		var errno syscall.Errno
		err := w.rc.Write(func(fd uintptr) bool {
			n, errno = w.b.Send(fd, batch)
			return errno != syscall.EAGAIN
		})
		if err != nil {
			return err
		}
		if errno != 0 {
			// Nothing listened when an earlier datagram arrived: the
			// kernel says so once, on this call; the batch is still to
			// send. A collector that stays away ends the run.
			if isRefused(errno) && refused < 3 {
				refused++
				continue
			}
			return fmt.Errorf("sendmmsg: %w", errno)
		}
		batch = batch[n:]
	}
	return nil
}
