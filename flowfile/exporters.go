package flowfile

import "github.com/nfgo/nftools/flow"

// Exporters reads the rest of r's file and collects its exporters as
// nfdump -E does: the first record of each SysID, the sums of its exporter
// stat records, and its samplers without repeats, in the order met. A stat
// or sampler record of an exporter not (yet) met is passed to orphan, with
// its SysID, and left out. It returns the exporters from SysID 1 up to
// the first SysID without an exporter record, which is what nfdump lists,
// whether the file had any exporter record, and the error that ended
// reading.
func Exporters(r *Reader, orphan func(sysID uint32, sampler bool)) (list []flow.ExporterSummary, found bool, err error) {
	var bySysID [65536]*flow.ExporterSummary
	for r.Next() {
		switch r.Kind() {
		case KindExporter:
			found = true
			e := r.Exporter()
			if bySysID[e.SysID] == nil {
				bySysID[e.SysID] = &flow.ExporterSummary{Exporter: *e}
			}
		case KindExporterStat:
			for _, st := range r.ExporterStats() {
				if st.SysID >= uint32(len(bySysID)) || bySysID[st.SysID] == nil {
					orphan(st.SysID, false)
					continue
				}
				x := bySysID[st.SysID]
				x.SequenceFailures += uint64(st.SequenceFailures)
				x.Packets += st.Packets
				x.Flows += st.Flows
			}
		case KindSampler:
			s := *r.Sampler()
			x := bySysID[s.ExporterSysID]
			if x == nil {
				orphan(uint32(s.ExporterSysID), true)
				continue
			}
			dup := false
			for _, o := range x.Samplers {
				dup = dup || o == s
			}
			if !dup {
				x.Samplers = append(x.Samplers, s)
			}
		}
	}
	for id := 1; id < len(bySysID) && bySysID[id] != nil; id++ {
		list = append(list, *bySysID[id])
	}
	return list, found, r.Err()
}
