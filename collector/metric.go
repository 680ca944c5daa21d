package collector

import (
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/nfgo/nftools/flow"
)

// nfcapd 1.7.1's metric exporter (-m socket, -i interval) sends, at every
// multiple of the interval since the epoch, one message to a UNIX stream
// socket: it connects, writes the message and closes. The message is the
// C structs of nfcapd in the host's byte order and alignment:
//
//	header, 24 bytes:
//	  0  prefix      '@'
//	  1  version     1
//	  2  size        u16  numMetrics*232 (the records, without the header)
//	  4  numMetrics  u16
//	  6  interval    u16  seconds
//	  8  timeStamp   u64  msec, the current time rounded down to the interval
//	  16 uptime      u64
//	then numMetrics records of 232 bytes:
//	  0   ident      [128]byte, NUL padded
//	  128 exporterID u64  SysID<<16 | engine type<<8 | engine id
//	  136 flows   tcp, udp, icmp, other  u64 each
//	  168 bytes   tcp, udp, icmp, other
//	  200 packets tcp, udp, icmp, other
//
// There is one record per ident (flow source), made when its first flow
// arrives, newest first; its exporterID is that of its first flow. The
// counters are those of the interval: they are cleared once a message
// went out, and keep adding up while the socket cannot be reached. ICMP
// counts ICMPv6 too, and only the in packets and bytes are counted. No
// message is sent before the first flow, and none at exit.
const (
	metricPrefix     = '@'
	metricVersion    = 1
	metricHeaderSize = 24
	metricRecordSize = 232
	metricIdentSize  = 128
)

// DefaultMetricInterval is nfcapd's -i default.
const DefaultMetricInterval = 60 * time.Second

// metricRecord counts one ident's flows of the current interval.
type metricRecord struct {
	ident      string
	exporterID uint64
	// flows, bytes and packets, each by tcp, udp, icmp, other.
	flows, bytes, packets [4]uint64
}

// Metrics is the metric exporter of -m.
type Metrics struct {
	path     string
	interval time.Duration
	infof    func(string, ...any)
	errorf   func(string, ...any)
	verbose  bool
	start    time.Time

	mu      sync.Mutex
	recs    []*metricRecord // newest first, as nfcapd sends them
	byIdent map[string]*metricRecord
}

// NewMetrics makes the exporter for the socket at path. Like nfcapd it
// tries the socket once and logs when nobody listens, but starts anyway:
// the consumer may come later. verbose logs each message sent.
func NewMetrics(path string, interval time.Duration, verbose bool, infof, errorf func(string, ...any)) *Metrics {
	if interval <= 0 {
		interval = DefaultMetricInterval
	}
	m := &Metrics{path: path, interval: interval, infof: infof, errorf: errorf, verbose: verbose,
		start: time.Now(), byIdent: map[string]*metricRecord{}}
	if c, err := m.dial(); err != nil {
		m.errorf("metric socket unreachable")
	} else {
		c.Close()
	}
	m.infof("Metric initialized")
	return m
}

func (m *Metrics) dial() (net.Conn, error) {
	c, err := net.DialTimeout("unix", m.path, 5*time.Second)
	if err != nil {
		m.errorf("connect() failed on %s: %v", m.path, connectError(err))
	}
	return c, err
}

// connectError strips Go's "dial unix path:" prefix, which the log line
// already says.
func connectError(err error) error {
	if oe, ok := err.(*net.OpError); ok && oe.Err != nil {
		return oe.Err
	}
	return err
}

// counter returns the function that counts a flow of ident.
func (m *Metrics) counter(ident string) func(*flow.Record) {
	var rec *metricRecord
	return func(r *flow.Record) {
		m.mu.Lock()
		if rec == nil {
			rec = m.record(ident, uint64(uint32(r.ExporterID)<<16|uint32(r.EngineType)<<8|uint32(r.EngineID)))
		}
		i := protoClass(r.Proto)
		rec.flows[i]++
		rec.bytes[i] += r.InBytes
		rec.packets[i] += r.InPackets
		m.mu.Unlock()
	}
}

// record returns the record of ident, made with this exporter id when it
// is new. Two sources with one ident share it, as in nfcapd.
func (m *Metrics) record(ident string, exporterID uint64) *metricRecord {
	if rec := m.byIdent[ident]; rec != nil {
		return rec
	}
	rec := &metricRecord{ident: ident, exporterID: exporterID}
	m.byIdent[ident] = rec
	m.recs = append([]*metricRecord{rec}, m.recs...)
	return rec
}

// run sends a message at every multiple of the interval until stop is
// closed.
func (m *Metrics) run(stop <-chan struct{}) {
	for {
		now := time.Now()
		next := now.Truncate(m.interval).Add(m.interval)
		select {
		case <-stop:
			return
		case <-time.After(next.Sub(now)):
		}
		m.send(time.Now())
	}
}

// send sends the counters of the interval that ends at now. What went
// out is then taken off the counters (flows counted meanwhile stay for
// the next message); when the socket cannot be reached all is kept for the
// next try. nfcapd holds its lock over the whole send instead, so a slow
// consumer holds up its collector; ours does not.
func (m *Metrics) send(now time.Time) {
	m.mu.Lock()
	if len(m.recs) == 0 {
		m.mu.Unlock()
		return
	}
	sent := make([]metricRecord, len(m.recs))
	recs := append([]*metricRecord(nil), m.recs...)
	for i, r := range recs {
		sent[i] = *r
	}
	m.mu.Unlock()
	msg := m.message(now, sent)

	c, err := m.dial()
	if err != nil {
		m.errorf("metric socket unreachable")
		return
	}
	defer c.Close()
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(msg); err != nil {
		m.errorf("write() error on %s: %v", m.path, connectError(err))
		return
	}
	m.mu.Lock()
	for i, r := range recs {
		for j := range r.flows {
			r.flows[j] -= sent[i].flows[j]
			r.bytes[j] -= sent[i].bytes[j]
			r.packets[j] -= sent[i].packets[j]
		}
	}
	m.mu.Unlock()
	if m.verbose {
		for _, r := range sent {
			m.infof("Message sent for '%s', exporter: %d", r.ident, r.exporterID)
		}
	}
}

// message encodes the header and the records.
func (m *Metrics) message(now time.Time, recs []metricRecord) []byte {
	n := len(recs)
	b := make([]byte, metricHeaderSize+n*metricRecordSize)
	bo := binary.NativeEndian
	b[0], b[1] = metricPrefix, metricVersion
	// nfcapd's size and count are 16 bits wide and wrap beyond 282
	// idents; so do ours.
	bo.PutUint16(b[2:], uint16(n*metricRecordSize))
	bo.PutUint16(b[4:], uint16(n))
	secs := int64(m.interval / time.Second)
	bo.PutUint16(b[6:], uint16(secs))
	ts := now.Unix()
	bo.PutUint64(b[8:], uint64(ts-ts%secs)*1000)
	bo.PutUint64(b[16:], uint64(now.Sub(m.start)/time.Second))
	for i, r := range recs {
		p := b[metricHeaderSize+i*metricRecordSize:]
		copy(p[:metricIdentSize-1], r.ident)
		bo.PutUint64(p[128:], r.exporterID)
		for j := 0; j < 4; j++ {
			bo.PutUint64(p[136+8*j:], r.flows[j])
			bo.PutUint64(p[168+8*j:], r.bytes[j])
			bo.PutUint64(p[200+8*j:], r.packets[j])
		}
	}
	return b
}

// MetricMessage is a decoded metric message, for consumers and tests.
type MetricMessage struct {
	Interval   uint16
	TimeStamp  uint64 // msec
	Uptime     uint64
	Records    []MetricRecord
	SizeField  uint16
	CountField uint16
}

// MetricRecord is one ident's counters in a MetricMessage; the arrays are
// indexed tcp, udp, icmp, other.
type MetricRecord struct {
	Ident                 string
	ExporterID            uint64
	Flows, Bytes, Packets [4]uint64
}

// DecodeMetricMessage decodes a message as nfcapd (and gocapd) write it in
// this host's byte order.
func DecodeMetricMessage(b []byte) (*MetricMessage, error) {
	if len(b) < metricHeaderSize {
		return nil, fmt.Errorf("metric message of %d bytes: shorter than its header", len(b))
	}
	if b[0] != metricPrefix || b[1] != metricVersion {
		return nil, fmt.Errorf("metric message starts with %#x %#x, not '@' 1", b[0], b[1])
	}
	bo := binary.NativeEndian
	msg := &MetricMessage{SizeField: bo.Uint16(b[2:]), CountField: bo.Uint16(b[4:]), Interval: bo.Uint16(b[6:]),
		TimeStamp: bo.Uint64(b[8:]), Uptime: bo.Uint64(b[16:])}
	n := int(msg.CountField)
	if len(b) != metricHeaderSize+n*metricRecordSize {
		return nil, fmt.Errorf("metric message of %d bytes for %d records", len(b), n)
	}
	for i := 0; i < n; i++ {
		p := b[metricHeaderSize+i*metricRecordSize:]
		ident := p[:metricIdentSize]
		for k, c := range ident {
			if c == 0 {
				ident = ident[:k]
				break
			}
		}
		r := MetricRecord{Ident: string(ident), ExporterID: bo.Uint64(p[128:])}
		for j := 0; j < 4; j++ {
			r.Flows[j] = bo.Uint64(p[136+8*j:])
			r.Bytes[j] = bo.Uint64(p[168+8*j:])
			r.Packets[j] = bo.Uint64(p[200+8*j:])
		}
		msg.Records = append(msg.Records, r)
	}
	return msg, nil
}

// flowHook is what a sink calls for each flow: -E's printer and the
// metric counter, whichever are on.
func (c *Collector) flowHook(ident string) func(*flow.Record) {
	on := c.cfg.OnFlow
	if c.cfg.Metrics == nil {
		return on
	}
	count := c.cfg.Metrics.counter(ident)
	if on == nil {
		return count
	}
	return func(r *flow.Record) {
		on(r)
		count(r)
	}
}

// startMetrics runs the metric exporter, when there is one, until the
// returned function is called.
func (c *Collector) startMetrics() (stop func()) {
	if c.cfg.Metrics == nil {
		return func() {}
	}
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		c.cfg.Metrics.run(done)
	}()
	return func() {
		close(done)
		<-exited
	}
}
