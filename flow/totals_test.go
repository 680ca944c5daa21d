package flow

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTotals(t *testing.T) {
	recs := []Record{
		{First: 2000, Last: 3000, InBytes: 100, InPackets: 2, OutBytes: 50, OutPackets: 1},
		{First: 1000, Last: 2500, InBytes: 10, InPackets: 1, Flows: 4},
		{First: 1500, Last: 1600, InBytes: 7, InPackets: 1},
	}
	var all Totals
	for i := range recs {
		all.Add(&recs[i])
	}
	require.Equal(t, Totals{Records: 3, Flows: 6, Bytes: 167, Packets: 5, First: 1000, Last: 3000}, all)

	// Merging the sums of parts gives the sum of the whole, in any order
	// and with empty parts.
	var a, b, merged Totals
	a.Add(&recs[2])
	b.Add(&recs[0])
	b.Add(&recs[1])
	merged.Merge(&Totals{})
	merged.Merge(&b)
	merged.Merge(&Totals{})
	merged.Merge(&a)
	require.Equal(t, all, merged)

	// A first time of 0 is a time like any other.
	var z Totals
	z.Add(&Record{First: 0, Last: 10})
	z.Add(&Record{First: 5, Last: 7})
	require.Equal(t, uint64(0), z.First)
}
