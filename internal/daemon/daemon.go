// Package daemon does the chores of a Unix service that gocapd and goprobe
// share: going to the background, the pid file, logging to syslog and
// dropping root privileges.
//
// A Go program cannot fork safely once its runtime runs threads, so
// Background starts the program again with the same arguments in a new
// session and an environment marker. The parent waits until the child says
// it is ready (or failed), so an init system sees the outcome in the
// parent's exit status, as with a classic double fork.
package daemon

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"
)

// envMarker is set in the child's environment; its value is the name of
// the readiness pipe's descriptor.
const envMarker = "NFTOOLS_DAEMON_CHILD"

// readyFD is the descriptor of the readiness pipe in the child (ExtraFiles[0]).
const readyFD = 3

// IsChild reports whether this process is the background child started by
// Background.
func IsChild() bool { return os.Getenv(envMarker) != "" }

// Background starts this program again in the background, detached from
// the terminal (new session, standard streams on /dev/null, working
// directory /), and waits up to timeout for the child to call Ready. It
// returns the child's pid, or the error the child reported. The caller
// exits afterwards. Call it only when IsChild is false.
func Background(timeout time.Duration) (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("daemon: %w", err)
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("daemon: %w", err)
	}
	defer null.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return 0, fmt.Errorf("daemon: %w", err)
	}
	defer r.Close()
	// os.StartProcess rather than os/exec, which adds nothing needed
	// here (no path search, no pipes to copy) and 40 KB of binary to
	// goprobe's, all of it resident (see internal/inet).
	proc, err := os.StartProcess(exe, os.Args, &os.ProcAttr{
		Dir:   "/",
		Env:   append(os.Environ(), envMarker+"=1"),
		Files: []*os.File{null, null, null, w}, // w is readyFD
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		w.Close()
		return 0, fmt.Errorf("daemon: %w", err)
	}
	w.Close()
	pid := proc.Pid
	// The child is never waited for: it outlives us. Release it so no
	// zombie bookkeeping is kept.
	defer proc.Release()

	type answer struct {
		line string
		err  error
	}
	ch := make(chan answer, 1)
	go func() {
		line, err := bufio.NewReader(r).ReadString('\n')
		ch <- answer{line, err}
	}()
	select {
	case a := <-ch:
		switch {
		case a.line == "ok\n":
			return pid, nil
		case strings.HasPrefix(a.line, "error "):
			return pid, errors.New(strings.TrimSuffix(strings.TrimPrefix(a.line, "error "), "\n"))
		case errors.Is(a.err, io.EOF):
			return pid, errors.New("the background process exited during startup")
		default:
			return pid, fmt.Errorf("daemon: readiness pipe: %v", a.err)
		}
	case <-time.After(timeout):
		return pid, fmt.Errorf("the background process (pid %d) did not report ready within %v", pid, timeout)
	}
}

// Ready tells the waiting parent that the child started (err nil) or
// failed (err's text is what the parent reports). It does nothing outside
// a background child and only the first call counts.
func Ready(err error) {
	if !IsChild() {
		return
	}
	os.Unsetenv(envMarker)
	f := os.NewFile(readyFD, "ready")
	if f == nil {
		return
	}
	defer f.Close()
	if err != nil {
		fmt.Fprintf(f, "error %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		return
	}
	io.WriteString(f, "ok\n")
}
