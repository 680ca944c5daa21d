//go:build !linux

package collector

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
)

// recvBatch is one: without recvmmsg(2) a call reads one datagram.
const recvBatch = 1

// batchReader reads one datagram a call where recvmmsg(2) is missing,
// waiting in Go's network poller.
type batchReader struct {
	conn *net.UDPConn
	buf  []byte
	oob  []byte
	n    int
	oobn int
	from netip.Addr
}

func newBatchReader(conn *net.UDPConn) (*batchReader, error) {
	if rc, err := conn.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RXQ_OVFL, 1)
		})
	}
	return &batchReader{conn: conn, buf: make([]byte, maxDatagram), oob: make([]byte, 128)}, nil
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
	n, oobn, _, from, err := r.conn.ReadMsgUDPAddrPort(r.buf, r.oob)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	r.n, r.oobn, r.from = n, oobn, from.Addr().Unmap()
	return 1, nil
}

func (r *batchReader) sleep(d time.Duration) { time.Sleep(d) }

// readBuffer returns the socket's receive buffer size, or -1.
func (r *batchReader) readBuffer() int { return ReadBuffer(r.conn) }

// close makes the waiting read return net.ErrClosed; it may be called from
// any goroutine, more than once.
func (r *batchReader) close() { r.conn.Close() }

// release is close: nothing else is held.
func (r *batchReader) release() { r.conn.Close() }

func (r *batchReader) datagram(int) ([]byte, netip.Addr) { return r.buf[:r.n], r.from }

// drops returns the kernel's drop counter that the last datagram read
// carried (SO_RXQ_OVFL), if it carried one.
func (r *batchReader) drops() (uint32, bool) {
	if r.oobn <= 0 {
		return 0, false
	}
	return kernelDrops(r.oob[:r.oobn])
}

// kernelDrops returns the SO_RXQ_OVFL counter in a control message, the
// number of datagrams the kernel dropped on this socket since it opened.
func kernelDrops(oob []byte) (uint32, bool) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return 0, false
	}
	for _, m := range msgs {
		if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SO_RXQ_OVFL && len(m.Data) >= 4 {
			return binary.NativeEndian.Uint32(m.Data), true
		}
	}
	return 0, false
}
