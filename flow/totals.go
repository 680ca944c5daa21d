package flow

// Totals sums flow records the way nfdump's summary line counts the flows
// that passed (its UpdateStat): the aggregated flow count (a record's 0
// counting as 1), bytes and packets in plus out, the earliest first and
// the latest last time. The reader's workers sum blocks with it and godump
// prints its summary from it.
type Totals struct {
	Records uint64 // flow records
	Flows   uint64 // aggregated flows
	Bytes   uint64 // in plus out
	Packets uint64 // in plus out
	First   uint64 // the earliest First (0 without records)
	Last    uint64 // the latest Last
}

// TotalsElements are the V3 elements whose fields Totals.Add reads: the
// generic element (times, in counters) and the counter element (flows, out
// counters).
const TotalsElements = Elements(1<<ElemGeneric | 1<<ElemCounters)

// Add counts r.
func (t *Totals) Add(r *Record) {
	t.AddCounts(r.First, r.Last, r.AggrFlows(), r.InPackets+r.OutPackets, r.InBytes+r.OutBytes)
}

// AddCounts counts one record with these times and sums (flows as
// AggrFlows gives them), for a reader that takes them from the record's
// bytes without decoding a Record.
func (t *Totals) AddCounts(first, last, flows, packets, bytes uint64) {
	if t.Records == 0 || first < t.First {
		t.First = first
	}
	t.Last = max(t.Last, last)
	t.Records++
	t.Flows += flows
	t.Bytes += bytes
	t.Packets += packets
}

// Merge adds o, the totals of other records, as if Add had counted each of
// them.
func (t *Totals) Merge(o *Totals) {
	if o.Records == 0 {
		return
	}
	if t.Records == 0 || o.First < t.First {
		t.First = o.First
	}
	t.Last = max(t.Last, o.Last)
	t.Records += o.Records
	t.Flows += o.Flows
	t.Bytes += o.Bytes
	t.Packets += o.Packets
}
