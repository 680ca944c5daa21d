package stats

import (
	"fmt"
	"strings"

	"github.com/nfgo/nftools/output"
)

// MaxStats is how many element statistics nfdump 1.7.1 accepts in one run.
const MaxStats = 8

// Order is a -s order: which number ranks the rows and which counters
// (in, out or both) the rows then show.
type Order struct {
	Name string
	Dir  output.StatDir
	// by is what ranks a table row, or a record through its counters
	// (of).
	by orderBy
}

// orderBy names an order's value.
type orderBy uint8

const (
	byNothing orderBy = iota
	byFlows
	byPackets
	byBytes
	byPPS
	byBPS
	byBPP
)

// of is the value by which o ranks the counters c. It is a switch rather
// than a function value in Order: through a function value the argument
// escapes, and top, which ranks every row of a table, wrote each row's
// counters to the heap and read them back, most of its time on a table of
// 200 k keys.
func (o *Order) of(c *counter) uint64 {
	switch o.by {
	case byFlows:
		return flowsOf(c, o.Dir)
	case byPackets:
		return packetsOf(c, o.Dir)
	case byBytes:
		return bytesOf(c, o.Dir)
	case byPPS:
		return ppsOf(c, o.Dir)
	case byBPS:
		return bpsOf(c, o.Dir)
	case byBPP:
		return bppOf(c, o.Dir)
	}
	return 0
}

func flowsOf(c *counter, _ output.StatDir) uint64 { return c.flows }

func packetsOf(c *counter, dir output.StatDir) uint64 {
	switch dir {
	case output.StatIn:
		return c.inPackets
	case output.StatOut:
		return c.outPackets
	}
	return c.inPackets + c.outPackets
}

func bytesOf(c *counter, dir output.StatDir) uint64 {
	switch dir {
	case output.StatIn:
		return c.inBytes
	case output.StatOut:
		return c.outBytes
	}
	return c.inBytes + c.outBytes
}

// ppsOf and bpsOf are nfdump's integer rates over the span in msec, with
// its unsigned arithmetic; 0 for a span of 0.
func ppsOf(c *counter, dir output.StatDir) uint64 {
	d := c.last - c.first
	if d == 0 {
		return 0
	}
	return 1000 * packetsOf(c, dir) / d
}

func bpsOf(c *counter, dir output.StatDir) uint64 {
	d := c.last - c.first
	if d == 0 {
		return 0
	}
	return 8000 * bytesOf(c, dir) / d
}

func bppOf(c *counter, dir output.StatDir) uint64 {
	p := packetsOf(c, dir)
	if p == 0 {
		return 0
	}
	return bytesOf(c, dir) / p
}

// orders are nfdump 1.7.1's stat orders in its table order, which is also
// the order a stat with several orders prints them in. Entry 0, "-", is
// accepted by nfdump and ranks nothing (every row's value is 0).
var orders = []Order{
	{"-", output.StatIn, byNothing},
	{"flows", output.StatIn, byFlows},
	{"packets", output.StatInOut, byPackets},
	{"ipkg", output.StatIn, byPackets},
	{"opkg", output.StatOut, byPackets},
	{"bytes", output.StatInOut, byBytes},
	{"ibyte", output.StatIn, byBytes},
	{"obyte", output.StatOut, byBytes},
	{"pps", output.StatInOut, byPPS},
	{"ipps", output.StatIn, byPPS},
	{"opps", output.StatOut, byPPS},
	{"bps", output.StatInOut, byBPS},
	{"ibps", output.StatIn, byBPS},
	{"obps", output.StatOut, byBPS},
	{"bpp", output.StatInOut, byBPP},
	{"ibpp", output.StatIn, byBPP},
	{"obpp", output.StatOut, byBPP},
}

// Spec is one parsed -s option.
type Spec struct {
	// Element is the counted element; nil for -s record, which ranks
	// the flow records.
	Element *Element
	// ProtoSplit counts per protocol (:p; always for proto).
	ProtoSplit bool
	// Orders are the requested orders, in nfdump's table order.
	Orders []Order
	// Ascending is the direction of the last order given, which nfdump
	// applies to all orders of the option.
	Ascending bool
}

// Record reports whether the spec is -s record.
func (s *Spec) Record() bool { return s.Element == nil }

// UnknownStatError is a -s value nfdump 1.7.1 rejects; its text is
// nfdump's message (exit status 1).
type UnknownStatError struct{ Value string }

func (e *UnknownStatError) Error() string { return fmt.Sprintf("Unknown stat: '%s'!", e.Value) }

// ParseSpec reads element[:p][/order[:a|:d]...] as nfdump 1.7.1 does:
// names case-insensitive, anything after a colon in the element part asks
// for the protocol split, no order means flows, and an order's direction
// is :a or :d (only the first letter after the colon counts).
func ParseSpec(s string) (Spec, error) {
	bad := &UnknownStatError{Value: s}
	name, orderList, hasOrders := strings.Cut(s, "/")
	var spec Spec
	if n, _, split := strings.Cut(name, ":"); split {
		name, spec.ProtoSplit = n, true
	}
	if strings.EqualFold(name, "record") {
		spec.ProtoSplit = false
	} else if spec.Element = lookupElement(name); spec.Element == nil {
		return Spec{}, bad
	}
	if spec.Element != nil && spec.Element.Name == "proto" {
		spec.ProtoSplit = true
	}
	if !hasOrders {
		orderList = "flows"
	}
	var bits uint32
	for _, part := range strings.Split(orderList, "/") {
		oname, dir, hasDir := strings.Cut(part, ":")
		spec.Ascending = false
		if hasDir {
			switch {
			case strings.HasPrefix(dir, "a"):
				spec.Ascending = true
			case strings.HasPrefix(dir, "d"):
			default:
				return Spec{}, bad
			}
		}
		found := false
		for i, o := range orders {
			if strings.EqualFold(o.Name, oname) {
				bits |= 1 << uint(i)
				found = true
				break
			}
		}
		if !found {
			return Spec{}, bad
		}
	}
	for i, o := range orders {
		if bits&(1<<uint(i)) != 0 {
			spec.Orders = append(spec.Orders, o)
		}
	}
	return spec, nil
}

// MergeOrders returns the orders of a and b together, each once, in
// nfdump's table order: several -s record options print one table per
// order of any of them.
func MergeOrders(a, b []Order) []Order {
	var out []Order
	for _, o := range orders {
		for _, x := range append(a[:len(a):len(a)], b...) {
			if x.Name == o.Name {
				out = append(out, o)
				break
			}
		}
	}
	return out
}
