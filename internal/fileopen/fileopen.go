// Package fileopen opens files and directories for reading without the Go
// runtime's network poller, for flowfile's reader and fileset's walk.
package fileopen

import (
	"os"
	"syscall"
)

// Open opens path (a file or a directory) for reading like os.Open, with
// the same errors, but leaves the runtime's network poller out: os.Open
// offers every file to it (and makes the poller, an epoll instance and an
// eventfd, for the first), and a regular file or a directory is refused
// after five system calls (two fcntl to set O_NONBLOCK, epoll_ctl, two
// fcntl to clear it). On a small archive, where a run is mostly its start,
// that was 5 of godump's ~60 system calls a file and a directory, and the
// poller's 3 once.
func Open(path string) (*os.File, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		switch {
		case err == nil:
			return os.NewFile(uintptr(fd), path), nil
		case err != syscall.EINTR:
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
	}
}
