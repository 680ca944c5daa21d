package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"
)

// config is what to send, and how fast.
type config struct {
	Addr          string        // collector, host:port
	Version       int           // 9 or 10 (IPFIX)
	PerDatagram   int           // flows in each data datagram
	FlowRate      float64       // flows per second, all streams together; 0: as fast as possible
	Duration      time.Duration // stop after this long; 0: no limit
	Count         int64         // flows to send, all streams together; 0: no limit
	Streams       int           // exporters, each with its own socket, domain and sequence
	FirstStream   int           // number of the first stream: several processes send as distinct exporters
	TemplateEvery int           // re-send the template after this many data datagrams
	Ring          int           // precomputed data datagrams per stream
	Batch         int           // datagrams handed to the kernel in one call
	Seed          uint64
	Base          time.Time // flows end shortly before this time
}

// report is what was sent.
type report struct {
	Datagrams int64 // data and template datagrams
	Templates int64 // template datagrams
	Flows     int64
	Bytes     int64 // UDP payload bytes
	Elapsed   time.Duration
}

func (r *report) add(o report) {
	r.Datagrams += o.Datagrams
	r.Templates += o.Templates
	r.Flows += o.Flows
	r.Bytes += o.Bytes
}

// FlowsPerSec is the achieved flow rate.
func (r report) FlowsPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Flows) / r.Elapsed.Seconds()
}

func (c config) check() error {
	switch {
	case c.Version != 5 && c.Version != 9 && c.Version != 10:
		return fmt.Errorf("version %d: want 5, 9 or 10 (IPFIX)", c.Version)
	case c.Version == 5 && c.PerDatagram > v5MaxFlows:
		return fmt.Errorf("%d flows per datagram: v5 carries at most %d", c.PerDatagram, v5MaxFlows)
	case c.PerDatagram < 1:
		return fmt.Errorf("%d flows per datagram: want at least 1", c.PerDatagram)
	case c.Streams < 1:
		return fmt.Errorf("%d streams: want at least 1", c.Streams)
	case c.FirstStream < 0 || c.FirstStream+c.Streams > 255:
		// v5 carries the stream number in its 8-bit engine id.
		return fmt.Errorf("streams %d to %d: want 0 to 254", c.FirstStream, c.FirstStream+c.Streams-1)
	case c.TemplateEvery < 1:
		return fmt.Errorf("template every %d datagrams: want at least 1", c.TemplateEvery)
	case c.Batch < 1 || c.Batch > 1024:
		return fmt.Errorf("batch of %d: want 1 to 1024", c.Batch)
	case c.Duration <= 0 && c.Count <= 0:
		return errors.New("give a duration or a count of flows")
	case c.FlowRate < 0 || c.Count < 0 || c.Duration < 0:
		return errors.New("rate, count and duration must not be negative")
	}
	if c.Ring < c.Batch {
		// A batch must not hold one ring datagram twice: it is patched in
		// place before the kernel reads it.
		return fmt.Errorf("ring of %d datagrams: want at least the batch, %d", c.Ring, c.Batch)
	}
	if recLen := newEncoder(c.Version, content{ringFlows: 1}).recLen; v9HeaderLen+setHeaderLen+c.PerDatagram*recLen+3 > 65507 {
		return fmt.Errorf("%d flows of %d bytes do not fit in a UDP datagram", c.PerDatagram, recLen)
	}
	return nil
}

// content returns the flows the configuration sends.
func (c *config) content() content {
	return content{
		seed:      c.Seed,
		baseMsec:  uint64(c.Base.UnixMilli()),
		ringFlows: uint64(c.Ring * c.PerDatagram),
	}
}

// share returns stream s's part of a total split over the streams.
func share(total int64, streams, s int) int64 {
	n := total / int64(streams)
	if int64(s) < total%int64(streams) {
		n++
	}
	return n
}

// send sends what cfg asks for and reports what went out. It stops early,
// with what was sent so far, when ctx is done.
func send(ctx context.Context, cfg config) (report, error) {
	if err := cfg.check(); err != nil {
		return report{}, err
	}
	cont := cfg.content()
	streams := make([]*stream, cfg.Streams)
	for s := range streams {
		// Datagrams per stream: a count of flows is rounded up to whole
		// datagrams.
		var limit int64 = -1
		if cfg.Count > 0 {
			flows := share(cfg.Count, cfg.Streams, s)
			limit = (flows + int64(cfg.PerDatagram) - 1) / int64(cfg.PerDatagram)
		}
		st, err := newStream(&cfg, cont, s, limit)
		if err != nil {
			for _, o := range streams[:s] {
				o.conn.Close()
			}
			return report{}, err
		}
		streams[s] = st
	}
	// Datagrams per second per stream.
	rate := cfg.FlowRate / float64(cfg.PerDatagram) / float64(cfg.Streams)

	start := time.Now()
	var deadline time.Time
	if cfg.Duration > 0 {
		deadline = start.Add(cfg.Duration)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(streams))
	for i, st := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = st.run(ctx, start, deadline, rate)
		}()
	}
	wg.Wait()
	var rep report
	for _, st := range streams {
		rep.add(st.sent)
		st.conn.Close()
	}
	rep.Elapsed = time.Since(start)
	return rep, errors.Join(errs...)
}

// stream is one exporter: a socket, an observation domain (v9 source id),
// its template, its ring of data datagrams and its sequence number.
type stream struct {
	cfg    *config
	enc    *encoder
	domain uint32
	conn   *net.UDPConn
	w      batchWriter
	limit  int64 // data datagrams to send; -1: no limit

	ring  [][]byte
	tmpls [][]byte // one template datagram per batch slot
	batch [][]byte

	data      int64  // data datagrams sent
	sinceTmpl int    // data datagrams since the last template
	seq       uint32 // v9: datagrams sent; v5 and IPFIX: data records sent
	sent      report
}

func newStream(cfg *config, cont content, s int, limit int64) (*stream, error) {
	s += cfg.FirstStream
	st := &stream{cfg: cfg, enc: newEncoder(cfg.Version, cont), domain: uint32(s + 1), limit: limit}
	flows := make([]flowVals, cfg.PerDatagram)
	st.ring = make([][]byte, cfg.Ring)
	for i := range st.ring {
		for j := range flows {
			flows[j] = cont.flow(s, uint64(i*cfg.PerDatagram+j))
		}
		st.ring[i] = st.enc.dataDatagram(st.domain, flows)
	}
	st.tmpls = make([][]byte, cfg.Batch)
	for i := range st.tmpls {
		st.tmpls[i] = st.enc.templateDatagram(st.domain)
	}
	st.batch = make([][]byte, 0, cfg.Batch)
	raddr, err := net.ResolveUDPAddr("udp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	st.conn, err = net.DialUDP("udp", nil, raddr)
	if err != nil {
		return nil, err
	}
	// A big send buffer keeps a burst from blocking on the first datagrams.
	st.conn.SetWriteBuffer(4 << 20)
	st.w, err = newBatchWriter(st.conn)
	if err != nil {
		st.conn.Close()
		return nil, err
	}
	return st, nil
}

// run sends the stream's datagrams at rate data datagrams per second (0:
// as fast as possible) until its limit, the deadline or ctx ends it. The
// pace is kept against the start, so a late wake-up is made up by a
// bigger batch, never by a lower rate.
func (st *stream) run(ctx context.Context, start, deadline time.Time, rate float64) error {
	for st.limit < 0 || st.data < st.limit {
		if ctx.Err() != nil {
			return nil
		}
		now := time.Now()
		if !deadline.IsZero() && !now.Before(deadline) {
			return nil
		}
		want := int64(st.cfg.Batch)
		if rate > 0 {
			due := int64(now.Sub(start).Seconds()*rate) + 1
			if due <= st.data {
				// Sleep until the next datagram is due.
				next := start.Add(time.Duration(float64(st.data) / rate * float64(time.Second)))
				time.Sleep(min(next.Sub(now), 10*time.Millisecond))
				continue
			}
			want = min(want, due-st.data)
		}
		if st.limit >= 0 {
			want = min(want, st.limit-st.data)
		}
		if err := st.sendBatch(int(want), uint32(now.Unix())); err != nil {
			return err
		}
	}
	return nil
}

// sendBatch sends up to n data datagrams in one batch, with the template
// before the first and then after every TemplateEvery data datagrams, as
// exporters refresh theirs (v5 has none).
func (st *stream) sendBatch(n int, unixSecs uint32) error {
	st.batch = st.batch[:0]
	per := st.cfg.PerDatagram
	var data, tmpls int64
	for data < int64(n) && len(st.batch) < cap(st.batch) {
		if st.enc.version != 5 && (st.sent.Templates+tmpls == 0 || st.sinceTmpl >= st.cfg.TemplateEvery) {
			t := st.tmpls[len(st.batch)]
			st.enc.stamp(t, st.seq, unixSecs)
			if st.enc.version == 9 {
				st.seq++ // v9 counts export packets, IPFIX data records
			}
			st.batch = append(st.batch, t)
			st.sinceTmpl = 0
			tmpls++
			continue
		}
		k := st.data + data // this datagram's number in the stream
		d := st.ring[k%int64(len(st.ring))]
		if k >= int64(len(st.ring)) {
			st.enc.bump(d, per)
		}
		st.enc.stamp(d, st.seq, unixSecs)
		if st.enc.version == 9 {
			st.seq++
		} else {
			st.seq += uint32(per)
		}
		st.batch = append(st.batch, d)
		st.sinceTmpl++
		data++
	}
	if err := st.w.write(st.batch); err != nil {
		return err
	}
	st.data += data
	st.sent.Datagrams += int64(len(st.batch))
	st.sent.Templates += tmpls
	st.sent.Flows += data * int64(per)
	for _, b := range st.batch {
		st.sent.Bytes += int64(len(b))
	}
	return nil
}

// isRefused reports a datagram refused because nothing listens: the
// kernel reports the ICMP port unreachable of an earlier datagram on the
// next send of a connected socket.
func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
