package collector

import (
	"errors"
	"io/fs"
	"os"
	"time"

	"github.com/nfgo/nftools/flowfile"
)

// When the flow directory takes no more (a full disk, a quota, an I/O
// error), the collector keeps receiving and decoding: exporters, templates
// and sequence numbers stay current, and the flows are counted as lost
// ("Lost (disk full)" in the rotation lines and the totals). The file
// being written is cut after its last block written whole and closed into
// a readable file with the stat record of what it holds (or, when not even
// that fits, kept aside and closed as soon as there is room). One line says
// that writing failed; every second the collector looks whether the
// directory has room again, and one line says when writing works again and
// how many flows were lost meanwhile. A directory that fails again within
// a minute of working again is tried less often, up to once a minute, so a
// flapping disk cannot fill the log.

// outage is a failure to write a sink's files, going on.
type outage struct {
	since time.Time
	lost  uint64    // flows lost since
	next  time.Time // the next try to write again
}

// resumeSpace is the room a flow directory needs before writing into it is
// tried again: two blocks, so a file that starts does not fail at once.
const resumeSpace = 2 * flowfile.WriteBlockSize

// writeFailed ends the sink's file after a write error: the blocks that
// reached the disk are kept, with their stat record, and the flows of the
// others are counted as lost.
func (c *Collector) writeFailed(k *sink, now time.Time) {
	err := k.werr
	k.werr = nil
	if k.w == nil {
		return
	}
	blocks, ferr := k.w.Finish()
	if ferr == nil {
		ferr = err
	}
	k.acct.queued(k.w.Queued())
	kept, lost := k.acct.keep(blocks)
	k.lose(lost)
	refused := k.refused
	k.refused = 0
	k.earlier.merge(&kept)
	start := uint64(c.slot.UnixMilli())
	*k.w.Stat() = kept.stat(start, uint64(c.slot.Add(c.cfg.Interval).UnixMilli()))
	c.park(k, &closeJob{})
	c.startOutage(k, ferr, now, lost+refused)
}

// startOutage logs that writing failed, once, and starts trying again.
func (c *Collector) startOutage(k *sink, err error, now time.Time, lost uint64) {
	if k.down != nil {
		k.down.lost += lost
		return
	}
	if !k.resumed.IsZero() && now.Sub(k.resumed) < time.Minute {
		k.retry = min(2*k.retry, time.Minute)
	} else {
		k.retry = time.Second
	}
	k.down = &outage{since: now, lost: lost, next: now.Add(k.retry)}
	c.cfg.Errorf("ERROR: Ident: '%s': can not write %s: %v; flows are lost until writing works again",
		k.src.Ident, k.current, rootCause(err))
}

// tryResume starts a new file for a sink whose writing failed, once its
// directory has room again.
func (c *Collector) tryResume(k *sink, now time.Time) {
	o := k.down
	if o == nil || now.Before(o.next) {
		return
	}
	o.next = now.Add(k.retry)
	if k.dynamic {
		// A -M source may have failed before its directory existed.
		if err := os.MkdirAll(k.src.Dir, 0o755); err != nil {
			return
		}
	}
	if free, ok := freeSpace(k.src.Dir); ok && free < resumeSpace {
		return
	}
	if err := c.open(k); err != nil {
		return
	}
	k.down, k.resumed = nil, now
	c.cfg.Infof("Ident: '%s': writing %s again; %d flows lost since %s",
		k.src.Ident, k.current, o.lost, o.since.Format("2006-01-02 15:04:05"))
}

// rootCause strips the paths and block numbers that wrap a system error
// ("no space left on device"), which the log line says in its own words.
func rootCause(err error) error {
	var pe *fs.PathError
	for errors.As(err, &pe) {
		err = pe.Err
	}
	return err
}
