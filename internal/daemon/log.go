package daemon

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"syscall"
)

// Level is a syslog priority: LevelEmerg is the most severe, LevelDebug
// the least. fprobe's -v takes these numbers.
type Level int

// The syslog priorities, in syslog's numbering.
const (
	LevelEmerg Level = iota
	LevelAlert
	LevelCrit
	LevelErr
	LevelWarning
	LevelNotice
	LevelInfo
	LevelDebug
)

var levelNames = [...]string{"EMERG", "ALERT", "CRIT", "ERR", "WARNING", "NOTICE", "INFO", "DEBUG"}

// String returns the level's name as fprobe prints it ("INFO").
func (l Level) String() string {
	if l >= 0 && int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("LEVEL%d", int(l))
}

// LogConfig says where a Logger writes and what.
type LogConfig struct {
	// Stream receives one line per message when it is not nil.
	Stream io.Writer
	// Syslog sends every message to syslog too, facility daemon, tagged
	// with Tag (syslog adds the pid: "tag[pid]").
	Syslog bool
	Tag    string
	// SyslogNetwork and SyslogAddr name the syslog socket; empty means the
	// local syslog daemon. Tests give a socket of their own.
	SyslogNetwork, SyslogAddr string
	// MaxLevel drops every message less severe than it (fprobe -v 3 logs
	// errors and worse only).
	MaxLevel Level
	// LevelPrefix starts every message with "[LEVEL]: ", in syslog as on
	// the stream, the way fprobe writes its log.
	LevelPrefix bool
}

// Logger writes the log lines of a service: to a stream, to syslog or to
// both. It is safe for concurrent use.
type Logger struct {
	mu     sync.Mutex
	out    io.Writer
	sys    *syslogWriter
	max    Level
	prefix bool
}

// NewLogger opens a logger as cfg says. It fails only when cfg asks for
// syslog and syslog cannot be reached; the caller may then try again
// without it.
func NewLogger(cfg LogConfig) (*Logger, error) {
	l := &Logger{out: cfg.Stream, max: cfg.MaxLevel, prefix: cfg.LevelPrefix}
	if cfg.Syslog {
		s, err := dialSyslog(cfg.SyslogNetwork, cfg.SyslogAddr, cfg.Tag)
		if err != nil {
			return nil, fmt.Errorf("syslog: %w", err)
		}
		l.sys = s
	}
	return l, nil
}

// NewStreamLogger logs every message to w, one line per message.
func NewStreamLogger(w io.Writer) *Logger { return &Logger{out: w, max: LevelDebug} }

// NewSyslogLogger logs every message to the local syslog with facility
// daemon and the given tag; every line carries the pid (tag[pid]).
func NewSyslogLogger(tag string) (*Logger, error) {
	return NewLogger(LogConfig{Syslog: true, Tag: tag, MaxLevel: LevelDebug})
}

// Infof logs an informational line.
func (l *Logger) Infof(format string, args ...any) { l.Logf(LevelInfo, format, args...) }

// Errorf logs an error line (priority err in syslog).
func (l *Logger) Errorf(format string, args ...any) { l.Logf(LevelErr, format, args...) }

// Logf logs a line at the given level, unless the level is less severe
// than the logger's maximum.
func (l *Logger) Logf(level Level, format string, args ...any) {
	// A logger with nowhere to write (goprobe -l 0) formats nothing:
	// a capture read logs its options and counters all the same.
	if level > l.max || l.sys == nil && l.out == nil {
		return
	}
	msg := strings.TrimRight(fmt.Sprintf(format, args...), "\n")
	if l.prefix {
		msg = "[" + level.String() + "]: " + msg
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sys != nil {
		l.sys.write(level, msg)
	}
	if l.out != nil {
		io.WriteString(l.out, msg+"\n")
	}
}

// Close closes the syslog connection.
func (l *Logger) Close() error {
	if l.sys != nil {
		return l.sys.close()
	}
	return nil
}

// Strerror writes a system error as the C library's strerror does (Go's
// texts for errno values are glibc's with a lower-case first letter), for
// messages that must read as the C daemon's. Other errors keep their text.
func Strerror(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	s := errno.Error()
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	return s
}
