package pcap

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/nfgo/nftools/capture"
	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/testutil"
)

// Live capture is tested in two network namespaces joined by a veth pair
// (testutil.NewVethPair): side A, where the capture runs, and side B,
// which sends. Nothing leaves them.

// open opens a live capture in namespace A; an empty interface is A's
// end of the pair.
func open(t *testing.T, p *testutil.VethPair, cfg LiveConfig) *Handle {
	t.Helper()
	if cfg.Interface == "" {
		cfg.Interface = p.IfA
	}
	var h *Handle
	var err error
	require.NoError(t, p.A.Do(func() { h, err = OpenLive(cfg) }))
	require.NoError(t, err)
	t.Cleanup(func() { h.Close() })
	return h
}

// read reads frames until n of them pass keep or the time is up.
func read(t *testing.T, h *Handle, n int, keep func(*capture.Packet) bool) []capture.Packet {
	var d capture.Decoder
	var out []capture.Packet
	var f capture.Frame
	var p capture.Packet
	deadline := time.Now().Add(10 * time.Second)
	for len(out) < n && time.Now().Before(deadline) {
		err := h.Next(&f)
		if errors.Is(err, capture.ErrTimeout) {
			continue
		}
		require.NoError(t, err)
		if d.Decode(f.Link, &f, &p) == nil && keep(&p) {
			out = append(out, p)
		}
	}
	return out
}

func TestLiveCapture(t *testing.T) {
	vp := testutil.NewVethPair(t)
	h := open(t, vp, LiveConfig{Snaplen: 96, Promisc: true, Filter: "udp or tcp", Timeout: 50 * time.Millisecond})
	addrA, addrB := vp.AddrA.String(), vp.AddrB.String()
	assert.Equal(t, capture.LinkEthernet, h.LinkType())

	// Listeners in a, and from b: three UDP datagrams, a ping the filter
	// must drop, and a TCP connection.
	var ln net.Listener
	var lu net.PacketConn
	var err error
	require.NoError(t, vp.A.Do(func() {
		if ln, err = net.Listen("tcp4", addrA+":6000"); err == nil {
			lu, err = net.ListenPacket("udp4", addrA+":5000")
		}
	}))
	require.NoError(t, err)
	defer ln.Close()
	defer lu.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			buf := make([]byte, 100)
			c.Read(buf)
			c.Close()
		}
	}()
	require.NoError(t, vp.B.Do(func() { err = sendFromB(addrA, addrB) }))
	require.NoError(t, err)

	var d capture.Decoder
	var f capture.Frame
	var p capture.Packet
	var flows []flow.Record
	cache := capture.NewCache(capture.CacheConfig{Idle: time.Minute, Active: time.Minute, Fragment: time.Minute},
		func(r *flow.Record, _ capture.ExpiryReason) { flows = append(flows, *r) })
	var udp, tcp, other int
	deadline := time.Now().Add(10 * time.Second)
	for (udp < 3 || tcp < 4) && time.Now().Before(deadline) {
		err := h.Next(&f)
		if errors.Is(err, capture.ErrTimeout) {
			continue
		}
		require.NoError(t, err)
		assert.LessOrEqual(t, len(f.Data), 96, "the snap length")
		require.NoError(t, d.Decode(f.Link, &f, &p))
		cache.Add(&p, f.Time)
		switch {
		case p.Proto == flow.ProtoUDP && p.DstPort == 5000:
			udp++
			assert.Equal(t, 14+28+200, f.WireLen)
			assert.Equal(t, addrB, p.SrcAddr().String())
		case p.Proto == flow.ProtoTCP && (p.DstPort == 6000 || p.SrcPort == 6000):
			tcp++
		default:
			other++
		}
	}
	assert.Equal(t, 3, udp)
	assert.GreaterOrEqual(t, tcp, 4, "SYN, SYN-ACK, ACK, data")
	assert.Zero(t, other, "the filter passes UDP and TCP only: no ping")
	assert.GreaterOrEqual(t, h.Stats().Received, uint64(udp+tcp))
	assert.Zero(t, h.Stats().Dropped)

	cache.Flush()
	var udpFlow *flow.Record
	for i := range flows {
		if flows[i].DstPort == 5000 {
			udpFlow = &flows[i]
		}
	}
	require.NotNil(t, udpFlow, "%v", flows)
	assert.Equal(t, uint64(3), udpFlow.InPackets)
	assert.Equal(t, uint64(3*228), udpFlow.InBytes)
	assert.Equal(t, addrB, udpFlow.SrcAddr.String())
}

// sendFromB sends the traffic of TestLiveCapture (in namespace B).
func sendFromB(addrA, addrB string) error {
	u, err := net.Dial("udp4", addrA+":5000")
	if err != nil {
		return err
	}
	defer u.Close()
	for i := 0; i < 3; i++ {
		if _, err := u.Write(make([]byte, 200)); err != nil {
			return err
		}
	}
	icmp, err := net.ListenPacket("ip4:icmp", addrB)
	if err != nil {
		return err
	}
	defer icmp.Close()
	echo := []byte{8, 0, 0xf7, 0xfe, 0, 1, 0, 0} // echo request, id 1, sequence 0, checksum
	if _, err := icmp.WriteTo(echo, &net.IPAddr{IP: net.ParseIP(addrA)}); err != nil {
		return err
	}
	c, err := net.Dial("tcp4", addrA+":6000")
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte("hello"))
	return err
}

// TestLivePromisc: the interface is promiscuous while a capture that asked
// for it runs, and not with -p.
func TestLivePromisc(t *testing.T) {
	vp := testutil.NewVethPair(t)
	require.Zero(t, vp.A.Promiscuity(t, vp.IfA))
	h := open(t, vp, LiveConfig{Promisc: true})
	assert.Equal(t, 1, vp.A.Promiscuity(t, vp.IfA))
	h.Close()
	assert.Zero(t, vp.A.Promiscuity(t, vp.IfA), "closing the capture ends promiscuous mode")
	open(t, vp, LiveConfig{Promisc: false})
	assert.Zero(t, vp.A.Promiscuity(t, vp.IfA))
}

// TestLiveTimeout: with nothing to capture, Next comes back with
// ErrTimeout, so that the capture loop can scan for expired flows.
func TestLiveTimeout(t *testing.T) {
	vp := testutil.NewVethPair(t)
	h := open(t, vp, LiveConfig{Filter: "udp port 9", Timeout: 20 * time.Millisecond})
	got := make(chan error, 1)
	go func() {
		var f capture.Frame
		got <- h.Next(&f)
	}()
	select {
	case err := <-got:
		assert.ErrorIs(t, err, capture.ErrTimeout)
	case <-time.After(20 * time.Second):
		t.Fatal("Next did not come back on an idle link")
	}
}

func TestOpenLiveErrors(t *testing.T) {
	vp := testutil.NewVethPair(t)
	var err error
	require.NoError(t, vp.A.Do(func() { _, err = OpenLive(LiveConfig{Interface: "nosuchif0"}) }))
	assert.ErrorContains(t, err, "nosuchif0")
	require.NoError(t, vp.A.Do(func() { _, err = OpenLive(LiveConfig{Interface: vp.IfA, Filter: "tcp port"}) }))
	assert.ErrorContains(t, err, vp.IfA)
	assert.ErrorContains(t, err, "syntax error")
}

// TestLiveKernelDrops: a capture that does not keep up loses packets in
// the kernel, and Stats says how many (pcap_stats).
func TestLiveKernelDrops(t *testing.T) {
	vp := testutil.NewVethPair(t)
	h := open(t, vp, LiveConfig{BufferKB: 64, Filter: "udp port 5001"})
	addrA := vp.AddrA.String()
	var err error
	send := func(n int) {
		var u net.Conn
		if u, err = net.Dial("udp4", addrA+":5001"); err != nil {
			return
		}
		defer u.Close()
		for i := 0; i < n && err == nil; i++ {
			_, err = u.Write(make([]byte, 1000))
			if errors.Is(err, unix.ECONNREFUSED) {
				err = nil // the port unreachable that the last datagram earned
			}
		}
	}
	// One datagram first, read, so that b knows a's MAC address before
	// the burst, which the neighbour queue would otherwise cut short.
	require.NoError(t, vp.B.Do(func() { send(1) }))
	require.NoError(t, err)
	require.Len(t, read(t, h, 1, func(*capture.Packet) bool { return true }), 1)
	require.NoError(t, vp.B.Do(func() { send(5000) }))
	require.NoError(t, err)
	st := h.Stats()
	assert.Positive(t, st.Dropped, "%+v", st)
	// What the kernel kept is all there: read until a timeout finds as
	// many read as the kernel counts kept. Not up to the first timeout
	// alone: on a busy machine the last datagrams of the burst may still
	// be on their way through the veth pair when it comes, counted but
	// not yet readable (CI once read 232 of 233 so).
	got := 0
	var f capture.Frame
	for deadline := time.Now().Add(20 * time.Second); ; {
		err := h.Next(&f)
		if errors.Is(err, capture.ErrTimeout) {
			st := h.Stats()
			if uint64(got+1) >= st.Received-st.Dropped || time.Now().After(deadline) {
				break
			}
			continue
		}
		require.NoError(t, err)
		got++
	}
	assert.Positive(t, got)
	assert.Less(t, got, 5000)
	st = h.Stats()
	assert.Equal(t, uint64(got+1), st.Received-st.Dropped, "%d read after the first; %+v", got, st)
}

// TestNextAllocatesNothing: reading a frame, or waiting in vain for one,
// costs no allocation.
func TestNextAllocatesNothing(t *testing.T) {
	vp := testutil.NewVethPair(t)
	h := open(t, vp, LiveConfig{Filter: "udp port 5002", Timeout: 10 * time.Millisecond})
	var err error
	require.NoError(t, vp.B.Do(func() {
		var u net.Conn
		if u, err = net.Dial("udp4", vp.AddrA.String()+":5002"); err != nil {
			return
		}
		defer u.Close()
		for i := 0; i < 300 && err == nil; i++ {
			_, err = u.Write(make([]byte, 100))
			if errors.Is(err, unix.ECONNREFUSED) {
				err = nil
			}
		}
	}))
	require.NoError(t, err)
	var f capture.Frame
	read, timeouts := 0, 0
	allocs := testing.AllocsPerRun(250, func() {
		switch err := h.Next(&f); {
		case err == nil:
			read++
		case errors.Is(err, capture.ErrTimeout):
			timeouts++
		}
	})
	assert.Zero(t, allocs)
	assert.Positive(t, read)
}
