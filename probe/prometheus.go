package probe

import (
	"strconv"

	"github.com/nfgo/nftools/capture"
	"github.com/nfgo/nftools/internal/metrics/lite"
)

// The metrics of goprobe --metrics, served by internal/metrics/lite
// rather than client_golang, whose packages would double goprobe's
// memory (see that package). Counters count from goprobe's start. The
// capture side's (packets, drops, flows in the cache and expired) are
// the copy the capture loop keeps at every scan (-s), so that a scrape
// never reaches into the loop; the export side's are read as they are.
// man/goprobe.8 (METRICS) lists each.

// AddMetrics adds the probe's metrics to a scrape's set, from Stats.
func (p *Probe) AddMetrics(set *lite.Set) {
	s := p.Stats()
	counter := func(name, help string, v uint64) {
		set.Family(name, help, lite.Counter).Add(float64(v))
	}
	gauge := func(name, help string, v uint64) {
		set.Family(name, help, lite.Gauge).Add(float64(v))
	}
	counter("goprobe_captured_packets_total",
		"Packets read from the interface, standard input or the capture file.", s.Packets)
	counter("goprobe_ignored_packets_total",
		"Packets not counted into flows: not IP, undecodable, or refused by the filter of a capture read.", s.Ignored)
	counter("goprobe_kernel_dropped_packets_total",
		"Packets the kernel dropped because goprobe's capture buffer was full (pcap_stats).", s.Dropped)
	counter("goprobe_interface_dropped_packets_total",
		"Packets the interface or its driver dropped (pcap_stats).", s.IfDropped)
	gauge("goprobe_active_flows", "Flows in the cache.", s.ActiveFlows)
	expired := set.Family("goprobe_expired_flows_total",
		"Flows the cache exported, by reason: idle (-d), active (-e), tcp-end (FIN or RST), split (a counter would pass 32 bits), evicted (the cache was full), flush (at the end).",
		lite.Counter, "reason")
	for r, n := range s.Expired {
		expired.Add(float64(n), capture.ExpiryReason(r).String())
	}
	gauge("goprobe_export_queue_flows", "Flows waiting in the export queue.", uint64(s.Queued))
	counter("goprobe_export_queue_lost_flows_total", "Flows dropped because the export queue was full.", s.FlowsLost)
	counter("goprobe_unexportable_flows_total",
		"Flows the NetFlow version cannot carry (IPv6 in v1, v5 and v7).", s.Skipped)
	datagrams := set.Family("goprobe_sent_datagrams_total", "Datagrams sent to a collector.", lite.Counter, "index", "collector")
	flows := set.Family("goprobe_sent_flows_total", "Flows in the datagrams sent to a collector.", lite.Counter, "index", "collector")
	errs := set.Family("goprobe_send_errors_total", "Datagrams to a collector whose send failed.", lite.Counter, "index", "collector")
	for i, cs := range s.Collectors {
		index, name := strconv.Itoa(i+1), cs.Collector.String()
		datagrams.Add(float64(cs.Datagrams), index, name)
		flows.Add(float64(cs.Flows), index, name)
		errs.Add(float64(cs.SendErrors), index, name)
	}
}
