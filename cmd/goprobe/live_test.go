//go:build linux

package main

// Live capture: goprobe captures on one end of a veth pair between two
// network namespaces the test makes, while the test sends ping, a TCP
// connection and UDP datagrams across it; the collectors run in the same
// namespace. Nothing leaves the namespaces.

import (
	"encoding/binary"
	"io"
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

	"github.com/nfgo/nftools/internal/testutil"
)

// startCollectorIn runs nfcapd or gocapd in namespace ns on its 127.0.0.1.
func startCollectorIn(t *testing.T, ns *testutil.Netns, name string) *collector {
	t.Helper()
	c := &collector{port: testutil.FreeUDPPort(t), dir: t.TempDir()}
	cmd := ns.Command(goprobeSibling(t, name), "-b", "127.0.0.1", "-p", strconv.Itoa(c.port), "-w", c.dir, "-t", "3600")
	cmd.Env = append(os.Environ(), "TZ=UTC")
	c.proc = startProc(t, cmd)
	c.waitLog("Startup " + name + ".")
	return c
}

// startProbeIn runs a probe (goprobe or fprobe) in the foreground in ns and
// waits until it logged its collector, that is until it captures.
func startProbeIn(t *testing.T, ns *testutil.Netns, bin string, args ...string) *proc {
	t.Helper()
	p := startProc(t, ns.Command(bin, append([]string{"-l", "2"}, args...)...))
	p.waitLog("collector #1:")
	return p
}

// traffic is what sendTraffic sends from B to A: 3 pings, a TCP
// connection carrying 3000 bytes each way, 3 UDP datagrams.
type traffic struct {
	tcpPort, udpPort int
}

func sendTraffic(t *testing.T, p *testutil.VethPair) traffic {
	t.Helper()
	var ln net.Listener
	var udp net.PacketConn
	require.NoError(t, p.A.Do(func() {
		var err error
		ln, err = net.Listen("tcp4", p.AddrA.String()+":0")
		require.NoError(t, err)
		udp, err = net.ListenPacket("udp4", p.AddrA.String()+":0")
		require.NoError(t, err)
	}))
	defer ln.Close()
	defer udp.Close()
	served := make(chan struct{})
	go func() {
		defer close(served)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.CopyN(c, c, 3000)
	}()
	tr := traffic{tcpPort: ln.Addr().(*net.TCPAddr).Port, udpPort: udp.LocalAddr().(*net.UDPAddr).Port}
	require.NoError(t, p.B.Do(func() {
		ic, err := net.ListenPacket("ip4:icmp", p.AddrB.String())
		require.NoError(t, err)
		defer ic.Close()
		for seq := 1; seq <= 3; seq++ {
			// Echo request, id 0x4242, sequence seq, with its checksum.
			echo := []byte{8, 0, 0, 0, 0x42, 0x42, 0, byte(seq)}
			binary.BigEndian.PutUint16(echo[2:], ^uint16(8<<8+0x4242+seq))
			_, err = ic.WriteTo(echo, &net.IPAddr{IP: p.AddrA.AsSlice()})
			require.NoError(t, err)
			ic.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, _, err = ic.ReadFrom(make([]byte, 64))
			require.NoError(t, err, "echo reply")
		}

		c, err := net.DialTimeout("tcp4", net.JoinHostPort(p.AddrA.String(), strconv.Itoa(tr.tcpPort)), 5*time.Second)
		require.NoError(t, err)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		go c.Write(make([]byte, 3000))
		_, err = io.CopyN(io.Discard, c, 3000)
		require.NoError(t, err)
		c.Close()

		u, err := net.Dial("udp4", net.JoinHostPort(p.AddrA.String(), strconv.Itoa(tr.udpPort)))
		require.NoError(t, err)
		for range 3 {
			_, err = u.Write([]byte("a datagram"))
			require.NoError(t, err)
		}
		u.Close()
	}))
	<-served
	return tr
}

// v4Only keeps the IPv4 flows: the veth ends also send IPv6 neighbour
// discovery, which goprobe counts and fprobe cannot.
func v4Only(fs flowSet) flowSet {
	out := flowSet{flows: map[flowKey][2]uint64{}}
	for k, v := range fs.flows {
		if !strings.Contains(k.src, ":") {
			out.flows[k] = v
			out.packets += v[0]
			out.bytes += v[1]
		}
	}
	return out
}

// TestLiveVeth: goprobe and fprobe capture the same traffic on the same
// interface; ping, the TCP connection and the UDP datagrams become the
// expected flows at gocapd, the same as fprobe's at nfcapd.
func TestLiveVeth(t *testing.T) {
	fprobe := testutil.RequireTool(t, "fprobe")
	p := testutil.NewVethPair(t)
	ours, ref := startCollectorIn(t, p.A, "gocapd"), startCollectorIn(t, p.A, "nfcapd")
	gp := startProbeIn(t, p.A, goprobeBin(t), "-i", p.IfA, ours.addr())
	fp := startProbeIn(t, p.A, fprobe, "-i", p.IfA, "-fip", ref.addr())
	tr := sendTraffic(t, p)
	// goprobe is stopped at once: it reads what the kernel still holds for
	// it before it exports its cache. fprobe ignores every packet after
	// SIGTERM, and libpcap hands packets over in blocks, at the latest
	// after fprobe's read timeout of a second: it gets that second.
	assert.Equal(t, 0, gp.stop(syscall.SIGTERM), gp.log)
	time.Sleep(1500 * time.Millisecond)
	assert.Equal(t, 0, fp.stop(syscall.SIGTERM), fp.log)
	got, want := ours.finish(), ref.finish()

	a, b := p.AddrA.String(), p.AddrB.String()
	for k, n := range map[flowKey]uint64{
		{"1", b, a, "0", "8.0"}:                    3, // echo requests
		{"1", a, b, "0", "0.0"}:                    3, // echo replies
		{"17", b, a, "", strconv.Itoa(tr.udpPort)}: 3,
	} {
		if k.proto == "17" {
			for gk := range got.flows {
				if gk.proto == "17" && gk.dst == a && gk.dport == k.dport {
					k.sport = gk.sport
				}
			}
		}
		assert.Equal(t, n, got.flows[k][0], "%v in %v", k, got.keys())
	}
	tcpIn, tcpOut := 0, 0
	for k, v := range got.flows {
		if k.proto == "6" && k.dst == a && k.dport == strconv.Itoa(tr.tcpPort) {
			tcpIn++
			assert.Greater(t, v[1], uint64(3000), "3000 bytes of data and the headers")
		}
		if k.proto == "6" && k.src == a && k.sport == strconv.Itoa(tr.tcpPort) {
			tcpOut++
		}
	}
	assert.Equal(t, 1, tcpIn)
	assert.Equal(t, 1, tcpOut)
	assert.Equal(t, want.keys(), v4Only(got).keys())
	assert.Equal(t, want.flows, v4Only(got).flows)
}

// TestLiveFilterAndPromisc: -f keeps only the packets the filter selects;
// goprobe puts the interface into promiscuous mode unless -p says not to.
func TestLiveFilterAndPromisc(t *testing.T) {
	p := testutil.NewVethPair(t)
	ours := startCollectorIn(t, p.A, "gocapd")
	gp := startProbeIn(t, p.A, goprobeBin(t), "-p", "-f", "icmp", "-i", p.IfA, ours.addr())
	assert.Zero(t, p.A.Promiscuity(t, p.IfA), "-p")
	sendTraffic(t, p)
	assert.Equal(t, 0, gp.stop(syscall.SIGTERM), gp.log)
	got := ours.finish()
	require.NotEmpty(t, got.flows)
	for k := range got.flows {
		assert.Equal(t, "1", k.proto, "only ICMP passes -f icmp: %v", k)
	}
	assert.Equal(t, uint64(6), got.packets, "3 echo requests and 3 replies")

	gp = startProbeIn(t, p.A, goprobeBin(t), "-i", p.IfA, ours.addr())
	assert.Equal(t, 1, p.A.Promiscuity(t, p.IfA), "without -p")
	assert.Equal(t, 0, gp.stop(syscall.SIGTERM), gp.log)
	assert.Zero(t, p.A.Promiscuity(t, p.IfA), "left as found")
}

// TestLab: the lab's setup in a namespace, each command as the lab runs
// it: gocapd in the background, goprobe in the background with the lab's
// command line, traffic, and godump -I shows what arrived.
func TestLab(t *testing.T) {
	p := testutil.NewVethPair(t)
	port := testutil.FreeUDPPort(t)
	dir := t.TempDir()
	gocapdPid := filepath.Join(t.TempDir(), "gocapd.pid")
	// -P only so that the test can stop this gocapd by its pid.
	out, err := p.A.Command(goprobeSibling(t, "gocapd"), "-I", "Exporter_#1", "-D", "-p", strconv.Itoa(port), "-w", dir, "-S1", "-P", gocapdPid).CombinedOutput()
	require.NoError(t, err, "%s", out)
	stopByPidFile := func(path string) {
		t.Helper()
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		require.NoError(t, err)
		require.NoError(t, syscall.Kill(pid, syscall.SIGTERM))
		require.Eventually(t, func() bool { return syscall.Kill(pid, 0) != nil }, 15*time.Second, 20*time.Millisecond)
	}
	t.Cleanup(func() {
		if _, err := os.Stat(gocapdPid); err == nil {
			stopByPidFile(gocapdPid)
		}
	})

	const goprobePid = "/var/run/goprobe.pid"
	// The lab's goprobe writes fprobe's pid file, one for the machine: two
	// runs of this test at once (two test processes) would take each
	// other's. The second waits for the first.
	// The lock's file stays (removed, a third run could lock a new one
	// while the second holds the old).
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "nftools-test-goprobe-pid.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	require.NoError(t, err)
	require.NoError(t, syscall.Flock(int(lock.Fd()), syscall.LOCK_EX))
	t.Cleanup(func() { lock.Close() })
	if b, err := os.ReadFile(goprobePid); err == nil {
		// A stale file is replaced; a running goprobe's would be kept.
		if pid, _ := strconv.Atoi(strings.TrimSpace(string(b))); pid > 0 && syscall.Kill(pid, 0) == nil {
			t.Fatalf("%s names pid %d: a goprobe runs on this machine", goprobePid, pid)
		}
	}
	out, err = p.A.Command(goprobeBin(t), "-i", p.IfA, "127.0.0.1:"+strconv.Itoa(port)).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Empty(t, out, "the lab's goprobe prints nothing and returns once it captures")
	sendTraffic(t, p)
	stopByPidFile(goprobePid)
	_, err = os.Stat(goprobePid)
	assert.ErrorIs(t, err, os.ErrNotExist, "goprobe removes its pid file")
	stopByPidFile(gocapdPid)

	res := testutil.RunTool(t, "UTC", goprobeSibling(t, "godump"), "-R", dir, "-I")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Contains(t, res.Stdout, "Ident: Exporter_#1\n")
	m := regexp.MustCompile(`(?m)^Packets: (\d+)$`).FindStringSubmatch(res.Stdout)
	require.NotNil(t, m, res.Stdout)
	n, _ := strconv.Atoi(m[1])
	// 6 ICMP, 3 UDP and the TCP connection's packets at least.
	assert.GreaterOrEqual(t, n, 6+3+6, res.Stdout)
}

// TestLiveAnyAndDefault: -i any captures on every interface (cooked
// frames), and without -i goprobe takes the first interface that is not a
// loopback, as fprobe's pcap_lookupdev.
func TestLiveAnyAndDefault(t *testing.T) {
	p := testutil.NewVethPair(t)
	for _, args := range [][]string{{"-i", "any"}, {}} {
		ours := startCollectorIn(t, p.A, "gocapd")
		gp := startProbeIn(t, p.A, goprobeBin(t), append(args, "-f", "icmp", ours.addr())...)
		if len(args) == 0 {
			assert.Contains(t, gp.log.String(), "[INFO]: interface: "+p.IfA+", datalink: EN10MB (1)\n")
		} else {
			assert.Regexp(t, `\[INFO\]: interface: any, datalink: LINUX_SLL2? \(\d+\)\n`, gp.log.String())
		}
		sendTraffic(t, p)
		assert.Equal(t, 0, gp.stop(syscall.SIGTERM), gp.log)
		got := ours.finish()
		assert.Equal(t, uint64(6), got.packets, "%v: 3 echo requests and 3 replies", args)
	}
}
