package lite

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/metrics/metricstest"
)

// serve starts a server on a free port of 127.0.0.1 whose scrapes add a
// counter of value n, and returns it with the metrics' URL.
func serve(t *testing.T, n *float64) (*Server, string) {
	t.Helper()
	s, err := Listen("127.0.0.1:0")
	require.NoError(t, err)
	s.Serve(t.Logf, func(set *Set) {
		set.Family("test_things_total", "Things.", Counter, "kind").Add(*n, "x")
	})
	t.Cleanup(func() { s.Close() })
	return s, "http://" + s.Addr().String() + Path
}

// TestServe: a scrape through Go's HTTP client and expfmt's parser gets
// what the gather function added, read at the scrape, beside the Go
// runtime's and the process's metrics, in the text format.
func TestServe(t *testing.T) {
	n := 1.0
	_, url := serve(t, &n)
	got := metricstest.Scrape(t, url)
	assert.Equal(t, 1.0, got[metricstest.Sample("test_things_total", "kind", "x")])
	assert.Contains(t, got, "go_goroutines")
	assert.Positive(t, got["process_resident_memory_bytes"])
	n = 42
	assert.Equal(t, 42.0, metricstest.Scrape(t, url+"?the=query")[metricstest.Sample("test_things_total", "kind", "x")])

	resp, err := http.Get(url)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, ContentType, resp.Header.Get("Content-Type"))
	assert.Contains(t, string(body), "# HELP test_things_total Things.\n# TYPE test_things_total counter\ntest_things_total{kind=\"x\"} 42\n")

	resp, err = http.Head(url)
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, body)
	assert.Positive(t, resp.ContentLength)
}

// TestServeRequests: what the server answers to requests, written as
// they come on the wire.
func TestServeRequests(t *testing.T) {
	n := 0.0
	s, _ := serve(t, &n)
	for _, tt := range []struct {
		name, request, status string
		body                  string // a part of it; "" for none
	}{
		{"get", "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK", "test_things_total{kind=\"x\"} 0\n"},
		{"http/1.0, bare line feeds", "GET /metrics HTTP/1.0\n\n", "HTTP/1.1 200 OK", "# TYPE go_info gauge\n"},
		{"head", "HEAD /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK", ""},
		{"other path", "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found", "404 page not found\n"},
		{"longer path", "GET /metrics/x HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found", "404 page not found\n"},
		{"not http", "hello\r\n\r\n", "HTTP/1.1 400 Bad Request", "400 Bad Request\n"},
		{"http/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "HTTP/1.1 400 Bad Request", ""},
		{"no end of headers", "GET /metrics HTTP/1.1\r\nHost: x\r\n", "HTTP/1.1 400 Bad Request", ""},
		{"header too long", "GET /metrics HTTP/1.1\r\nX: " + strings.Repeat("a", 5000) + "\r\n\r\n", "HTTP/1.1 400 Bad Request", ""},
	} {
		c, err := net.Dial("tcp", s.Addr().String())
		require.NoError(t, err, tt.name)
		_, err = io.WriteString(c, tt.request)
		require.NoError(t, err, tt.name)
		c.(*net.TCPConn).CloseWrite()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		resp, err := io.ReadAll(c)
		c.Close()
		require.NoError(t, err, tt.name)
		status, _, _ := strings.Cut(string(resp), "\r\n")
		assert.Equal(t, tt.status, status, tt.name)
		_, body, _ := strings.Cut(string(resp), "\r\n\r\n")
		if tt.body == "" {
			if tt.status == "HTTP/1.1 200 OK" {
				assert.Empty(t, body, tt.name)
			}
		} else {
			assert.Contains(t, body, tt.body, tt.name)
		}
	}
}

// TestServeInFlight: four connections at a time are served; a fifth is
// told to come back later, and served once one of the four has gone.
func TestServeInFlight(t *testing.T) {
	n := 0.0
	s, url := serve(t, &n)
	var idle []net.Conn
	for range maxInFlight {
		c, err := net.Dial("tcp", s.Addr().String())
		require.NoError(t, err)
		defer c.Close()
		idle = append(idle, c)
	}
	// The server takes the four in turn: once they hold every slot, a
	// scrape is refused.
	require.Eventually(t, func() bool { return len(s.slots) == maxInFlight }, 10*time.Second, 5*time.Millisecond)
	resp, err := http.Get(url)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "Limit of concurrent requests reached (4), try again later.\n", string(body))

	idle[0].Close()
	require.Eventually(t, func() bool { return len(s.slots) < maxInFlight }, 10*time.Second, 5*time.Millisecond)
	assert.Contains(t, metricstest.Scrape(t, url), "go_goroutines")
}

// TestServeClose: Close stops the listening at once and ends the
// connections still open, and the server's goroutines with them.
func TestServeClose(t *testing.T) {
	n := 0.0
	s, _ := serve(t, &n)
	c, err := net.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	require.Eventually(t, func() bool { return len(s.slots) == 1 }, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, s.Close())
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = bufio.NewReader(c).ReadByte()
	assert.ErrorIs(t, err, io.EOF, "the open connection is closed")
	_, err = net.Dial("tcp", s.Addr().String())
	assert.Error(t, err, "nothing listens")
}

func TestListenTCPErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	_, err = Listen(ln.Addr().String())
	assert.EqualError(t, err, "can not listen on "+ln.Addr().String()+": address already in use")
	_, err = Listen("9100")
	assert.EqualError(t, err, `address "9100" is not host:port, [IPv6]:port or :port`)
}
