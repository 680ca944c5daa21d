package flowfile

import "github.com/nfgo/nftools/flow"

// Stat is the file's statistics record, kept in the appendix: what nfdump
// -I prints. Which flows count how depends on who wrote the file (see
// Counting).
type Stat struct {
	Flows, Bytes, Packets                             uint64
	FlowsTCP, FlowsUDP, FlowsICMP, FlowsOther         uint64
	BytesTCP, BytesUDP, BytesICMP, BytesOther         uint64
	PacketsTCP, PacketsUDP, PacketsICMP, PacketsOther uint64
	FirstSeen, LastSeen                               uint64 // msec since epoch
	SequenceFailures                                  uint64
}

// Merge adds another file's statistics, as nfdump -I sums several files.
func (s *Stat) Merge(o *Stat) {
	f := s.fields()
	for i, v := range o.fields() {
		if i == statFirst || i == statLast {
			continue
		}
		*f[i] += *v
	}
	if o.FirstSeen != 0 && (s.FirstSeen == 0 || o.FirstSeen < s.FirstSeen) {
		s.FirstSeen = o.FirstSeen
	}
	if o.LastSeen > s.LastSeen {
		s.LastSeen = o.LastSeen
	}
}

// Indexes of FirstSeen and LastSeen in fields().
const (
	statFirst = 15
	statLast  = 16
)

// fields lists the counters in their on-disk order.
func (s *Stat) fields() [18]*uint64 {
	return [18]*uint64{&s.Flows, &s.Bytes, &s.Packets,
		&s.FlowsTCP, &s.FlowsUDP, &s.FlowsICMP, &s.FlowsOther,
		&s.BytesTCP, &s.BytesUDP, &s.BytesICMP, &s.BytesOther,
		&s.PacketsTCP, &s.PacketsUDP, &s.PacketsICMP, &s.PacketsOther,
		&s.FirstSeen, &s.LastSeen, &s.SequenceFailures}
}

func decodeStat(b []byte, s *Stat) {
	for i, f := range s.fields() {
		*f = le.Uint64(b[4+8*i:])
	}
}

func appendStat(dst []byte, s *Stat) []byte {
	var b [statRecordSize]byte
	le.PutUint16(b[0:], recStat)
	le.PutUint16(b[2:], statRecordSize)
	for i, f := range s.fields() {
		le.PutUint64(b[4+8*i:], *f)
	}
	return append(dst, b[:]...)
}

// Counting says how a Writer counts the flows it writes into the file's
// stat record. The nfdump tools count in two ways, AddNfdump and
// AddNfcapd, side by side below; nfdump -I shows the difference.
type Counting uint8

const (
	// CountNfdump counts as nfdump does the flows it writes with -w
	// (AddNfdump).
	CountNfdump Counting = iota
	// CountNfcapd counts as nfcapd 1.7.1's decoders count the flows they
	// receive (AddNfcapd).
	CountNfcapd
	// CountNone counts nothing: the caller sets the record through
	// Writer.Stat, as a copy of another file's or counted itself.
	CountNone
)

// AddNfdump counts r as nfdump counts a flow it writes to a file: its
// aggregated flow count (0 as 1), packets and bytes in plus out, ICMPv6
// with ICMP.
func (s *Stat) AddNfdump(r *flow.Record) {
	s.addTimes(r)
	s.add(r.Proto, r.Proto == flow.ProtoICMP || r.Proto == flow.ProtoICMPv6, r.AggrFlows(),
		r.InPackets+r.OutPackets, r.InBytes+r.OutBytes)
}

// AddNfcapd counts r as nfcapd 1.7.1's decoders count a flow they
// received:
//
//   - every record is one flow, whatever its aggregated flow count;
//   - packets and bytes are the in counters; NetFlow v9 and IPFIX add the
//     out counters of a record that carries them (EXcntFlow) to the totals,
//     not to the per-protocol counters;
//   - v9 and IPFIX count ICMPv6 with ICMP, v1 and v5 only ICMP.
//
// A collector puts its slot in FirstSeen and LastSeen when no flow had a
// last time (LastSeen 0).
func (s *Stat) AddNfcapd(r *flow.Record) {
	v9 := r.NFVersion == 9 || r.NFVersion == 10
	s.addTimes(r)
	s.add(r.Proto, r.Proto == flow.ProtoICMP || r.Proto == flow.ProtoICMPv6 && v9, 1, r.InPackets, r.InBytes)
	if v9 {
		// Without EXcntFlow the out counters are zero.
		s.Packets += r.OutPackets
		s.Bytes += r.OutBytes
	}
}

// NfcapdSums sums flows without out counters (NetFlow v1, v5 and v7) by
// the protocol classes AddNfcapd tells apart, to count them into a Stat at
// once (AddNfcapdSums): a collector that sums a datagram's flows in a few
// words and counts them once pays a fraction of an AddNfcapd a flow. The
// zero value sums nothing.
type NfcapdSums struct {
	N           uint64 // flows summed
	First, Last uint64 // the smallest first time, zero included, and the largest last one
	// Flows, packets and bytes by SumClass.
	Flows, Packets, Bytes [NumSumClasses]uint64
}

// The classes of NfcapdSums, by IP protocol: ICMPv6 stands apart, as
// NetFlow v9 and IPFIX count it with ICMP and the older versions do not.
const (
	SumTCP = iota
	SumUDP
	SumICMP
	SumICMPv6
	SumOther
	NumSumClasses
)

// sumClasses maps an IP protocol to its class in NfcapdSums.
var sumClasses = func() (t [256]uint8) {
	for p := range t {
		t[p] = SumOther
	}
	t[flow.ProtoTCP], t[flow.ProtoUDP] = SumTCP, SumUDP
	t[flow.ProtoICMP], t[flow.ProtoICMPv6] = SumICMP, SumICMPv6
	return t
}()

// Add sums a flow.
func (s *NfcapdSums) Add(first, last, packets, bytes uint64, proto uint8) {
	if s.N == 0 || first < s.First {
		s.First = first
	}
	s.Last = max(s.Last, last)
	s.N++
	c := sumClasses[proto]
	s.Flows[c]++
	s.Packets[c] += packets
	s.Bytes[c] += bytes
}

// AddNfcapdSums counts the flows of sums as AddNfcapd counts each: the
// same record as AddNfcapd of every flow summed, in any order. v9 says
// whether they came as NetFlow v9 or IPFIX (ICMPv6 with ICMP).
func (s *Stat) AddNfcapdSums(sums *NfcapdSums, v9 bool) {
	if sums.N == 0 {
		return
	}
	if s.Flows == 0 || sums.First < s.FirstSeen {
		s.FirstSeen = sums.First
	}
	s.LastSeen = max(s.LastSeen, sums.Last)
	// ICMPv6 goes with ICMP or with the others, in locals: copies of
	// the arrays, changed and read back, took some 30 instructions of
	// this function's 90 (callgrind), which a collector calls for every
	// batch of up to 30 flows.
	f, p, b := &sums.Flows, &sums.Packets, &sums.Bytes
	icmpF, icmpP, icmpB := f[SumICMP], p[SumICMP], b[SumICMP]
	otherF, otherP, otherB := f[SumOther], p[SumOther], b[SumOther]
	if v9 {
		icmpF, icmpP, icmpB = icmpF+f[SumICMPv6], icmpP+p[SumICMPv6], icmpB+b[SumICMPv6]
	} else {
		otherF, otherP, otherB = otherF+f[SumICMPv6], otherP+p[SumICMPv6], otherB+b[SumICMPv6]
	}
	s.Flows += sums.N
	s.Packets += p[SumTCP] + p[SumUDP] + icmpP + otherP
	s.Bytes += b[SumTCP] + b[SumUDP] + icmpB + otherB
	s.FlowsTCP += f[SumTCP]
	s.FlowsUDP += f[SumUDP]
	s.FlowsICMP += icmpF
	s.FlowsOther += otherF
	s.PacketsTCP += p[SumTCP]
	s.PacketsUDP += p[SumUDP]
	s.PacketsICMP += icmpP
	s.PacketsOther += otherP
	s.BytesTCP += b[SumTCP]
	s.BytesUDP += b[SumUDP]
	s.BytesICMP += icmpB
	s.BytesOther += otherB
}

// addTimes widens FirstSeen and LastSeen to r's times, before r counts:
// both ways take the smallest first time, zero included, and the largest
// last one.
func (s *Stat) addTimes(r *flow.Record) {
	if s.Flows == 0 || r.First < s.FirstSeen {
		s.FirstSeen = r.First
	}
	s.LastSeen = max(s.LastSeen, r.Last)
}

// add counts flows with packets and bytes into the totals and the
// counters of their protocol: ICMP when icmp is set, else TCP, UDP or
// other by proto.
func (s *Stat) add(proto uint8, icmp bool, flows, packets, bytes uint64) {
	s.Flows += flows
	s.Packets += packets
	s.Bytes += bytes
	switch {
	case icmp:
		s.FlowsICMP += flows
		s.PacketsICMP += packets
		s.BytesICMP += bytes
	case proto == flow.ProtoTCP:
		s.FlowsTCP += flows
		s.PacketsTCP += packets
		s.BytesTCP += bytes
	case proto == flow.ProtoUDP:
		s.FlowsUDP += flows
		s.PacketsUDP += packets
		s.BytesUDP += bytes
	default:
		s.FlowsOther += flows
		s.PacketsOther += packets
		s.BytesOther += bytes
	}
}

// StatSum sums the stat records of files as nfdump -I does, with the
// ident of the first file.
type StatSum struct {
	Stat     Stat
	Ident    string
	HasIdent bool
	Files    int // files added
}

// Add adds the stat record of r's file, and its ident when it is the
// first file.
func (s *StatSum) Add(r *Reader) {
	if s.Files == 0 {
		s.Ident, s.HasIdent = r.Ident()
	}
	st := r.Stat()
	s.Stat.Merge(&st)
	s.Files++
}
