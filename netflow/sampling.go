package netflow

import "github.com/nfgo/nftools/flow"

// insertSampler adds or updates a sampler of e the way nfcapd's
// InsertSampler does: a sampler with a known id is replaced when any of its
// values changed, an unknown id is appended. h hears of every new or
// changed sampler (nfcapd writes a sampler record then).
func (d *Decoder) insertSampler(e *exporter, s flow.Sampler, h Handler) {
	s.ExporterSysID = e.info.SysID
	for i := range e.samplers {
		old := &e.samplers[i]
		if old.ID != s.ID {
			continue
		}
		if old.Algorithm == s.Algorithm && old.PacketInterval == s.PacketInterval && old.SpaceInterval == s.SpaceInterval {
			return
		}
		*old = s
		d.announceSampler(old, h)
		return
	}
	// An exporter announcing ever new sampler ids must not grow without
	// bound; templates are capped the same way.
	if len(e.samplers) >= d.opts.MaxTemplates {
		return
	}
	e.samplers = append(e.samplers, s)
	d.announceSampler(&e.samplers[len(e.samplers)-1], h)
}

func (d *Decoder) announceSampler(s *flow.Sampler, h Handler) {
	if d.opts.Logf != nil {
		d.opts.Logf("Add sampler id: %d, algorithm: %d, packet interval: %d, packet space: %d (exporter %d)",
			s.ID, s.Algorithm, s.PacketInterval, s.SpaceInterval, s.ExporterSysID)
	}
	if h != nil {
		c := *s
		h.Sampler(&c)
	}
}

// templatedDatagram finds (or adds) the v9/IPFIX exporter of a datagram and
// counts the datagram; an exporter's first datagram also gets it the
// collector's default sampler, since these protocols announce their own
// sampling only in option records, if at all.
func (d *Decoder) templatedDatagram(key exporterKey, h Handler) (*exporter, error) {
	e, err := d.getExporter(key, h)
	if err != nil {
		return nil, err
	}
	if !e.started {
		e.started = true
		d.staticSampler(e, h)
	}
	e.packets++
	d.counters.Datagrams++
	return e, nil
}

// staticSampler adds the collector's -s sampler to a new v9 or IPFIX
// exporter: -s -N overrides what the exporter says, -s N (N > 1) is the
// default for flows without a sampler of their own.
func (d *Decoder) staticSampler(e *exporter, h Handler) {
	switch rate := d.opts.DefaultSampling; {
	case rate < 0:
		d.insertSampler(e, flow.Sampler{ID: flow.SamplerOverwrite, PacketInterval: 1, SpaceInterval: uint32(-rate - 1)}, h)
	case rate > 1:
		d.insertSampler(e, flow.Sampler{ID: flow.SamplerDefault, PacketInterval: 1, SpaceInterval: uint32(rate - 1)}, h)
	}
}

// samplingFor picks the sampler for a v9/IPFIX flow carrying sampler id
// (0 for none), with nfcapd's precedence: overwrite, the flow's own sampler,
// the generic (header/option 34) sampler, the default. It returns packet
// interval and space interval (1, 0 and false for unsampled).
func samplingFor(e *exporter, id int64) (pi, si uint64, sampled bool) {
	var own, over, def, gen *flow.Sampler
	// nfcapd walks its list and stops at the flow's sampler: overwrite,
	// default and generic samplers after it in the list are not seen.
	for i := range e.samplers {
		s := &e.samplers[i]
		if s.ID == id {
			own = s
			break
		}
		switch s.ID {
		case flow.SamplerOverwrite:
			over = s
		case flow.SamplerDefault:
			def = s
		case flow.SamplerGeneric:
			gen = s
		}
	}
	var s *flow.Sampler
	switch {
	case over != nil:
		s = over
	case own != nil:
		s = own
	case gen != nil:
		s = gen
	case def != nil:
		s = def
	default:
		return 1, 0, false
	}
	return uint64(s.PacketInterval), uint64(s.SpaceInterval), true
}
