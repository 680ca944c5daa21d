package daemon

import (
	"errors"
	"os"
	"strconv"
	"syscall"
	"time"
)

// syslogWriter sends messages to a syslog daemon's Unix socket as
// log/syslog's local writer does ("<priority>Jan _2 15:04:05
// tag[pid]: message"), with the system calls: log/syslog dials through
// the net package, which with its resolvers was over half a megabyte of
// goprobe's binary (see internal/inet). The Logger's lock serialises its
// use.
type syslogWriter struct {
	network, addr string // as given; empty: the local daemon's sockets
	tag           string
	fd            int // -1 when not connected
}

// syslogFacilityDaemon is LOG_DAEMON.
const syslogFacilityDaemon = 3 << 3

// dialSyslog connects to the syslog socket network and addr name
// ("unixgram" or "unix"), or when both are empty to the local daemon's,
// as log/syslog looks for it.
func dialSyslog(network, addr, tag string) (*syslogWriter, error) {
	if tag == "" {
		tag = os.Args[0]
	}
	w := &syslogWriter{network: network, addr: addr, tag: tag, fd: -1}
	if err := w.connect(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *syslogWriter) connect() error {
	types := []int{syscall.SOCK_DGRAM, syscall.SOCK_STREAM}
	paths := []string{"/dev/log", "/var/run/syslog", "/var/run/log"}
	switch w.network {
	case "":
		if w.addr != "" {
			paths = []string{w.addr}
		}
	case "unixgram":
		types, paths = types[:1], []string{w.addr}
	case "unix":
		types, paths = types[1:], []string{w.addr}
	default:
		return errors.New("unsupported syslog network " + strconv.Quote(w.network))
	}
	err := errors.New("Unix syslog delivery error")
	for _, path := range paths {
		for _, typ := range types {
			// Closed on exec, set apart from the call where socket(2)
			// takes no such flag (gocapd builds for other systems).
			syscall.ForkLock.RLock()
			fd, e := syscall.Socket(syscall.AF_UNIX, typ, 0)
			if e == nil {
				syscall.CloseOnExec(fd)
			}
			syscall.ForkLock.RUnlock()
			if e != nil {
				return os.NewSyscallError("socket", e)
			}
			if e = syscall.Connect(fd, &syscall.SockaddrUnix{Name: path}); e == nil {
				w.fd = fd
				return nil
			}
			syscall.Close(fd)
			if w.network != "" {
				err = &os.PathError{Op: "dial " + w.network, Path: path, Err: e}
			}
		}
	}
	return err
}

// write sends msg at level, connecting again once if the socket fails
// (the daemon restarted), as log/syslog does. A message the daemon does
// not take is lost, as with syslog(3).
func (w *syslogWriter) write(level Level, msg string) error {
	b := make([]byte, 0, 32+len(w.tag)+len(msg))
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(syslogFacilityDaemon|int(level&7)), 10)
	b = append(b, '>')
	b = time.Now().AppendFormat(b, time.Stamp)
	b = append(b, ' ')
	b = append(b, w.tag...)
	b = append(b, '[')
	b = strconv.AppendInt(b, int64(os.Getpid()), 10)
	b = append(b, "]: "...)
	b = append(b, msg...)
	if len(msg) == 0 || msg[len(msg)-1] != '\n' {
		b = append(b, '\n')
	}
	if w.fd >= 0 {
		if _, err := syscall.Write(w.fd, b); err == nil {
			return nil
		}
		syscall.Close(w.fd)
		w.fd = -1
	}
	if err := w.connect(); err != nil {
		return err
	}
	_, err := syscall.Write(w.fd, b)
	return err
}

func (w *syslogWriter) close() error {
	if w.fd < 0 {
		return nil
	}
	err := syscall.Close(w.fd)
	w.fd = -1
	return err
}
