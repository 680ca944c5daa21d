//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A drain measures a collector's capacity without a sender competing
// for the processors: the collector is stopped (SIGSTOP), the load fills
// its socket's receive buffer, and the collector is let go (SIGCONT) and
// timed until its socket is empty and it is idle. On loopback the
// sender's CPU time includes the kernel's delivery into the receiving
// socket (on a 2-core machine some 1.1-1.2 cores at 8 M flows/s), so a
// collector measured under a live load there gets less than a core, and
// the rate found is the machine's; drained from a full buffer, it has the
// machine to itself.
//
// The state comes from the kernel: the socket's queued bytes and drops
// from /proc/net/udp (udp6), the collector's CPU time from the
// scheduler's count of all its threads (the process's CPU clock, in
// nanoseconds), and the system's UDP receive-buffer errors from
// /proc/net/snmp.
//
// The poller must leave the processors to the collector: a poll that read
// /proc/net/udp (the kernel walks its whole UDP hash table, 122 us here)
// and each thread's /proc/PID/task/*/schedstat (190 us for a dozen
// threads) took 280 us, and at a poll every millisecond nfsend used 40%
// of a core during the drain (perf sched: 20 ms of every 50), on a
// 2-core machine where gocapd needs both. The CPU clock is one system
// call, and the socket is read only once the collector looks idle (at the
// end of the drain), as a busy collector is busy whatever its socket
// holds.
type drain struct {
	pid   int
	sock  netip.AddrPort // the collector's socket
	poll  time.Duration  // how often the collector's state is read
	quiet time.Duration  // idle this long: the drain is over
	limit time.Duration  // give up after this long

	drops0, snmp0 uint64 // before the load
	stopped       bool
	trace         io.Writer // each poll, when set: seconds, bytes queued, CPU ns since the last
}

// drainReport is what a drain found.
type drainReport struct {
	Queued      int64         // bytes waiting in the socket when the collector went on
	SockDrops   uint64        // datagrams the socket dropped, load and drain
	RcvbufErrs  uint64        // the system's UDP RcvbufErrors over the same time
	Elapsed     time.Duration // from SIGCONT to the collector's last busy poll
	CPU         time.Duration // the collector's CPU time (user + system) meanwhile
	PollsBusy   int           // polls that found it busy
	PollsIdle   int
	QueuedAtEnd int64
}

// idleShare is the CPU a poll may see the collector use and still count
// it idle: a runtime's timers and monitor wake an idle process for a few
// microseconds now and then.
const idleShare = 0.05

func newDrain(pid int, addr string, poll, quiet time.Duration) (*drain, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("-drain wants a numeric host: %w", err)
	}
	if pid <= 0 {
		return nil, fmt.Errorf("-drain %d: want the collector's process id", pid)
	}
	if poll <= 0 || quiet <= poll {
		return nil, fmt.Errorf("drain poll %v, quiet %v: want 0 < poll < quiet", poll, quiet)
	}
	return &drain{pid: pid, sock: ap, poll: poll, quiet: quiet, limit: 5 * time.Minute}, nil
}

// stop stops the collector and waits until every thread of it is stopped,
// then notes the drop counters the load starts from.
func (d *drain) stop() error {
	if _, _, err := readUDPSocket(d.sock); err != nil {
		return err
	}
	if err := syscall.Kill(d.pid, syscall.SIGSTOP); err != nil {
		return fmt.Errorf("stop collector %d: %w", d.pid, err)
	}
	d.stopped = true
	deadline := time.Now().Add(5 * time.Second)
	for !allStopped(d.pid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("collector %d did not stop within 5 s", d.pid)
		}
		time.Sleep(time.Millisecond)
	}
	_, d.drops0, _ = readUDPSocket(d.sock)
	d.snmp0, _ = rcvbufErrors()
	return nil
}

// resume lets the collector go on if stop stopped it; for the way out
// after an error.
func (d *drain) resume() {
	if d.stopped {
		syscall.Kill(d.pid, syscall.SIGCONT)
		d.stopped = false
	}
}

// run lets the stopped collector go and watches it until its socket is
// empty and it has been idle for d.quiet.
func (d *drain) run() (drainReport, error) {
	var rep drainReport
	q, _, err := readUDPSocket(d.sock)
	if err != nil {
		d.resume()
		return rep, err
	}
	rep.Queued = q
	if q == 0 {
		d.resume()
		return rep, fmt.Errorf("nothing waits in the socket of %v: is %d the collector listening there?", d.sock, d.pid)
	}
	cpu0, err := cpuTime(d.pid)
	if err != nil {
		d.resume()
		return rep, err
	}
	idleMax := time.Duration(idleShare * float64(d.poll))
	start := time.Now()
	d.resume()
	busyUntil, last := start, cpu0
	for {
		time.Sleep(d.poll)
		now := time.Now()
		c, err := cpuTime(d.pid)
		if err != nil {
			return rep, err
		}
		// q is -1, not read, while the collector is busy anyway
		// (but for a trace).
		q := int64(-1)
		if c-last <= idleMax || d.trace != nil {
			if q, _, err = readUDPSocket(d.sock); err != nil {
				return rep, err
			}
		}
		if d.trace != nil {
			fmt.Fprintf(d.trace, "%.4f %d %d\n", now.Sub(start).Seconds(), q, (c - last).Nanoseconds())
		}
		if q != 0 || c-last > idleMax {
			busyUntil = now
			rep.PollsBusy++
		} else {
			rep.PollsIdle++
		}
		last = c
		if now.Sub(busyUntil) >= d.quiet {
			rep.QueuedAtEnd = q
			break
		}
		if now.Sub(start) > d.limit {
			return rep, fmt.Errorf("collector %d still busy %v after it went on", d.pid, d.limit)
		}
	}
	rep.Elapsed = busyUntil.Sub(start)
	rep.CPU = last - cpu0
	_, drops, _ := readUDPSocket(d.sock)
	rep.SockDrops = drops - d.drops0
	if s, err := rcvbufErrors(); err == nil {
		rep.RcvbufErrs = s - d.snmp0
	}
	return rep, nil
}

// readUDPSocket returns the bytes queued in and the datagrams dropped by
// the UDP sockets bound to ap's port on its address or on the
// unspecified one (/proc/net/udp or udp6), added up over them all.
func readUDPSocket(ap netip.AddrPort) (queued int64, drops uint64, err error) {
	name := "/proc/net/udp"
	if ap.Addr().Is6() && !ap.Addr().Is4In6() {
		name = "/proc/net/udp6"
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return 0, 0, err
	}
	found := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Scan() // the header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 13 {
			continue
		}
		local, err := parseProcAddr(f[1])
		if err != nil || local.Port() != ap.Port() {
			continue
		}
		if local.Addr() != ap.Addr().Unmap() && !local.Addr().IsUnspecified() {
			continue
		}
		_, rx, ok := strings.Cut(f[4], ":")
		if !ok {
			return 0, 0, fmt.Errorf("%s: queue %q: want tx:rx", name, f[4])
		}
		q, err := strconv.ParseInt(rx, 16, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: queue %q: %w", name, f[4], err)
		}
		d, err := strconv.ParseUint(f[len(f)-1], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: drops %q: %w", name, f[len(f)-1], err)
		}
		queued += q
		drops += d
		found = true
	}
	if !found {
		return 0, 0, fmt.Errorf("no UDP socket on %v in %s", ap, name)
	}
	return queued, drops, nil
}

// parseProcAddr reads a local address of /proc/net/udp: the address's
// 32-bit words in hex, each in the machine's byte order, a colon and the
// port in hex.
func parseProcAddr(s string) (netip.AddrPort, error) {
	h, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("address %q: no port", s)
	}
	raw, err := hex.DecodeString(h)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("address %q", s)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("address %q: %w", s, err)
	}
	var a [16]byte
	for i := 0; i < len(raw); i += 4 {
		binary.BigEndian.PutUint32(a[i:], binary.NativeEndian.Uint32(raw[i:]))
	}
	addr := netip.AddrFrom16(a)
	if len(raw) == 4 {
		addr = netip.AddrFrom4([4]byte(a[:4]))
	}
	return netip.AddrPortFrom(addr.Unmap(), uint16(port)), nil
}

// cpuTime returns the CPU time of all of pid's threads, user and system,
// those that ended included: the scheduler's count in nanoseconds, read
// from the process's CPU clock (clock_getcpuclockid(3): the clock id is
// the process id inverted, shifted by 3, or'ed with CPUCLOCK_SCHED), not
// the clock ticks of /proc/PID/stat. One system call, where the sum of
// /proc/PID/task/*/schedstat (the same count for the threads alive) took
// 190 us for a dozen threads.
func cpuTime(pid int) (time.Duration, error) {
	const cpuclockSched = 2
	var ts unix.Timespec
	if err := unix.ClockGettime(int32(^pid<<3|cpuclockSched), &ts); err != nil {
		return 0, fmt.Errorf("collector %d: CPU clock: %w", pid, err)
	}
	return time.Duration(ts.Nano()), nil
}

// allStopped reports whether every thread of pid is stopped (state T).
func allStopped(pid int) bool {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if len(tasks) == 0 {
		return false
	}
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			return false
		}
		// The state follows the command name, which may hold spaces and
		// parentheses: the last ')' ends it.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 || i+2 >= len(b) || (b[i+2] != 'T' && b[i+2] != 't') {
			return false
		}
	}
	return true
}

// rcvbufErrors returns the system's count of UDP datagrams dropped at a
// full receive buffer (/proc/net/snmp, Udp: RcvbufErrors).
func rcvbufErrors() (uint64, error) {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0, err
	}
	var names []string
	for line := range strings.SplitSeq(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, "Udp: ")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == "RcvbufErrors" && i < len(f) {
				return strconv.ParseUint(f[i], 10, 64)
			}
		}
	}
	return 0, errors.New("/proc/net/snmp: no Udp RcvbufErrors")
}
