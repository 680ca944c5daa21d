//go:build linux

package main

import (
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/metrics/metricstest"
)

// mixedProtos is the protocol of record j%4 in the datagrams below: TCP,
// UDP, ICMP and GRE (counted as other).
var mixedProtos = [4]byte{6, 17, 1, 47}

// v5Mixed is a NetFlow v5 datagram (engine 0) with n flows; flow j has
// protocol mixedProtos[j%4], j+1 packets and 64*(j+1) bytes.
func v5Mixed(seq uint32, n int) []byte {
	be := binary.BigEndian
	b := make([]byte, 24+48*n)
	be.PutUint16(b[0:], 5)
	be.PutUint16(b[2:], uint16(n))
	be.PutUint32(b[4:], 3_600_000)                 // uptime: an hour
	be.PutUint32(b[8:], uint32(time.Now().Unix())) // unix seconds
	be.PutUint32(b[16:], seq)                      // flows sent before
	for j := 0; j < n; j++ {
		r := b[24+48*j:]
		copy(r[0:], []byte{10, 1, 0, byte(j)}) // source
		copy(r[4:], []byte{10, 2, 0, 1})       // destination
		be.PutUint32(r[16:], uint32(j+1))      // packets
		be.PutUint32(r[20:], uint32(64*(j+1))) // bytes
		be.PutUint32(r[24:], 3_500_000)        // first, uptime msec
		be.PutUint32(r[28:], 3_590_000)        // last
		be.PutUint16(r[32:], uint16(1024+j))
		be.PutUint16(r[34:], 80)
		r[38] = mixedProtos[j%4]
	}
	return b
}

// v9Mixed is a NetFlow v9 datagram (source id 0) with n records of
// template 256 (flowFields), as v5Mixed: record j has protocol
// mixedProtos[j%4], j+1 packets and 64*(j+1) bytes. With template 0 it
// names template 300 instead, which the exporter never sent.
func v9Mixed(seq uint32, n int, template uint16) []byte {
	be := binary.BigEndian
	b := be.AppendUint16(nil, 9)
	b = be.AppendUint16(b, uint16(n))
	b = be.AppendUint32(b, 3_600_000)
	b = be.AppendUint32(b, uint32(time.Now().Unix()))
	b = be.AppendUint32(b, seq)
	b = be.AppendUint32(b, 0)
	if template == 0 {
		template = 300
	}
	b = be.AppendUint16(b, template)
	const recLen = 29
	pad := (4 - recLen*n%4) % 4
	b = be.AppendUint16(b, uint16(4+recLen*n+pad))
	for j := 0; j < n; j++ {
		b = append(b, 10, 3, 0, byte(j), 10, 4, 0, 1)
		b = be.AppendUint16(b, uint16(2048+j))
		b = be.AppendUint16(b, 53)
		b = append(b, mixedProtos[j%4])
		b = be.AppendUint32(b, uint32(j+1))
		b = be.AppendUint32(b, uint32(64*(j+1)))
		b = be.AppendUint32(b, 3_500_000)
		b = be.AppendUint32(b, 3_590_000)
	}
	return append(b, make([]byte, pad)...)
}

// metricsURL returns where a gocapd started with --metrics 127.0.0.1:0
// serves, from its log.
func metricsURL(t *testing.T, p *daemonProc) string {
	t.Helper()
	p.waitLog("Serving metrics at ", 5*time.Second)
	m := regexp.MustCompile(`Serving metrics at (http://127\.0\.0\.1:\d+/metrics)\n`).FindStringSubmatch(p.log.String())
	require.NotNil(t, m, p.log.String())
	return m[1]
}

// onDisk returns the flow files under dir and the space they take (in
// 512-byte blocks, as nfexpire counts).
func onDisk(t *testing.T, dir string) (files int, bytes uint64) {
	t.Helper()
	require.NoError(t, filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() && regexp.MustCompile(`^nfcapd\.\d{12}$`).MatchString(fi.Name()) {
			files++
			bytes += uint64(fi.Sys().(*syscall.Stat_t).Blocks) * 512
		}
		return err
	}))
	return files, bytes
}

// TestMetricsUnderLoad: two exporters into two flow sources, one NetFlow
// v5 and one v9, send datagrams of known content, with a sequence
// failure, a short datagram, a datagram for a template never sent and one
// from an exporter no source takes. The endpoint of --metrics shows each
// count exactly; after a rotation, the files written and the flow
// directories' sizes; and every gocapd_ metric it serves is in the man
// page's METRICS section, and every one there is served.
func TestMetricsUnderLoad(t *testing.T) {
	dir1, dir2 := t.TempDir(), t.TempDir()
	p := startGocapd(t, []string{"TZ=UTC"}, "-n", "r1,127.0.0.1,"+dir1, "-n", "r2,127.0.0.2,"+dir2, "--metrics", "127.0.0.1:0")
	url := metricsURL(t, p)
	dst := "127.0.0.1"

	// r1: ten v5 datagrams of 8 flows, the sixth numbered 8 flows too
	// far (one sequence failure), then 3 bytes (a short datagram).
	var v5 [][]byte
	seq := uint32(0)
	for i := 0; i < 10; i++ {
		if i == 5 {
			seq += 8
		}
		v5 = append(v5, v5Mixed(seq, 8))
		seq += 8
	}
	v5 = append(v5, []byte{0, 5, 0})
	sendFrom(t, "127.0.0.1", dst, v5, p.port)
	// r2: its template, five v9 datagrams of 6 flows, and one for
	// template 300 that it never sent.
	v9 := [][]byte{v9Template(0, flowFields)}
	for i := 1; i <= 5; i++ {
		v9 = append(v9, v9Mixed(uint32(i), 6, 256))
	}
	v9 = append(v9, v9Mixed(6, 1, 0))
	sendFrom(t, "127.0.0.2", dst, v9, p.port)
	// No source takes 127.0.0.3.
	sendFrom(t, "127.0.0.3", dst, [][]byte{v5Mixed(0, 1)}, p.port)

	// The worker publishes its counters once a second.
	var got map[string]float64
	require.Eventually(t, func() bool {
		got = metricstest.Scrape(t, url)
		return got["gocapd_flows_total"] == 110 && got["gocapd_received_datagrams_total"] == 19 &&
			got[`gocapd_decode_errors_total{reason="unknown template"}`] == 1
	}, 10*time.Second, 100*time.Millisecond, "%v", got)

	r1 := []string{"ident", "r1", "exporter", "127.0.0.1", "version", "5", "domain", "0"}
	r2 := []string{"ident", "r2", "exporter", "127.0.0.2", "version", "9", "domain", "0"}
	want := map[string]float64{
		"gocapd_received_datagrams_total":                       19,
		"gocapd_flows_total":                                    110,
		"gocapd_sequence_failures_total":                        1,
		"gocapd_unknown_source_datagrams_total":                 1,
		"gocapd_queue_overflow_datagrams_total":                 0,
		"gocapd_kernel_dropped_datagrams_total":                 0,
		"gocapd_lost_flows_total":                               0,
		"gocapd_exporters":                                      2,
		"gocapd_exporters_evicted_total":                        0,
		"gocapd_exporters_expired_total":                        0,
		"gocapd_templates_refused_total":                        0,
		`gocapd_decode_errors_total{reason="short datagram"}`:   1,
		`gocapd_decode_errors_total{reason="unknown template"}`: 1,
		`gocapd_decode_errors_total{reason="bad template"}`:     0,

		metricstest.Sample("gocapd_exporter_datagrams_total", r1...):         10,
		metricstest.Sample("gocapd_exporter_sequence_failures_total", r1...): 1,
		metricstest.Sample("gocapd_exporter_templates", r1...):               0,
		metricstest.Sample("gocapd_exporter_datagrams_total", r2...):         7,
		metricstest.Sample("gocapd_exporter_sequence_failures_total", r2...): 0,
		metricstest.Sample("gocapd_exporter_templates", r2...):               1,
	}
	// Per protocol: r1 sent ten datagrams of flows j = 0..7, r2 five of
	// flows j = 0..5; flow j has j+1 packets of 64 bytes each.
	for i, proto := range []string{"tcp", "udp", "icmp", "other"} {
		for _, e := range []struct {
			labels       []string
			datagrams, n int
		}{{r1, 10, 8}, {r2, 5, 6}} {
			var flows, packets int
			for j := i; j < e.n; j += 4 {
				flows++
				packets += j + 1
			}
			l := append(append([]string(nil), e.labels...), "proto", proto)
			want[metricstest.Sample("gocapd_exporter_flows_total", l...)] = float64(e.datagrams * flows)
			want[metricstest.Sample("gocapd_exporter_packets_total", l...)] = float64(e.datagrams * packets)
			want[metricstest.Sample("gocapd_exporter_bytes_total", l...)] = float64(e.datagrams * packets * 64)
		}
	}
	for k, v := range want {
		g, ok := got[k]
		if assert.True(t, ok, "%s not served", k) {
			assert.Equal(t, v, g, k)
		}
	}
	assert.Positive(t, got["gocapd_template_memory_bytes"])
	for _, ident := range []string{"r1", "r2"} {
		for _, name := range []string{"gocapd_exporter_datagrams_total", "gocapd_exporter_flows_total"} {
			n := 0
			for k := range got {
				if strings.HasPrefix(k, name+"{") && strings.Contains(k, `ident="`+ident+`"`) {
					n++
				}
			}
			assert.Equal(t, map[string]int{"gocapd_exporter_datagrams_total": 1, "gocapd_exporter_flows_total": 4}[name], n,
				"%s of %s: one exporter, by protocol for flows", name, ident)
		}
	}

	// A rotation: one more file put in place in each directory (two,
	// should a slot boundary pass meanwhile), and the directories'
	// sizes as they are on disk.
	s1, s2 := metricstest.Sample("", "ident", "r1", "dir", dir1), metricstest.Sample("", "ident", "r2", "dir", dir2)
	before := got["gocapd_files_written_total"+s1]
	hup := time.Now()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGHUP))
	require.Eventually(t, func() bool {
		got = metricstest.Scrape(t, url)
		ok := got["gocapd_files_written_total"+s1] > before && got["gocapd_files_written_total"+s2] > before
		for _, d := range []struct{ labels, dir string }{{s1, dir1}, {s2, dir2}} {
			files, bytes := onDisk(t, d.dir)
			ok = ok && got["gocapd_flow_directory_files"+d.labels] == float64(files) && got["gocapd_flow_directory_size_bytes"+d.labels] == float64(bytes)
		}
		return ok
	}, 10*time.Second, 100*time.Millisecond, "%v", got)
	for _, s := range []string{s1, s2} {
		assert.LessOrEqual(t, got["gocapd_files_written_total"+s], before+2)
		ts := got["gocapd_last_rotation_timestamp_seconds"+s]
		assert.GreaterOrEqual(t, ts, float64(hup.UnixNano())/1e9-1, "at the rotation (or a slot boundary just before)")
		assert.LessOrEqual(t, ts, float64(time.Now().UnixNano())/1e9)
		took := got["gocapd_last_rotation_duration_seconds"+s]
		assert.Greater(t, took, 0.0)
		assert.Less(t, took, 10.0)
		assert.Positive(t, got["gocapd_flow_directory_size_bytes"+s])
	}
	assert.Equal(t, 0, p.stop(syscall.SIGTERM), p.log.String())

	// Every gocapd_ metric served is listed in the man page, and every
	// one listed is served.
	assert.Equal(t, metricstest.Listed(t, manPage, "gocapd_"), metricstest.Served(got, "gocapd_"), "METRICS in %s", manPage)
	assert.Contains(t, got, "process_resident_memory_bytes", "the process's metrics are served too")
}

// TestMetricsOptionErrors: a --metrics address gocapd cannot use ends it
// at its start with status 1 and a line that names the address.
func TestMetricsOptionErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		addr, want string
	}{
		{"9100", "gocapd: --metrics: address \"9100\" is not host:port, [IPv6]:port or :port\n"},
		{"localhost", "gocapd: --metrics: address \"localhost\" is not host:port, [IPv6]:port or :port\n"},
		{":nosuchservice", "gocapd: --metrics: address \":nosuchservice\": unknown port \"nosuchservice\"\n"},
	} {
		code, stdout, stderr := runArgs("-w", dir, "--metrics", tt.addr)
		assert.Equal(t, 1, code, tt.addr)
		assert.Empty(t, stdout, tt.addr)
		assert.Equal(t, tt.want, stderr, tt.addr)
	}
	code, _, stderr := runArgs("-w", dir, "--metrics")
	assert.Equal(t, 1, code)
	assert.Equal(t, "gocapd: option '--metrics' requires an argument\nTry 'gocapd -h' for help.\n", stderr)

	// A port in use: found when gocapd binds it, after the flow socket.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	port := freePort(t)
	code, _, stderr = runArgs("-b", "127.0.0.1", "-p", strconv.Itoa(port), "-w", dir, "--metrics", ln.Addr().String())
	assert.Equal(t, 1, code)
	assert.Equal(t, "Bound to IPv4 host/IP: 127.0.0.1, Port: "+strconv.Itoa(port)+"\n"+
		"Metrics socket error: can not listen on "+ln.Addr().String()+": address already in use\n"+
		"Terminated due to errors\n", stderr)
}
