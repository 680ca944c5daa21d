package collector

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()

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
