//go:build linux

package main

// Tests of gocapd under hostile conditions (issue #12): a flow directory
// that fills up, a flood of exporters, a flood of templates.

import (
	"encoding/binary"
	"errors"
	"fmt"
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
	"golang.org/x/sys/unix"

	"github.com/nfgo/nftools/internal/testutil"
)

// needRoot fails under CI (which runs as root) and skips elsewhere.
func needRoot(t *testing.T, what string) {
	t.Helper()
	if os.Geteuid() != 0 {
		testutil.Missing(t, "root (to "+what+")")
	}
}

// smallDisk mounts a tmpfs of size bytes on a new directory, unmounted at
// the end of the test (after the collectors it started are gone).
func smallDisk(t *testing.T, size int) string {
	t.Helper()
	needRoot(t, "mount a tmpfs")
	dir := filepath.Join(t.TempDir(), "disk")
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, unix.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0755", size)))
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}

// fillDisk writes a file into dir's file system until leave bytes are
// free, or none when it cannot tell, and returns its path.
func fillDisk(t *testing.T, dir string, leave int64) string {
	t.Helper()
	var st unix.Statfs_t
	require.NoError(t, unix.Statfs(dir, &st))
	size := int64(st.Bfree)*st.Bsize - leave
	p := filepath.Join(dir, "filler")
	f, err := os.Create(p)
	require.NoError(t, err)
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for size > 0 {
		n, err := f.Write(chunk[:min(int64(len(chunk)), size)])
		size -= int64(n)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		require.NoError(t, err)
	}
	return p
}

// v5Datagram is a NetFlow v5 datagram (24 byte header, 48 byte records)
// with n TCP flows from 10.0.0.1 to 10.0.0.2 whose source ports count up
// from first, so that every flow of a test can be told apart.
func v5Datagram(seq uint32, first, n int) []byte {
	be := binary.BigEndian
	b := make([]byte, 24+48*n)
	be.PutUint16(b[0:], 5)
	be.PutUint16(b[2:], uint16(n))
	be.PutUint32(b[4:], 3_600_000)                 // uptime: an hour
	be.PutUint32(b[8:], uint32(time.Now().Unix())) // unix seconds
	be.PutUint32(b[16:], seq)
	for i := 0; i < n; i++ {
		r := b[24+48*i:]
		copy(r[0:], []byte{10, 0, 0, 1}) // source
		copy(r[4:], []byte{10, 0, 0, 2}) // destination
		be.PutUint32(r[16:], 3)          // packets
		be.PutUint32(r[20:], 180)        // bytes
		be.PutUint32(r[24:], 3_500_000)  // first, uptime msec
		be.PutUint32(r[28:], 3_590_000)  // last
		be.PutUint16(r[32:], uint16(first+i))
		be.PutUint16(r[34:], 80)
		r[38] = 6 // TCP
	}
	return b
}

// v5Flows sends count datagrams of 30 v5 flows each from 127.0.0.1,
// numbered from *seq, pacing them so the socket buffer never overflows.
func v5Flows(t *testing.T, port int, seq *uint32, count int) {
	t.Helper()
	c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	require.NoError(t, err)
	defer c.Close()
	for i := 0; i < count; i++ {
		_, err := c.Write(v5Datagram(*seq, int(*seq)%60000, 30))
		require.NoError(t, err)
		*seq += 30
		if i%10 == 9 {
			time.Sleep(time.Millisecond)
		}
	}
}

// logSum adds up the numbers after label in every line of the log that
// matches prefix.
func logSum(log, prefix, label string) uint64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(prefix) + `.*` + regexp.QuoteMeta(label) + `: (\d+)`)
	var sum uint64
	for _, m := range re.FindAllStringSubmatch(log, -1) {
		n, _ := strconv.ParseUint(m[1], 10, 64)
		sum += n
	}
	return sum
}

// TestDiskFull: the flow directory fills up while flows come in. gocapd
// says so once, keeps receiving and counting, keeps the blocks that
// reached the disk in a readable file, says once that writing works again
// when there is room, and its counters add up: every flow sent is stored
// or counted as lost, and no file is left for the next start.
func TestDiskFull(t *testing.T) {
	// Beside the other slow tests of this kind: its counts do not
	// depend on the machine being idle.
	t.Parallel()
	dir := smallDisk(t, 8<<20)
	p := startGocapd(t, []string{"TZ=UTC"}, "-w", dir, "-I", "full")
	// Room for about one block of 1 MiB, not two.
	filler := fillDisk(t, dir, 1536<<10)
	var seq uint32
	v5Flows(t, p.port, &seq, 1000) // 30 000 flows: some 3 MiB of records
	p.waitLog("flows are lost until writing works again", 20*time.Second)
	// The file that failed is closed into place at once: the slot's file
	// with the blocks written before.
	require.Eventually(t, func() bool {
		files, _ := filepath.Glob(filepath.Join(dir, "nfcapd.2*"))
		return len(files) > 0
	}, 10*time.Second, 50*time.Millisecond, "the cut file in place")
	v5Flows(t, p.port, &seq, 100) // lost
	require.NoError(t, os.Remove(filler))
	p.waitLog("again; ", 10*time.Second)
	v5Flows(t, p.port, &seq, 100) // stored
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, 0, p.stop(syscall.SIGTERM), p.log.String())

	log := p.log.String()
	assert.Equal(t, 1, strings.Count(log, "flows are lost until writing works again"), "one line when writing fails")
	assert.Regexp(t, `(?m)^ERROR: Ident: 'full': can not write `+regexp.QuoteMeta(dir)+`/nfcapd\.current\.\d+: no space left on device; flows are lost until writing works again$`, log)
	assert.Equal(t, 1, strings.Count(log, "again; "), "one line when it works again")
	assert.Regexp(t, `(?m)^Ident: 'full': writing `+regexp.QuoteMeta(dir)+`/nfcapd\.current\.\d+ again; [1-9]\d* flows lost since `, log)
	assert.NotContains(t, log, "stays")
	files := flowFiles(t, dir)
	for _, f := range files {
		assert.Regexp(t, `^nfcapd\.\d{12}$`, f, "no nfcapd.current file left")
	}

	sent := uint64(seq)
	stored := uint64(len(csvFlows(t, dir)))
	lost := logSum(log, "Totals:", "Lost (disk full)")
	assert.Greater(t, stored, uint64(3000), "a block of the first flows and the last ones")
	assert.Greater(t, lost, uint64(3000))
	assert.Equal(t, sent, stored+lost, "every flow is stored or counted as lost")
	assert.Equal(t, lost, logSum(log, "Ident: 'full'", "Lost (disk full)"), "the rotation lines")
	assert.Equal(t, strconv.FormatUint(stored, 10), nfdumpStat(t, dir)["Flows"], "the stat records count what is stored")
	assert.Equal(t, stored, logSum(log, "Ident: 'full'", "Flows"), "the rotation lines count what is stored")
	assert.Zero(t, logSum(log, "Ident: 'full'", "Bad Packets"), "lost flows are not bad packets")
	assert.Regexp(t, `Totals: Datagrams: 1200, Flows: 36000, `, log, "receiving never stopped")
}

// TestNoRoomToPutAFileInPlace: at a rotation the file system has no room
// for the sub directory of -S1 nor for the next file (no inode left).
// gocapd keeps the closed file aside and puts it in place as soon as
// there is room, starts writing again then, and loses nothing it had
// stored.
func TestNoRoomToPutAFileInPlace(t *testing.T) {
	// Beside the other slow tests of this kind: its counts do not
	// depend on the machine being idle.
	t.Parallel()
	needRoot(t, "mount a tmpfs")
	dir := filepath.Join(t.TempDir(), "disk")
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, unix.Mount("tmpfs", dir, "tmpfs", 0, "size=8m,nr_inodes=64,mode=0755"))
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	// -E prints every flow once it is decoded: the test knows when
	// gocapd has seen what it sent.
	p := startGocapdSpec(t, daemonSpec{env: []string{"TZ=UTC"}, args: []string{"-w", dir, "-S1", "-I", "inodes", "-E"}, stdout: true})
	decoded := func(n int) {
		t.Helper()
		require.Eventually(t, func() bool { return strings.Count(p.out.String(), "Flow Record:") == n }, 10*time.Second, 10*time.Millisecond)
	}
	var seq uint32
	v5Flows(t, p.port, &seq, 10)
	decoded(300)
	// Take every inode left.
	var fillers []string
	for i := 0; ; i++ {
		f := filepath.Join(dir, fmt.Sprintf("filler%d", i))
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			require.ErrorIs(t, err, syscall.ENOSPC)
			break
		}
		fillers = append(fillers, f)
	}
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGHUP))
	p.waitLog("trying again every 5s", 10*time.Second)
	p.waitLog("flows are lost until writing works again", 10*time.Second)
	v5Flows(t, p.port, &seq, 10) // lost
	decoded(600)
	for _, f := range fillers {
		require.NoError(t, os.Remove(f))
	}
	p.waitLog("Closed "+dir+"/nfcapd.current.", 10*time.Second)
	p.waitLog("again; 300 flows lost since", 10*time.Second)
	v5Flows(t, p.port, &seq, 10) // stored
	decoded(900)
	require.Equal(t, 0, p.stop(syscall.SIGTERM), p.log.String())

	log := p.log.String()
	assert.NotContains(t, log, "stays")
	files := flowFiles(t, dir)
	for _, f := range files {
		assert.Regexp(t, `^\d{4}/\d\d/\d\d/nfcapd\.\d{12}$`, f, "no nfcapd.current file left")
	}
	assert.Len(t, csvFlows(t, dir), 600, "the flows before and after")
	assert.Equal(t, uint64(300), logSum(log, "Totals:", "Lost (disk full)"))
}

// v9Template is a NetFlow v9 datagram (source id 0) with data template
// 256 of fields, each an element id and its length.
func v9Template(seq uint32, fields [][2]uint16) []byte {
	be := binary.BigEndian
	b := be.AppendUint16(nil, 9)
	b = be.AppendUint16(b, 1)
	b = be.AppendUint32(b, 3_600_000)
	b = be.AppendUint32(b, uint32(time.Now().Unix()))
	b = be.AppendUint32(b, seq)
	b = be.AppendUint32(b, 0)
	b = be.AppendUint16(b, 0) // template flowset
	b = be.AppendUint16(b, uint16(8+4*len(fields)))
	b = be.AppendUint16(b, 256)
	b = be.AppendUint16(b, uint16(len(fields)))
	for _, f := range fields {
		b = be.AppendUint16(b, f[0])
		b = be.AppendUint16(b, f[1])
	}
	return b
}

// flowFields is the template of v9Flows: addresses, ports, protocol,
// packets, bytes, first and last switched.
var flowFields = [][2]uint16{{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {2, 4}, {1, 4}, {22, 4}, {21, 4}}

// v9Flows is a NetFlow v9 datagram with n records of template 256
// (flowFields): TCP from 10.9.9.9 to 10.9.9.10 port 443, the source ports
// counting up from first.
func v9Flows(seq uint32, first, n int) []byte {
	be := binary.BigEndian
	b := be.AppendUint16(nil, 9)
	b = be.AppendUint16(b, uint16(n))
	b = be.AppendUint32(b, 3_600_000)
	b = be.AppendUint32(b, uint32(time.Now().Unix()))
	b = be.AppendUint32(b, seq)
	b = be.AppendUint32(b, 0)
	b = be.AppendUint16(b, 256)
	const recLen = 29
	pad := (4 - recLen*n%4) % 4
	b = be.AppendUint16(b, uint16(4+recLen*n+pad))
	for i := 0; i < n; i++ {
		b = append(b, 10, 9, 9, 9, 10, 9, 9, 10)
		b = be.AppendUint16(b, uint16(first+i))
		b = be.AppendUint16(b, 443)
		b = append(b, 6)
		b = be.AppendUint32(b, 3)
		b = be.AppendUint32(b, 180)
		b = be.AppendUint32(b, 3_500_000)
		b = be.AppendUint32(b, 3_590_000)
	}
	return append(b, make([]byte, pad)...)
}

// spoofed sends one datagram from each of the addresses 127.a.b.c that
// count up from the index from, to port: every address of 127.0.0.0/8 is
// local on Linux, so each datagram comes from another exporter.
func spoofed(t *testing.T, port, from, count int, dgram func(i int) []byte) {
	t.Helper()
	for i := from; i < from+count; i++ {
		src := net.IPv4(127, byte(1+i>>16), byte(i>>8), byte(i))
		c, err := net.DialUDP("udp4", &net.UDPAddr{IP: src}, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		require.NoError(t, err)
		_, err = c.Write(dgram(i))
		c.Close()
		require.NoError(t, err)
		if i%10 == 9 {
			time.Sleep(time.Millisecond)
		}
	}
}

// TestExporterFlood: 1 100 spoofed sources send one datagram each, more
// than gocapd knows exporters at once (1024), and go on while a real
// exporter sends its v9 template and 300 flows. Each new source takes the
// place of the one silent longest, never of the exporter that keeps
// sending: all its flows are stored. (gocapd 1.0 refused every exporter
// past the 1024th until a restart.)
func TestExporterFlood(t *testing.T) {
	dir := t.TempDir()
	p := startGocapd(t, []string{"TZ=UTC"}, "-w", dir, "-I", "flood")
	spoofedV5 := func(i int) []byte { return v5Datagram(0, i, 1) }
	spoofed(t, p.port, 0, 1100, spoofedV5)
	real, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p.port})
	require.NoError(t, err)
	defer real.Close()
	_, err = real.Write(v9Template(0, flowFields))
	require.NoError(t, err)
	for i := 0; i < 10; i++ {
		spoofed(t, p.port, 1100+100*i, 100, spoofedV5)
		_, err = real.Write(v9Flows(uint32(1+i), 30*i, 30))
		require.NoError(t, err)
	}
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, 0, p.stop(syscall.SIGTERM), p.log.String())

	log := p.log.String()
	assert.Regexp(t, `Totals: Datagrams: 2111, Flows: 2400, Sequence Errors: 0, Decode Errors: 0, `, log)
	// 2 101 exporters, 1 024 known at once.
	assert.Equal(t, uint64(2101-1024), logSum(log, "Totals:", "Evicted Exporters"))
	realFlows := 0
	for _, l := range csvFlows(t, dir) {
		if strings.Contains(l, ",10.9.9.9,10.9.9.10,") {
			realFlows++
		}
	}
	assert.Equal(t, 300, realFlows, "every flow of the exporter that keeps sending")
	assert.Equal(t, 2400, len(csvFlows(t, dir)))
}

// TestMaxExporters: --max-exporters sets how many exporters gocapd knows
// at once. The file keeps the records of the exporters evicted while it
// was written, with their counters, as nfdump -E shows.
func TestMaxExporters(t *testing.T) {
	dir := t.TempDir()
	p := startGocapd(t, []string{"TZ=UTC"}, "-w", dir, "-I", "max", "--max-exporters", "10")
	spoofed(t, p.port, 0, 15, func(i int) []byte { return v5Datagram(0, i, 1) })
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, 0, p.stop(syscall.SIGTERM), p.log.String())
	assert.Equal(t, uint64(5), logSum(p.log.String(), "Totals:", "Evicted Exporters"))
	e := exporters(t, dir)
	assert.Equal(t, 15, strings.Count(e, ", Sequence failures: 0, packets: 1, flows: 1\n"), e)
	for i := 1; i <= 15; i++ {
		assert.Contains(t, e, fmt.Sprintf("SysID: %d, ", i))
	}
}

// rss returns a process's resident set and its peak, in bytes, from
// /proc/<pid>/status (VmRSS and VmHWM).
func rss(t *testing.T, pid int) (now, peak int64) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) != 3 || f[2] != "kB" {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			now = n << 10
		case "VmHWM:":
			peak = n << 10
		}
	}
	require.Positive(t, now)
	return now, peak
}

// TestTemplateFlood: after a real exporter sent its template and flows,
// 20 sources send 30 templates each of 16 000 fields (as large as a
// datagram takes). Kept, they would take some 200 MB (gocapd 1.0 and
// nfcapd keep up to 256 per source); with --template-memory 16M gocapd
// refuses what is beyond the budget, its peak memory stays within the
// budget (and its bounded queue) above what it used before, and the real
// exporter's template, stored before the flood, keeps working.
func TestTemplateFlood(t *testing.T) {
	const budget = 16 << 20
	dir := t.TempDir()
	p := startGocapd(t, []string{"TZ=UTC"}, "-w", dir, "-I", "templates", "--template-memory", "16M", "-B", "8000000")
	real, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p.port})
	require.NoError(t, err)
	defer real.Close()
	_, err = real.Write(v9Template(0, flowFields))
	require.NoError(t, err)
	_, err = real.Write(v9Flows(1, 0, 30))
	require.NoError(t, err)
	time.Sleep(500 * time.Millisecond)
	before, _ := rss(t, p.cmd.Process.Pid)

	huge := make([][2]uint16, 16000)
	for i := range huge {
		huge[i] = [2]uint16{1, 4} // IN_BYTES, 4 bytes
	}
	big := v9Template(0, huge)
	require.Greater(t, len(big), 64000)
	for round := 0; round < 30; round++ {
		spoofed(t, p.port, 0, 20, func(i int) []byte {
			binary.BigEndian.PutUint16(big[24:], uint16(256+round)) // template id
			return big
		})
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	// After the flood (during it the kernel drops datagrams of any
	// source, the socket buffer being full of templates).
	_, err = real.Write(v9Flows(2, 30, 30))
	require.NoError(t, err)
	time.Sleep(300 * time.Millisecond)
	now, peak := rss(t, p.cmd.Process.Pid)
	require.Equal(t, 0, p.stop(syscall.SIGTERM), p.log.String())
	log := p.log.String()
	t.Logf("RSS before the flood %d MiB, after %d MiB, peak %d MiB", before>>20, now>>20, peak>>20)

	refused := logSum(log, "Totals:", "Refused Templates")
	assert.Greater(t, refused, uint64(100), "most of the 600 templates are refused")
	assert.Regexp(t, `(?m)^netflow v9 from 127\.1\.0\.\d+ domain 0: template memory exhausted: template \d+ of \d+ bytes refused: \d+ of 16777216 bytes of template memory taken$`, log)
	// The queue between socket and decoder holds up to 16 MiB of
	// datagrams; the rest is the budget and the Go heap's slack.
	assert.Less(t, peak, before+budget+16<<20+8<<20, "peak RSS %d MiB, before %d MiB", peak>>20, before>>20)
	realFlows := 0
	for _, l := range csvFlows(t, dir) {
		if strings.Contains(l, ",10.9.9.9,10.9.9.10,") {
			realFlows++
		}
	}
	assert.Equal(t, 60, realFlows, "the real exporter's template keeps working")
}
