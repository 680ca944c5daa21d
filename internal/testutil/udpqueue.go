package testutil

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// WaitUDPRead waits until the UDP sockets bound to port hold no datagram
// their process has not read yet (the kernel's receive queue in
// /proc/net/udp and udp6 is empty), then gives the process a moment to
// handle the last one. The real nfcapd loses what it has not read when it
// gets SIGTERM, so a test stops it only after this: a fixed sleep is
// outrun by a busy machine.
func WaitUDPRead(t testing.TB, port int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		queued, err := udpQueued(port)
		if err != nil {
			t.Fatalf("testutil: UDP queue of port %d: %v", port, err)
		}
		if queued == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("testutil: port %d still holds %d bytes unread after 20 s", port, queued)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
}

// udpQueued sums the receive queues of the unconnected UDP sockets (state
// 07 in /proc/net/udp) bound to port.
func udpQueued(port int) (uint64, error) {
	// The tables of this thread's network namespace: /proc/net is that of
	// the process's first thread, which a test that entered a namespace
	// of its own (Netns.Do) may have left there.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var total uint64
	for _, name := range []string{"/proc/thread-self/net/udp", "/proc/thread-self/net/udp6"} {
		f, err := os.Open(name)
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return 0, err
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // the header
		for sc.Scan() {
			// sl local_address rem_address st tx_queue:rx_queue ...
			fields := strings.Fields(sc.Text())
			if len(fields) < 5 {
				continue
			}
			_, p, ok := strings.Cut(fields[1], ":")
			if !ok {
				continue
			}
			if lp, err := strconv.ParseUint(p, 16, 16); err != nil || int(lp) != port {
				continue
			}
			if fields[3] != "07" {
				// A connected socket (a sender's) that happens to use
				// the same local port is not the daemon's.
				continue
			}
			_, rx, ok := strings.Cut(fields[4], ":")
			n, err := strconv.ParseUint(rx, 16, 64)
			if !ok || err != nil {
				f.Close()
				return 0, fmt.Errorf("%s: unreadable queue %q", name, fields[4])
			}
			total += n
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return 0, err
		}
	}
	return total, nil
}
