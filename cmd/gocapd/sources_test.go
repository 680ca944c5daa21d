//go:build linux

package main

// End-to-end tests of -C, -f and -m/-i: gocapd beside the real nfcapd
// 1.7.1 where nfcapd can do the same, on loopback and UNIX sockets in the
// test's own directories.

import (
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/collector"
	"github.com/nfgo/nftools/internal/pktgen"
)

// TestConfigFileLikeNfcapd: the exporters of a config file become flow
// sources in nfcapd and in gocapd alike, after a -n source.
func TestConfigFileLikeNfcapd(t *testing.T) {
	v5 := captureSoftflowd(t, "-v", "5")
	v9 := captureSoftflowd(t, "-v", "9", "-a")
	refRoot, ourRoot := t.TempDir(), t.TempDir()
	args := func(root string) []string {
		for _, d := range []string{"n", "r1", "r2"} {
			require.NoError(t, os.Mkdir(filepath.Join(root, d), 0o755))
		}
		conf := "# written by the test\n[nfdump]\nfmt.mine = \"%ts %sa\"\n\n[nfcapd]\n" +
			"exporter.r1 = [\"127.0.1.1\", \"" + root + "/r1\"]\n" +
			"exporter.router_2 = [ '127.0.1.2',\n  \"" + root + "/r2\", ] # v9\n"
		require.NoError(t, os.WriteFile(filepath.Join(root, "nf.conf"), []byte(conf), 0o644))
		return []string{"-n", "cmdline,127.0.1.3," + root + "/n", "-C", filepath.Join(root, "nf.conf")}
	}
	ref := startNfcapdSpec(t, daemonSpec{args: args(refRoot)})
	ours := startGocapdSpec(t, daemonSpec{env: []string{"TZ=UTC"}, args: args(ourRoot)})
	sendFrom(t, "127.0.1.1", "127.0.0.1", v5, ours.port, ref.port)
	sendFrom(t, "127.0.1.2", "127.0.0.1", v9, ours.port, ref.port)
	sendFrom(t, "127.0.1.3", "127.0.0.1", v5[:1], ours.port, ref.port)
	stopAll(t, ref, ours)

	for _, d := range []string{"n", "r1", "r2"} {
		want := csvFlows(t, filepath.Join(refRoot, d))
		require.NotEmpty(t, want, d)
		assert.Equal(t, want, csvFlows(t, filepath.Join(ourRoot, d)), d)
		assert.Equal(t, nfdumpStat(t, filepath.Join(refRoot, d))["Ident"], nfdumpStat(t, filepath.Join(ourRoot, d))["Ident"], d)
	}
	assert.Equal(t, "router_2", nfdumpStat(t, filepath.Join(ourRoot, "r2"))["Ident"])
	for _, p := range []*daemonProc{ref, ours} {
		assert.Contains(t, p.log.String(), "Add flow source: ident: router_2, IP: 127.0.1.2, flowdir: ", p.name)
	}
}

// pcapFrame wraps a datagram from 127.0.0.1 into Ethernet, IPv4 and UDP
// headers, with a VLAN tag when vlan is set.
func pcapFrame(payload []byte, vlan bool) []byte {
	var vlans []uint16
	if vlan {
		vlans = []uint16{42}
	}
	lo := [4]byte{127, 0, 0, 1}
	ip := pktgen.IPv4(pktgen.V4{Src: lo, Dst: lo, Proto: pktgen.ProtoUDP}, pktgen.UDP(40000, 2055, payload))
	return pktgen.Ethernet(0x020000000002, 0x020000000001, 0x0800, vlans, ip)
}

// writePcap writes frames as a classic little-endian microsecond pcap of
// an Ethernet link; the frame of index cut says it was 10 bytes longer on
// the wire.
func writePcap(t *testing.T, path string, frames [][]byte, cut int) {
	t.Helper()
	var b bytes.Buffer
	w := pktgen.NewPcap(&b, 1, pktgen.PcapOptions{})
	for i, f := range frames {
		wire := len(f)
		if i == cut {
			wire += 10
		}
		w.WriteRecord(int64(1795556400+i)*1e9, f, wire)
	}
	require.NoError(t, w.Err())
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
}

// TestPcapFileLikeNfcapd: gocapd -f reads softflowd's datagrams from a
// capture file and ends at its end; its files hold what nfcapd stores when
// the same datagrams arrive on its socket from the same address. (Debian's
// nfcapd is built without -f, so it cannot read the file itself.)
func TestPcapFileLikeNfcapd(t *testing.T) {
	v5 := captureSoftflowd(t, "-v", "5")
	v9 := captureSoftflowd(t, "-v", "9", "-a")
	var frames [][]byte
	arp := append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06}, make([]byte, 28)...)
	ipv6 := append([]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd}, make([]byte, 48)...)
	frames = append(frames, arp, ipv6)
	for i, d := range append(append([][]byte{}, v5...), v9...) {
		frames = append(frames, pcapFrame(d, i%2 == 1))
	}
	// A datagram cut short by the snap length is skipped, not stored.
	frames = append(frames, pcapFrame(v5[0], false)[:60])
	pcap := filepath.Join(t.TempDir(), "netflow.pcap")
	writePcap(t, pcap, frames, len(frames)-1)

	refDir, ourDir := t.TempDir(), t.TempDir()
	ref := startNfcapdSpec(t, daemonSpec{args: []string{"-w", refDir, "-I", "pcap"}})
	sendFrom(t, "127.0.0.1", "127.0.0.1", v5, ref.port)
	sendFrom(t, "127.0.0.1", "127.0.0.1", v9, ref.port)
	stopAll(t, ref)

	cmd := exec.Command(gocapdBin(t), "-w", ourDir, "-I", "pcap", "-f", pcap)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := runTimeout(cmd, 20*time.Second)
	require.NoError(t, err, "gocapd -f must end by itself at the end of the file:\n%s", out)
	log := string(out)
	assert.Contains(t, log, "Setup pcap reader\n")
	assert.Contains(t, log, "Short packet - missing: ")
	assert.NotContains(t, log, "Bound to", "no socket with -f")
	assert.Contains(t, log, "Terminating gocapd.\n")

	assert.Equal(t, csvFlows(t, refDir), csvFlows(t, ourDir))
	want, got := nfdumpStat(t, refDir), nfdumpStat(t, ourDir)
	for _, k := range []string{"Ident", "Flows", "Packets", "Bytes", "Flows_tcp", "Flows_udp", "Flows_icmp"} {
		assert.Equal(t, want[k], got[k], k)
	}
	assert.Contains(t, exporters(t, ourDir), "127.0.0.1")
}

// metricListener accepts the metric exporter's connections on a UNIX
// socket in the test's directory and decodes each message.
type metricListener struct {
	path string
	mu   sync.Mutex
	msgs []*collector.MetricMessage
	errs []error
}

func listenMetrics(t *testing.T) *metricListener {
	t.Helper()
	// A UNIX socket path must stay under 108 bytes; t.TempDir() may not.
	dir, err := os.MkdirTemp("", "metric")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	m := &metricListener{path: filepath.Join(dir, "sock")}
	l, err := net.Listen("unix", m.path)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			b, err := io.ReadAll(c)
			c.Close()
			if err == nil && len(b) == 0 {
				// The exporter's probe at startup: connect and close.
				continue
			}
			msg, derr := collector.DecodeMetricMessage(b)
			m.mu.Lock()
			if err != nil || derr != nil {
				m.errs = append(m.errs, err, derr)
			} else {
				m.msgs = append(m.msgs, msg)
			}
			m.mu.Unlock()
		}
	}()
	return m
}

// wait returns the first message with records, or fails after d.
func (m *metricListener) wait(t *testing.T, d time.Duration) *collector.MetricMessage {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		m.mu.Lock()
		msgs, errs := m.msgs, m.errs
		m.mu.Unlock()
		require.Empty(t, errs)
		if len(msgs) > 0 {
			return msgs[0]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no metric message on %s within %v", m.path, d)
	return nil
}

// TestMetricSocket: gocapd -m sends the counters of its flows every -i
// seconds; they add up to what nfdump -I reads from the files.
func TestMetricSocket(t *testing.T) {
	v5 := captureSoftflowd(t, "-v", "5")
	m := listenMetrics(t)
	dir := t.TempDir()
	ours := startGocapdSpec(t, daemonSpec{env: []string{"TZ=UTC"}, args: []string{"-w", dir, "-I", "metric", "-m", m.path, "-i", "10", "-v"}})
	assert.Contains(t, ours.log.String(), "Metric initialized\n")
	// All flows within one interval, so that the first message holds
	// them all.
	waitForSlot(t, 10*time.Second, 2*time.Second)
	sendFrom(t, "127.0.0.1", "127.0.0.1", v5, ours.port)
	msg := m.wait(t, 15*time.Second)
	stopAll(t, ours)

	assert.Equal(t, uint16(10), msg.Interval)
	assert.Zero(t, msg.TimeStamp%10000, "the time stamp is rounded to the interval")
	assert.InDelta(t, time.Now().UnixMilli(), int64(msg.TimeStamp), 30000)
	assert.Less(t, msg.Uptime, uint64(30))
	require.Len(t, msg.Records, 1)
	assert.Equal(t, uint16(232), msg.SizeField)
	r := msg.Records[0]
	assert.Equal(t, "metric", r.Ident)
	assert.Equal(t, uint64(1)<<16, r.ExporterID, "SysID 1, engine type and id 0 as softflowd sends them")
	st := nfdumpStat(t, dir)
	num := func(k string) uint64 {
		n, err := strconv.ParseUint(st[k], 10, 64)
		require.NoError(t, err, k)
		return n
	}
	for i, proto := range []string{"tcp", "udp", "icmp", "other"} {
		assert.Equal(t, num("Flows_"+proto), r.Flows[i], proto)
		assert.Equal(t, num("Packets_"+proto), r.Packets[i], proto)
		assert.Equal(t, num("Bytes_"+proto), r.Bytes[i], proto)
	}
	assert.Contains(t, ours.log.String(), "Message sent for 'metric', exporter: 65536\n")
}

// TestMetricSocketUnreachable: without a listener gocapd logs nfcapd's
// lines and collects on.
func TestMetricSocketUnreachable(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "nobody")
	ours := startGocapdSpec(t, daemonSpec{env: []string{"TZ=UTC"}, args: []string{"-w", t.TempDir(), "-m", sock}})
	stopAll(t, ours)
	log := ours.log.String()
	assert.Contains(t, log, "connect() failed on "+sock+": ")
	assert.Contains(t, log, "metric socket unreachable\nMetric initialized\n")
}

// TestMetricLikeNfcapd: nfcapd 1.7.1 and gocapd, both with the default
// interval of 60 seconds, send the same counters for the same datagrams.
// It waits for the next full minute, so it is skipped with -short.
func TestMetricLikeNfcapd(t *testing.T) {
	if testing.Short() {
		t.Skip("waits up to a minute for the metric messages")
	}
	v9 := captureSoftflowd(t, "-v", "9", "-a")
	refSock, ourSock := listenMetrics(t), listenMetrics(t)
	ref := startNfcapdSpec(t, daemonSpec{args: []string{"-w", t.TempDir(), "-I", "same", "-m", refSock.path}})
	ours := startGocapdSpec(t, daemonSpec{env: []string{"TZ=UTC"}, args: []string{"-w", t.TempDir(), "-I", "same", "-m", ourSock.path}})
	// Too close to a full minute the two could count the datagrams in
	// different intervals. Checked once both run, right before sending:
	// checked before their start, a loaded machine's slow starts could eat
	// the margin.
	waitForSlot(t, time.Minute, 10*time.Second)
	sendFrom(t, "127.0.0.1", "127.0.0.1", v9, ref.port, ours.port)
	want := refSock.wait(t, 75*time.Second)
	got := ourSock.wait(t, 10*time.Second)
	stopAll(t, ref, ours)
	// nfcapd 1.7.1's uptime is its time in seconds less its start time in
	// milliseconds cut to 32 bits; ours counts seconds (see the man page).
	t.Logf("uptime: nfcapd %d, gocapd %d", want.Uptime, got.Uptime)
	for _, p := range []*daemonProc{ref, ours} {
		assert.Contains(t, p.log.String(), "Metric initialized\n", p.name)
	}
	assert.Equal(t, want.Interval, got.Interval)
	assert.Equal(t, want.TimeStamp, got.TimeStamp)
	assert.Equal(t, want.SizeField, got.SizeField)
	assert.Equal(t, want.CountField, got.CountField)
	assert.Equal(t, want.Records, got.Records)
	require.Len(t, got.Records, 1)
	assert.Equal(t, "same", strings.TrimSpace(got.Records[0].Ident))
}
