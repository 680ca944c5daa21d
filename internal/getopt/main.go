package getopt

import (
	"errors"
	"fmt"
	"io"
)

// ExitCoder is an error that carries the exit code of the command that
// returns it. urfave/cli's cli.Exit values satisfy it too, so the
// commands run through package ucli keep using them.
type ExitCoder interface {
	error
	ExitCode() int
}

// exitError is the ExitCoder that Exit returns.
type exitError struct {
	msg  string
	code int
}

func (e *exitError) Error() string { return e.msg }
func (e *exitError) ExitCode() int { return e.code }

// Exit returns an error that makes Main exit with code after printing
// "<name>: msg" on stderr, or nothing when msg is empty.
func Exit(msg string, code int) error {
	return &exitError{msg: msg, code: code}
}

// Main parses args (without the program name), runs action on the result
// and turns the outcome into an exit code, so a command's main is
// os.Exit(spec.Main(os.Args[1:], os.Stdout, os.Stderr, action)). A getopt
// error prints "<name>: <error>" and a hint to use -h (when the spec has
// -h) on stderr and gives 1; action is not called. Any other error prints
// "<name>: <error>" on stderr (nothing for an empty message) and gives the
// code of an ExitCoder, else 1. A panic is recovered and reported the same
// way, so none reaches the user as a stack trace.
func (s *Spec) Main(args []string, stdout, stderr io.Writer, action func(*Result) error) (code int) {
	defer func() {
		if v := recover(); v != nil {
			fmt.Fprintf(stderr, "%s: internal error: %v\n", s.Name, v)
			code = 1
		}
	}()
	err := s.Validate()
	if err == nil {
		var res *Result
		if res, err = s.Parse(args); err == nil {
			err = action(res)
		}
	}
	if err == nil {
		return 0
	}
	var optErr *Error
	if errors.As(err, &optErr) {
		fmt.Fprintf(stderr, "%s: %v\n", s.Name, optErr)
		if _, ok := s.Lookup('h'); ok {
			fmt.Fprintf(stderr, "Try '%s -h' for help.\n", s.Name)
		}
		return 1
	}
	code = 1
	var exitErr ExitCoder
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintf(stderr, "%s: %s\n", s.Name, msg)
	}
	return code
}
