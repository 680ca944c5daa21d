package stats

import (
	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/topn"
)

// recordCounter gives a record the counters a table row has, so records
// rank with the same order functions as element values.
func recordCounter(r *flow.Record) counter {
	return counter{
		flows: r.AggrFlows(), inPackets: r.InPackets, inBytes: r.InBytes,
		outPackets: r.OutPackets, outBytes: r.OutBytes, first: r.First, last: r.Last,
	}
}

// TopRecords ranks n (aggregated) flow records of -s record by order o,
// ascending when asc, and returns the top topN (all for 0); ties keep the
// order of the records' numbers. get builds record i into r; it is called
// once for every record to rank it and once more for each record returned,
// so that only the top topN records are ever held, not all n. Unlike
// element tables nfdump honours the direction for any number of records
// here. Its bps orders compare 0 for every record (a bug of 1.7.1); godump
// ranks them by bits per second, as it does for -O.
func TopRecords(n int, get func(i int, r *flow.Record), o Order, asc bool, topN int) []flow.Record {
	var r flow.Record
	var c counter // one for all records
	value := func(i int) uint64 {
		get(i, &r)
		c = recordCounter(&r)
		return o.of(&c)
	}
	var rows []ranked
	if topN > 0 && topN < n {
		h := topn.New(topN, rankedBefore(asc))
		for i := 0; i < n; i++ {
			h.Offer(ranked{value: value(i), seen: uint64(i), idx: uint32(i)})
		}
		rows = h.Sorted()
	} else {
		rows = make([]ranked, n)
		for i := range rows {
			rows[i] = ranked{value: value(i), seen: uint64(i), idx: uint32(i)}
		}
		rows = rank(rows, asc, 0)
	}
	out := make([]flow.Record, len(rows))
	for i, row := range rows {
		get(int(row.idx), &out[i])
	}
	return out
}
