package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/nfgo/nftools/internal/testutil"
)

// TestFramesArrive sends frames from one end of a veth pair with the
// command itself and counts them at the other end on a packet socket of
// its own: every frame said to be sent arrives, whole.
func TestFramesArrive(t *testing.T) {
	pair := testutil.NewVethPair(t)
	const frames = 5000

	var fd int
	require.NoError(t, pair.B.Do(func() {
		ifi, err := net.InterfaceByName(pair.IfB)
		require.NoError(t, err)
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		require.NoError(t, err)
		require.NoError(t, unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}))
	}))
	defer unix.Close(fd)
	// Room for every frame even if this test is not scheduled while they
	// arrive.
	require.NoError(t, unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 32<<20))
	require.NoError(t, unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 300000}))

	got := make(chan [2]int64, 1)
	// sent is set once the command has returned: only then does a quiet
	// spell mean the frames are all in (under load the sender was once
	// off its processor for longer than 300 ms mid-run, and the count
	// stopped at 2784 of 5000 with no frame dropped).
	var sent atomic.Bool
	go func() {
		var n, size int64
		buf := make([]byte, 2048)
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
			m, _, err := unix.Recvfrom(fd, buf, 0)
			if err != nil {
				if sent.Load() {
					break // quiet for 300 ms after the sender is done
				}
				continue // the sender is still at work
			}
			// pktgen's hosts have MACs 02:00:00:00:xx:xx; the kernel's
			// own frames (IPv6 neighbour discovery) have the interface's.
			if m >= 14 && bytes.Equal(buf[6:10], []byte{2, 0, 0, 0}) {
				n++
				size += int64(m)
			}
		}
		got <- [2]int64{n, size}
	}()

	var out, errOut bytes.Buffer
	var runErr error
	require.NoError(t, pair.A.Do(func() {
		runErr = run(context.Background(), []string{"-i", pair.IfA, "-n", "5000", "-r", "20000", "-k"}, &out, &errOut)
	}))
	sent.Store(true)
	require.NoError(t, runErr, errOut.String())
	var nsent, bytesSent int64
	var secs, pps float64
	_, err := fmtSscan(out.String(), &nsent, &bytesSent, &secs, &pps)
	require.NoError(t, err, out.String())
	assert.Equal(t, int64(frames), nsent)

	var r [2]int64
	select {
	case r = <-got:
	case <-time.After(time.Minute):
		t.Fatal("the receiver never went quiet")
	}
	var st unix.TpacketStats
	size := uint32(unsafe.Sizeof(st))
	_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_PACKET, unix.PACKET_STATISTICS,
		uintptr(unsafe.Pointer(&st)), uintptr(unsafe.Pointer(&size)), 0)
	require.Zero(t, errno)
	require.Zero(t, st.Drops, "the receiving socket dropped frames: the count below cannot be trusted")
	assert.Equal(t, int64(frames), r[0], "frames received")
	assert.Equal(t, bytesSent, r[1], "bytes received")
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// fmtSscan reads the -k report line.
func fmtSscan(s string, frames, bytes *int64, secs, pps *float64) (int, error) {
	return fmt.Sscanf(s, "frames=%d bytes=%d seconds=%g frames_per_sec=%g", frames, bytes, secs, pps)
}
