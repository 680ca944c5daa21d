package main

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/netflow"
)

// listen opens a UDP socket on loopback and collects what arrives on it
// until the test ends.
func listen(t *testing.T) (addr string, got <-chan []byte) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	conn.SetReadBuffer(4 << 20)
	ch := make(chan []byte, 10000)
	go func() {
		buf := make([]byte, 65536)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			ch <- bytes.Clone(buf[:n])
		}
	}()
	return conn.LocalAddr().String(), ch
}

// receive takes n datagrams from ch, failing the test after a few seconds.
func receive(t *testing.T, ch <-chan []byte, n int64) [][]byte {
	var out [][]byte
	timeout := time.After(5 * time.Second)
	for int64(len(out)) < n {
		select {
		case b := <-ch:
			out = append(out, b)
		case <-timeout:
			t.Fatalf("received %d of %d datagrams", len(out), n)
		}
	}
	select {
	case b := <-ch:
		t.Fatalf("a datagram more than reported: % x", b[:min(len(b), 20)])
	case <-time.After(100 * time.Millisecond):
	}
	return out
}

// collect is a netflow.Handler keeping the flows in nfsend's terms.
type collect struct {
	flows     []flowVals
	exporters int
}

func (c *collect) Flow(r *flow.Record) {
	c.flows = append(c.flows, flowVals{
		Src: r.SrcAddr.As4(), Dst: r.DstAddr.As4(),
		SrcPort: r.SrcPort, DstPort: r.DstPort,
		Proto: r.Proto, TCPFlags: r.TCPFlags, Tos: r.SrcTos,
		Packets: r.InPackets, Bytes: r.InBytes,
		First: r.First, Last: r.Last,
		Input: r.Input, Output: r.Output,
	})
}
func (c *collect) NewExporter(*flow.Exporter) { c.exporters++ }
func (c *collect) Sampler(*flow.Sampler)      {}

// TestSendDecodes sends a few hundred flows at a low rate from two
// exporters, through a small ring so that it wraps twice, and decodes the
// datagrams with our decoder: exactly the flows nfsend says it sent, no
// sequence failure, no decode error.
func TestSendDecodes(t *testing.T) {
	for _, version := range []int{5, 9, 10} {
		t.Run(map[int]string{5: "v5", 9: "v9", 10: "ipfix"}[version], func(t *testing.T) {
			addr, ch := listen(t)
			cfg := config{
				Addr:          addr,
				Version:       version,
				PerDatagram:   7, // odd: a v9 flowset needs padding
				FlowRate:      3000,
				Count:         300,
				Streams:       2,
				TemplateEvery: 5,
				Ring:          4, // 28 flows; 150 a stream: five passes
				Batch:         3,
				Seed:          42,
				Base:          time.Now().Truncate(time.Millisecond),
			}
			rep, err := send(context.Background(), cfg)
			require.NoError(t, err)
			// 150 flows a stream in datagrams of 7: 22 data datagrams and
			// a template before every 5th (none in v5).
			templates := int64(5)
			if version == 5 {
				templates = 0
			}
			assert.Equal(t, int64(2*22*7), rep.Flows)
			assert.Equal(t, 2*templates, rep.Templates)
			assert.Equal(t, 2*(22+templates), rep.Datagrams)
			assert.GreaterOrEqual(t, rep.Elapsed, 80*time.Millisecond, "308 flows at 3000 flows/s")

			dgrams := receive(t, ch, rep.Datagrams)
			var size int64
			dec := netflow.NewDecoder(netflow.Options{})
			h := &collect{}
			for i, b := range dgrams {
				size += int64(len(b))
				require.NoError(t, dec.Decode(b, netip.MustParseAddr("127.0.0.1"), time.Now(), h), "datagram %d", i)
			}
			assert.Equal(t, rep.Bytes, size)
			counters := dec.Counters()
			assert.Equal(t, uint64(rep.Datagrams), counters.Datagrams)
			assert.Equal(t, uint64(rep.Flows), counters.Flows)
			assert.Zero(t, counters.SequenceFailures)
			assert.Empty(t, counters.Errors)
			assert.Equal(t, 2, h.exporters)

			var want []flowVals
			cont := cfg.content()
			for s := 0; s < cfg.Streams; s++ {
				for i := uint64(0); i < 22*7; i++ {
					want = append(want, cont.flow(s, i))
				}
			}
			assert.ElementsMatch(t, want, h.flows)
			// Varied: no two flows alike, also across passes of the ring.
			seen := map[flowVals]bool{}
			for _, f := range h.flows {
				assert.False(t, seen[f], "flow sent twice: %+v", f)
				seen[f] = true
			}
		})
	}
}

// TestFirstStream: with FirstStream set the streams are exporters of
// their own (the v9 source id, the IPFIX domain, the v5 engine id) and
// send the flows of their number, so that several processes send as
// different exporters.
func TestFirstStream(t *testing.T) {
	for _, version := range []int{5, 9, 10} {
		addr, ch := listen(t)
		cfg := config{Addr: addr, Version: version, PerDatagram: 5, Count: 50, Streams: 1, FirstStream: 3,
			TemplateEvery: 20, Ring: 4, Batch: 4, Base: time.Now().Truncate(time.Millisecond)}
		rep, err := send(context.Background(), cfg)
		require.NoError(t, err)
		dec := netflow.NewDecoder(netflow.Options{})
		h := &collect{}
		for i, b := range receive(t, ch, rep.Datagrams) {
			switch version {
			case 5:
				require.Equal(t, byte(4), b[21], "v5 engine id, datagram %d", i)
			case 9:
				require.Equal(t, uint32(4), be.Uint32(b[16:]), "v9 source id, datagram %d", i)
			default:
				require.Equal(t, uint32(4), be.Uint32(b[12:]), "IPFIX domain, datagram %d", i)
			}
			require.NoError(t, dec.Decode(b, netip.MustParseAddr("127.0.0.1"), time.Now(), h), "datagram %d", i)
		}
		var want []flowVals
		for i := uint64(0); i < 50; i++ {
			want = append(want, cfg.content().flow(3, i))
		}
		assert.ElementsMatch(t, want, h.flows, "version %d", version)
	}
	assert.Error(t, config{Version: 9, PerDatagram: 1, Count: 1, Streams: 2, FirstStream: 254, TemplateEvery: 1, Ring: 1, Batch: 1}.check(),
		"stream 255 would need engine id 256")
}

// TestSequenceAcrossBatches checks the sequence numbers themselves over a
// long run with big batches: v9 counts datagrams, IPFIX data records.
func TestSequenceAcrossBatches(t *testing.T) {
	for _, version := range []int{5, 9, 10} {
		addr, ch := listen(t)
		cfg := config{Addr: addr, Version: version, PerDatagram: 30, Count: 30 * 500, Streams: 1,
			TemplateEvery: 20, Ring: 64, Batch: 64, Base: time.Now()}
		rep, err := send(context.Background(), cfg)
		require.NoError(t, err)
		var next uint32
		for i, b := range receive(t, ch, rep.Datagrams) {
			if version == 9 {
				require.Equal(t, uint32(i), be.Uint32(b[12:]), "v9 datagram %d", i)
				continue
			}
			if version == 5 {
				require.Equal(t, uint32(30*i), be.Uint32(b[16:]), "v5 datagram %d", i)
				continue
			}
			require.Equal(t, uint16(len(b)), be.Uint16(b[2:]), "IPFIX message length")
			require.Equal(t, next, be.Uint32(b[8:]), "IPFIX message %d", i)
			if be.Uint16(b[16:]) == templateID {
				next += 30
			}
		}
	}
}

func TestRunFlags(t *testing.T) {
	addr, ch := listen(t)
	_, port, _ := net.SplitHostPort(addr)
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-p", port, "-v", "ipfix", "-c", "100", "-n", "10", "-D", "1000", "-k"}, &out, &errOut)
	require.NoError(t, err, errOut.String())
	assert.Equal(t, "proto=ipfix flows=100 datagrams=11 templates=1", strings.Join(strings.Fields(out.String())[:4], " "))
	assert.Contains(t, out.String(), "requested_flows_per_sec=10000 ")
	receive(t, ch, 11)

	for _, bad := range [][]string{
		{"-v", "8", "-c", "1"},
		{"-v", "5", "-n", "31", "-c", "1"}, // v5 carries at most 30
		{"-n", "0", "-c", "1"},
		{"-p", port},                      // neither count nor duration
		{"-c", "1", "-r", "1", "-D", "1"}, // two rates
		{"-c", "1", "-b", "100", "-R", "10"},
		{"-c", "1", "-n", "2000"}, // too big for a datagram
		{"extra"},
	} {
		assert.Error(t, run(context.Background(), bad, &out, &errOut), "%q", bad)
	}
}
