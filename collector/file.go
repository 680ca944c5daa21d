package collector

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/netflow"
)

// sink is a flow source at work: its open file and the exporters it owns.
// It is the Handler for the datagrams of its exporters. The collector's one
// decoder keeps the exporters, templates and sequence numbers of all
// sources, so that exporter SysIDs count up across sources as nfcapd
// numbers them; each exporter belongs to the one source its address
// selects.
type sink struct {
	src     Source
	dynamic bool   // a source of -M, made for a new exporter
	ready   bool   // initSink ran
	owns    []bool // by SysID: the exporters of this source
	w       *flowfile.Writer
	current string
	bad     uint64 // datagrams that failed to decode, this slot
	errs    map[string]uint64
	werr    error // the first write error of the datagram being decoded
	onFlow  func(*flow.Record)
	scratch []byte // V3Space without a file
	// counts holds a batch's counts while FlowsV3 needs them one by one.
	counts [netflow.V3BatchMax]netflow.V3Counts

	// acct counts the open file's flows by block, as nfcapd counts them
	// for the stat record; earlier holds those of the files of this slot
	// that a write error ended early.
	acct    blockStats
	earlier statCounter

	// The crash window: at is the receive time of the datagram being
	// decoded, unflushed that of the oldest flow not yet handed to the
	// disk (zero: none).
	at        time.Time
	unflushed time.Time

	// When writing fails (diskfull.go): the flows of this slot that were
	// lost, those refused since the write error, the failure going on
	// (nil while writing works) and the collector's total.
	lost    uint64
	refused uint64
	down    *outage
	retry   time.Duration
	resumed time.Time
	lostAll *atomic.Uint64

	// protos counts the flows of every exporter by protocol class (the
	// collector's, shared by its sinks).
	protos *protoCounts
}

// Flow implements netflow.Handler.
func (k *sink) Flow(r *flow.Record) {
	k.protos.add(r)
	if k.onFlow != nil {
		k.onFlow(r)
	}
	if k.w == nil {
		k.lose(1)
		return
	}
	k.wrote(r, k.w.WriteFlow(r))
}

// V3Space implements netflow.V3Handler: the decoder encodes a flow
// straight into the open file's block.
func (k *sink) V3Space() []byte {
	if k.w == nil {
		if k.scratch == nil {
			k.scratch = make([]byte, netflow.V3BatchRoom)
		}
		return k.scratch
	}
	return k.w.V3Space()
}

// FlowV3 implements netflow.V3Handler: the decoder encoded the flow
// itself, into V3Space. The collector sets netflow.Options.V3 only when
// no -E hook needs whole Records; the hook of -m reads only what f.Flow
// holds.
func (k *sink) FlowV3(f *netflow.V3Flow) {
	k.protos.add(f.Flow)
	if k.onFlow != nil {
		k.onFlow(f.Flow)
	}
	if k.w == nil {
		k.lose(1)
		return
	}
	k.wrote(f.Flow, k.w.CommitV3(len(f.Record)))
}

// FlowsV3 implements netflow.V3BatchHandler: the flows of a v5 or v7
// datagram block, or up to 30 of a v9 or IPFIX set, encoded by the
// decoder into V3Space, are written with one call to the writer and
// counted as FlowV3 counts each.
func (k *sink) FlowsV3(b *netflow.V3Batch) {
	n := b.N
	// The flows are counted from the decoder's sums of the batch, but
	// for a hook that sees each flow and a batch split over two blocks:
	// their counts are read back from the records first, while the
	// records are still where the decoder put them.
	var counts []netflow.V3Counts
	if k.onFlow != nil || k.w != nil && !k.w.FitsV3s(b.Ends[:n]) {
		for i := range n {
			k.counts[i] = b.Count(i)
		}
		counts = k.counts[:n]
	}
	if k.w == nil {
		k.countV3(b, counts, 0, n, false)
		k.lose(uint64(n))
		return
	}
	// The blocks handed to the disk before this batch (by an exporter
	// written, say) take the flows counted so far.
	if k.acct.behind(k.w.Queued()) {
		k.follow()
	}
	kept, err := k.w.CommitV3s(b.Ends[:n])
	if err != nil {
		k.countV3(b, counts, 0, n, false)
		k.refuse(err, uint64(n))
		return
	}
	k.countV3(b, counts, 0, kept, true)
	if kept < n {
		// The rest began a new block: the one filled before went to
		// the disk.
		k.follow()
		k.countV3(b, counts, kept, n, true)
	}
	if k.unflushed.IsZero() {
		k.unflushed = k.at
	}
}

// countV3 counts the flows i to j of b by protocol (and for -m), and
// into the block's stat record when they were stored: from counts, the
// batch's counts when FlowsV3 read them, else (all of b) from the
// decoder's sums. Without a hook that sees each flow they are summed
// first and counted once (NfcapdSums).
func (k *sink) countV3(b *netflow.V3Batch, counts []netflow.V3Counts, i, j int, stored bool) {
	r := b.Flow
	if k.onFlow != nil {
		for _, c := range counts[i:j] {
			r.First, r.Last, r.InPackets, r.InBytes, r.Proto = c.First, c.Last, c.Packets, c.Bytes, c.Proto
			k.protos.add(r)
			k.onFlow(r)
			if stored {
				k.acct.cur.add(r)
			}
		}
		return
	}
	var sums flowfile.NfcapdSums
	if counts == nil {
		// The whole batch: the decoder summed it as it encoded it.
		sums = flowfile.NfcapdSums(b.Sums)
	} else {
		for _, c := range counts[i:j] {
			sums.Add(c.First, c.Last, c.Packets, c.Bytes, c.Proto)
		}
	}
	k.protos.addSums(r.ExporterID, &sums)
	if stored {
		k.acct.cur.st.AddNfcapdSums(&sums, r.NFVersion == 9 || r.NFVersion == 10)
	}
}

// wrote counts the flow r that was written, or the error writing it.
// The blocks the writer handed to the disk before, also while it wrote an
// exporter or a sampler, are followed first: r is in the block being
// filled.
func (k *sink) wrote(r *flow.Record, err error) {
	if err != nil {
		k.refuse(err, 1)
		return
	}
	if k.acct.behind(k.w.Queued()) {
		k.follow()
	}
	k.acct.cur.add(r)
	if k.unflushed.IsZero() {
		k.unflushed = k.at
	}
}

// refuse counts n flows the writer refused with err as lost.
func (k *sink) refuse(err error, n uint64) {
	k.failed(err)
	k.refused += n
	k.lose(n)
}

// follow keeps the block counts in step with the blocks the writer handed
// to the disk.
func (k *sink) follow() {
	if !k.acct.queued(k.w.Queued()) {
		return
	}
	k.unflushed = time.Time{}
	if len(k.acct.blocks) >= maxInFlight {
		k.acct.settle(k.w.Written())
	}
}

// failed notes a write error, for the worker to handle once the datagram
// is decoded.
func (k *sink) failed(err error) {
	if k.werr == nil {
		k.werr = err
	}
}

// lose counts flows that could not be written.
func (k *sink) lose(n uint64) {
	k.lost += n
	if k.down != nil {
		k.down.lost += n
	}
	k.lostAll.Add(n)
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
		if k.w != nil {
			// A full block the writer held back for the next, which
			// has not come (flowfile's pairGap).
			k.w.HandHeld(now)
		}
		if k.w == nil || k.unflushed.IsZero() || now.Sub(k.unflushed) < flushAfter {
			continue
		}
		if err := k.w.Flush(); err != nil {
			k.failed(err)
		} else {
			k.follow()
		}
		k.unflushed = time.Time{}
		if k.werr != nil {
			c.writeFailed(k, now)
		}
	}
}

// NewExporter implements netflow.Handler: a new exporter is written into
// the open file at once, before its flows.
func (k *sink) NewExporter(e *flow.Exporter) {
	k.protos.reset(e.SysID)
	for int(e.SysID) >= len(k.owns) {
		k.owns = append(k.owns, false)
	}
	k.owns[e.SysID] = true
	if k.w != nil {
		if err := k.w.WriteExporter(e); err != nil {
			k.failed(err)
		}
	}
}

// owning reports whether any exporter sends to this source.
func (k *sink) owning() bool {
	for _, o := range k.owns {
		if o {
			return true
		}
	}
	return false
}

// owned reports whether the exporter with this SysID sends to this source.
func (k *sink) owned(sysID uint32) bool {
	return sysID < uint32(len(k.owns)) && k.owns[sysID]
}

// Sampler implements netflow.Handler.
func (k *sink) Sampler(s *flow.Sampler) {
	if k.w != nil {
		if err := k.w.WriteSampler(s); err != nil {
			k.failed(err)
		}
	}
}

// open starts the sink's next nfcapd.current.<pid> file, with every known
// exporter and sampler at its start.
func (c *Collector) open(k *sink) error {
	if !k.ready {
		c.initSink(k)
	}
	k.current = filepath.Join(k.src.Dir, flowfile.CurrentName(c.cfg.Pid))
	if _, err := os.Lstat(k.current); err == nil {
		// A file that could not be moved aside, which the closer has
		// still to put in place: never truncate it.
		return fmt.Errorf("%s is still taken", k.current)
	}
	w, err := flowfile.Create(k.current, flowfile.WriteOptions{
		Compression: c.cfg.Compression, Level: c.cfg.Level, Ident: k.src.Ident, Workers: 2, Count: flowfile.CountNone,
		WriteHere: true,
	})
	if err != nil {
		return err
	}
	k.w = w
	k.unflushed = time.Time{}
	k.acct.reset()
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
	k.lostAll = &c.lost
	k.protos = &c.protos
	k.earlier.reset()
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

	// acct counts the file's flows by block, for the closer to set the
	// stat record once it knows which blocks reached the disk; nil when
	// the worker did it already (a file a write error ended). seq is the
	// sequence failures of its exporters, start and end its slot (msec).
	acct       *blockStats
	seq        uint64
	start, end uint64

	parked time.Time // when the worker moved it aside: the rotation began
	closed bool      // Close succeeded; only putting it in place is left
	logged bool      // a failure to put it in place was logged
}

// rotate ends the current slot of every sink: the exporter stats are
// written, the stat record completed, the file moved aside and handed to
// the closer, and (unless final) the next file opened.
func (c *Collector) rotate(now time.Time, final bool) {
	slot := c.slot
	// An empty file covers its whole slot, also when it ends early.
	start, end := uint64(slot.UnixMilli()), uint64(slot.Add(c.cfg.Interval).UnixMilli())
	all := c.dec.TakeStats()
	for _, k := range c.sinks {
		if k.werr != nil {
			c.writeFailed(k, now)
		}
		var stats []flow.ExporterStat
		var seq uint64
		for _, s := range all {
			if k.owned(s.SysID) {
				stats = append(stats, s)
				seq += uint64(s.SequenceFailures)
			}
		}
		slotStat := k.earlier
		if k.w != nil {
			if len(stats) > 0 {
				if err := k.w.WriteExporterStats(stats); err != nil {
					k.failed(err) // the closer finds it when it finishes the file
				}
			}
			// Its last block goes to the disk now, and its idle
			// block buffers back for the next file's writer (Park);
			// follow counts that block.
			k.w.Park()
			k.follow()
			acct := k.acct
			k.acct = blockStats{}
			whole := acct.all()
			slotStat.merge(&whole)
			c.park(k, &closeJob{acct: &acct, seq: seq, start: start, end: end})
		}
		st := slotStat.stat(start, end)
		line := fmt.Sprintf("Ident: '%s' Flows: %d, Packets: %d, Bytes: %d, Sequence Errors: %d, Bad Packets: %d",
			k.src.Ident, st.Flows, st.Packets, st.Bytes, seq, k.bad)
		if k.lost > 0 {
			line += fmt.Sprintf(", Lost (disk full): %d", k.lost)
		}
		c.cfg.Infof("%s", line)
		k.bad, k.lost, k.werr = 0, 0, nil
		k.earlier.reset()
	}
	c.reown()
	kept := c.sinks[:0]
	for _, k := range c.sinks {
		if k.dynamic && !k.owning() {
			// A -M source whose exporters were all forgotten goes
			// (its directory stays), so that sources made by a flood
			// of addresses do not pile up; it comes back with them.
			delete(c.bySrc, k.src.Addr)
			c.srcStats.remove(k.src.Dir)
			continue
		}
		kept = append(kept, k)
		if !final && k.down == nil {
			if err := c.open(k); err != nil {
				c.startOutage(k, err, now, 0)
			}
		}
	}
	clear(c.sinks[len(kept):])
	c.sinks = kept
	c.cfg.Infof("%s", c.counters().line())
	c.slot = flowfile.SlotStart(now.In(c.cfg.Location), c.cfg.Interval)
}

// reown tells each sink its exporters anew, after TakeStats freed the
// SysIDs of the exporters forgotten (which new exporters may take, maybe
// for another sink).
func (c *Collector) reown() {
	for _, k := range c.sinks {
		clear(k.owns)
	}
	for _, e := range c.dec.Exporters() {
		k := c.bySrc[e.Addr]
		if k == nil {
			k = c.any
		}
		if k == nil {
			continue
		}
		for int(e.SysID) >= len(k.owns) {
			k.owns = append(k.owns, false)
		}
		k.owns[e.SysID] = true
	}
}

// park hands the sink's open file to the closer, under the name and slot
// the worker gives it now: the file is moved aside, so the next one can
// take the nfcapd.current name at once (the name keeps the prefix that
// nfdump skips).
func (c *Collector) park(k *sink, job *closeJob) {
	job.w, job.src, job.slot, job.parked = k.w, k.src, c.slot, time.Now()
	job.rel, _ = flowfile.SlotPath(c.cfg.Layout, c.slot, c.cfg.Interval, c.cfg.Zone)
	k.w = nil
	c.seq++
	if err := job.w.Rename(k.current + "." + strconv.Itoa(c.seq)); err != nil {
		c.cfg.Errorf("ERROR: rename %s: %v", k.current, err)
		// At once, to free the nfcapd.current name for the next file;
		// else the closer tries again, and open waits for the name.
		if c.closeFile(job) {
			return
		}
	}
	c.closer <- job
}

// closeRetry is how often the closer tries again to put in place the files
// a full disk kept it from closing.
const closeRetry = 5 * time.Second

func (c *Collector) closeLoop() {
	defer c.closerWG.Done()
	var pending []*closeJob
	retry := time.NewTicker(closeRetry)
	defer retry.Stop()
	again := func() {
		kept := pending[:0]
		for _, job := range pending {
			if !c.closeFile(job) {
				kept = append(kept, job)
			}
		}
		pending = kept
	}
	for {
		select {
		case job, ok := <-c.closer:
			if !ok {
				again()
				for _, job := range pending {
					c.cfg.Errorf("ERROR: %s stays; the next start puts it in place", job.w.Name())
				}
				return
			}
			if !c.closeFile(job) {
				pending = append(pending, job)
			}
		case <-retry.C:
			again()
		}
	}
}

// closeFile finishes a file and puts it in place, then runs -x and -e. When
// the final name is taken (a restart or a SIGHUP in the same slot), the
// file is merged into the one there, as nfcapd appends to it. It reports
// false when the disk had no room to finish the file or put it in place:
// the closer tries again later.
func (c *Collector) closeFile(job *closeJob) bool {
	if job.acct != nil {
		blocks, err := job.w.Finish()
		st := job.acct.all()
		if err != nil {
			var lost uint64
			st, lost = job.acct.keep(blocks)
			c.lost.Add(lost)
			c.cfg.Errorf("ERROR: Ident: '%s': can not write the end of %s: %v: %d flows lost", job.src.Ident, job.w.Name(), rootCause(err), lost)
		}
		*job.w.Stat() = st.stat(job.start, job.end)
		job.w.Stat().SequenceFailures = job.seq
		job.acct = nil
	}
	aside := job.w.Name()
	final := filepath.Join(job.src.Dir, job.rel)
	fail := func(err error) bool {
		if !job.logged {
			job.logged = true
			c.cfg.Errorf("ERROR: closing %s: %v; trying again every %v", aside, err, closeRetry)
		}
		return false
	}
	if !job.closed {
		if err := job.w.Close(); err != nil {
			return fail(err)
		}
		job.closed = true
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return fail(fmt.Errorf("can not create directory %s: %w", filepath.Dir(final), err))
	}
	var err error
	if _, statErr := os.Stat(final); statErr != nil {
		err = flowfile.Replace(aside, final)
	} else {
		err = c.install(aside, final, false)
	}
	if err != nil {
		return fail(err)
	}
	if job.logged {
		c.cfg.Infof("Closed %s as %s", aside, final)
	}
	c.srcStats.rotated(job.src.Dir, job.parked, time.Now())
	if c.cfg.Command != "" {
		c.launch(*job)
	}
	counted := false
	if c.cfg.Expire {
		counted = c.expire(job.src.Dir)
	}
	if c.cfg.TrackDiskUsage && !counted {
		c.scanDisk(job.src.Dir)
	}
	return true
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
	w, err := flowfile.Create(tmp, flowfile.WriteOptions{Compression: c.cfg.Compression, Level: c.cfg.Level, Workers: 2, Count: flowfile.CountNone})
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
		if strings.HasSuffix(p, unreadable) {
			continue
		}
		rest := strings.TrimPrefix(filepath.Base(p), "nfcapd.current.")
		pidStr, _, _ := strings.Cut(rest, ".")
		if pid, err := strconv.Atoi(pidStr); err == nil && pid != c.cfg.Pid && alive(pid) {
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
			// Nothing a reader could use (a crash before its header,
			// say): out of the way, for an admin to look at.
			c.cfg.Errorf("ERROR: can not recover %s: %v; it stays as %s", p, err, p+unreadable)
			os.Rename(p, p+unreadable)
			continue
		}
		slot := flowfile.SlotStart(created.In(c.cfg.Location), c.cfg.Interval)
		rel, _ := flowfile.SlotPath(c.cfg.Layout, slot, c.cfg.Interval, c.cfg.Zone)
		final := filepath.Join(dir, rel)
		if err := c.install(p, final, true); err != nil {
			c.cfg.Errorf("ERROR: can not recover %s: %v; the next start tries again", p, err)
			if filepath.Base(p) == flowfile.CurrentName(c.cfg.Pid) {
				// The name of the file this run writes (a pid used
				// again): moved aside, never truncated.
				c.seq++
				os.Rename(p, p+"."+strconv.Itoa(c.seq))
			}
			continue
		}
		c.cfg.Infof("Recovered %s as %s", p, final)
		done = append(done, final)
	}
	return done
}

// unreadable marks a crash-left file that recovery could not read.
const unreadable = ".unreadable"

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
