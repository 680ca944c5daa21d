//go:build !linux

package collector

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"time"
)

// recvBatch is one: without recvmmsg(2) a call reads one datagram.
const recvBatch = 1

// timerSlack: the timers keep the system's slack.
const timerSlack = 0

// batchReader reads one datagram a call where recvmmsg(2) is missing,
// waiting in Go's network poller.
type batchReader struct {
	conn *net.UDPConn
	buf  []byte
	n    int
	from netip.Addr
}

func newBatchReader(conn *net.UDPConn) (*batchReader, error) {
	return &batchReader{conn: conn, buf: make([]byte, maxDatagram)}, nil
}

// read waits up to wait for a datagram (wait < 0: as long as it takes);
// it returns 0 when none came.
func (r *batchReader) read(wait time.Duration) (int, error) {
	var deadline time.Time
	if wait >= 0 {
		deadline = time.Now().Add(wait)
	}
	if err := r.conn.SetReadDeadline(deadline); err != nil {
		return 0, err
	}
	n, from, err := r.conn.ReadFromUDPAddrPort(r.buf)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	r.n, r.from = n, from.Addr().Unmap()
	return 1, nil
}

func (r *batchReader) sleep(d time.Duration) { time.Sleep(d) }

// park is sleep: time.Sleep parks the goroutine already.
func (r *batchReader) park(d time.Duration) { time.Sleep(d) }

// readBuffer returns the socket's receive buffer size, or -1.
func (r *batchReader) readBuffer() int { return ReadBuffer(r.conn) }

// close makes the waiting read return net.ErrClosed; it may be called from
// any goroutine, more than once.
func (r *batchReader) close() { r.conn.Close() }

// release is close: nothing else is held.
func (r *batchReader) release() { r.conn.Close() }

func (r *batchReader) datagram(int) ([]byte, netip.Addr) { return r.buf[:r.n], r.from }

// queued reports nothing: the receive loop then never leaves datagrams
// in the socket for the worker to catch up (readAhead).
func (r *batchReader) queued() (int, bool) { return 0, false }

// drops reports no count: the kernel's count of the datagrams it dropped
// at a full socket (SO_MEMINFO, SO_RXQ_OVFL) is Linux's.
func (r *batchReader) drops() (uint32, bool) { return 0, false }
