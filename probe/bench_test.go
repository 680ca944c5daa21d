package probe

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/capture"
	"github.com/nfgo/nftools/internal/pktgen"
	"github.com/nfgo/nftools/netflow"
)

// benchCapture is a capture of generated traffic, kept between runs.
var benchCapture []byte

func generatedCapture(b *testing.B, n int) []byte {
	if benchCapture == nil {
		var buf bytes.Buffer
		g := pktgen.NewTraffic(1, pktgen.Start)
		w := pktgen.NewPcap(&buf, 1, pktgen.PcapOptions{SnapLen: 128})
		for range n {
			w.Write(g.Next())
		}
		require.NoError(b, w.Err())
		benchCapture = buf.Bytes()
	}
	return benchCapture
}

// BenchmarkReadCapture: goprobe --read's path, a capture read from memory
// through the decoder (reading ahead: on a goroutine of its own) and the
// cache, the flows encoded as NetFlow v9 and sent on loopback to a
// socket that reads and drops them; per packet.
func BenchmarkReadCapture(b *testing.B) {
	const packets = 200000
	capt := generatedCapture(b, packets)
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(b, err)
	defer sink.Close()
	sink.SetReadBuffer(16 << 20)
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, err := sink.Read(buf); err != nil {
				return
			}
		}
	}()
	col := Collector{Host: "127.0.0.1", Port: strconv.Itoa(sink.LocalAddr().(*net.UDPAddr).Port)}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		src, err := capture.NewFileSource(bytes.NewReader(capt), "bench")
		require.NoError(b, err)
		p, err := New(Config{Collectors: []Collector{col}, QueueLen: 100,
			NewEncoder: func() (Encoder, error) { return netflow.NewEncoder(netflow.EncoderConfig{Version: 9}) }})
		require.NoError(b, err)
		m := NewCaptureMeter(src, MeterConfig{Cache: capture.CacheConfig{Idle: time.Minute, Active: 5 * time.Minute, Fragment: 30 * time.Second},
			ReadAhead: true}, p)
		require.NoError(b, p.Run(context.Background(), m))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*packets), "ns/packet")
}
