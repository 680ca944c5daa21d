package collector

import (
	"math"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
)

// statCounter counts the flows of a file into its stat record the way the
// decoders of nfcapd 1.7.1 count them, which nfdump -I then shows:
//
//   - every record is one flow, whatever its aggregated flow count;
//   - v9 and IPFIX count ICMPv6 with ICMP, v1 and v5 only ICMP;
//   - v9 and IPFIX add the out packets and bytes of a record that carries
//     them (EXcntFlow) to the totals, not to the per-protocol counters;
//   - first and last seen are the smallest first and the largest last time
//     of the flows, zero included; when no flow had a last time, the file
//     covers its slot.
type statCounter struct {
	st          flowfile.Stat
	first, last uint64
}

func (c *statCounter) reset() {
	*c = statCounter{first: math.MaxUint64}
}

func (c *statCounter) add(r *flow.Record) {
	s := &c.st
	v9 := r.NFVersion == 9 || r.NFVersion == 10
	s.Flows++
	s.Packets += r.InPackets
	s.Bytes += r.InBytes
	switch {
	case r.Proto == flow.ProtoICMP || r.Proto == flow.ProtoICMPv6 && v9:
		s.FlowsICMP++
		s.PacketsICMP += r.InPackets
		s.BytesICMP += r.InBytes
	case r.Proto == flow.ProtoTCP:
		s.FlowsTCP++
		s.PacketsTCP += r.InPackets
		s.BytesTCP += r.InBytes
	case r.Proto == flow.ProtoUDP:
		s.FlowsUDP++
		s.PacketsUDP += r.InPackets
		s.BytesUDP += r.InBytes
	default:
		s.FlowsOther++
		s.PacketsOther += r.InPackets
		s.BytesOther += r.InBytes
	}
	if v9 {
		// Without EXcntFlow the out counters are zero.
		s.Packets += r.OutPackets
		s.Bytes += r.OutBytes
	}
	c.first = min(c.first, r.First)
	c.last = max(c.last, r.Last)
}

// merge adds the flows that o counted.
func (c *statCounter) merge(o *statCounter) {
	c.st.Merge(&o.st)
	c.first = min(c.first, o.first)
	c.last = max(c.last, o.last)
}

// stat returns the stat record, with slotStart and slotEnd (msec) as first
// and last seen when no flow had a last time.
func (c *statCounter) stat(slotStart, slotEnd uint64) flowfile.Stat {
	st := c.st
	if c.last == 0 {
		st.FirstSeen, st.LastSeen = slotStart, slotEnd
	} else {
		st.FirstSeen, st.LastSeen = c.first, c.last
	}
	return st
}
