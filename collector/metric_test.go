package collector

import (
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
)

// TestMetricCounters: one record per ident, newest first, counted by
// protocol with ICMPv6 as ICMP; what went out is taken off, what could not
// go out is kept.
func TestMetricCounters(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "s")
	var logs []string
	logf := func(f string, args ...any) { logs = append(logs, f) }
	m := NewMetrics(sock, 10*time.Second, false, logf, logf)
	assert.Equal(t, []string{"connect() failed on %s: %v", "metric socket unreachable", "Metric initialized"}, logs)

	a, b := m.counter("a"), m.counter("b")
	a(&flow.Record{Proto: flow.ProtoTCP, InPackets: 2, InBytes: 100, ExporterID: 1})
	b(&flow.Record{Proto: flow.ProtoICMPv6, InPackets: 1, InBytes: 64, ExporterID: 2, EngineType: 1, EngineID: 3})
	a(&flow.Record{Proto: flow.ProtoUDP, InPackets: 3, InBytes: 300, ExporterID: 3})
	a(&flow.Record{Proto: 47, InPackets: 4, InBytes: 400, OutPackets: 9, OutBytes: 900})

	now := time.Unix(1795556705, 0)
	m.send(now) // nobody listens: kept
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	defer l.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			b, _ := io.ReadAll(c)
			c.Close()
			got <- b
		}
	}()
	m.send(now)
	msg, err := DecodeMetricMessage(<-got)
	require.NoError(t, err)
	assert.Equal(t, uint16(10), msg.Interval)
	assert.Equal(t, uint64(1795556700000), msg.TimeStamp)
	assert.Equal(t, uint16(2*232), msg.SizeField)
	assert.Equal(t, []MetricRecord{
		{Ident: "b", ExporterID: 2<<16 | 1<<8 | 3, Flows: [4]uint64{0, 0, 1, 0}, Bytes: [4]uint64{0, 0, 64, 0}, Packets: [4]uint64{0, 0, 1, 0}},
		{Ident: "a", ExporterID: 1 << 16, Flows: [4]uint64{1, 1, 0, 1}, Bytes: [4]uint64{100, 300, 0, 400}, Packets: [4]uint64{2, 3, 0, 4}},
	}, msg.Records)
	for _, r := range m.recs {
		assert.Equal(t, [4]uint64{}, r.flows, r.ident)
	}
	assert.Contains(t, strings.Join(logs, "\n"), "metric socket unreachable")
}

func TestDecodeMetricMessageErrors(t *testing.T) {
	_, err := DecodeMetricMessage([]byte("@"))
	assert.ErrorContains(t, err, "shorter than its header")
	b := make([]byte, 24)
	b[0] = '#'
	_, err = DecodeMetricMessage(b)
	assert.ErrorContains(t, err, "not '@' 1")
}
