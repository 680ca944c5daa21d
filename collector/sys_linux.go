//go:build linux

package collector

import (
	"os"

	"golang.org/x/sys/unix"
)

// freeSpace returns the bytes gocapd may still write in the file system of
// dir, if it can tell: root may use the blocks reserved for it.
func freeSpace(dir string) (uint64, bool) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, false
	}
	if os.Geteuid() == 0 {
		return st.Bfree * uint64(st.Bsize), true
	}
	return st.Bavail * uint64(st.Bsize), true
}

// forceReadBuffer sets the socket's receive buffer to n bytes beyond
// net.core.rmem_max (SO_RCVBUFFORCE), which needs CAP_NET_ADMIN.
func forceReadBuffer(fd uintptr, n int) error {
	return unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n)
}
