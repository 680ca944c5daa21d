package main

// End-to-end tests: goprobe reads a capture (--read, -i -) and exports it
// to the real nfcapd 1.7.1 and to gocapd, beside softflowd 1.1 and fprobe
// 1.1 reading the same capture; nfdump then reads what each collector
// stored.

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/pktgen"
	"github.com/nfgo/nftools/internal/testutil"
)

// proc is a process a test started; it is killed at the end of the test
// if it still runs.
type proc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	log  *testutil.SyncBuffer
	done chan struct{}
}

func startProc(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{t: t, name: filepath.Base(cmd.Path), cmd: cmd, log: &testutil.SyncBuffer{}, done: make(chan struct{})}
	if cmd.Stdout == nil {
		cmd.Stdout = p.log
	}
	cmd.Stderr = p.log
	require.NoError(t, cmd.Start())
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// waitLog waits until the process has logged s.
func (p *proc) waitLog(s string) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.log.String(), s) {
		select {
		case <-p.done:
			p.t.Fatalf("%s exited while waiting for %q; log:\n%s", p.name, s, p.log)
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("waiting for %q from %s; log:\n%s", s, p.name, p.log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wait waits for the process to end by itself and returns its status.
func (p *proc) wait() int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		p.cmd.Process.Kill()
		p.t.Fatalf("%s did not end; log:\n%s", p.name, p.log)
	}
	return p.cmd.ProcessState.ExitCode()
}

// stop sends sig and returns the exit status.
func (p *proc) stop(sig syscall.Signal) int {
	p.t.Helper()
	require.NoError(p.t, p.cmd.Process.Signal(sig))
	return p.wait()
}

// collector is nfcapd or gocapd on a free port of 127.0.0.1, writing into
// a directory of its own.
type collector struct {
	*proc
	port int
	dir  string
}

func startCollector(t *testing.T, name string) *collector {
	t.Helper()
	bin := goprobeSibling(t, name)
	c := &collector{port: testutil.FreeUDPPort(t), dir: t.TempDir()}
	// A large socket buffer: softflowd and goprobe send a capture file's
	// flows as fast as they read them.
	cmd := exec.Command(bin, "-b", "127.0.0.1", "-p", strconv.Itoa(c.port), "-w", c.dir, "-t", "3600", "-B", "16777216")
	cmd.Env = append(os.Environ(), "TZ=UTC")
	c.proc = startProc(t, cmd)
	c.waitLog("Startup " + name + ".")
	return c
}

func (c *collector) addr() string { return "127.0.0.1:" + strconv.Itoa(c.port) }

// finish gives the collector a moment to read what was sent, stops it and
// returns the flows it stored.
func (c *collector) finish() flowSet {
	c.t.Helper()
	time.Sleep(500 * time.Millisecond)
	require.Equal(c.t, 0, c.stop(syscall.SIGTERM), "%s log:\n%s", c.name, c.log)
	return readFlows(c.t, c.dir)
}

// goprobeSibling finds gocapd or godump (built from this tree) or a real
// tool.
func goprobeSibling(t *testing.T, name string) string {
	t.Helper()
	if name == "gocapd" || name == "godump" {
		return testutil.BuildCommand(t, "../"+name)
	}
	return testutil.RequireTool(t, name)
}

// flowKey is a flow's 5-tuple as nfdump prints it (ICMP type.code as the
// destination port).
type flowKey struct {
	proto, src, dst, sport, dport string
}

// flowSet is the packets and bytes per 5-tuple, summed over the records
// (a probe may split a long flow in several).
type flowSet struct {
	flows            map[flowKey][2]uint64
	packets, bytes   uint64
	records          int
	v6flows, v4flows int
}

// readFlows reads a collector's directory with the real nfdump.
func readFlows(t *testing.T, dir string) flowSet {
	t.Helper()
	res := testutil.RunTool(t, "UTC", "nfdump", "-R", dir, "-q", "-N", "-6", "-o", "fmt:%pr|%sa|%da|%sp|%dp|%pkt|%byt")
	require.Equal(t, 0, res.Code, res.Stderr)
	fs := flowSet{flows: map[flowKey][2]uint64{}}
	for _, line := range strings.Split(strings.TrimSpace(res.Stdout), "\n") {
		if line == "" || line == "No matching flows" {
			continue
		}
		c := strings.Split(line, "|")
		require.Len(t, c, 7, line)
		for i := range c {
			c[i] = strings.TrimSpace(c[i])
		}
		k := flowKey{c[0], c[1], c[2], c[3], c[4]}
		p, err := strconv.ParseUint(c[5], 10, 64)
		require.NoError(t, err, line)
		b, err := strconv.ParseUint(c[6], 10, 64)
		require.NoError(t, err, line)
		v := fs.flows[k]
		if v == ([2]uint64{}) {
			if strings.Contains(k.src, ":") {
				fs.v6flows++
			} else {
				fs.v4flows++
			}
		}
		fs.flows[k] = [2]uint64{v[0] + p, v[1] + b}
		fs.packets += p
		fs.bytes += b
		fs.records++
	}
	return fs
}

// keys lists the 5-tuples of a flow set, sorted, for a readable diff.
func (fs flowSet) keys() []string {
	var ks []string
	for k := range fs.flows {
		ks = append(ks, fmt.Sprint(k))
	}
	slices.Sort(ks)
	return ks
}

// capture is a synthetic capture file and what it holds.
type captureFile struct {
	path           string
	packets, bytes uint64 // IP packets and their IP lengths
	v4packets      uint64
	v4bytes        uint64
}

// writeCapture writes n packets of pktgen's traffic (IPv4 without VLAN
// tags only, for fprobe, when v4 is set), cut to 128 bytes.
func writeCapture(t *testing.T, seed uint64, n int, v4 bool) captureFile {
	t.Helper()
	c := captureFile{path: filepath.Join(t.TempDir(), "capture.pcap")}
	f, err := os.Create(c.path)
	require.NoError(t, err)
	g := pktgen.NewTraffic(seed, pktgen.Start)
	if v4 {
		g = pktgen.NewIPv4Traffic(seed, pktgen.Start)
	}
	w := pktgen.NewPcap(f, 1, pktgen.PcapOptions{SnapLen: 128})
	for range n {
		ts, frame := g.Next()
		// The IP length, behind the Ethernet header and any VLAN tag.
		ip := frame[14:]
		if frame[12] == 0x81 {
			ip = frame[18:]
		}
		c.packets++
		if ip[0]>>4 == 4 {
			l := uint64(binary.BigEndian.Uint16(ip[2:]))
			c.bytes += l
			c.v4packets++
			c.v4bytes += l
		} else {
			c.bytes += 40 + uint64(binary.BigEndian.Uint16(ip[4:]))
		}
		w.Write(ts, frame)
	}
	require.NoError(t, w.Err())
	require.NoError(t, f.Close())
	return c
}

// runGoprobe runs the built goprobe to its end and checks it exited 0.
func runGoprobe(t *testing.T, stdin io.Reader, args ...string) string {
	t.Helper()
	cmd := exec.Command(goprobeBin(t), args...)
	cmd.Stdin = stdin
	p := startProc(t, cmd)
	require.Equal(t, 0, p.wait(), "goprobe %v:\n%s", args, p.log)
	return p.log.String()
}

// TestReadIntoNfcapdAndGocapd: goprobe --read exports a capture to the real
// nfcapd and to gocapd, once as v5 and once as v9: both store the same
// flows, whose packets and bytes are the capture's (v5 carries the IPv4
// flows only).
func TestReadIntoNfcapdAndGocapd(t *testing.T) {
	c := writeCapture(t, 3, 20000, false)
	for _, version := range []string{"5", "9", "10"} {
		t.Run("v"+version, func(t *testing.T) {
			nf, gc := startCollector(t, "nfcapd"), startCollector(t, "gocapd")
			runGoprobe(t, nil, "--read", c.path, "-n", version, "-l", "0", nf.addr(), gc.addr())
			want, got := nf.finish(), gc.finish()
			assert.Equal(t, want, got)
			if version == "5" {
				assert.Equal(t, c.v4packets, want.packets)
				assert.Equal(t, c.v4bytes, want.bytes)
				assert.Zero(t, want.v6flows)
			} else {
				assert.Equal(t, c.packets, want.packets)
				assert.Equal(t, c.bytes, want.bytes)
				assert.Positive(t, want.v6flows)
			}
		})
	}
}

// normalizeICMPv6 makes ICMPv6 flows comparable with softflowd's, which
// exports them with destination port 0 where goprobe (like nfdump for the
// flows of a router) keeps the type and code.
func normalizeICMPv6(fs flowSet) flowSet {
	out := fs
	out.flows = map[flowKey][2]uint64{}
	for k, v := range fs.flows {
		if k.proto == "58" {
			k.dport = "0.0"
		}
		w := out.flows[k]
		out.flows[k] = [2]uint64{w[0] + v[0], w[1] + v[1]}
	}
	return out
}

// TestReadAgainstSoftflowd: softflowd -r and goprobe --read read the same
// capture (IPv4 and IPv6, TCP, UDP and ICMP, some of it behind VLAN tags)
// and export it through the real nfcapd, as v5 and as v9: the same packet
// and byte totals and the same 5-tuples with the same counts. (The records
// differ in number: the two probes split long flows at other points.)
func TestReadAgainstSoftflowd(t *testing.T) {
	softflowd := testutil.RequireTool(t, "softflowd")
	c := writeCapture(t, 5, 20000, false)
	path := c.path
	for _, version := range []string{"5", "9"} {
		t.Run("v"+version, func(t *testing.T) {
			ref, ours := startCollector(t, "nfcapd"), startCollector(t, "nfcapd")
			sf := startProc(t, exec.Command(softflowd, "-d", "-r", path, "-v", version, "-n", ref.addr()))
			require.Equal(t, 0, sf.wait(), sf.log)
			runGoprobe(t, nil, "--read", path, "-n", version, "-l", "0", ours.addr())
			want, got := ref.finish(), ours.finish()
			require.Positive(t, want.packets)
			assert.Equal(t, want.packets, got.packets)
			assert.Equal(t, want.bytes, got.bytes)
			if version == "9" {
				assert.Equal(t, c.packets, got.packets, "v9 carries every flow of the capture")
				want, got = normalizeICMPv6(want), normalizeICMPv6(got)
			}
			assert.Equal(t, want.keys(), got.keys())
			assert.Equal(t, want.flows, got.flows)
		})
	}
}

// TestStdinAgainstFprobe: fprobe -i - and goprobe -i - read the same
// capture on stdin (IPv4 without VLAN tags: all fprobe can take apart) and
// export NetFlow v5 through the real nfcapd: the same totals and the same
// 5-tuples with the same counts. fprobe gets -q 10000: its pending queue
// between the capture and the cache loses the packets it cannot hold when
// a file is read faster than its cache thread takes them (with the default
// 100 it kept 203 of 5000 packets here), where goprobe's capture waits.
func TestStdinAgainstFprobe(t *testing.T) {
	fprobe := testutil.RequireTool(t, "fprobe")
	c := writeCapture(t, 4, 5000, true)
	path := c.path
	ref, ours := startCollector(t, "nfcapd"), startCollector(t, "nfcapd")
	open := func() *os.File {
		f, err := os.Open(path)
		require.NoError(t, err)
		t.Cleanup(func() { f.Close() })
		return f
	}
	cmd := exec.Command(fprobe, "-q", "10000", "-l", "2", "-i", "-", ref.addr())
	cmd.Stdin = open()
	fp := startProc(t, cmd)
	require.Equal(t, 0, fp.wait(), fp.log)
	log := runGoprobe(t, open(), "-i", "-", ours.addr())
	assert.Contains(t, log, "[INFO]: interface: -, datalink: EN10MB (1)\n")
	want, got := ref.finish(), ours.finish()
	assert.Equal(t, c.packets, want.packets)
	assert.Equal(t, c.bytes, want.bytes)
	assert.Equal(t, want.packets, got.packets)
	assert.Equal(t, want.bytes, got.bytes)
	assert.Equal(t, want.keys(), got.keys())
	assert.Equal(t, want.flows, got.flows)
}

// TestReadFilter: -f filters a capture read as libpcap filters a live
// capture; a filter that does not compile stops goprobe with libpcap's
// message, at CRIT as fprobe logs it.
func TestReadFilter(t *testing.T) {
	c := writeCapture(t, 6, 3000, false)
	nf := startCollector(t, "nfcapd")
	runGoprobe(t, nil, "--read", c.path, "-n", "9", "-f", "vlan and udp", nf.addr())
	got := nf.finish()
	require.NotEmpty(t, got.flows)
	for k := range got.flows {
		assert.Equal(t, "17", k.proto, "%v", k)
	}

	cmd := exec.Command(goprobeBin(t), "--read", c.path, "-f", "tcp and", "127.0.0.1:9")
	p := startProc(t, cmd)
	assert.Equal(t, 1, p.wait())
	assert.Contains(t, p.log.String(), "[CRIT]: pcap_compile(): ")
	assert.Contains(t, p.log.String(), ". Filter: tcp and\n")
}

// TestStdinInterrupted: reading a pipe that has gone quiet (tcpdump -w -
// on an idle link), goprobe still ends on SIGTERM and exports what it read.
func TestStdinInterrupted(t *testing.T) {
	c := writeCapture(t, 7, 2000, false)
	nf := startCollector(t, "nfcapd")
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer w.Close()
	cmd := exec.Command(goprobeBin(t), "-i", "-", nf.addr())
	cmd.Stdin = r
	p := startProc(t, cmd)
	r.Close()
	data, err := os.ReadFile(c.path)
	require.NoError(t, err)
	_, err = w.Write(data)
	require.NoError(t, err)
	p.waitLog("collector #1:")
	// The pipe stays open and quiet. Once goprobe has read all of it (its
	// read count in /proc), a second more to count it, then SIGTERM.
	require.Eventually(t, func() bool {
		io, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", p.cmd.Process.Pid))
		var rchar int
		if err == nil {
			fmt.Sscanf(string(io), "rchar: %d", &rchar)
		}
		return rchar >= len(data)
	}, 20*time.Second, 50*time.Millisecond)
	time.Sleep(time.Second)
	assert.Equal(t, 0, p.stop(syscall.SIGTERM), p.log)
	assert.Contains(t, p.log.String(), "[INFO]: SIGTERM received. Emitting flows cache...\n")
	assert.Equal(t, c.v4packets, nf.finish().packets, "v5 carries the IPv4 flows: %s", p.log)
}
