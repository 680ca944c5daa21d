package flowgen

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nfgo/nftools/flow"
)

func TestDeterministicAndPlausible(t *testing.T) {
	a, b := New(1, 1_795_555_903_000), New(1, 1_795_555_903_000)
	var ra, rb flow.Record
	protos := map[uint8]int{}
	v6 := 0
	for i := 0; i < 10000; i++ {
		a.Next(&ra)
		b.Next(&rb)
		assert.Equal(t, ra, rb)
		assert.LessOrEqual(t, ra.First, ra.Last)
		assert.GreaterOrEqual(t, ra.InBytes, ra.InPackets*40)
		assert.True(t, ra.SrcAddr.Is6() == ra.DstAddr.Is6(), "one address family per flow")
		protos[ra.Proto]++
		if ra.IsIPv6() {
			v6++
		}
	}
	assert.Len(t, protos, 3)
	assert.Greater(t, protos[flow.ProtoTCP], protos[flow.ProtoUDP])
	assert.InDelta(t, 1250, v6, 300)
	assert.Zero(t, testing.AllocsPerRun(100, func() { a.Next(&ra) }))
}
