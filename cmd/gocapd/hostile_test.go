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
