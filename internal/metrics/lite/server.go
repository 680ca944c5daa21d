package lite

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/nfgo/nftools/internal/inet"
)

// Path is where the metrics are served.
const Path = "/metrics"

// ContentType is the type of what Path serves: the text format, as
// client_golang's promhttp names it for a client that does not ask for
// another.
const ContentType = "text/plain; version=0.0.4; charset=utf-8; escaping=underscores"

// Limits of the server: a scrape or two at a time is all a collector
// needs, and a client that sends slowly or never reads holds a
// connection for a bounded time only.
const (
	maxInFlight    = 4
	maxHeaderBytes = 64 << 10
	headerTimeout  = 10 * time.Second
	connTimeout    = 30 * time.Second
	closeTimeout   = time.Second
)

// CheckAddr checks an address as --metrics takes it: host:port,
// [IPv6]:port or :port (every address), the port a number or a service
// name. Whether the host resolves and the port is free, Listen finds out.
func CheckAddr(addr string) error {
	_, _, err := checkAddr(addr)
	return err
}

// checkAddr is CheckAddr, returning the host and the port.
func checkAddr(addr string) (string, int, error) {
	host, port, err := inet.SplitHostPort(addr)
	if err != nil || port == "" {
		return "", 0, fmt.Errorf("address %q is not host:port, [IPv6]:port or :port", addr)
	}
	p, err := inet.LookupPort("tcp", port)
	if err != nil {
		return "", 0, fmt.Errorf("address %q: unknown port %q", addr, port)
	}
	return host, p, nil
}

// ListenTCP binds addr (see CheckAddr) with the error a command prints:
// "can not listen on ADDR: address already in use". A host name listens
// on its first IPv4 address, or its first address when it has none, as
// net.Listen did; no host, on every address of both families.
//
// The listener and its connections are the system's sockets as
// *os.File (internal/inet), not the net package's: goprobe links no net.
func ListenTCP(addr string) (*inet.Listener, error) {
	host, port, err := checkAddr(addr)
	if err != nil {
		return nil, err
	}
	var a netip.Addr
	if host != "" {
		addrs, err := inet.LookupHost(host, inet.Any)
		if err != nil {
			return nil, fmt.Errorf("can not listen on %s: %w", addr, err)
		}
		a = addrs[0]
		for _, b := range addrs {
			if b.Is4() {
				a = b
				break
			}
		}
	}
	ln, err := inet.ListenTCP(a, port)
	if err != nil {
		var se *os.SyscallError
		if errors.As(err, &se) {
			err = se.Err
		}
		return nil, fmt.Errorf("can not listen on %s: %w", addr, err)
	}
	return ln, nil
}

// Server serves metrics at Path over HTTP/1.x: one request a connection
// (the response says Connection: close), GET or HEAD.
type Server struct {
	ln     *inet.Listener
	gather func(*Set)
	errorf func(format string, args ...any)

	mu     sync.Mutex
	conns  map[*os.File]bool
	closed bool
	wg     sync.WaitGroup // the accept loop and the connections
	slots  chan struct{}  // one per connection being served
}

// Listen binds addr (see CheckAddr), so that a command learns at its start
// whether the address works, and may bind a privileged port before it
// drops its privileges. Serve starts serving; until then a scrape waits.
func Listen(addr string) (*Server, error) {
	ln, err := ListenTCP(addr)
	if err != nil {
		return nil, err
	}
	return &Server{ln: ln, conns: map[*os.File]bool{}, slots: make(chan struct{}, maxInFlight)}, nil
}

// Serve serves, until Close, the metrics gather adds to a Set at each
// scrape, and those of the Go runtime and the process. errorf receives
// what goes wrong from now on (nil: nothing is logged).
func (s *Server) Serve(errorf func(format string, args ...any), gather func(*Set)) {
	if errorf == nil {
		errorf = func(string, ...any) {}
	}
	s.gather, s.errorf = gather, errorf
	s.wg.Add(1)
	go s.accept()
}

// Addr returns the address the server listens on (with the port the
// kernel chose for port 0).
func (s *Server) Addr() netip.AddrPort { return s.ln.Addr() }

// Close stops the server: it stops listening at once and gives a scrape
// under way a second to finish.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	err := s.ln.Close()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(closeTimeout):
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		<-done
	}
	return err
}

// accept takes connections until the listener closes.
func (s *Server) accept() {
	defer s.wg.Done()
	var wait time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return
			}
			if isTemporary(err) {
				// Out of descriptors, or the like: wait and try again, as
				// net/http does.
				wait = min(max(2*wait, 5*time.Millisecond), time.Second)
				s.errorf("metrics: accept: %v; retrying in %v", err, wait)
				time.Sleep(wait)
				continue
			}
			s.errorf("metrics: %v", err)
			return
		}
		wait = 0
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = true
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

// isTemporary reports the accept errors that pass: too many open files,
// a connection aborted before it was taken.
func isTemporary(err error) bool {
	var errno interface{ Temporary() bool }
	return errors.As(err, &errno) && errno.Temporary()
}

// serveConn answers the one request of connection c.
func (s *Server) serveConn(c *os.File) {
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.wg.Done()
	}()
	defer c.Close()
	c.SetDeadline(time.Now().Add(connTimeout))
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	default:
		c.SetReadDeadline(time.Now().Add(headerTimeout))
		if _, _, err := readRequest(bufio.NewReader(c)); err == nil {
			respond(c, false, "503 Service Unavailable", "text/plain; charset=utf-8",
				[]byte(fmt.Sprintf("Limit of concurrent requests reached (%d), try again later.\n", maxInFlight)))
		}
		return
	}
	c.SetReadDeadline(time.Now().Add(headerTimeout))
	method, path, err := readRequest(bufio.NewReader(c))
	switch {
	case errors.Is(err, errBadRequest):
		respond(c, false, "400 Bad Request", "text/plain; charset=utf-8", []byte("400 Bad Request\n"))
	case err != nil:
		return // the client went away, or sent nothing in time
	case path != Path:
		respond(c, method == "HEAD", "404 Not Found", "text/plain; charset=utf-8", []byte("404 page not found\n"))
	default:
		var set Set
		if s.gather != nil {
			s.gather(&set)
		}
		AddGo(&set)
		AddProcess(&set)
		if err := respond(c, method == "HEAD", "200 OK", ContentType, set.AppendText(nil)); err != nil {
			s.errorf("metrics: error writing the response: %v", err)
		}
	}
	// Half-close, and read what the client may still send until it
	// closes too, so that a request body left unread does not make the
	// kernel reset the connection before the client has the response.
	if inet.CloseWrite(c) == nil {
		c.SetReadDeadline(time.Now().Add(closeTimeout))
		io.CopyN(io.Discard, c, maxHeaderBytes)
	}
}

// errBadRequest is a request that is not HTTP/1.x.
var errBadRequest = errors.New("bad request")

// readRequest reads a request's line and headers and returns its method
// and path (the target without its query).
func readRequest(r *bufio.Reader) (method, path string, err error) {
	n := 0
	var first []byte
	for {
		line, err := r.ReadSlice('\n')
		n += len(line)
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				return "", "", errBadRequest
			}
			if n > 0 && errors.Is(err, io.EOF) {
				err = errBadRequest
			}
			return "", "", err
		}
		if n > maxHeaderBytes {
			return "", "", errBadRequest
		}
		line = bytes.TrimRight(line, "\r\n")
		if first == nil {
			if len(line) == 0 {
				continue // empty lines before the request line are allowed
			}
			first = bytes.Clone(line)
			continue
		}
		if len(line) == 0 {
			break
		}
	}
	f := bytes.Fields(first)
	if len(f) != 3 || !bytes.HasPrefix(f[2], []byte("HTTP/1.")) || !isToken(f[0]) {
		return "", "", errBadRequest
	}
	target := f[1]
	if i := bytes.IndexByte(target, '?'); i >= 0 {
		target = target[:i]
	}
	return string(f[0]), string(target), nil
}

// isToken reports whether b is an HTTP token: a method's characters.
func isToken(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || bytes.IndexByte([]byte(`"(),/:;<=>?@[\]{}`), c) >= 0 {
			return false
		}
	}
	return len(b) > 0
}

// respond writes a whole response; for HEAD, without its body.
func respond(w io.Writer, head bool, status, contentType string, body []byte) error {
	b := make([]byte, 0, 160+len(body))
	b = append(b, "HTTP/1.1 "...)
	b = append(b, status...)
	b = append(b, "\r\nContent-Type: "...)
	b = append(b, contentType...)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n"...)
	if !head {
		b = append(b, body...)
	}
	_, err := w.Write(b)
	return err
}
