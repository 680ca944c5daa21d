package main

import (
	"bytes"
	"io"
	"net"
	"os/exec"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/metrics/metricstest"
	"github.com/nfgo/nftools/internal/pktgen"
)

// metricsCapture is a capture whose flows expire in known ways with -d 10
// -e 30 (times in seconds from its start):
//
//	0.0-0.3  TCP A: SYN, ACK, data, FIN            -> tcp-end at the next scan
//	0.5-0.7  UDP B (IPv4), 3 packets               -> idle
//	0.8-0.9  UDP C (IPv6), 2 packets               -> idle, not exportable in v5
//	1.0      ARP                                   -> not counted
//	2-30     ICMP D, a packet every 7 s (5 packets) -> active, by the packet at 37
//	37, 44   ICMP D', the same key again            -> idle
//	60       UDP E                                 -> in the cache
//
// The packet at 60 s comes 16 s after the one before, more than a scan
// (-s 5), so the capture loop scans at it: the metrics then count every
// packet.
func metricsCapture(t *testing.T) []byte {
	t.Helper()
	c4, s4 := pktgen.A4("192.0.2.1"), pktgen.A4("198.51.100.1")
	c6, s6 := pktgen.A6("2001:db8::1"), pktgen.A6("2001:db8:1::1")
	v4 := pktgen.V4{Src: c4, Dst: s4}
	eth := func(ip []byte) []byte {
		typ := uint16(0x0800)
		if ip[0]>>4 == 6 {
			typ = 0x86dd
		}
		return pktgen.Ethernet(pktgen.RouterMAC, pktgen.ClientMAC, typ, nil, ip)
	}
	var buf bytes.Buffer
	w := pktgen.NewPcap(&buf, 1, pktgen.PcapOptions{})
	at := func(ms int64, frame []byte) { w.Write(pktgen.Start+ms*1e6, frame) }
	at(0, eth(pktgen.TCP4(v4, 40000, 80, pktgen.SYN, 0)))
	at(100, eth(pktgen.TCP4(v4, 40000, 80, pktgen.ACK, 0)))
	at(200, eth(pktgen.TCP4(v4, 40000, 80, pktgen.ACK|pktgen.PSH, 100)))
	at(300, eth(pktgen.TCP4(v4, 40000, 80, pktgen.ACK|pktgen.FIN, 0)))
	for i := range int64(3) {
		at(500+i*100, eth(pktgen.UDP4(v4, 40001, 53, 30)))
	}
	at(800, eth(pktgen.UDP6(pktgen.V6{Src: c6, Dst: s6}, 40002, 53, 30)))
	at(900, eth(pktgen.UDP6(pktgen.V6{Src: c6, Dst: s6}, 40002, 53, 30)))
	at(1000, pktgen.Ethernet(0xffffffffffff, pktgen.ClientMAC, 0x0806, nil, pktgen.ARP(pktgen.ClientMAC, c4, s4)))
	for s := int64(2); s <= 44; s += 7 {
		at(s*1000, eth(pktgen.ICMP4(v4, 8, 0, 56)))
	}
	at(60000, eth(pktgen.UDP4(v4, 40003, 123, 48)))
	require.NoError(t, w.Err())
	return buf.Bytes()
}

// TestMetricsUnderLoad: goprobe -i - reads metricsCapture from a pipe that
// stays open, exporting v5 to a sink, and serves --metrics: every count is
// what the capture makes, the datagrams and flows sent are what the sink
// received, and the metrics are those the man page's METRICS section
// lists.
func TestMetricsUnderLoad(t *testing.T) {
	sink := newUDPSink(t)
	p, stdin, url := startWithMetrics(t, "-n", "5", "-d", "10", "-e", "30", "-s", "5", sink.addr())

	got := metricstest.Scrape(t, url)
	assert.Zero(t, got["goprobe_captured_packets_total"], "nothing read yet")

	_, err := stdin.Write(metricsCapture(t))
	require.NoError(t, err)
	col := []string{"index", "1", "collector", sink.addr()}
	sent := metricstest.Sample("goprobe_sent_flows_total", col...)
	// goprobe counts a datagram as sent when the kernel took it, which can
	// be before the sink's goroutine has read it: wait for both.
	var datagrams, flows int
	require.Eventually(t, func() bool {
		got = metricstest.Scrape(t, url)
		datagrams, flows = sink.counts()
		return got["goprobe_captured_packets_total"] == 18 && got[sent] == 4 && flows == 4
	}, 20*time.Second, 50*time.Millisecond, "%v", got)
	want := map[string]float64{
		"goprobe_captured_packets_total":                                       18,
		"goprobe_ignored_packets_total":                                        1, // the ARP frame
		"goprobe_kernel_dropped_packets_total":                                 0,
		"goprobe_interface_dropped_packets_total":                              0,
		"goprobe_active_flows":                                                 1, // E
		metricstest.Sample("goprobe_expired_flows_total", "reason", "idle"):    3, // B, C, D'
		metricstest.Sample("goprobe_expired_flows_total", "reason", "active"):  1, // D
		metricstest.Sample("goprobe_expired_flows_total", "reason", "tcp-end"): 1, // A
		metricstest.Sample("goprobe_expired_flows_total", "reason", "split"):   0,
		metricstest.Sample("goprobe_expired_flows_total", "reason", "evicted"): 0,
		metricstest.Sample("goprobe_expired_flows_total", "reason", "flush"):   0,
		"goprobe_export_queue_flows":                                           0,
		"goprobe_export_queue_lost_flows_total":                                0,
		"goprobe_unexportable_flows_total":                                     1, // C, IPv6 in v5
		sent:                                                                   4,
		metricstest.Sample("goprobe_sent_datagrams_total", col...):             float64(datagrams),
		metricstest.Sample("goprobe_send_errors_total", col...):                0,
	}
	for k, v := range want {
		assert.Equal(t, v, got[k], k)
	}
	assert.Positive(t, datagrams)
	assert.Equal(t, metricstest.Listed(t, manPage, "goprobe_"), metricstest.Served(got, "goprobe_"), "METRICS in %s", manPage)
	assert.Contains(t, got, "process_resident_memory_bytes", "the process's metrics are served too")

	// The end of the pipe ends goprobe, which flushes E.
	require.NoError(t, stdin.Close())
	assert.Equal(t, 0, p.wait(), p.log.String())
	assert.Eventually(t, func() bool { _, f := sink.counts(); return f == 5 }, 10*time.Second, 10*time.Millisecond)
}

// TestMetricsOptionErrors: a --metrics address goprobe cannot use ends it
// with status 1 and a message that names the address: at the start for
// one that is not an address, when it binds for one in use.
func TestMetricsOptionErrors(t *testing.T) {
	sink := newUDPSink(t)
	for _, tt := range []struct {
		addr, want string
	}{
		{"9100", "goprobe: --metrics: address \"9100\" is not host:port, [IPv6]:port or :port\n"},
		{"localhost", "goprobe: --metrics: address \"localhost\" is not host:port, [IPv6]:port or :port\n"},
		{":nosuchservice", "goprobe: --metrics: address \":nosuchservice\": unknown port \"nosuchservice\"\n"},
	} {
		code, stdout, stderr := runArgs("-i", "-", "--metrics", tt.addr, sink.addr())
		assert.Equal(t, 1, code, tt.addr)
		assert.Empty(t, stdout, tt.addr)
		assert.Equal(t, tt.want, stderr, tt.addr)
	}

	busy := newTCPListener(t)
	code, stdout, _ := runArgs("-i", "-", "--metrics", busy, sink.addr())
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout, "[CRIT]: can not listen on "+busy+": address already in use\n")
}

// TestMetricsSignal: SIGTERM ends a goprobe that serves metrics as one
// that does not: the cache exported, status 0. With the default timeouts
// D and D' are one flow, so v5 carries four: A, B, D and E.
func TestMetricsSignal(t *testing.T) {
	sink := newUDPSink(t)
	p, stdin, url := startWithMetrics(t, sink.addr())
	defer stdin.Close()
	_, err := stdin.Write(metricsCapture(t))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return metricstest.Scrape(t, url)["goprobe_captured_packets_total"] == 18 },
		20*time.Second, 50*time.Millisecond)
	assert.Equal(t, 0, p.stop(syscall.SIGTERM), p.log.String())
	assert.Eventually(t, func() bool { _, f := sink.counts(); return f == 4 }, 10*time.Second, 10*time.Millisecond)
}

// startWithMetrics starts the built goprobe -i - with --metrics on a free
// port of 127.0.0.1 and args, and returns it, the pipe to its standard
// input, and the URL it serves the metrics at, from its log.
func startWithMetrics(t *testing.T, args ...string) (*proc, io.WriteCloser, string) {
	t.Helper()
	cmd := exec.Command(goprobeBin(t), append([]string{"-i", "-", "--metrics", "127.0.0.1:0"}, args...)...)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	p := startProc(t, cmd)
	p.waitLog("Serving metrics at ")
	m := regexp.MustCompile(`\[INFO\]: Serving metrics at (http://127\.0\.0\.1:\d+/metrics)\n`).FindStringSubmatch(p.log.String())
	require.NotNil(t, m, p.log.String())
	return p, stdin, m[1]
}

// newTCPListener listens on a free TCP port of 127.0.0.1 until the test
// ends and returns its address.
func newTCPListener(t *testing.T) string {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}
