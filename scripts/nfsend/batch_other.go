//go:build !linux

package main

import (
	"fmt"
	"net"
)

// batchWriter writes datagrams one by one where sendmmsg(2) is missing.
type batchWriter struct{ conn *net.UDPConn }

func newBatchWriter(conn *net.UDPConn) (batchWriter, error) {
	return batchWriter{conn: conn}, nil
}

// write sends every datagram of batch, in order, on the connected socket.
func (w batchWriter) write(batch [][]byte) error {
	refused := 0
	for len(batch) > 0 {
		if _, err := w.conn.Write(batch[0]); err != nil {
			if isRefused(err) && refused < 3 {
				refused++
				continue
			}
			return fmt.Errorf("write: %w", err)
		}
		batch = batch[1:]
	}
	return nil
}
