//go:build !linux

package probe

import "os"

// batchConn sends batches of datagrams where the system can (Linux's
// sendmmsg, batch_linux.go): not here, where write sends them one by one.
type batchConn struct{}

func newBatchConn(*os.File) *batchConn { return nil }

func (*batchConn) send([][]byte) (int, error) { return 0, nil }
