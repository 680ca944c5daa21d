package collector

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nfgo/nftools/netflow"
)

// The metrics of gocapd --metrics. Counters count from the start of
// gocapd, those of an exporter from the moment it became known (an
// exporter forgotten goes from the list, and one that comes back starts
// from zero). man/gocapd.1 (METRICS) lists each.
var (
	exporterLabels = []string{"ident", "exporter", "version", "domain"}
	protoLabels    = append(append([]string(nil), exporterLabels...), "proto")
	sourceLabels   = []string{"ident", "dir"}

	descDatagrams = prometheus.NewDesc("gocapd_received_datagrams_total",
		"Datagrams read from the socket (or the capture file of -f).", nil, nil)
	descQueueOverflow = prometheus.NewDesc("gocapd_queue_overflow_datagrams_total",
		"Datagrams dropped because the worker's queue was full (Queue Overflow).", nil, nil)
	descKernelDrops = prometheus.NewDesc("gocapd_kernel_dropped_datagrams_total",
		"Datagrams the kernel dropped because the socket buffer was full (Socket Drops).", nil, nil)
	descUnknownSource = prometheus.NewDesc("gocapd_unknown_source_datagrams_total",
		"Datagrams from an exporter that no flow source takes.", nil, nil)
	descDecodeErrors = prometheus.NewDesc("gocapd_decode_errors_total",
		"Datagrams, or parts of them, refused as malformed, by reason.", []string{"reason"}, nil)
	descFlows = prometheus.NewDesc("gocapd_flows_total",
		"Flows decoded, of every exporter.", nil, nil)
	descSeqFailures = prometheus.NewDesc("gocapd_sequence_failures_total",
		"Sequence numbers out of order, of every exporter.", nil, nil)
	descLostFlows = prometheus.NewDesc("gocapd_lost_flows_total",
		"Flows decoded but not stored because the flow directory took no more (a full disk).", nil, nil)
	descExporters = prometheus.NewDesc("gocapd_exporters",
		"Exporters known now.", nil, nil)
	descEvicted = prometheus.NewDesc("gocapd_exporters_evicted_total",
		"Exporters forgotten to make room for new ones (--max-exporters).", nil, nil)
	descExpired = prometheus.NewDesc("gocapd_exporters_expired_total",
		"Exporters forgotten after an hour of silence.", nil, nil)
	descTemplateMemory = prometheus.NewDesc("gocapd_template_memory_bytes",
		"Memory charged to the templates of all exporters (--template-memory).", nil, nil)
	descRefused = prometheus.NewDesc("gocapd_templates_refused_total",
		"Templates refused because the template memory was taken.", nil, nil)

	descExpDatagrams = prometheus.NewDesc("gocapd_exporter_datagrams_total",
		"Datagrams of an exporter.", exporterLabels, nil)
	descExpSeq = prometheus.NewDesc("gocapd_exporter_sequence_failures_total",
		"Sequence numbers out of order in the datagrams of an exporter.", exporterLabels, nil)
	descExpTemplates = prometheus.NewDesc("gocapd_exporter_templates",
		"Templates (data and option templates) an exporter has now.", exporterLabels, nil)
	descExpFlows = prometheus.NewDesc("gocapd_exporter_flows_total",
		"Flows of an exporter, by protocol (tcp, udp, icmp with ICMPv6, other).", protoLabels, nil)
	descExpPackets = prometheus.NewDesc("gocapd_exporter_packets_total",
		"Packets of an exporter's flows (in packets, scaled by sampling), by protocol.", protoLabels, nil)
	descExpBytes = prometheus.NewDesc("gocapd_exporter_bytes_total",
		"Bytes of an exporter's flows (in bytes, scaled by sampling), by protocol.", protoLabels, nil)

	descFiles = prometheus.NewDesc("gocapd_files_written_total",
		"Flow files put in place.", sourceLabels, nil)
	descRotationTime = prometheus.NewDesc("gocapd_last_rotation_timestamp_seconds",
		"When the latest flow file was put in place (Unix time).", sourceLabels, nil)
	descRotationTook = prometheus.NewDesc("gocapd_last_rotation_duration_seconds",
		"How long the latest flow file took from its rotation to its final name.", sourceLabels, nil)
	descDiskBytes = prometheus.NewDesc("gocapd_flow_directory_size_bytes",
		"Disk space of the flow files in the flow directory, as nfexpire counts it.", sourceLabels, nil)
	descDiskFiles = prometheus.NewDesc("gocapd_flow_directory_files",
		"Flow files in the flow directory.", sourceLabels, nil)

	allDescs = []*prometheus.Desc{
		descDatagrams, descQueueOverflow, descKernelDrops, descUnknownSource, descDecodeErrors,
		descFlows, descSeqFailures, descLostFlows, descExporters, descEvicted, descExpired,
		descTemplateMemory, descRefused,
		descExpDatagrams, descExpSeq, descExpTemplates, descExpFlows, descExpPackets, descExpBytes,
		descFiles, descRotationTime, descRotationTook, descDiskBytes, descDiskFiles,
	}
)

// Prometheus returns the collector's metrics as a prometheus.Collector,
// which reads Snapshot at each scrape. Set Config.TrackDiskUsage for the
// flow directories' sizes.
func (c *Collector) Prometheus() prometheus.Collector { return promCollector{c} }

type promCollector struct{ c *Collector }

// Describe implements prometheus.Collector.
func (p promCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (p promCollector) Collect(ch chan<- prometheus.Metric) {
	s := p.c.Snapshot()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter(descDatagrams, s.Datagrams)
	counter(descQueueOverflow, s.QueueOverflow)
	counter(descKernelDrops, s.KernelDrops)
	counter(descUnknownSource, s.UnknownSource)
	// Every reason from the start, so that a rate is there before the
	// first error.
	for _, r := range netflow.Reasons() {
		if _, ok := s.DecodeErrors[r]; !ok {
			counter(descDecodeErrors, 0, r)
		}
	}
	for r, n := range s.DecodeErrors {
		counter(descDecodeErrors, n, r)
	}
	counter(descFlows, s.Flows)
	counter(descSeqFailures, s.SequenceFailures)
	counter(descLostFlows, s.LostFlows)
	gauge(descExporters, float64(s.Exporters))
	counter(descEvicted, s.EvictedExporters)
	counter(descExpired, s.ExpiredExporters)
	gauge(descTemplateMemory, float64(s.TemplateMemory))
	counter(descRefused, s.RefusedTemplates)

	for _, e := range s.PerExporter {
		l := []string{e.Ident, e.Addr.String(), strconv.FormatUint(uint64(e.Version), 10), strconv.FormatUint(uint64(e.Domain), 10)}
		counter(descExpDatagrams, e.Datagrams, l...)
		counter(descExpSeq, e.SequenceFailures, l...)
		gauge(descExpTemplates, float64(e.Templates), l...)
		for i, pc := range e.ByProto {
			pl := append(l[:len(l):len(l)], ProtoClasses[i])
			counter(descExpFlows, pc.Flows, pl...)
			counter(descExpPackets, pc.Packets, pl...)
			counter(descExpBytes, pc.Bytes, pl...)
		}
	}
	for _, src := range s.PerSource {
		counter(descFiles, src.Files, src.Ident, src.Dir)
		if !src.LastRotation.IsZero() {
			gauge(descRotationTime, float64(src.LastRotation.UnixNano())/1e9, src.Ident, src.Dir)
			gauge(descRotationTook, src.RotationTook.Seconds(), src.Ident, src.Dir)
		}
		if src.DiskKnown {
			gauge(descDiskBytes, float64(src.DiskBytes), src.Ident, src.Dir)
			gauge(descDiskFiles, float64(src.DiskFiles), src.Ident, src.Dir)
		}
	}
}
