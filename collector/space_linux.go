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
