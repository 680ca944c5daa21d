package testutil

import (
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
