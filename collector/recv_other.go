//go:build !linux

package collector

import (
	"net"
	"net/netip"
)

// batchReader reads one datagram a call where recvmmsg(2) is missing.
type batchReader struct {
	conn *net.UDPConn
	buf  []byte
	oob  []byte
	n    int
	oobn int
	from netip.Addr
}

func newBatchReader(conn *net.UDPConn) (*batchReader, error) {
	return &batchReader{conn: conn, buf: make([]byte, maxDatagram), oob: make([]byte, 128)}, nil
}

// read without wait returns 0: without a way to ask whether more is
// pending, the caller hands over each datagram at once.
func (r *batchReader) read(wait bool) (int, error) {
	if !wait {
		return 0, nil
	}
	n, oobn, _, from, err := r.conn.ReadMsgUDPAddrPort(r.buf, r.oob)
	if err != nil {
		return 0, err
	}
	r.n, r.oobn, r.from = n, oobn, from.Addr().Unmap()
	return 1, nil
}

func (r *batchReader) datagram(int) ([]byte, netip.Addr) { return r.buf[:r.n], r.from }

func (r *batchReader) drops(int) (uint32, bool) {
	if r.oobn <= 0 {
		return 0, false
	}
	return kernelDrops(r.oob[:r.oobn])
}
