// Package metrics serves Prometheus metrics over HTTP: the endpoint of
// gocapd's and goprobe's --metrics ADDR, with
// github.com/prometheus/client_golang (pure Go, so gocapd stays free of
// cgo). A command hands it the prometheus.Collector of its machinery
// (collector.Collector.Prometheus, for one), which reads that machinery's
// counters at each scrape; the Go runtime's and the process's metrics
// (go_*, process_*) are served beside them.
//
// What it costs (gocapd built as make builds it, idle, medians of seven
// runs): linking client_golang (with its protobuf model, expfmt, procfs
// and net/http) doubles the binary (6.5 to 12.8 MB) and raises the
// resident memory from 7.7 to 12.6 MB, whether --metrics is given or not;
// 0.5 MB of that is memory of its own (what client_golang makes at its
// start), the rest clean pages of the larger binary, shared with the page
// cache. A scrape allocates some 270 KB (the process's metrics, read from
// /proc, are 100 KB of it), so a scraped gocapd's heap settles at about
// 8 MB where an idle one never collects. net/http alone would cost 1.1 MB
// of the 4.9; a text exposition of our own was not worth the difference
// against client_golang's correct one (escaping, content negotiation).
// goprobe, whose target is softflowd's memory, serves its metrics through
// package lite instead (no client_golang, no net/http: 5 MB less resident
// memory, idle or busy); CheckAddr is lite's, shared. lite listens
// without the net package (goprobe links none); the listener here is
// net's, which net/http serves.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nfgo/nftools/internal/metrics/lite"
)

// Path is where the metrics are served.
const Path = "/metrics"

// CheckAddr checks an address as --metrics takes it: host:port,
// [IPv6]:port or :port (every address), the port a number or a service
// name. Whether the host resolves and the port is free, Listen finds out.
func CheckAddr(addr string) error { return lite.CheckAddr(addr) }

// Server serves the metrics at Path.
type Server struct {
	ln   net.Listener
	srv  *http.Server
	done chan struct{} // closed when Serve's goroutine ends; nil before Serve
}

// Listen binds addr (see CheckAddr), so that a command learns at its start
// whether the address works, and may bind a privileged port before it
// drops its privileges. Serve starts serving; until then a scrape waits.
func Listen(addr string) (*Server, error) {
	if err := CheckAddr(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		// The command prints "can not listen on ADDR: address already in
		// use", the system's error without net's wrapping.
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Err != nil {
			err = oe.Err
		}
		var se *os.SyscallError
		if errors.As(err, &se) {
			err = se.Err
		}
		return nil, fmt.Errorf("can not listen on %s: %w", addr, err)
	}
	return &Server{ln: ln}, nil
}

// Serve serves the metrics of cs, and those of the Go runtime and the
// process, until Close. errorf receives what goes wrong from now on (nil:
// nothing is logged). It fails only when two collectors describe the same
// metric.
func (s *Server) Serve(errorf func(format string, args ...any), cs ...prometheus.Collector) error {
	if errorf == nil {
		errorf = func(string, ...any) {}
	}
	reg := prometheus.NewRegistry()
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}
	// client_golang's default registry holds the Go runtime's and the
	// process's collectors (go_*, process_*), which it makes at its start
	// whether they are served or not: served from there, they cost
	// nothing more.
	gather := prometheus.Gatherers{prometheus.DefaultGatherer, reg}
	mux := http.NewServeMux()
	mux.Handle(Path, promhttp.HandlerFor(gather, promhttp.HandlerOpts{
		ErrorLog:      logger{errorf},
		ErrorHandling: promhttp.ContinueOnError,
		// A scrape or two at a time is all a collector needs.
		MaxRequestsInFlight: 4,
		Timeout:             20 * time.Second,
	}))
	s.srv = &http.Server{
		Handler: mux,
		// A client that sends slowly or never reads holds a connection
		// for a bounded time only.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(logWriter{errorf}, "", 0),
	}
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errorf("metrics: %v", err)
		}
	}()
	return nil
}

// Addr returns the address the server listens on (with the port the
// kernel chose for port 0).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops the server: it stops listening at once and gives a scrape
// under way a second to finish.
func (s *Server) Close() error {
	if s.done == nil {
		return s.ln.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.srv.Close()
	}
	<-s.done
	return err
}

// logger passes promhttp's errors on to errorf.
type logger struct{ errorf func(string, ...any) }

func (l logger) Println(v ...any) { l.errorf("metrics: %s", fmt.Sprint(v...)) }

// logWriter passes net/http's log lines on to errorf.
type logWriter struct{ errorf func(string, ...any) }

func (w logWriter) Write(p []byte) (int, error) {
	w.errorf("metrics: %s", string(trimNewline(p)))
	return len(p), nil
}

func trimNewline(p []byte) []byte {
	for len(p) > 0 && p[len(p)-1] == '\n' {
		p = p[:len(p)-1]
	}
	return p
}
