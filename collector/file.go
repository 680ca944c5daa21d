package collector

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
)

// sink is a flow source at work: its open file and the exporters it owns.
// It is the Handler for the datagrams of its exporters. The collector's one
// decoder keeps the exporters, templates and sequence numbers of all
// sources, so that exporter SysIDs count up across sources as nfcapd
// numbers them; each exporter belongs to the one source its address
// selects.
type sink struct {
	src     Source
	ready   bool   // initSink ran
	owns    []bool // by SysID: the exporters of this source
	w       *flowfile.Writer
	current string
	bad     uint64 // datagrams that failed to decode, this file
	errs    map[string]uint64
	stat    statCounter // this file's stat record, counted as nfcapd counts
	werr    error
	onFlow  func(*flow.Record)

	// The crash window: at is the receive time of the datagram being
	// decoded, unflushed that of the oldest flow not yet handed to the
	// disk (zero: none), queued the writer's block count when last seen.
	at        time.Time
	unflushed time.Time
	queued    uint64
}

// Flow implements netflow.Handler.
func (k *sink) Flow(r *flow.Record) {
	if k.onFlow != nil {
		k.onFlow(r)
	}
	if err := k.w.WriteFlow(r); err != nil {
		if k.werr == nil {
			k.werr = err
		}
		return
	}
	k.stat.add(r)
	if q := k.w.Queued(); q != k.queued {
		// The writer started a new block with this flow.
		k.queued, k.unflushed = q, time.Time{}
	}
	if k.unflushed.IsZero() {
		k.unflushed = k.at
	}
}

// flushAfter bounds what a crash (kill -9, power loss aside) can lose: a
// block that holds flows is handed to the disk once its oldest flow is this
// old, full or not. A 1 MiB block holds some 10 000 flows, minutes to hours
// of a small site's traffic; nfcapd 1.7.1 writes it only when full.
const flushAfter = 10 * time.Second

// flushOld hands to the disk every block whose oldest flow was received
// flushAfter before now.
func (c *Collector) flushOld(now time.Time) {
	for _, k := range c.sinks {
		if k.w == nil || k.unflushed.IsZero() || now.Sub(k.unflushed) < flushAfter {
			continue
		}
		if err := k.w.Flush(); err != nil && k.werr == nil {
			k.werr = err
		}
		k.queued, k.unflushed = k.w.Queued(), time.Time{}
	}
}

// NewExporter implements netflow.Handler: a new exporter is written into
// the open file at once, before its flows.
func (k *sink) NewExporter(e *flow.Exporter) {
	for int(e.SysID) >= len(k.owns) {
		k.owns = append(k.owns, false)
	}
	k.owns[e.SysID] = true
	if err := k.w.WriteExporter(e); err != nil && k.werr == nil {
		k.werr = err
	}
}

// owned reports whether the exporter with this SysID sends to this source.
func (k *sink) owned(sysID uint32) bool {
	return sysID < uint32(len(k.owns)) && k.owns[sysID]
}

// Sampler implements netflow.Handler.
func (k *sink) Sampler(s *flow.Sampler) {
	if err := k.w.WriteSampler(s); err != nil && k.werr == nil {
		k.werr = err
	}
}

// open starts the sink's next nfcapd.current.<pid> file, with every known
// exporter and sampler at its start.
func (c *Collector) open(k *sink) error {
	if !k.ready {
		c.initSink(k)
	}
	k.current = filepath.Join(k.src.Dir, flowfile.CurrentName(c.cfg.Pid))
	w, err := flowfile.Create(k.current, flowfile.WriteOptions{
		Compression: c.cfg.Compression, Level: c.cfg.Level, Ident: k.src.Ident, Workers: 2, OwnStat: true,
	})
	if err != nil {
		c.cfg.Errorf("ERROR: can not open flow file %s: %v", k.current, err)
		return err
	}
	k.w = w
	k.queued, k.unflushed = 0, time.Time{}
	k.stat.reset()
	for _, e := range c.dec.Exporters() {
		if k.owned(uint32(e.SysID)) {
			w.WriteExporter(&e)
		}
	}
	for _, s := range c.dec.Samplers() {
		if k.owned(uint32(s.ExporterSysID)) {
			w.WriteSampler(&s)
		}
	}
	return nil
}

func (c *Collector) initSink(k *sink) {
	k.ready = true
	k.onFlow = c.flowHook(k.src.Ident)
	if !k.src.Addr.IsValid() || c.bySrc[k.src.Addr] == k || c.cfg.DynamicDir == "" {
		c.cfg.Infof("Add flow source: ident: %s, IP: %s, flowdir: %s", k.src.Ident, addrOrAny(k.src.Addr), k.src.Dir)
	}
}

func addrOrAny(a netip.Addr) string {
	if !a.IsValid() {
		return "any IP"
	}
	return a.String()
}

// closeJob is a file on its way from the worker to its final name, moved
// aside (job.w.Name()) by the worker.
type closeJob struct {
	w    *flowfile.Writer
	src  Source
	slot time.Time
	rel  string // final path relative to src.Dir
}

// rotate ends the current slot of every sink: the exporter stats are
// written, the stat record completed, the file moved aside and handed to
// the closer, and (unless final) the next file opened.
func (c *Collector) rotate(now time.Time, final bool) {
	slot := c.slot
	// An empty file covers its whole slot, also when it ends early.
	end := slot.Add(c.cfg.Interval)
	rel := func(k *sink) string {
		p, _ := flowfile.SlotPath(c.cfg.Layout, slot, c.cfg.Interval, c.cfg.Zone)
		return p
	}
	all := c.dec.TakeStats()
	for _, k := range c.sinks {
		if k.w == nil {
			continue
		}
		var stats []flow.ExporterStat
		for _, s := range all {
			if k.owned(s.SysID) {
				stats = append(stats, s)
			}
		}
		if len(stats) > 0 {
			k.w.WriteExporterStats(stats)
		}
		st := k.w.Stat()
		*st = k.stat.stat(uint64(slot.UnixMilli()), uint64(end.UnixMilli()))
		for _, s := range stats {
			st.SequenceFailures += uint64(s.SequenceFailures)
		}
		c.cfg.Infof("Ident: '%s' Flows: %d, Packets: %d, Bytes: %d, Sequence Errors: %d, Bad Packets: %d",
			k.src.Ident, st.Flows, st.Packets, st.Bytes, st.SequenceFailures, k.bad)
		// Move the file aside so the next one can take the
		// nfcapd.current name at once; the name keeps the prefix that
		// nfdump skips.
		c.seq++
		job := closeJob{w: k.w, src: k.src, slot: slot, rel: rel(k)}
		if err := k.w.Rename(k.current + "." + strconv.Itoa(c.seq)); err != nil {
			c.cfg.Errorf("ERROR: rename %s: %v", k.current, err)
			c.closeFile(job) // synchronously: the name is still taken
		} else {
			c.closer <- job
		}
		k.w, k.bad = nil, 0
		if !final {
			c.open(k)
		}
	}
	c.cfg.Infof("%s", c.counters().line())
	c.slot = flowfile.SlotStart(now.In(c.cfg.Location), c.cfg.Interval)
}

func (c *Collector) closeLoop() {
	defer c.closerWG.Done()
	for job := range c.closer {
		c.closeFile(job)
	}
}

// closeFile finishes a file and puts it in place, then runs -x and -e.
// When the final name is taken (a restart or a SIGHUP in the same slot),
// the file is merged into the one there, as nfcapd appends to it.
func (c *Collector) closeFile(job closeJob) {
	final := filepath.Join(job.src.Dir, job.rel)
	aside := job.w.Name()
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		c.cfg.Errorf("ERROR: can not create directory %s: %v", filepath.Dir(final), err)
		job.w.Close()
		return
	}
	var err error
	if _, statErr := os.Stat(final); statErr != nil {
		err = job.w.CloseAs(final)
	} else if err = job.w.Close(); err == nil {
		err = c.install(aside, final, false)
	}
	if err != nil {
		c.cfg.Errorf("ERROR: closing %s: %v", aside, err)
		return
	}
	if c.cfg.Command != "" {
		c.launch(job)
	}
	if c.cfg.Expire {
		c.expire(job.src.Dir)
	}
}

// install puts the closed file src in place as final, merged with the
// file already there, if any, into one file. With recover, src is a file
// a crashed collector left behind and is read in recovery mode (and
// rewritten whole even when final does not exist, so that it gets its
// stat record).
func (c *Collector) install(src, final string, recover bool) error {
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return fmt.Errorf("can not create directory %s: %w", filepath.Dir(final), err)
	}
	_, statErr := os.Stat(final)
	exists := statErr == nil
	tmp := src + ".merge"
	w, err := flowfile.Create(tmp, flowfile.WriteOptions{Compression: c.cfg.Compression, Level: c.cfg.Level, Workers: 2, OwnStat: true})
	if err != nil {
		return err
	}
	m := &merger{w: w, ids: map[expKey]uint16{}}
	if exists {
		if err := m.copy(final, false); err != nil {
			w.Close()
			os.Remove(tmp)
			return fmt.Errorf("append to %s: %w", final, err)
		}
	}
	if err := m.copy(src, recover); err != nil && !recover {
		w.Close()
		os.Remove(tmp)
		return fmt.Errorf("append %s to %s: %w", src, final, err)
	}
	m.finish()
	if err := w.CloseAs(final); err != nil {
		os.Remove(tmp)
		return err
	}
	os.Remove(src)
	return nil
}

type expKey struct {
	version uint32
	addr    netip.Addr
	id      uint32
}

// merger copies flow files into one, renumbering the exporters of the
// later files so that the same exporter keeps one SysID. The stat record of
// the result is the sum of the files' stat records, as nfcapd sums them
// when it appends to an existing file.
type merger struct {
	w     *flowfile.Writer
	ids   map[expKey]uint16
	maxID uint16
	stats map[uint32]flow.ExporterStat
	order []uint32
	stat  flowfile.Stat
	ident string
}

func (m *merger) copy(path string, recover bool) error {
	r, err := flowfile.Open(path, flowfile.ReadOptions{Workers: 2, Recover: recover})
	if err != nil {
		return err
	}
	defer r.Close()
	remap := map[uint16]uint16{}
	// A recovered file was never closed and has no stat record: count
	// its flows as the collector would have.
	var counted statCounter
	counted.reset()
	for r.Next() {
		switch r.Kind() {
		case flowfile.KindExporter:
			e := *r.Exporter()
			k := expKey{e.Version, e.Addr, e.ID}
			id, ok := m.ids[k]
			if !ok {
				m.maxID++
				id = m.maxID
				m.ids[k] = id
				remap[e.SysID] = id
				e.SysID = id
				m.w.WriteExporter(&e)
			}
			remap[e.SysID] = id
		case flowfile.KindSampler:
			s := *r.Sampler()
			if id, ok := remap[s.ExporterSysID]; ok {
				s.ExporterSysID = id
			}
			m.w.WriteSampler(&s)
		case flowfile.KindExporterStat:
			if m.stats == nil {
				m.stats = map[uint32]flow.ExporterStat{}
			}
			for _, s := range r.ExporterStats() {
				if id, ok := remap[uint16(s.SysID)]; ok {
					s.SysID = uint32(id)
				}
				o, seen := m.stats[s.SysID]
				if !seen {
					m.order = append(m.order, s.SysID)
				}
				o.SysID = s.SysID
				o.Packets += s.Packets
				o.Flows += s.Flows
				o.SequenceFailures += s.SequenceFailures
				m.stats[s.SysID] = o
			}
		case flowfile.KindFlow:
			f := r.Flow()
			if id, ok := remap[f.ExporterID]; ok {
				// The reader's record is not ours to change.
				rec := *f
				rec.ExporterID = id
				f = &rec
			}
			if err := m.w.WriteFlow(f); err != nil {
				return err
			}
			if recover {
				counted.add(f)
			}
		}
	}
	st := r.Stat()
	if recover {
		st = counted.stat(0, 0)
	}
	m.stat.Merge(&st)
	if id, ok := r.Ident(); ok && id != "" {
		m.ident = id
	}
	return r.Err()
}

func (m *merger) finish() {
	stats := make([]flow.ExporterStat, 0, len(m.order))
	for _, id := range m.order {
		stats = append(stats, m.stats[id])
	}
	if len(stats) > 0 {
		m.w.WriteExporterStats(stats)
	}
	*m.w.Stat() = m.stat
	if m.ident != "" {
		m.w.SetIdent(m.ident)
	}
}

// Recover puts the files that a crashed collector left as
// nfcapd.current.* in dir into place, named after the slot their header's
// creation time (else their modification time) falls in. Files of a
// collector that still runs are left alone. It returns the final paths.
func (c *Collector) recoverDir(dir string) []string {
	matches, _ := filepath.Glob(filepath.Join(dir, "nfcapd.current.*"))
	var done []string
	for _, p := range matches {
		if strings.HasSuffix(p, ".merge") {
			os.Remove(p) // an unfinished merge: its sources are still there
			continue
		}
		rest := strings.TrimPrefix(filepath.Base(p), "nfcapd.current.")
		pidStr, _, _ := strings.Cut(rest, ".")
		if pid, err := strconv.Atoi(pidStr); err == nil && pid != os.Getpid() && alive(pid) {
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		created := fi.ModTime()
		if r, err := flowfile.Open(p, flowfile.ReadOptions{Workers: 1, Recover: true}); err == nil {
			if h := r.Header(); h.Created > 0 {
				created = time.Unix(h.Created, 0)
			}
			r.Close()
		} else {
			c.cfg.Errorf("ERROR: can not recover %s: %v", p, err)
			continue
		}
		slot := flowfile.SlotStart(created.In(c.cfg.Location), c.cfg.Interval)
		rel, _ := flowfile.SlotPath(c.cfg.Layout, slot, c.cfg.Interval, c.cfg.Zone)
		final := filepath.Join(dir, rel)
		if err := c.install(p, final, true); err != nil {
			c.cfg.Errorf("ERROR: can not recover %s: %v", p, err)
			continue
		}
		c.cfg.Infof("Recovered %s as %s", p, final)
		done = append(done, final)
	}
	return done
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
