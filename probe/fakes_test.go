package probe

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/daemon"
)

// fakeEncoder writes datagrams that the tests can read back:
//
//	"FAKE", count uint16, sequence uint32 (flows before this datagram),
//	export time uint64 (ms), then per flow: source port uint16,
//	destination port uint16, packets uint32.
//
// It takes at most perDatagram flows per datagram, and counts its
// sequence like NetFlow v5 does: per encoder, so per collector.
type fakeEncoder struct {
	perDatagram int
	seq         uint32
}

const fakeHeader = 18

func newFakeEncoder(perDatagram int) func() (Encoder, error) {
	return func() (Encoder, error) {
		return &fakeEncoder{perDatagram: perDatagram}, nil
	}
}

func (e *fakeEncoder) Encode(dst []byte, recs []flow.Record, now uint64) ([]byte, int) {
	n := min(len(recs), e.perDatagram)
	if n == 0 {
		return dst[:0], 0
	}
	dst = append(dst[:0], "FAKE"...)
	dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	dst = binary.BigEndian.AppendUint32(dst, e.seq)
	dst = binary.BigEndian.AppendUint64(dst, now)
	for _, r := range recs[:n] {
		dst = binary.BigEndian.AppendUint16(dst, r.SrcPort)
		dst = binary.BigEndian.AppendUint16(dst, r.DstPort)
		dst = binary.BigEndian.AppendUint32(dst, uint32(r.InPackets))
	}
	e.seq += uint32(n)
	return dst, n
}

// fakeDatagram is one datagram of fakeEncoder's, read back.
type fakeDatagram struct {
	from  netip.AddrPort
	seq   uint32
	now   uint64
	flows []fakeFlow
}

type fakeFlow struct {
	src, dst uint16
	packets  uint32
}

func (f fakeFlow) String() string { return fmt.Sprintf("%d>%d:%d", f.src, f.dst, f.packets) }

func parseFake(t testing.TB, b []byte, from netip.AddrPort) fakeDatagram {
	t.Helper()
	require.GreaterOrEqual(t, len(b), fakeHeader)
	require.Equal(t, "FAKE", string(b[:4]))
	n := int(binary.BigEndian.Uint16(b[4:]))
	require.Len(t, b, fakeHeader+8*n)
	d := fakeDatagram{from: from, seq: binary.BigEndian.Uint32(b[6:]), now: binary.BigEndian.Uint64(b[10:])}
	for i := range n {
		p := b[fakeHeader+8*i:]
		d.flows = append(d.flows, fakeFlow{binary.BigEndian.Uint16(p), binary.BigEndian.Uint16(p[2:]), binary.BigEndian.Uint32(p[4:])})
	}
	return d
}

// sink is a collector on loopback that keeps what it receives. Its
// reading goroutine only copies datagrams into room made up front, and
// wait parses them on the test's goroutine: a sink that allocated as it
// read would count in testing.AllocsPerRun, which counts every
// goroutine's allocations (TestSendAllocatesNothing failed that way
// under load), and a parse error must fail the test on its own goroutine.
type sink struct {
	t     testing.TB
	conn  *net.UDPConn
	mu    sync.Mutex
	raw   []byte           // the datagrams received, one after another
	ends  []int            // where each datagram ends in raw
	froms []netip.AddrPort // who sent each datagram
	done  chan struct{}
}

func newSink(t testing.TB, network, addr string) *sink {
	t.Helper()
	conn, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	require.NoError(t, err)
	s := &sink{t: t, conn: conn, done: make(chan struct{}),
		raw: make([]byte, 0, 1<<20), ends: make([]int, 0, 1<<13), froms: make([]netip.AddrPort, 0, 1<<13)}
	go func() {
		defer close(s.done)
		buf := make([]byte, 65536)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.raw = append(s.raw, buf[:n]...)
			s.ends = append(s.ends, len(s.raw))
			s.froms = append(s.froms, from)
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() { conn.Close(); <-s.done })
	return s
}

// addr returns the sink's address as a collector argument.
func (s *sink) collector(mode string) Collector {
	a := s.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	c, err := ParseCollector(net.JoinHostPort(a.Addr().String(), fmt.Sprint(a.Port())) + mode)
	require.NoError(s.t, err)
	return c
}

// wait waits until the sink holds flows flows in all, or fails the test
// after a few seconds.
func (s *sink) wait(flows int) []fakeDatagram {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		raw := append([]byte(nil), s.raw...)
		ends := append([]int(nil), s.ends...)
		froms := append([]netip.AddrPort(nil), s.froms...)
		s.mu.Unlock()
		got := make([]fakeDatagram, 0, len(ends))
		start := 0
		for i, end := range ends {
			got = append(got, parseFake(s.t, raw[start:end], froms[i]))
			start = end
		}
		n := 0
		for _, d := range got {
			n += len(d.flows)
		}
		if n >= flows {
			return got
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("sink got %d flows, want %d", n, flows)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// flowsOf lists the flows of datagrams, sorted.
func flowsOf(ds []fakeDatagram) []string {
	var out []string
	for _, d := range ds {
		for _, f := range d.flows {
			out = append(out, f.String())
		}
	}
	sort.Strings(out)
	return out
}

// fakePacket is one packet of a fakeMeter: at time at (seconds from the
// meter's start) for the flow src>dst; fin ends the flow at once, as TCP
// FIN does in the real cache.
type fakePacket struct {
	at       float64
	src, dst uint16
	fin      bool
	v6       bool // the flow is between ::1 and ::1, else 127.0.0.1
}

// fakeMeter is a flow cache in miniature: flows keyed by ports, expired
// when idle for idle, everything exported on Flush. Each entry of script is
// one Read: a packet, or (idle) an ErrIdle after the clock moved.
type fakeMeter struct {
	p      *Probe
	start  time.Time
	idle   time.Duration
	script []fakePacket
	live   bool // after the script: ErrIdle rather than io.EOF
	next   int
	flows  map[[2]uint16]*flow.Record
	order  [][2]uint16
	reads  int
	// onRead, when set, runs at every Read (before the packet).
	onRead  func(m *fakeMeter)
	expired []int64 // the times Expire was called at
	stats   MeterStats
}

func newFakeMeter(p *Probe, start time.Time, idle time.Duration, script ...fakePacket) *fakeMeter {
	return &fakeMeter{p: p, start: start, idle: idle, script: script, flows: map[[2]uint16]*flow.Record{}}
}

func (m *fakeMeter) at(sec float64) int64 {
	return m.start.Add(time.Duration(sec * float64(time.Second))).UnixNano()
}

func (m *fakeMeter) Read() (int64, error) {
	m.reads++
	if m.onRead != nil {
		m.onRead(m)
	}
	if m.next >= len(m.script) {
		if m.live {
			return 0, fmt.Errorf("pcap: %w", ErrIdle)
		}
		return 0, io.EOF
	}
	pk := m.script[m.next]
	m.next++
	now := m.at(pk.at)
	m.stats.Packets++
	key := [2]uint16{pk.src, pk.dst}
	r := m.flows[key]
	if r == nil {
		a := netip.MustParseAddr("127.0.0.1")
		if pk.v6 {
			a = netip.IPv6Loopback()
		}
		r = &flow.Record{SrcAddr: a, DstAddr: a, SrcPort: pk.src, DstPort: pk.dst, Proto: 17, First: uint64(now / 1e6)}
		m.flows[key] = r
		m.order = append(m.order, key)
	}
	r.InPackets++
	r.Last = uint64(now / 1e6)
	if pk.fin {
		m.export(key)
	}
	return now, nil
}

func (m *fakeMeter) export(key [2]uint16) {
	m.p.Export(m.flows[key])
	delete(m.flows, key)
}

func (m *fakeMeter) Expire(now int64) {
	m.expired = append(m.expired, now)
	for _, key := range m.order {
		if r := m.flows[key]; r != nil && int64(r.Last)*1e6+int64(m.idle) <= now {
			m.export(key)
		}
	}
}

func (m *fakeMeter) Flush() {
	for _, key := range m.order {
		if m.flows[key] != nil {
			m.export(key)
		}
	}
}

func (m *fakeMeter) Stats() MeterStats {
	st := m.stats
	st.ActiveFlows = uint64(len(m.flows))
	return st
}

// logBuffer collects log lines as fprobe writes them to stdout.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuffer) logf(level daemon.Level, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, "["+level.String()+"]: "+fmt.Sprintf(format, args...))
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
