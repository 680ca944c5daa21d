package collector

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/expire"
	"github.com/nfgo/nftools/flow"
)

// TestSnapshotWhileRunning: the counters a metrics layer reads while the
// collector runs, from another goroutine, follow the worker within a
// second.
func TestSnapshotWhileRunning(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	c, err := New(Config{
		Sources:      []Source{{Ident: "snap", Dir: t.TempDir()}},
		Interval:     time.Hour,
		MaxExporters: 2,
	}, conn)
	require.NoError(t, err)
	runWhileTest(t, c)

	tmpl, _ := benchDatagrams(9, 1, 1)
	for _, src := range []net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(127, 0, 0, 2), net.IPv4(127, 0, 0, 3)} {
		out, err := net.DialUDP("udp4", &net.UDPAddr{IP: src}, conn.LocalAddr().(*net.UDPAddr))
		require.NoError(t, err)
		_, err = out.Write(tmpl)
		out.Close()
		require.NoError(t, err)
	}
	var s Snapshot
	require.Eventually(t, func() bool { s = c.Snapshot(); return s.EvictedExporters == 1 }, 10*time.Second, 20*time.Millisecond, "%+v", s)
	assert.Equal(t, uint64(3), s.Datagrams)
	assert.Equal(t, uint64(2), s.Exporters)
	assert.Positive(t, s.TemplateMemory, "the templates of the two exporters known")
	assert.Zero(t, s.RefusedTemplates)
	assert.Zero(t, s.LostFlows)
}

// TestDynamicSourcesGoWithTheirExporters: a -M source whose exporters
// were all forgotten (evicted by newer ones) is dropped at the rotation,
// so that a flood of addresses does not leave a source, an open file and
// its buffers behind for each.
func TestDynamicSourcesGoWithTheirExporters(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	rotated := make(chan struct{}, 4)
	dir := t.TempDir()
	c, err := New(Config{
		DynamicDir:   dir,
		Interval:     time.Hour,
		MaxExporters: 2,
		Infof: func(format string, args ...any) {
			if strings.HasPrefix(format, "%s") && strings.HasPrefix(fmt.Sprint(args...), "Totals:") {
				rotated <- struct{}{}
			}
		},
	}, conn)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()

	tmpl, _ := benchDatagrams(9, 1, 1)
	for i := byte(1); i <= 3; i++ {
		out, err := net.DialUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, i)}, conn.LocalAddr().(*net.UDPAddr))
		require.NoError(t, err)
		_, err = out.Write(tmpl)
		out.Close()
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return c.Snapshot().EvictedExporters == 1 }, 10*time.Second, 20*time.Millisecond)
	c.Rotate()
	<-rotated
	cancel()
	require.NoError(t, <-done)
	var idents []string
	for _, k := range c.sinks {
		idents = append(idents, k.src.Ident)
	}
	assert.Equal(t, []string{"127-0-0-2", "127-0-0-3"}, idents)
	for _, d := range []string{"127-0-0-1", "127-0-0-2", "127-0-0-3"} {
		files, _ := filepath.Glob(filepath.Join(dir, d, "nfcapd.2*"))
		assert.NotEmpty(t, files, "%s keeps its file", d)
	}
}

// TestProtoCounts: flows count by protocol class under their exporter's
// SysID, ICMPv6 as icmp; a SysID taken anew starts from zero, and a flow
// of a SysID never announced is not counted.
func TestProtoCounts(t *testing.T) {
	var pc protoCounts
	pc.reset(2)
	pc.add(&flow.Record{ExporterID: 2, Proto: flow.ProtoTCP, InPackets: 3, InBytes: 180})
	pc.add(&flow.Record{ExporterID: 2, Proto: flow.ProtoICMPv6, InPackets: 1, InBytes: 64})
	pc.add(&flow.Record{ExporterID: 2, Proto: flow.ProtoICMP, InPackets: 2, InBytes: 128})
	pc.add(&flow.Record{ExporterID: 2, Proto: 47, InPackets: 5, InBytes: 500, OutPackets: 7, OutBytes: 700})
	pc.add(&flow.Record{ExporterID: 3, Proto: flow.ProtoUDP, InPackets: 1, InBytes: 1})
	assert.Equal(t, [NumProtoClasses]ProtoCounters{{1, 3, 180}, {}, {2, 3, 192}, {1, 5, 500}}, pc.of(2))
	assert.Equal(t, [NumProtoClasses]ProtoCounters{}, pc.of(3))
	pc.reset(2)
	assert.Equal(t, [NumProtoClasses]ProtoCounters{}, pc.of(2))
}

// TestSnapshotPerExporterAndSource: each exporter's totals by protocol
// while the collector runs; an exporter evicted leaves the list and, back
// in the SysID it had, starts from zero; each flow source's files and the
// size of its directory, counted at the start and after the rotation.
func TestSnapshotPerExporterAndSource(t *testing.T) {
	dir := t.TempDir()
	// A file of an earlier run: the directory holds it from the start.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nfcapd.202601010000"), make([]byte, 5000), 0o644))
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	rotated := make(chan struct{}, 4)
	c, err := New(Config{
		Sources:        []Source{{Ident: "snap", Dir: dir}},
		Interval:       time.Hour,
		MaxExporters:   1,
		TrackDiskUsage: true,
		Infof: func(format string, args ...any) {
			if strings.HasPrefix(format, "%s") && strings.HasPrefix(fmt.Sprint(args...), "Totals:") {
				rotated <- struct{}{}
			}
		},
	}, conn)
	require.NoError(t, err)
	runWhileTest(t, c)
	send := func(src byte, dgrams ...[]byte) {
		out, err := net.DialUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, src)}, conn.LocalAddr().(*net.UDPAddr))
		require.NoError(t, err)
		defer out.Close()
		for _, d := range dgrams {
			_, err = out.Write(d)
			require.NoError(t, err)
		}
	}
	// The flows of benchDatagrams' first n datagrams of 4, by class:
	// flow i (from 1) has protocol TCP, UDP, ICMP or GRE by i%4 (the
	// order of ProtoClasses) and 1+i%100 packets of 64 bytes.
	byProto := func(n int) (out [NumProtoClasses]ProtoCounters) {
		for i := 1; i <= 4*n; i++ {
			c := &out[i%4]
			c.Flows++
			c.Packets += uint64(1 + i%100)
			c.Bytes += uint64(64 * (1 + i%100))
		}
		return out
	}
	tmpl, data := benchDatagrams(9, 2, 4)

	var s Snapshot
	require.Eventually(t, func() bool {
		s = c.Snapshot()
		return len(s.PerSource) == 1 && s.PerSource[0].DiskKnown
	}, 10*time.Second, 20*time.Millisecond, "%+v", s)
	assert.Equal(t, []SourceSnapshot{{Ident: "snap", Dir: dir, DiskKnown: true, DiskBytes: diskBlocks(t, dir), DiskFiles: 1}}, s.PerSource)

	send(1, tmpl, data[0], data[1])
	require.Eventually(t, func() bool { s = c.Snapshot(); return s.Flows == 8 }, 10*time.Second, 20*time.Millisecond, "%+v", s)
	a := ExporterSnapshot{Ident: "snap", Addr: netip.MustParseAddr("127.0.0.1"), Version: 9, Domain: 1,
		Datagrams: 3, Flows: 8, Templates: 1, ByProto: byProto(2)}
	assert.Equal(t, []ExporterSnapshot{a}, s.PerExporter)

	// 127.0.0.2 takes the place of 127.0.0.1; at the rotation 127.0.0.1's
	// SysID is free, and it takes it again.
	send(2, tmpl)
	require.Eventually(t, func() bool { s = c.Snapshot(); return s.EvictedExporters == 1 }, 10*time.Second, 20*time.Millisecond)
	require.Len(t, s.PerExporter, 1)
	assert.Equal(t, netip.MustParseAddr("127.0.0.2"), s.PerExporter[0].Addr)
	c.Rotate()
	<-rotated
	send(1, tmpl, data[0])
	require.Eventually(t, func() bool { s = c.Snapshot(); return s.Flows == 12 }, 10*time.Second, 20*time.Millisecond, "%+v", s)
	a.Datagrams, a.Flows, a.ByProto = 2, 4, byProto(1)
	assert.Equal(t, []ExporterSnapshot{a}, s.PerExporter, "back from zero")

	require.Eventually(t, func() bool { s = c.Snapshot(); return s.PerSource[0].Files == 1 && s.PerSource[0].DiskFiles == 2 },
		10*time.Second, 20*time.Millisecond, "%+v", s.PerSource)
	src := s.PerSource[0]
	assert.Equal(t, diskBlocks(t, dir), src.DiskBytes)
	assert.WithinDuration(t, time.Now(), src.LastRotation, 10*time.Second)
	assert.Positive(t, src.RotationTook)

	// The same through Prometheus(): a pedantic registry finds each
	// metric as described, and the exporter's flows by protocol.
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c.Prometheus()))
	fams, err := reg.Gather()
	require.NoError(t, err)
	flows := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != "gocapd_exporter_flows_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			assert.Equal(t, map[string]string{"ident": "snap", "exporter": "127.0.0.1", "version": "9", "domain": "1", "proto": labels["proto"]}, labels)
			flows[labels["proto"]] = m.GetCounter().GetValue()
		}
	}
	assert.Equal(t, map[string]float64{"tcp": 1, "udp": 1, "icmp": 1, "other": 1}, flows)
}

// diskBlocks returns the space the flow files in dir take, in 512-byte
// blocks as nfexpire counts it.
func diskBlocks(t *testing.T, dir string) uint64 {
	t.Helper()
	var blocks uint64
	files, _ := filepath.Glob(filepath.Join(dir, "nfcapd.2*"))
	for _, f := range files {
		fi, err := os.Stat(f)
		require.NoError(t, err)
		blocks += uint64(fi.Sys().(*syscall.Stat_t).Blocks) * 512
	}
	require.Positive(t, blocks)
	return blocks
}

// TestSourceStatsKeepsTheLatestCount: a count of the directory that
// started before the one stored (the first count, slow on a large
// archive, against one after a quick rotation) is dropped.
func TestSourceStatsKeepsTheLatestCount(t *testing.T) {
	var st sourceStats
	st.add(Source{Ident: "a", Dir: "/d"})
	t0 := time.Unix(1800000000, 0)
	st.disk("/d", expire.Stat{Size: 2, NumFiles: 2}, t0.Add(time.Second))
	st.disk("/d", expire.Stat{Size: 1, NumFiles: 1}, t0)
	st.disk("/nope", expire.Stat{Size: 9, NumFiles: 9}, t0)
	assert.Equal(t, []SourceSnapshot{{Ident: "a", Dir: "/d", DiskKnown: true, DiskBytes: 2, DiskFiles: 2}}, st.all())
	st.rotated("/d", t0, t0.Add(300*time.Millisecond))
	st.rotated("/d", t0.Add(time.Minute), t0.Add(time.Minute+time.Second))
	got := st.all()[0]
	assert.Equal(t, uint64(2), got.Files)
	assert.Equal(t, t0.Add(time.Minute+time.Second), got.LastRotation)
	assert.Equal(t, time.Second, got.RotationTook)
	st.remove("/d")
	assert.Empty(t, st.all())
}

// runWhileTest runs c until the test ends, and then checks that Run
// returned without an error.
func runWhileTest(t *testing.T, c *Collector) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}
