package probe

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nfgo/nftools/capture"
)

// The metrics of goprobe --metrics. Counters count from goprobe's start.
// The capture side's (packets, drops, flows in the cache and expired) are
// the copy the capture loop keeps at every scan (-s), so that a scrape
// never reaches into the loop; the export side's are read as they are.
// man/goprobe.8 (METRICS) lists each.
var (
	collectorLabels = []string{"index", "collector"}

	descPackets = prometheus.NewDesc("goprobe_captured_packets_total",
		"Packets read from the interface, standard input or the capture file.", nil, nil)
	descIgnored = prometheus.NewDesc("goprobe_ignored_packets_total",
		"Packets not counted into flows: not IP, undecodable, or refused by the filter of a capture read.", nil, nil)
	descKernelDrops = prometheus.NewDesc("goprobe_kernel_dropped_packets_total",
		"Packets the kernel dropped because goprobe's capture buffer was full (pcap_stats).", nil, nil)
	descIfDrops = prometheus.NewDesc("goprobe_interface_dropped_packets_total",
		"Packets the interface or its driver dropped (pcap_stats).", nil, nil)
	descActive = prometheus.NewDesc("goprobe_active_flows",
		"Flows in the cache.", nil, nil)
	descExpired = prometheus.NewDesc("goprobe_expired_flows_total",
		"Flows the cache exported, by reason: idle (-d), active (-e), tcp-end (FIN or RST), split (a counter would pass 32 bits), evicted (the cache was full), flush (at the end).",
		[]string{"reason"}, nil)
	descQueued = prometheus.NewDesc("goprobe_export_queue_flows",
		"Flows waiting in the export queue.", nil, nil)
	descLost = prometheus.NewDesc("goprobe_export_queue_lost_flows_total",
		"Flows dropped because the export queue was full.", nil, nil)
	descUnexportable = prometheus.NewDesc("goprobe_unexportable_flows_total",
		"Flows the NetFlow version cannot carry (IPv6 in v1, v5 and v7).", nil, nil)
	descDatagrams = prometheus.NewDesc("goprobe_sent_datagrams_total",
		"Datagrams sent to a collector.", collectorLabels, nil)
	descSentFlows = prometheus.NewDesc("goprobe_sent_flows_total",
		"Flows in the datagrams sent to a collector.", collectorLabels, nil)
	descSendErrors = prometheus.NewDesc("goprobe_send_errors_total",
		"Datagrams to a collector whose send failed.", collectorLabels, nil)

	allDescs = []*prometheus.Desc{descPackets, descIgnored, descKernelDrops, descIfDrops, descActive, descExpired,
		descQueued, descLost, descUnexportable, descDatagrams, descSentFlows, descSendErrors}
)

// Prometheus returns the probe's metrics as a prometheus.Collector, which
// reads Stats at each scrape.
func (p *Probe) Prometheus() prometheus.Collector { return promCollector{p} }

type promCollector struct{ p *Probe }

// Describe implements prometheus.Collector.
func (c promCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c promCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.p.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	counter(descPackets, s.Packets)
	counter(descIgnored, s.Ignored)
	counter(descKernelDrops, s.Dropped)
	counter(descIfDrops, s.IfDropped)
	gauge(descActive, s.ActiveFlows)
	for r, n := range s.Expired {
		counter(descExpired, n, capture.ExpiryReason(r).String())
	}
	gauge(descQueued, uint64(s.Queued))
	counter(descLost, s.FlowsLost)
	counter(descUnexportable, s.Skipped)
	for i, cs := range s.Collectors {
		l := []string{strconv.Itoa(i + 1), cs.Collector.String()}
		counter(descDatagrams, cs.Datagrams, l...)
		counter(descSentFlows, cs.Flows, l...)
		counter(descSendErrors, cs.SendErrors, l...)
	}
}
