package aggregate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nfgo/nftools/flow"
)

// Order is a parsed -O value: a key and its direction. Plain listings and
// aggregated tables sort with the same orders, so both live here.
type Order struct {
	name string
	key  func(r *flow.Record) uint64
	asc  bool
}

// Name returns the order's name as nfdump spells it (e.g. "bytes").
func (o *Order) Name() string { return o.name }

// Ascending reports whether the order sorts the smallest key first.
func (o *Order) Ascending() bool { return o.asc }

func duration(r *flow.Record) uint64 {
	if r.Last < r.First {
		return 0
	}
	return r.Last - r.First
}

func perSecond(n uint64, r *flow.Record) uint64 {
	d := duration(r)
	if d == 0 {
		return 0
	}
	return n * 1000 / d
}

func per(n, d uint64) uint64 {
	if d == 0 {
		return 0
	}
	return n / d
}

// orders are nfdump 1.7.1's -O keys; rates are integers as in nfdump.
// Unlike nfdump, whose bps keys all compare 0 (notes §13 fix 7), the bps
// keys sort by bits per second.
var orders = []struct {
	name string
	asc  bool
	key  func(r *flow.Record) uint64
}{
	{"flows", false, func(r *flow.Record) uint64 { return r.AggrFlows() }},
	{"packets", false, func(r *flow.Record) uint64 { return r.InPackets + r.OutPackets }},
	{"ipkg", false, func(r *flow.Record) uint64 { return r.InPackets }},
	{"opkg", false, func(r *flow.Record) uint64 { return r.OutPackets }},
	{"bytes", false, func(r *flow.Record) uint64 { return r.InBytes + r.OutBytes }},
	{"ibyte", false, func(r *flow.Record) uint64 { return r.InBytes }},
	{"obyte", false, func(r *flow.Record) uint64 { return r.OutBytes }},
	{"pps", false, func(r *flow.Record) uint64 { return perSecond(r.InPackets+r.OutPackets, r) }},
	{"ipps", false, func(r *flow.Record) uint64 { return perSecond(r.InPackets, r) }},
	{"opps", false, func(r *flow.Record) uint64 { return perSecond(r.OutPackets, r) }},
	{"bps", false, func(r *flow.Record) uint64 { return perSecond(8*(r.InBytes+r.OutBytes), r) }},
	{"ibps", false, func(r *flow.Record) uint64 { return perSecond(8*r.InBytes, r) }},
	{"obps", false, func(r *flow.Record) uint64 { return perSecond(8*r.OutBytes, r) }},
	{"bpp", false, func(r *flow.Record) uint64 { return per(r.InBytes+r.OutBytes, r.InPackets+r.OutPackets) }},
	{"ibpp", false, func(r *flow.Record) uint64 { return per(r.InBytes, r.InPackets) }},
	{"obpp", false, func(r *flow.Record) uint64 { return per(r.OutBytes, r.OutPackets) }},
	{"tstart", true, func(r *flow.Record) uint64 { return r.First }},
	{"tend", true, func(r *flow.Record) uint64 { return r.Last }},
	{"duration", false, duration},
}

// ParseOrder reads order[:a|:d], case-insensitively. The error text is
// nfdump's message.
func ParseOrder(s string) (*Order, error) {
	name, dir, hasDir := strings.Cut(strings.ToLower(s), ":")
	for _, o := range orders {
		if o.name != name {
			continue
		}
		so := &Order{name: o.name, key: o.key, asc: o.asc}
		if hasDir {
			switch dir {
			case "a":
				so.asc = true
			case "d":
				so.asc = false
			default:
				return nil, fmt.Errorf("Unknown print order '%s'", s)
			}
		}
		return so, nil
	}
	return nil, fmt.Errorf("Unknown print order '%s'", s)
}

// Sort orders records by the key; ties keep their order in recs, which
// makes the result deterministic where nfdump's heap sort is not. nfdump
// sorts records it rebuilt from its master record, so a labelled flow
// gains the EXlabel element here, as it does there.
func (o *Order) Sort(recs []*flow.Record) {
	for _, r := range recs {
		r.Elements = r.LabelElement()
	}
	slices.SortStableFunc(recs, func(a, b *flow.Record) int {
		ka, kb := o.key(a), o.key(b)
		switch {
		case ka == kb:
			return 0
		case (ka < kb) == o.asc:
			return -1
		default:
			return 1
		}
	})
}
