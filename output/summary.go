package output

import (
	"strconv"
)

// rates returns nfdump's average bps, pps and bpp: over the span from the
// first to the last flow, 0 when that span is 0. The span is computed from
// unsigned milliseconds, as nfdump does.
func (s *Summary) rates() (bps, pps, bpp uint64) {
	if s.Last == 0 {
		return 0, 0, 0
	}
	first := s.First
	if s.Flows == 0 {
		first = 0x7fffffffffffffff
	}
	d := float64(s.Last-first) / 1000.0
	if d > 0 {
		bps = cU64(float64(s.Bytes<<3) / d)
		pps = cU64(float64(s.Packets) / d)
		if s.Packets != 0 {
			bpp = s.Bytes / s.Packets
		}
	}
	return
}

// appendSummaryLine appends "Summary: total flows: ..." with scaled numbers
// (plain with -N).
func appendSummaryLine(b []byte, s *Summary, plain bool) []byte {
	bps, pps, bpp := s.rates()
	b = append(b, "Summary: total flows: "...)
	b = strconv.AppendUint(b, s.Flows, 10)
	b = append(b, ", total bytes: "...)
	b = AppendNumber(b, s.Bytes, plain, false)
	b = append(b, ", total packets: "...)
	b = AppendNumber(b, s.Packets, plain, false)
	b = append(b, ", avg bps: "...)
	b = AppendNumber(b, bps, plain, false)
	b = append(b, ", avg pps: "...)
	b = AppendNumber(b, pps, plain, false)
	b = append(b, ", avg bpp: "...)
	b = AppendNumber(b, bpp, plain, false)
	return append(b, '\n')
}

// appendCSVSummary appends the three summary lines of -o csv.
func appendCSVSummary(b []byte, s *Summary) []byte {
	bps, pps, bpp := s.rates()
	b = append(b, "Summary\nflows,bytes,packets,avg_bps,avg_pps,avg_bpp\n"...)
	for i, v := range [...]uint64{s.Flows, s.Bytes, s.Packets, bps, pps, bpp} {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, v, 10)
	}
	return append(b, '\n')
}

// appendPlainSummary appends the lines plain-text modes end with: the
// summary, the time window, the counts and the timing line.
func appendPlainSummary(b []byte, s *Summary, plain bool, clk *clock) []byte {
	b = appendSummaryLine(b, s, plain)
	if s.WindowLast == 0 {
		b = append(b, "Time window: <unknown>\n"...)
	} else {
		b = append(b, "Time window: "...)
		first, last := s.WindowFirst/1000, s.WindowLast/1000
		if first == 0 {
			b = append(b, "Time Window unknown"...)
		} else {
			b = clk.appendTime(b, int64(first), ' ')
			b = append(b, " - "...)
			b = clk.appendTime(b, int64(last), ' ')
		}
		b = append(b, '\n')
	}
	b = append(b, "Total flows processed: "...)
	b = strconv.AppendUint(b, uint64(uint32(s.Processed)), 10)
	b = append(b, ", passed: "...)
	b = strconv.AppendUint(b, uint64(uint32(s.Passed)), 10)
	b = append(b, ", Blocks skipped: "...)
	b = strconv.AppendUint(b, uint64(uint32(s.BlocksSkipped)), 10)
	b = append(b, ", Bytes read: "...)
	b = strconv.AppendUint(b, s.BytesRead, 10)
	b = append(b, '\n')
	return appendTiming(b, s)
}

// appendTiming appends nfdump's profile line from Wall, User and Sys.
func appendTiming(b []byte, s *Summary) []byte {
	wall := s.Wall.Seconds()
	fps := 0.0
	if wall > 0 {
		fps = float64(s.Processed) / wall
	}
	b = append(b, "Sys: "...)
	b = strconv.AppendFloat(b, s.Sys.Seconds(), 'f', 4, 64)
	b = append(b, "s User: "...)
	b = strconv.AppendFloat(b, s.User.Seconds(), 'f', 4, 64)
	b = append(b, "s Wall: "...)
	b = strconv.AppendFloat(b, wall, 'f', 4, 64)
	b = append(b, "s flows/second: "...)
	b = strconv.AppendFloat(b, fps, 'f', 1, 64)
	b = append(b, " Runtime: "...)
	b = strconv.AppendFloat(b, wall, 'f', 4, 64)
	return append(b, "s\n"...)
}
