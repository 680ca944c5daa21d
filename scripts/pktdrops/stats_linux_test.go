package main

import (
	"net"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/nfgo/nftools/internal/testutil"
)

// TestStatsOfASocket fills a packet socket of this process that nobody
// reads, across a veth pair, and reads its counters as pktdrops does:
// every frame that reached it was either dropped or is still queued.
func TestStatsOfASocket(t *testing.T) {
	pair := testutil.NewVethPair(t)
	var fd int
	var mac net.HardwareAddr
	require.NoError(t, pair.B.Do(func() {
		ifi, err := net.InterfaceByName(pair.IfB)
		require.NoError(t, err)
		mac = ifi.HardwareAddr
		all := int(htons(unix.ETH_P_ALL))
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, all)
		require.NoError(t, err)
		require.NoError(t, unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}))
	}))
	defer unix.Close(fd)
	// The smallest buffer the kernel allows: a few frames.
	require.NoError(t, unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 0))

	// No ARP: the kernel would keep only a few datagrams while it waits
	// for the answer.
	out, err := exec.Command("ip", "-n", pair.A.Name, "neigh", "replace", pair.AddrB.String(),
		"lladdr", mac.String(), "dev", pair.IfA).CombinedOutput()
	require.NoError(t, err, "%s", out)
	const datagrams = 200
	require.NoError(t, pair.A.Do(func() {
		// Unconnected, so that B's port unreachable answers do not fail
		// the next write.
		c, err := net.ListenUDP("udp4", nil)
		require.NoError(t, err)
		defer c.Close()
		to := &net.UDPAddr{IP: pair.AddrB.AsSlice(), Port: 9}
		for range datagrams {
			_, err := c.WriteToUDP(make([]byte, 1000), to)
			require.NoError(t, err)
		}
	}))
	// veth delivers a frame before the write that sent it returns.

	st, err := stats(os.Getpid())
	require.NoError(t, err)
	assert.Equal(t, 1, st.Sockets, "this process's packet sockets")
	assert.GreaterOrEqual(t, st.Packets, uint64(datagrams), "the datagrams (and B's port unreachable answers) reached it")
	assert.Positive(t, st.Drops)
	queued := uint64(0)
	buf := make([]byte, 2048)
	for {
		if _, _, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT); err != nil {
			break
		}
		queued++
	}
	assert.Positive(t, queued)
	assert.Equal(t, st.Packets, st.Drops+queued, "reached = dropped + queued")

	// The counters were reset by the reading.
	st, err = stats(os.Getpid())
	require.NoError(t, err)
	assert.Zero(t, st.Packets)
}

func TestStatsOfNoProcess(t *testing.T) {
	_, err := stats(1 << 30)
	assert.Error(t, err)
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
