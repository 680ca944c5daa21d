package collector

import (
	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
)

// statCounter counts the flows of a file into its stat record the way the
// decoders of nfcapd 1.7.1 count them (flowfile's Stat.AddNfcapd), which
// nfdump -I then shows; when no flow had a last time, the file covers its
// slot.
type statCounter struct {
	st flowfile.Stat
}

func (c *statCounter) reset() {
	*c = statCounter{}
}

func (c *statCounter) add(r *flow.Record) {
	c.st.AddNfcapd(r)
}

// merge adds the flows that o counted, keeping the smallest first time of
// both, zero included, as counting does.
func (c *statCounter) merge(o *statCounter) {
	if o.st.Flows == 0 {
		return
	}
	first := o.st.FirstSeen
	if c.st.Flows > 0 {
		first = min(first, c.st.FirstSeen)
	}
	c.st.Merge(&o.st)
	c.st.FirstSeen = first
}

// stat returns the stat record, with slotStart and slotEnd (msec) as first
// and last seen when no flow had a last time.
func (c *statCounter) stat(slotStart, slotEnd uint64) flowfile.Stat {
	st := c.st
	if st.LastSeen == 0 {
		st.FirstSeen, st.LastSeen = slotStart, slotEnd
	}
	return st
}
