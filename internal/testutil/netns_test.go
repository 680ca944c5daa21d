//go:build linux

package testutil

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestVethPair: the two namespaces reach each other over the veth pair,
// by TCP, UDP and ICMP echo, and see only their own interfaces.
func TestVethPair(t *testing.T) {
	p := NewVethPair(t)

	var ln net.Listener
	var udp net.PacketConn
	require.NoError(t, p.A.Do(func() {
		var err error
		ln, err = net.Listen("tcp4", p.AddrA.String()+":0")
		require.NoError(t, err)
		udp, err = net.ListenPacket("udp4", p.AddrA.String()+":0")
		require.NoError(t, err)
		ifs, err := net.Interfaces()
		require.NoError(t, err)
		var names []string
		for _, i := range ifs {
			names = append(names, i.Name)
		}
		assert.ElementsMatch(t, []string{"lo", p.IfA}, names)
	}))
	defer ln.Close()
	defer udp.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(c, c)
			c.Close()
		}
	}()

	require.NoError(t, p.B.Do(func() {
		c, err := net.DialTimeout("tcp4", ln.Addr().String(), 5*time.Second)
		require.NoError(t, err)
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		_, err = c.Write([]byte("hello"))
		require.NoError(t, err)
		buf := make([]byte, 5)
		_, err = io.ReadFull(c, buf)
		require.NoError(t, err)
		assert.Equal(t, "hello", string(buf))

		u, err := net.Dial("udp4", udp.LocalAddr().String())
		require.NoError(t, err)
		defer u.Close()
		_, err = u.Write([]byte("datagram"))
		require.NoError(t, err)

		// An ICMP echo request, id 7 seq 1, answered by A's kernel.
		ic, err := net.ListenPacket("ip4:icmp", p.AddrB.String())
		require.NoError(t, err)
		defer ic.Close()
		echo := []byte{8, 0, 0, 0, 0, 7, 0, 1}
		binary.BigEndian.PutUint16(echo[2:], ^uint16(8<<8+7+1))
		_, err = ic.WriteTo(echo, &net.IPAddr{IP: p.AddrA.AsSlice()})
		require.NoError(t, err)
		ic.SetReadDeadline(time.Now().Add(5 * time.Second))
		reply := make([]byte, 64)
		n, from, err := ic.ReadFrom(reply)
		require.NoError(t, err)
		assert.Equal(t, p.AddrA, netip.MustParseAddr(from.String()))
		require.Equal(t, 8, n)
		assert.Equal(t, byte(0), reply[0], "echo reply")
	}))

	udp.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, from, err := udp.ReadFrom(buf)
	require.NoError(t, err)
	assert.Equal(t, "datagram", string(buf[:n]))
	assert.Equal(t, p.AddrB.String(), from.(*net.UDPAddr).IP.String())
}

// TestRemoveStale: a namespace of a test process that is gone is deleted
// at the next NewVethPair; this process's own stay.
func TestRemoveStale(t *testing.T) {
	p := NewVethPair(t)
	dead := 0
	for pid := 4194303; pid > 1; pid-- {
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); errors.Is(err, os.ErrNotExist) {
			dead = pid
			break
		}
	}
	require.NotZero(t, dead)
	stale := nsPrefix + strconv.Itoa(dead) + "zA"
	out, err := exec.Command(p.A.ip, "netns", "add", stale).CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Cleanup(func() { exec.Command(p.A.ip, "netns", "del", stale).Run() })
	other := "nftest" + strconv.Itoa(dead) // not ours: left alone
	out, err = exec.Command(p.A.ip, "netns", "add", other).CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Cleanup(func() { exec.Command(p.A.ip, "netns", "del", other).Run() })

	NewVethPair(t)
	_, err = os.Stat("/var/run/netns/" + stale)
	assert.ErrorIs(t, err, os.ErrNotExist, "the dead process's namespace")
	for _, name := range []string{p.A.Name, p.B.Name, other} {
		_, err = os.Stat("/var/run/netns/" + name)
		assert.NoError(t, err, name)
	}
}

// TestDoReportsAnEndedGoroutine: a function that ends its goroutine (as a
// failed require does) is an error, not a wait for ever.
func TestDoReportsAnEndedGoroutine(t *testing.T) {
	p := NewVethPair(t)
	err := p.A.Do(func() { runtime.Goexit() })
	assert.ErrorContains(t, err, "ended its goroutine")
	assert.ErrorContains(t, p.A.Do(func() { panic("boom") }), "boom")
	assert.NoError(t, p.A.Do(func() {}))
}

// TestPromiscuity: an AF_PACKET socket in promiscuous mode on the
// interface raises its count, and closing it lowers it again.
func TestPromiscuity(t *testing.T) {
	p := NewVethPair(t)
	require.Zero(t, p.A.Promiscuity(t, p.IfA))
	var fd int
	require.NoError(t, p.A.Do(func() {
		var err error
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
		require.NoError(t, err)
		ifi, err := net.InterfaceByName(p.IfA)
		require.NoError(t, err)
		mreq := unix.PacketMreq{Ifindex: int32(ifi.Index), Type: unix.PACKET_MR_PROMISC}
		require.NoError(t, unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq))
	}))
	assert.Equal(t, 1, p.A.Promiscuity(t, p.IfA))
	unix.Close(fd)
	assert.Zero(t, p.A.Promiscuity(t, p.IfA))
}
