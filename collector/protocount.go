package collector

import (
	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
)

// ProtoClasses names the protocol classes that flows, packets and bytes
// are counted by, in the order of their index: nfcapd's -m counts by
// these four, with ICMPv6 in icmp, and so do gocapd's Prometheus metrics.
var ProtoClasses = [NumProtoClasses]string{"tcp", "udp", "icmp", "other"}

// NumProtoClasses is the number of protocol classes.
const NumProtoClasses = 4

// protoClass returns the index in ProtoClasses of an IP protocol.
func protoClass(p uint8) int {
	switch p {
	case flow.ProtoTCP:
		return 0
	case flow.ProtoUDP:
		return 1
	case flow.ProtoICMP, flow.ProtoICMPv6:
		return 2
	}
	return 3
}

// ProtoCounters count the flows of one protocol class, with their packets
// and bytes (the in counters, as nfdump shows them).
type ProtoCounters struct {
	Flows, Packets, Bytes uint64
}

// protoCounts counts each exporter's flows by protocol class, indexed by
// SysID. The worker owns it: a flow costs three additions to plain
// memory, and the worker publishes the counts once a second (publish).
type protoCounts struct {
	bySys [][NumProtoClasses]ProtoCounters
}

// reset starts the counts of the exporter that takes sysID, which may be
// one freed by an exporter forgotten.
func (t *protoCounts) reset(sysID uint16) {
	for int(sysID) >= len(t.bySys) {
		t.bySys = append(t.bySys, [NumProtoClasses]ProtoCounters{})
	}
	t.bySys[sysID] = [NumProtoClasses]ProtoCounters{}
}

// add counts a flow of the exporter r.ExporterID.
func (t *protoCounts) add(r *flow.Record) {
	if int(r.ExporterID) >= len(t.bySys) {
		return
	}
	c := &t.bySys[r.ExporterID][protoClass(r.Proto)]
	c.Flows++
	c.Packets += r.InPackets
	c.Bytes += r.InBytes
}

// addSums counts the flows summed in s of the exporter sysID.
func (t *protoCounts) addSums(sysID uint16, s *flowfile.NfcapdSums) {
	if int(sysID) >= len(t.bySys) {
		return
	}
	c := &t.bySys[sysID]
	for i, class := range [flowfile.NumSumClasses]int{flowfile.SumTCP: 0, flowfile.SumUDP: 1, flowfile.SumICMP: 2, flowfile.SumICMPv6: 2, flowfile.SumOther: 3} {
		c[class].Flows += s.Flows[i]
		c[class].Packets += s.Packets[i]
		c[class].Bytes += s.Bytes[i]
	}
}

// of returns the counts of the exporter with sysID.
func (t *protoCounts) of(sysID uint16) [NumProtoClasses]ProtoCounters {
	if int(sysID) >= len(t.bySys) {
		return [NumProtoClasses]ProtoCounters{}
	}
	return t.bySys[sysID]
}
