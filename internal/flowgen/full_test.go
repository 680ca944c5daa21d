package flowgen

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nfgo/nftools/flow"
)

// TestFullCoversEveryElement checks that every modeled element is carried
// by some flows and missing from others, that both address families and
// the ICMP codes occur, and that the generator is deterministic and does
// not allocate.
func TestFullCoversEveryElement(t *testing.T) {
	a, b := NewFull(7, 1_795_555_903_000), NewFull(7, 1_795_555_903_000)
	var ra, rb flow.Record
	var with, without [flow.MaxModeledElement + 1]int
	fields := map[string]map[uint64]bool{}
	see := func(name string, v uint64) {
		if fields[name] == nil {
			fields[name] = map[uint64]bool{}
		}
		fields[name][v] = true
	}
	for i := 0; i < 5000; i++ {
		a.Next(&ra)
		b.Next(&rb)
		assert.Equal(t, ra, rb)
		assert.True(t, ra.SrcAddr.Is6() == ra.DstAddr.Is6(), "one address family per flow")
		for id := 1; id <= flow.MaxModeledElement; id++ {
			if ra.Elements.Has(id) {
				with[id]++
			} else {
				without[id]++
			}
		}
		see("proto", uint64(ra.Proto))
		see("engine", uint64(ra.EngineType))
		see("fwd", uint64(ra.FwdStatus))
		see("tos", uint64(ra.SrcTos))
		if ra.IsICMP() {
			see("icmp", uint64(ra.DstPort))
		}
		if ra.Elements.Has(flow.ElemVLAN) {
			see("vlan", uint64(ra.SrcVLAN))
		}
	}
	for id := 1; id <= flow.MaxModeledElement; id++ {
		if id == flow.ElemGeneric {
			assert.Zero(t, without[id], "every flow has the generic element")
			continue
		}
		assert.Greater(t, with[id], 100, "element %d is carried by too few flows", id)
		assert.Greater(t, without[id], 100, "element %d is missing from too few flows", id)
	}
	assert.True(t, fields["vlan"][0], "a VLAN element holding 0")
	assert.True(t, fields["vlan"][70000], "a VLAN id wider than nfdump's 16 bits")
	assert.True(t, fields["proto"][flow.ProtoICMPv6])
	assert.GreaterOrEqual(t, len(fields["icmp"]), 5)
	assert.Len(t, fields["engine"], 4)
	assert.GreaterOrEqual(t, len(fields["fwd"]), 5)
	assert.Len(t, fields["tos"], len(fullTos))
	assert.Zero(t, testing.AllocsPerRun(100, func() { a.Next(&ra) }))
}
