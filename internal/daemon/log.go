package daemon

import (
	"fmt"
	"io"
	"log/syslog"
	"strings"
	"sync"
)

// Logger writes the log lines of a service: to a stream in the
// foreground, to syslog in the background. It is safe for concurrent use.
type Logger struct {
	mu  sync.Mutex
	out io.Writer
	sys *syslog.Writer
}

// NewStreamLogger logs to w, one line per message.
func NewStreamLogger(w io.Writer) *Logger { return &Logger{out: w} }

// NewSyslogLogger logs to the local syslog with facility daemon and the
// given tag; every line carries the pid (tag[pid]).
func NewSyslogLogger(tag string) (*Logger, error) {
	s, err := syslog.New(syslog.LOG_DAEMON|syslog.LOG_INFO, tag)
	if err != nil {
		return nil, err
	}
	return &Logger{sys: s}, nil
}

// Infof logs an informational line.
func (l *Logger) Infof(format string, args ...any) { l.log(false, format, args...) }

// Errorf logs an error line (priority err in syslog).
func (l *Logger) Errorf(format string, args ...any) { l.log(true, format, args...) }

func (l *Logger) log(isErr bool, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sys != nil {
		msg = strings.TrimRight(msg, "\n")
		if isErr {
			l.sys.Err(msg)
		} else {
			l.sys.Info(msg)
		}
		return
	}
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	io.WriteString(l.out, msg)
}

// Close closes the syslog connection.
func (l *Logger) Close() error {
	if l.sys != nil {
		return l.sys.Close()
	}
	return nil
}
