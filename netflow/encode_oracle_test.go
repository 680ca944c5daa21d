package netflow_test

// The encoders against the real tools: fprobe 1.1 (the layout of v1, v5
// and v7, byte for byte), nfcapd 1.7.1 (it stores what every version
// sends) and tshark (it dissects every version without an error).

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/flowgen"
	"github.com/nfgo/nftools/internal/testutil"
	"github.com/nfgo/nftools/netflow"
)

// listenUDP opens a UDP socket on a free loopback port.
func listenUDP(t *testing.T) (*net.UDPConn, int) {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn, conn.LocalAddr().(*net.UDPAddr).Port
}

// drain reads datagrams until none came for idle.
func drain(conn *net.UDPConn, idle time.Duration) [][]byte {
	var out [][]byte
	buf := make([]byte, 65536)
	for {
		_ = conn.SetReadDeadline(time.Now().Add(idle))
		n, _, err := conn.ReadFromUDP(buf)
		if err != nil {
			return out
		}
		out = append(out, bytes.Clone(buf[:n]))
	}
}

// captureFprobe runs the real fprobe on lo.pcap (fed on its stdin, -i -)
// with NetFlow version v and returns the datagrams it sent. fprobe 1.1
// sometimes exits at the end of its input before it sent the last flows
// (its main loop can see an empty cache while the emitter still holds
// them), so an empty run is tried again.
func captureFprobe(t *testing.T, v int) [][]byte {
	t.Helper()
	fp := testutil.RequireTool(t, "fprobe")
	pcap, err := os.ReadFile(filepath.Join(testutil.NfcapdSamples(t), "lo.pcap"))
	require.NoError(t, err)
	for range 3 {
		conn, port := listenUDP(t)
		cmd := exec.Command(fp, "-l", "2", "-n", strconv.Itoa(v), "-x", "3:4", "-i", "-", fmt.Sprintf("127.0.0.1:%d", port))
		cmd.Stdin = bytes.NewReader(pcap)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		if d := drain(conn, 500*time.Millisecond); len(d) > 0 {
			return d
		}
	}
	t.Fatal("fprobe sent nothing in three runs")
	return nil
}

// fprobeRecords reads a v1/v5/v7 datagram the way fprobe filled it: flow
// times are sysUpTime offsets from the datagram's boot time, and an ICMP
// flow has the type in the source port and the code in the destination
// port, which become the Record's type<<8|code.
func fprobeRecords(t *testing.T, d []byte) (recs []flow.Record, now uint64) {
	be := binary.BigEndian
	v := be.Uint16(d)
	hdr, size := 24, 48
	switch v {
	case 1:
		hdr = 16
	case 7:
		size = 52
	}
	count := int(be.Uint16(d[2:]))
	require.Len(t, d, hdr+count*size, "fprobe v%d datagram of %d records", v, count)
	now = uint64(be.Uint32(d[8:]))*1000 + uint64(be.Uint32(d[12:]))/1000000
	boot := now - uint64(be.Uint32(d[4:]))
	for i := range count {
		p := d[hdr+i*size:]
		r := flow.Record{
			SrcAddr: netip.AddrFrom4([4]byte(p[0:4])), DstAddr: netip.AddrFrom4([4]byte(p[4:8])),
			Input: uint32(be.Uint16(p[12:])), Output: uint32(be.Uint16(p[14:])),
			InPackets: uint64(be.Uint32(p[16:])), InBytes: uint64(be.Uint32(p[20:])),
			// modulo 2^32 like the uptimes: an offset before boot wraps
			First: boot + uint64(be.Uint32(p[24:])), Last: boot + uint64(be.Uint32(p[28:])),
			SrcPort: be.Uint16(p[32:]), DstPort: be.Uint16(p[34:]),
		}
		if v == 1 {
			r.Proto, r.SrcTos, r.TCPFlags = p[38], p[39], p[40]
		} else {
			r.TCPFlags, r.Proto, r.SrcTos = p[37], p[38], p[39]
		}
		if r.Proto == flow.ProtoICMP {
			r.SrcPort, r.DstPort = 0, r.SrcPort<<8|r.DstPort&0xff
		}
		recs = append(recs, r)
	}
	return recs, now
}

// TestEncodeAgainstFprobe: fprobe's datagrams for lo.pcap, read back into
// records and encoded again by our encoder (fprobe's uptime trick, the
// same export time), give the same bytes, except ICMP's ports (fprobe's
// type and code against Cisco's 0 and type<<8|code, on purpose), and that fprobe's sysUpTime
// runs on for the few ms between resetting its boot and sending (our
// uptime is exactly 2^20 s, and the flow offsets shift by the same few
// ms) and its nanoseconds carry microseconds.
func TestEncodeAgainstFprobe(t *testing.T) {
	for _, v := range []int{1, 5, 7} {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			t.Parallel()
			theirs := captureFprobe(t, v)
			enc, err := netflow.NewEncoder(netflow.EncoderConfig{Version: v})
			require.NoError(t, err)
			be := binary.BigEndian
			hdr, size := 24, 48
			if v == 1 {
				hdr = 16
			} else if v == 7 {
				size = 52
			}
			flows, icmp := 0, 0
			for i, d := range theirs {
				recs, now := fprobeRecords(t, d)
				ours, n := enc.Encode(nil, recs, now)
				require.Equal(t, len(recs), n)
				require.Len(t, ours, len(d), "datagram %d", i)
				delta := be.Uint32(d[4:]) - netflow.FprobeUptime
				assert.Less(t, delta, uint32(60000), "fprobe's sysUpTime %d", be.Uint32(d[4:]))
				assert.Equal(t, uint32(netflow.FprobeUptime), be.Uint32(ours[4:]))
				assert.Equal(t, be.Uint32(d[12:])/1000000, be.Uint32(ours[12:])/1000000, "export ms")
				mask := func(b []byte) []byte {
					b = bytes.Clone(b)
					clear(b[4:8])   // sysUpTime
					clear(b[12:16]) // nanoseconds
					for k, r := range recs {
						clear(b[hdr+k*size+24 : hdr+k*size+32]) // first, last
						if r.Proto == flow.ProtoICMP {
							clear(b[hdr+k*size+32 : hdr+k*size+36]) // ports, checked below
						}
					}
					return b
				}
				require.Equal(t, mask(d), mask(ours), "datagram %d", i)
				for k, r := range recs {
					if r.Proto == flow.ProtoICMP {
						// fprobe: type, code; ours: 0, type<<8|code.
						p := hdr + k*size + 32
						require.Equal(t, []uint16{0, be.Uint16(d[p:])<<8 | be.Uint16(d[p+2:])&0xff},
							[]uint16{be.Uint16(ours[p:]), be.Uint16(ours[p+2:])}, "datagram %d ICMP record %d", i, k)
						icmp++
					}
					for _, off := range []int{24, 28} {
						p := hdr + k*size + off
						require.Equal(t, be.Uint32(d[p:])-delta, be.Uint32(ours[p:]), "datagram %d record %d", i, k)
					}
				}
				flows += len(recs)
			}
			require.NotZero(t, icmp, "the capture has ICMP flows")
			t.Logf("v%d: %d datagrams, %d flows (%d ICMP) as fprobe 1.1 writes them", v, len(theirs), flows, icmp)
		})
	}
}

// testRecords are what the nfcapd and tshark tests send: plausible flows,
// IPv6 among them, and the edge cases.
func testRecords() []flow.Record {
	g := flowgen.New(21, exportTime-3_600_000)
	recs := make([]flow.Record, 200)
	for i := range recs {
		g.Next(&recs[i])
	}
	return append(recs, edgeRecords()...)
}

// nfdumpJSONArgs returns the records nfdump -o json prints for args.
func nfdumpJSONArgs(t *testing.T, args ...string) []map[string]any {
	t.Helper()
	out, err := exec.Command(testutil.RequireTool(t, "nfdump"), append([]string{"-q", "-o", "json"}, args...)...).Output()
	require.NoError(t, err, "nfdump %v", args)
	if bytes.Contains(out, []byte("No matching flows")) {
		return nil
	}
	s := bytes.TrimSuffix(bytes.TrimSpace(out), []byte(","))
	if len(s) > 0 && s[0] != '[' {
		s = append(append([]byte("["), s...), ']')
	}
	var recs []map[string]any
	if len(s) > 0 {
		dec := json.NewDecoder(bytes.NewReader(s))
		dec.UseNumber() // counters up to 2^64-1 exactly
		require.NoError(t, dec.Decode(&recs), "%s", out)
	}
	return recs
}

// TestEncodeAgainstNfcapd: the real nfcapd stores what every version
// sends. What it stored, printed by nfdump, equals what our decoder makes
// of the same datagrams, and TestEncodeRoundTrip shows that our decoder
// gets back the records as each version carries them; the counts and
// totals are checked here against the records themselves.
func TestEncodeAgainstNfcapd(t *testing.T) {
	recs := testRecords()
	for _, v := range versions {
		t.Run(vname(v), func(t *testing.T) {
			t.Parallel()
			cfg := netflow.EncoderConfig{Version: v, SourceID: 7, TemplateEvery: 5}
			enc, err := netflow.NewEncoder(cfg)
			require.NoError(t, err)
			dgrams := encodeAll(t, enc, recs, exportTime)
			dir, log := runNfcapdDir(t, dgrams)
			got := nfdumpJSONArgs(t, "-R", dir)
			ours, _, _ := decodeToFile(t, dgrams, netflow.Options{})
			want := nfdumpJSONArgs(t, "-r", ours)
			require.Len(t, got, len(want), "nfcapd log: %s", log)
			for i := range want {
				require.Equal(t, clean(want[i]), clean(got[i]), "record %d", i)
			}
			var pkts, byts uint64
			n := 0
			eff := cfg
			eff.BootTime = exportTime - netflow.FprobeUptime
			for _, r := range recs {
				if c, ok := carried(v, eff, r); ok {
					pkts += c.InPackets
					byts += c.InBytes
					n++
				}
			}
			require.Len(t, got, n)
			var gp, gb uint64 // sums modulo 2^64, as pkts and byts
			for _, r := range got {
				gp += jsonUint(t, r["in_packets"])
				gb += jsonUint(t, r["in_bytes"])
			}
			assert.Equal(t, pkts, gp, "packets")
			assert.Equal(t, byts, gb, "bytes")
			assert.Contains(t, log, "Sequence Errors: 0, Bad Packets: 0")
			assert.NotContains(t, log, "Bad Packets: 1")
			t.Logf("%s: nfcapd stored %d of %d records from %d datagrams", vname(v), n, len(recs), len(dgrams))
		})
	}
}

func jsonUint(t *testing.T, v any) uint64 {
	n, err := strconv.ParseUint(string(v.(json.Number)), 10, 64)
	require.NoError(t, err)
	return n
}

// udpFrame is one datagram to a UDP port, for writePcap.
type udpFrame struct {
	port int
	data []byte
}

// writePcap writes datagrams as UDP packets from 127.0.0.1:2055 to
// 127.0.0.1 in an Ethernet pcap file, one per millisecond.
func writePcap(t *testing.T, path string, frames []udpFrame) {
	t.Helper()
	le, be := binary.LittleEndian, binary.BigEndian
	var b []byte
	// global header: magic, version 2.4, zone, sigfigs, snaplen, Ethernet
	b = le.AppendUint32(b, 0xa1b2c3d4)
	b = le.AppendUint16(b, 2)
	b = le.AppendUint16(b, 4)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, 65535)
	b = le.AppendUint32(b, 1)
	for i, f := range frames {
		n := 14 + 20 + 8 + len(f.data)
		b = le.AppendUint32(b, uint32(exportTime/1000))
		b = le.AppendUint32(b, uint32(i)*1000)
		b = le.AppendUint32(b, uint32(n))
		b = le.AppendUint32(b, uint32(n))
		// Ethernet: zero MACs, IPv4
		b = append(b, make([]byte, 12)...)
		b = be.AppendUint16(b, 0x0800)
		// IPv4: 20 bytes, total length, DF, TTL 64, UDP, checksum, 127.0.0.1 both ways
		ip := []byte{0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1}
		be.PutUint16(ip[2:], uint16(20+8+len(f.data)))
		var sum uint32
		for k := 0; k < 20; k += 2 {
			sum += uint32(be.Uint16(ip[k:]))
		}
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		be.PutUint16(ip[10:], ^uint16(sum))
		b = append(b, ip...)
		// UDP: ports, length, no checksum
		b = be.AppendUint16(b, 2055)
		b = be.AppendUint16(b, uint16(f.port))
		b = be.AppendUint16(b, uint16(8+len(f.data)))
		b = be.AppendUint16(b, 0)
		b = append(b, f.data...)
	}
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

// TestEncodeTshark: tshark dissects every version's datagrams as NetFlow
// without a malformed packet or an expert info of warning or error level,
// and finds every record with its counters. One capture holds all
// versions, each to a port of its own, so tshark starts once.
func TestEncodeTshark(t *testing.T) {
	tshark := testutil.RequireTool(t, "tshark")
	recs := testRecords()
	port := func(v int) int { return 9900 + v }
	var frames []udpFrame
	args := []string{}
	for _, v := range versions {
		enc, err := netflow.NewEncoder(netflow.EncoderConfig{Version: v, SourceID: 7, TemplateEvery: 5})
		require.NoError(t, err)
		for _, d := range encodeAll(t, enc, recs, exportTime) {
			frames = append(frames, udpFrame{port(v), d})
		}
		args = append(args, "-d", fmt.Sprintf("udp.port==%d,cflow", port(v)))
	}
	path := filepath.Join(t.TempDir(), "export.pcap")
	writePcap(t, path, frames)
	args = append([]string{"-r", path}, append(args, "-T", "fields", "-E", "separator=/t",
		"-e", "udp.dstport", "-e", "_ws.malformed", "-e", "_ws.expert.severity", "-e", "_ws.expert.message",
		"-e", "cflow.version", "-e", "cflow.srcaddr", "-e", "cflow.srcaddrv6", "-e", "cflow.packets")...)
	cmd := exec.Command(tshark, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s", stderr.String())
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, len(frames), "%s", out)
	addrs := map[int]int{}
	pkts := map[int]uint64{}
	for i, l := range lines {
		f := strings.Split(l, "\t")
		require.Len(t, f, 8, "%q", l)
		v := frames[i].port - 9900
		require.Equal(t, strconv.Itoa(frames[i].port), f[0], "frame %d", i+1)
		assert.Empty(t, f[1], "frame %d malformed: %s", i+1, l)
		for _, sev := range strings.Split(f[2], ",") {
			if sev == "" {
				continue
			}
			s, err := strconv.ParseUint(sev, 0, 32)
			require.NoError(t, err)
			// 0x00600000 warning, 0x00800000 error
			assert.Less(t, s, uint64(0x00600000), "frame %d expert info: %s", i+1, f[3])
		}
		assert.Equal(t, strconv.Itoa(v), f[4], "frame %d", i+1)
		for _, a := range []string{f[5], f[6]} {
			if a != "" {
				addrs[v] += len(strings.Split(a, ","))
			}
		}
		for _, p := range strings.Split(f[7], ",") {
			if p != "" {
				n, err := strconv.ParseUint(p, 10, 64)
				require.NoError(t, err)
				pkts[v] += n
			}
		}
	}
	for _, v := range versions {
		var want uint64
		n := 0
		for _, r := range recs {
			if c, ok := carried(v, netflow.EncoderConfig{Version: v, BootTime: 1}, r); ok {
				want += c.InPackets
				n++
			}
		}
		assert.Equal(t, n, addrs[v], "v%d records tshark found", v)
		assert.Equal(t, want, pkts[v], "v%d packets tshark found", v)
	}
}
