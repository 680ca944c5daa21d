package metrics

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckAddr(t *testing.T) {
	for _, tt := range []struct {
		addr string
		err  string
	}{
		{":9100", ""},
		{"127.0.0.1:9100", ""},
		{"[::1]:9100", ""},
		{"localhost:http", ""},
		{"127.0.0.1:0", ""},
		{"9100", `address "9100" is not host:port, [IPv6]:port or :port`},
		{"127.0.0.1", `address "127.0.0.1" is not host:port, [IPv6]:port or :port`},
		{"127.0.0.1:", `address "127.0.0.1:" is not host:port, [IPv6]:port or :port`},
		{"::1:9100", `address "::1:9100" is not host:port, [IPv6]:port or :port`},
		{"", `address "" is not host:port, [IPv6]:port or :port`},
		{":nosuchservice", `address ":nosuchservice": unknown port "nosuchservice"`},
		{":70000", `address ":70000": unknown port "70000"`},
	} {
		err := CheckAddr(tt.addr)
		if tt.err == "" {
			assert.NoError(t, err, tt.addr)
		} else {
			assert.EqualError(t, err, tt.err, tt.addr)
		}
	}
}

func TestListenErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	_, err = Listen(ln.Addr().String())
	assert.EqualError(t, err, "can not listen on "+ln.Addr().String()+": address already in use")
	_, err = Listen("9100")
	assert.EqualError(t, err, `address "9100" is not host:port, [IPv6]:port or :port`)
}

// counting is a collector whose value the test sets.
type counting struct {
	desc *prometheus.Desc
	mu   sync.Mutex
	n    float64
}

func (c *counting) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c *counting) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, c.n, `a "quoted"
label`)
}

// scrape fetches url and parses the text exposition.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4"), resp.Header.Get("Content-Type"))
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// TestServe: the collectors' metrics at /metrics, read at each scrape,
// beside the Go runtime's and the process's; nothing elsewhere; nothing
// once closed.
func TestServe(t *testing.T) {
	s, err := Listen("127.0.0.1:0")
	require.NoError(t, err)
	c := &counting{desc: prometheus.NewDesc("test_things_total", "Things counted.", []string{"what"}, nil), n: 3}
	var logged []string
	require.NoError(t, s.Serve(func(f string, a ...any) { logged = append(logged, f) }, c))
	url := "http://" + s.Addr().String()

	fams := scrape(t, url+Path)
	require.Contains(t, fams, "test_things_total")
	m := fams["test_things_total"].GetMetric()
	require.Len(t, m, 1)
	assert.Equal(t, 3.0, m[0].GetCounter().GetValue())
	assert.Equal(t, "a \"quoted\"\nlabel", m[0].GetLabel()[0].GetValue())
	assert.Equal(t, "Things counted.", fams["test_things_total"].GetHelp())
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "process_open_fds"} {
		assert.Contains(t, fams, name)
	}

	c.mu.Lock()
	c.n = 5
	c.mu.Unlock()
	fams = scrape(t, url+Path)
	assert.Equal(t, 5.0, fams["test_things_total"].GetMetric()[0].GetCounter().GetValue(), "read again at each scrape")

	resp, err := http.Get(url + "/")
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	require.NoError(t, s.Close())
	_, err = http.Get(url + Path)
	assert.Error(t, err, "closed")
	assert.Empty(t, logged)
}

// TestServeDuplicate: two collectors of one metric are refused at Serve,
// not at the first scrape.
func TestServeDuplicate(t *testing.T) {
	s, err := Listen("127.0.0.1:0")
	require.NoError(t, err)
	defer s.Close()
	d := prometheus.NewDesc("test_things_total", "Things counted.", nil, nil)
	err = s.Serve(nil, &counting{desc: d}, &counting{desc: d})
	assert.ErrorContains(t, err, "metrics: duplicate metrics collector registration attempted")
}

// TestCloseUnserved: a server closed before it served frees its port.
func TestCloseUnserved(t *testing.T) {
	s, err := Listen("127.0.0.1:0")
	require.NoError(t, err)
	addr := s.Addr().String()
	require.NoError(t, s.Close())
	again, err := Listen(addr)
	require.NoError(t, err)
	require.NoError(t, again.Close())
}
