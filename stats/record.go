package stats

import (
	"github.com/nfgo/nftools/flow"
)

// recordCounter gives a record the counters a table row has, so records
// rank with the same order functions as element values.
func recordCounter(r *flow.Record) counter {
	return counter{
		flows: r.AggrFlows(), inPackets: r.InPackets, inBytes: r.InBytes,
		outPackets: r.OutPackets, outBytes: r.OutBytes, first: r.First, last: r.Last,
	}
}

// TopRecords ranks the (aggregated) flow records of -s record by order o,
// ascending when asc, and returns the top topN (all for 0); ties keep the
// order of recs. Unlike element tables nfdump honours the direction for
// any number of records here. Its bps orders compare 0 for every record
// (a bug of 1.7.1); godump ranks them by bits per second, as it does for
// -O.
func TopRecords(recs []flow.Record, o Order, asc bool, topN int) []flow.Record {
	rows := make([]ranked, len(recs))
	for i := range recs {
		c := recordCounter(&recs[i])
		rows[i] = ranked{value: o.value(&c, o.Dir), idx: uint32(i)}
	}
	rows = rank(rows, asc, topN)
	out := make([]flow.Record, len(rows))
	for i, r := range rows {
		out[i] = recs[r.idx]
	}
	return out
}
