package collector

import (
	"sync/atomic"
	"time"
)

// exporterIdle is how long an exporter may stay silent before it is
// forgotten: its templates, samplers and sequence state are freed, and
// the files written afterwards no longer list it. Routers resend their
// templates every few minutes at the most, so an exporter that comes back
// later costs the records of its first datagrams at the worst.
const exporterIdle = time.Hour

// Snapshot is the collector's running totals, safe to read from any
// goroutine while it runs: the receive loop counts its own atomically and
// the worker publishes the decoder's once a second, so a metrics layer
// reads them without touching the hot path.
type Snapshot struct {
	Datagrams     uint64 // read from the socket
	QueueOverflow uint64 // dropped because the worker's queue was full
	KernelDrops   uint64 // dropped by the kernel (SO_RXQ_OVFL)
	// LostFlows counts the flows decoded but not stored: the flow
	// directory took no more (a full disk).
	LostFlows uint64
	// Exporters is the number known now; EvictedExporters counts those
	// forgotten to make room for new ones, ExpiredExporters those
	// forgotten after exporterIdle of silence.
	Exporters        uint64
	EvictedExporters uint64
	ExpiredExporters uint64
	// TemplateMemory is the bytes the stored templates are charged,
	// RefusedTemplates the templates refused because it was all taken.
	TemplateMemory   uint64
	RefusedTemplates uint64
}

// published holds the worker's part of Snapshot.
type published struct {
	exporters, evicted, expired, templateMemory, refused atomic.Uint64
}

// publish copies the decoder's counters for Snapshot (worker goroutine).
func (c *Collector) publish() {
	dc := c.dec.Counters()
	c.pub.exporters.Store(uint64(c.dec.Known()))
	c.pub.evicted.Store(dc.EvictedExporters)
	c.pub.expired.Store(dc.ExpiredExporters)
	c.pub.templateMemory.Store(uint64(c.dec.TemplateMemory()))
	c.pub.refused.Store(dc.TemplatesRefused)
}

// Snapshot returns the running totals; see Snapshot.
func (c *Collector) Snapshot() Snapshot {
	return Snapshot{
		Datagrams:        c.datagrams.Load(),
		QueueOverflow:    c.overflow.Load(),
		KernelDrops:      c.kdrops.Load(),
		LostFlows:        c.lost.Load(),
		Exporters:        c.pub.exporters.Load(),
		EvictedExporters: c.pub.evicted.Load(),
		ExpiredExporters: c.pub.expired.Load(),
		TemplateMemory:   c.pub.templateMemory.Load(),
		RefusedTemplates: c.pub.refused.Load(),
	}
}
