//go:build !linux

package probe

import "errors"

// setRealtime is implemented for Linux only.
func setRealtime(prio int) error {
	if prio == 0 {
		return nil
	}
	return errors.New("real-time scheduling is supported on Linux only")
}
