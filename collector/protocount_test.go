package collector

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
)

// TestProtoCountsSums: flows summed by flowfile.NfcapdSums count into the
// protocol classes as each flow counts on its own, ICMPv6 with ICMP; the
// sums of an exporter not known count nowhere.
func TestProtoCountsSums(t *testing.T) {
	flows := []flow.Record{
		{Proto: flow.ProtoTCP, InPackets: 3, InBytes: 300},
		{Proto: flow.ProtoUDP, InPackets: 1, InBytes: 50},
		{Proto: flow.ProtoICMP, InPackets: 2, InBytes: 84},
		{Proto: flow.ProtoICMPv6, InPackets: 5, InBytes: 520},
		{Proto: 47, InPackets: 7, InBytes: 700},
		{Proto: flow.ProtoTCP, InPackets: 1, InBytes: 40},
	}
	var each, summed protoCounts
	each.reset(1)
	summed.reset(1)
	var sums flowfile.NfcapdSums
	for i := range flows {
		flows[i].ExporterID = 1
		each.add(&flows[i])
		sums.Add(0, 0, flows[i].InPackets, flows[i].InBytes, flows[i].Proto)
	}
	summed.addSums(1, &sums)
	summed.addSums(2, &sums)
	assert.Equal(t, each.of(1), summed.of(1))
	assert.Equal(t, ProtoCounters{Flows: 2, Packets: 7, Bytes: 604}, summed.of(1)[2], "icmp with icmpv6")
	assert.Equal(t, [NumProtoClasses]ProtoCounters{}, summed.of(2))
}
