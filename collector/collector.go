// Package collector is gocapd's machinery: it receives NetFlow and IPFIX
// datagrams on a UDP socket, decodes them per flow source and writes
// rotating nfcapd files, with nfcapd 1.7.1's names, -S layouts, -x
// commands and -e expiry.
//
// Three kinds of goroutine share the work so that receiving never waits for
// the disk. The receive loop reads datagrams, repeats them (-R) and
// gathers them in batches; it decodes a batch itself while the worker has
// nothing queued and no open file would make it wait for the disk
// (inline.go), and else hands it to the worker through a queue bounded in
// bytes (see queue.go); when the queue is full the loop drops what it
// reads until the worker frees a chunk, and counts it (Queue Overflow), so
// the socket keeps being drained and a slow disk never shows as kernel
// drops. The worker decodes and appends records to the open files (the
// flowfile writer compresses and writes in the background). At a rotation the worker
// moves the open file aside under a new nfcapd.current name and starts the
// next one at once; a closer goroutine then finishes the old file (last
// block, appendix, fsync, rename into place), and runs -x and -e.
package collector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nfgo/nftools/expire"
	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/internal/pcapudp"
	"github.com/nfgo/nftools/netflow"
)

// Source is one flow source: where the flows of some exporters go.
type Source struct {
	Ident string     // stored in each file (-I, or the ident of -n)
	Dir   string     // flow directory, absolute
	Addr  netip.Addr // the exporter's address; the zero Addr takes any exporter
}

// ParseSource reads nfcapd's -n ident,IP,dir.
func ParseSource(s string) (Source, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
		return Source{}, errors.New("Syntax error for netflow source definition. Expect -n ident,IP,path")
	}
	ip, err := netip.ParseAddr(strings.TrimSpace(parts[1]))
	if err != nil {
		return Source{}, fmt.Errorf("Syntax error for netflow source definition: bad IP %q", parts[1])
	}
	return Source{Ident: parts[0], Dir: parts[2], Addr: ip.Unmap()}, nil
}

// Config is everything the collector needs besides its socket.
type Config struct {
	Sources    []Source
	DynamicDir string // -M: a source per exporter, in a sub directory named after its address

	Interval time.Duration  // -t
	Layout   int            // -S
	Zone     bool           // -Z
	Location *time.Location // zone of the file names (nil: time.Local)

	Compression flowfile.Compression
	Level       int

	Command string // -x
	Expire  bool   // -e
	// ExpireLimits are the limits of --maxsize, --maxlife and
	// --watermark, over those in each directory's .nfstat.
	ExpireLimits expire.Limits

	DefaultSampling int64            // -s
	Repeaters       []netip.AddrPort // -R

	// MaxExporters bounds the exporters known at once (0: 1024): a new
	// one takes the place of the one silent longest, so that a flood of
	// sources cannot lock out an exporter that keeps sending.
	MaxExporters int
	// TemplateMemory bounds the memory of all exporters' templates in
	// bytes (0: 64 MiB); beyond it new templates are refused.
	TemplateMemory int64

	Metrics *Metrics // -m: the metric exporter, or nil
	// TrackDiskUsage keeps the size of each flow directory in Snapshot:
	// counted at the start and after each file put in place (by -e's
	// count when it runs, else by a count of its own).
	TrackDiskUsage bool

	// Pid names the nfcapd.current.<pid> files (0: os.Getpid()).
	Pid int

	Infof, Errorf func(format string, args ...any)
	// Verbose is -v's count.
	Verbose int
	// Started, when set, is called once the first files are open and
	// the receive loop runs.
	Started func()
	// OnFlow, when set, sees every record written (-E), from the worker
	// goroutine, before it goes to the file.
	OnFlow func(*flow.Record)
	// Idle, when set, is called from the worker goroutine each time it
	// has processed every datagram queued so far, and once more before
	// Run returns: the moment to flush what OnFlow buffered.
	Idle func()
}

// Counters are the collector's running totals.
type Counters struct {
	Datagrams uint64 // read from the socket
	// QueueOverflow counts the datagrams the receive loop dropped because
	// the worker held every chunk of the queue.
	QueueOverflow uint64
	KernelDrops   uint64 // dropped by the kernel at the full socket (SO_MEMINFO)
	// LostFlows counts the flows decoded but not stored: the flow
	// directory took no more (a full disk).
	LostFlows     uint64
	UnknownSource uint64 // from an exporter no source takes
	Flows         uint64
	SeqFailures   uint64
	Errors        map[string]uint64 // decode errors per reason
	// EvictedExporters counts the exporters forgotten to make room for
	// new ones (Config.MaxExporters), ExpiredExporters those forgotten
	// after an hour of silence; RefusedTemplates the templates refused
	// because the template memory was taken.
	EvictedExporters uint64
	ExpiredExporters uint64
	RefusedTemplates uint64
}

// Collector receives, decodes and writes.
type Collector struct {
	cfg  Config
	conn *net.UDPConn
	// reader reads conn from Run on (on Linux it takes conn's place).
	reader *batchReader
	pcap   *pcapudp.Reader // -f: datagrams from a capture file instead of conn
	rep    *net.UDPConn

	full chan *chunk // from the receive loop to the worker
	free chan *chunk // back
	hup  chan struct{}

	datagrams, overflow, kdrops atomic.Uint64
	lost                        atomic.Uint64 // flows not written: the disk took no more
	pub                         published     // the worker's counters for Snapshot
	protos                      protoCounts   // the worker's
	srcStats                    sourceStats   // files and disk usage by source, for Snapshot
	chunks                      int           // made so far; only the receive loop counts
	maxChunks                   int           // queueLen

	// work is held by whoever decodes and writes: the worker goroutine,
	// or the receive loop while it processes a chunk itself (inline.go).
	// handed counts the chunks handed to the worker and not yet
	// processed; the receive loop processes a chunk itself only when it
	// is zero, so that datagrams are processed in the order they came.
	work    sync.Mutex
	handed  atomic.Int64
	inline  bool          // the receive loop may process chunks itself: no hooks
	spare   *chunk        // the chunk the receive loop processed last, empty
	inlined uint64        // chunks the receive loop processed (some of) itself (under work)
	behind  bool          // the socket holds a backlog: hand chunks to the worker (the receive loop's)
	awaited atomic.Uint64 // waits of the receive loop for the worker (awaitWorker; a slow path, so an atomic the tests can read while it runs)

	// returned wakes the receive loop waiting for the worker
	// (awaitWorker) when the worker gives a chunk back: it holds a
	// signal at most, sent without waiting.
	returned chan struct{}

	// Worker state.
	dec      *netflow.Decoder
	sinks    []*sink
	bySrc    map[netip.Addr]*sink
	any      *sink
	unknown  map[netip.Addr]bool
	unknownN uint64
	slot     time.Time
	closer   chan *closeJob
	closerWG sync.WaitGroup
	cmdWG    sync.WaitGroup
	seq      int
}

// New makes a collector reading from conn, which it owns from now on. It
// checks the configuration and the directories, and recovers files that a
// crashed collector left as nfcapd.current.*.
func New(cfg Config, conn *net.UDPConn) (*Collector, error) {
	if cfg.Interval < 2*time.Second {
		return nil, errors.New("time interval <= 2s not allowed")
	}
	if cfg.Layout < 0 || cfg.Layout > flowfile.MaxLayout {
		return nil, fmt.Errorf("No such subdir level %d", cfg.Layout)
	}
	if len(cfg.Sources) == 0 && cfg.DynamicDir == "" {
		return nil, errors.New("ERROR, No source configurations found")
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Pid == 0 {
		cfg.Pid = os.Getpid()
	}
	if cfg.Infof == nil {
		cfg.Infof = func(string, ...any) {}
	}
	if cfg.Errorf == nil {
		cfg.Errorf = cfg.Infof
	}
	maxChunks := queueChunks
	if conn != nil {
		maxChunks = queueLen(ReadBuffer(conn))
	}
	c := &Collector{
		cfg:       cfg,
		conn:      conn,
		maxChunks: maxChunks,
		full:      make(chan *chunk, maxChunks),
		free:      make(chan *chunk, maxChunks),
		hup:       make(chan struct{}, 1),
		returned:  make(chan struct{}, 1),
		bySrc:     map[netip.Addr]*sink{},
		unknown:   map[netip.Addr]bool{},
		closer:    make(chan *closeJob, 64),
		inline:    cfg.OnFlow == nil && cfg.Idle == nil,
	}
	c.dec = netflow.NewDecoder(netflow.Options{DefaultSampling: cfg.DefaultSampling, Logf: cfg.Infof,
		MaxExporters: cfg.MaxExporters, TemplateMemory: cfg.TemplateMemory, V3: cfg.OnFlow == nil})
	for _, s := range cfg.Sources {
		if err := checkDir(s.Dir); err != nil {
			return nil, err
		}
		k := &sink{src: s}
		c.initSink(k)
		c.srcStats.add(s)
		c.sinks = append(c.sinks, k)
		if s.Addr.IsValid() {
			if _, dup := c.bySrc[s.Addr]; dup {
				return nil, fmt.Errorf("duplicate flow source IP %s", s.Addr)
			}
			c.bySrc[s.Addr] = k
		} else {
			if c.any != nil {
				return nil, errors.New("only one flow source may take any IP")
			}
			c.any = k
		}
	}
	if cfg.DynamicDir != "" {
		if err := checkDir(cfg.DynamicDir); err != nil {
			return nil, err
		}
	}
	if len(cfg.Repeaters) > 8 {
		return nil, errors.New("too many repeaters: at most 8")
	}
	if len(cfg.Repeaters) > 0 {
		rep, err := net.ListenUDP("udp", nil)
		if err != nil {
			return nil, fmt.Errorf("repeater socket: %w", err)
		}
		c.rep = rep
	}
	return c, nil
}

func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return fmt.Errorf("No valid directory: %s", dir)
	}
	return nil
}

// Rotate asks for a rotation now (SIGHUP); collecting goes on.
func (c *Collector) Rotate() {
	select {
	case c.hup <- struct{}{}:
	default:
	}
}

// Counters returns the running totals. Call it only after Run returned, or
// accept that the decoder part is read racily.
func (c *Collector) counters() Counters {
	cn := Counters{
		Datagrams:     c.datagrams.Load(),
		QueueOverflow: c.overflow.Load(),
		KernelDrops:   c.kdrops.Load(),
		LostFlows:     c.lost.Load(),
		UnknownSource: c.unknownN,
		Errors:        map[string]uint64{},
	}
	dc := c.dec.Counters()
	cn.Flows = dc.Flows
	cn.SeqFailures = dc.SequenceFailures
	cn.EvictedExporters, cn.ExpiredExporters = dc.EvictedExporters, dc.ExpiredExporters
	cn.RefusedTemplates = dc.TemplatesRefused
	for r, n := range dc.Errors {
		cn.Errors[r] += n
	}
	for _, k := range c.sinks {
		for r, n := range k.errs {
			cn.Errors[r] += n
		}
	}
	return cn
}

// Run collects until ctx is done, then writes everything received into
// the current files, closes them under their final names, waits for the
// commands of -x and returns.
func (c *Collector) Run(ctx context.Context) error {
	c.closerWG.Add(1)
	go c.closeLoop()

	for _, k := range c.sinks {
		c.recoverDir(k.src.Dir)
	}
	if c.cfg.DynamicDir != "" {
		subs, _ := os.ReadDir(c.cfg.DynamicDir)
		for _, e := range subs {
			if e.IsDir() {
				c.recoverDir(c.cfg.DynamicDir + "/" + e.Name())
			}
		}
	}
	var scanWG sync.WaitGroup
	defer scanWG.Wait()
	if c.cfg.TrackDiskUsage {
		// Counted aside, so that a large archive does not delay the
		// start; a count after a rotation, if quicker, wins.
		dirs := make([]string, len(c.sinks))
		for i, k := range c.sinks {
			dirs[i] = k.src.Dir
		}
		scanWG.Add(1)
		go func() {
			defer scanWG.Done()
			for _, d := range dirs {
				c.scanDisk(d)
			}
		}()
	}
	now := time.Now()
	c.slot = flowfile.SlotStart(now.In(c.cfg.Location), c.cfg.Interval)
	for _, k := range c.sinks {
		if err := c.open(k); err != nil {
			c.closeConn()
			close(c.closer)
			c.closerWG.Wait()
			return err
		}
	}

	if c.pcap == nil {
		r, err := newBatchReader(c.conn)
		if err != nil {
			c.cfg.Errorf("ERROR: socket: %v", err)
		}
		c.reader = r
	}
	stopMetrics := c.startMetrics()
	defer stopMetrics()
	recvDone := make(chan struct{})
	go func() {
		defer close(recvDone)
		if c.pcap != nil {
			c.receivePcap(ctx)
			return
		}
		c.receive()
	}()
	if c.cfg.Started != nil {
		c.cfg.Started()
	}
	go func() {
		select {
		case <-ctx.Done():
		case <-recvDone:
		}
		// Closing the socket ends the receive loop, which closes the
		// queue; the worker drains it and returns.
		c.closeConn()
	}()

	c.runWorker()
	<-recvDone
	if c.rep != nil {
		c.rep.Close()
	}
	close(c.closer)
	c.closerWG.Wait()
	c.cmdWG.Wait()
	return nil
}

// runWorker is the worker: decode and write, rotate on time and on Rotate.
func (c *Collector) runWorker() {
	timer := time.NewTimer(time.Until(c.slot.Add(c.cfg.Interval)))
	defer timer.Stop()
	// Once a second: blocks old enough to go to the disk (flushAfter).
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case now := <-tick.C:
			c.work.Lock()
			c.flushOld(now)
			for _, k := range c.sinks {
				c.tryResume(k, now)
			}
			c.dec.Expire(now, exporterIdle)
			c.publish()
			c.work.Unlock()
		case k, ok := <-c.full:
			c.work.Lock()
			if !ok {
				c.rotate(time.Now(), true)
				if c.cfg.Idle != nil {
					c.cfg.Idle()
				}
				c.work.Unlock()
				return
			}
			c.processChunk(k)
			c.handed.Add(-1)
			if c.cfg.Idle != nil && len(c.full) == 0 {
				c.cfg.Idle()
			}
			c.work.Unlock()
			c.free <- k
			c.gaveBack()
		case <-timer.C:
			c.work.Lock()
			// The timer may fire a hair before the wall clock reaches the
			// boundary; the next slot starts at the boundary regardless.
			now := time.Now()
			if end := c.slot.Add(c.cfg.Interval); now.Before(end) {
				now = end
			}
			c.rotate(now, false)
			timer.Reset(time.Until(c.slot.Add(c.cfg.Interval)))
			c.work.Unlock()
		case <-c.hup:
			c.work.Lock()
			c.cfg.Infof("SIGHUP: rotate now")
			c.rotate(time.Now(), false)
			timer.Reset(time.Until(c.slot.Add(c.cfg.Interval)))
			c.work.Unlock()
		}
	}
}

// processChunk decodes and writes the datagrams of k not processed yet
// and empties it.
func (c *Collector) processChunk(k *chunk) {
	for i := k.next; i < len(k.ents); i++ {
		b, from, at := k.datagram(i)
		c.process(b, from, at)
	}
	k.reset()
}

func (c *Collector) process(buf []byte, from netip.Addr, at time.Time) {
	k := c.bySrc[from]
	if k == nil {
		k = c.any
	}
	if k == nil && c.cfg.DynamicDir != "" {
		k = c.addDynamic(from)
	}
	if k == nil {
		c.unknownN++
		if !c.unknown[from] && len(c.unknown) < 1024 {
			c.unknown[from] = true
			c.cfg.Errorf("Skip unknown flow source: '%s'", from)
		}
		return
	}
	// Without a file (writing failed) the datagram is decoded all the
	// same: exporters, templates and sequence numbers stay current, and
	// its flows are counted as lost.
	k.at = at
	if err := c.dec.Decode(buf, from, at, k); err != nil {
		k.bad++
		// The decoder has counted and logged its own errors (once per
		// exporter and reason); anything else is counted and logged
		// here, once per reason.
		var ne *netflow.Error
		if !errors.As(err, &ne) {
			reason := err.Error()
			if k.errs == nil {
				k.errs = map[string]uint64{}
			}
			if k.errs[reason] == 0 && len(k.errs) < 64 {
				c.cfg.Errorf("Ident: '%s' bad datagram from %s: %v", k.src.Ident, from, err)
			}
			if len(k.errs) < 64 || k.errs[reason] > 0 {
				k.errs[reason]++
			}
		}
	}
	if k.werr != nil {
		c.writeFailed(k, at)
	}
}

// addDynamic makes the -M source for an exporter: a sub directory named
// after its address with '.' and ':' replaced by '-'.
func (c *Collector) addDynamic(from netip.Addr) *sink {
	name := strings.NewReplacer(".", "-", ":", "-").Replace(from.String())
	dir := c.cfg.DynamicDir + "/" + name
	c.cfg.Infof("Unknown flow source: '%s'", from)
	k := &sink{src: Source{Ident: name, Dir: dir, Addr: from}, dynamic: true}
	err := os.MkdirAll(dir, 0o755)
	if err == nil {
		err = c.open(k)
	} else {
		c.initSink(k)
		k.current = filepath.Join(dir, flowfile.CurrentName(c.cfg.Pid))
	}
	c.sinks = append(c.sinks, k)
	c.bySrc[from] = k
	c.srcStats.add(k.src)
	if err != nil {
		// Its flows are counted as lost until the directory takes them.
		c.startOutage(k, err, time.Now(), 0)
		return k
	}
	c.cfg.Infof("Dynamically add source ident: %s in directory: %s", name, k.current)
	return k
}

// counterLine formats the counters for the log.
func (cn Counters) line() string {
	var errs uint64
	reasons := make([]string, 0, len(cn.Errors))
	for r, n := range cn.Errors {
		errs += n
		reasons = append(reasons, fmt.Sprintf("%s: %d", r, n))
	}
	sort.Strings(reasons)
	s := fmt.Sprintf("Totals: Datagrams: %d, Flows: %d, Sequence Errors: %d, Decode Errors: %d, Socket Drops: %d, Queue Overflow: %d, Unknown Source: %d, Lost (disk full): %d, Evicted Exporters: %d, Refused Templates: %d",
		cn.Datagrams, cn.Flows, cn.SeqFailures, errs, cn.KernelDrops, cn.QueueOverflow, cn.UnknownSource, cn.LostFlows, cn.EvictedExporters, cn.RefusedTemplates)
	if len(reasons) > 0 {
		s += " (" + strings.Join(reasons, ", ") + ")"
	}
	return s
}
