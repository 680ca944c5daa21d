package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ErrRunning is returned by WritePidFile when the pid file names a process
// that is still alive.
var ErrRunning = errors.New("process is running")

// WritePidFile writes the current pid to path, replacing a stale file. When
// the file names a live process it returns an error wrapping ErrRunning and
// leaves the file alone, as nfcapd refuses to start twice.
func WritePidFile(path string) error {
	if b, err := os.ReadFile(path); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 && pid != os.Getpid() && alive(pid) {
			return fmt.Errorf("pid file %s: pid %d: %w", path, pid, ErrRunning)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".pid*")
	if err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	_, err = fmt.Fprintf(tmp, "%d\n", os.Getpid())
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("pid file: %w", err)
	}
	return nil
}

// RemovePidFile removes path if it still holds our pid.
func RemovePidFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		return nil
	}
	return os.Remove(path)
}

// alive reports whether a process with pid exists (EPERM means it exists
// under another user).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
