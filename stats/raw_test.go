package stats

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/flowgen"
)

// rawLayout is a record layout for the tests: a generic element's values
// at 20, the two addresses of the family fam at 72 (0: none), and with
// counters the counter element's flows, out packets and out bytes at 104.
func rawLayout(fam uint8, counters bool) (flow.Layout, uint16) {
	var l flow.Layout
	for f, off := range map[flow.Field]uint16{
		flow.FieldFirst: 20, flow.FieldLast: 28, flow.FieldInPackets: 44, flow.FieldInBytes: 52,
		flow.FieldSrcPort: 60, flow.FieldDstPort: 62, flow.FieldProto: 64,
	} {
		l.Off[f] = off
	}
	switch fam {
	case 4:
		l.Off[flow.FieldSrcAddr], l.Off[flow.FieldDstAddr] = 72, 76
	case 6:
		l.Off[flow.FieldSrcAddr], l.Off[flow.FieldDstAddr] = 72, 88
	}
	l.Fam[flow.FieldSrcAddr], l.Fam[flow.FieldDstAddr] = fam, fam
	if !counters {
		return l, 0
	}
	l.Off[flow.FieldOutPackets], l.Off[flow.FieldOutBytes] = 112, 120
	return l, 104
}

// rawRecord stores r as l says (see flow.Layout) and returns the bytes and
// r as decoding them gives it: the fields the layout lacks read 0.
func rawRecord(r flow.Record, l *flow.Layout, flows uint16) ([]byte, flow.Record) {
	b := make([]byte, 128)
	put := func(f flow.Field, v uint64, size int) {
		for i := 0; i < size; i++ {
			b[int(l.Off[f])+i] = byte(v >> (8 * i))
		}
	}
	put(flow.FieldFirst, r.First, 8)
	put(flow.FieldLast, r.Last, 8)
	put(flow.FieldInPackets, r.InPackets, 8)
	put(flow.FieldInBytes, r.InBytes, 8)
	put(flow.FieldSrcPort, uint64(r.SrcPort), 2)
	put(flow.FieldDstPort, uint64(r.DstPort), 2)
	put(flow.FieldProto, uint64(r.Proto), 1)
	for _, f := range []flow.Field{flow.FieldSrcAddr, flow.FieldDstAddr} {
		a := f.Addr(&r)
		switch l.Fam[f] {
		case 4:
			if !a.Is4() {
				_, lo := flow.AddrWords(a)
				a = netip.AddrFrom4([4]byte{byte(lo >> 24), byte(lo >> 16), byte(lo >> 8), byte(lo)})
			}
			_, lo := flow.AddrWords(a)
			put(f, lo, 4)
		case 6:
			if !a.Is6() {
				a = netip.AddrFrom16(a.As16())
			}
			hi, lo := flow.AddrWords(a)
			put(f, hi, 8)
			for i := 0; i < 8; i++ {
				b[int(l.Off[f])+8+i] = byte(lo >> (8 * i))
			}
		default:
			a = netip.Addr{}
		}
		if f == flow.FieldSrcAddr {
			r.SrcAddr = a
		} else {
			r.DstAddr = a
		}
	}
	if flows == 0 {
		r.Flows, r.OutPackets, r.OutBytes = 0, 0, 0
	} else {
		for i := 0; i < 8; i++ {
			b[int(flows)+i] = byte(r.Flows >> (8 * i))
		}
		put(flow.FieldOutPackets, r.OutPackets, 8)
		put(flow.FieldOutBytes, r.OutBytes, 8)
	}
	return b, r
}

// TestAddRawLikeAdd: a table counting records from their bytes (AddRaw)
// counts what it counts from the decoded records, for every element it
// has plans for, with and without a protocol split, over records of
// IPv4, IPv6 and no addresses, with and without counter elements (and
// flow counts of 0, which stand for 1).
func TestAddRawLikeAdd(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	g := flowgen.NewBorder(5, 1795556400000)
	type stored struct {
		b      []byte
		layout int
	}
	var layouts []flow.Layout
	var flowsAt []uint16
	for _, fam := range []uint8{4, 6, 0} {
		for _, counters := range []bool{true, false} {
			l, f := rawLayout(fam, counters)
			layouts, flowsAt = append(layouts, l), append(flowsAt, f)
		}
	}
	var recs []flow.Record
	var raws []stored
	for i := 0; i < 6000; i++ {
		var r flow.Record
		if i%2 == 0 {
			r = flowgen.Random(rng)
		} else {
			g.Next(&r)
		}
		if i%7 == 0 {
			r.Flows = 0
		}
		k := rng.IntN(len(layouts))
		if i%3 != 0 {
			// Most flows of a file are of one or two layouts.
			k = i % 2
		}
		b, dec := rawRecord(r, &layouts[k], flowsAt[k])
		recs, raws = append(recs, dec), append(raws, stored{b, k})
	}
	planned := 0
	for _, e := range elements {
		for _, split := range []string{"", ":p"} {
			spec := mustSpec(t, e.Name+split+"/bytes")
			decoded, raw := NewTable(spec), NewTable(spec)
			plans := make([]RawPlan, len(layouts))
			ok := true
			for k := range layouts {
				plans[k], ok = raw.Plan(&layouts[k], flowsAt[k])
				if !ok {
					break
				}
			}
			if !ok {
				assert.Equal(t, fastNone, e.fast(), "%s has no plan", e.Name)
				continue
			}
			planned++
			for i := range recs {
				decoded.Add(&recs[i])
				raw.AddRaw(&plans[raws[i].layout], raws[i].b)
			}
			for _, o := range spec.Orders {
				assert.Equal(t, decoded.Top(o, 0, Limit{}, Limit{}), raw.Top(o, 0, Limit{}, Limit{}), e.Name+split)
			}
			// A block's table in log mode, merged block by block into
			// a Split as godump's workers merge it.
			sp, block := NewSplit(spec, 2), NewTable(spec)
			block.startLog(2)
			for start := 0; start < len(recs); start += 1000 {
				block.Reset()
				for i := start; i < min(start+1000, len(recs)); i++ {
					block.AddRaw(&plans[raws[i].layout], raws[i].b)
				}
				MergeBlocks([]*Split{sp}, []*Table{block}, []uint64{sp.Reserve(block)})
			}
			for _, o := range spec.Orders {
				assert.Equal(t, decoded.Top(o, 0, Limit{}, Limit{}), sp.Top(o, 0, Limit{}, Limit{}), e.Name+split+" in log mode")
			}
		}
	}
	// srcip, dstip, ip, srcport, dstport, port, proto; each with and
	// without the split.
	assert.Equal(t, 14, planned)
}

// TestNoPlanWithoutGeneric: records without the generic element (no
// times, in counters, ports or protocol) are counted decoded.
func TestNoPlanWithoutGeneric(t *testing.T) {
	var l flow.Layout
	l.Off[flow.FieldSrcAddr], l.Fam[flow.FieldSrcAddr] = 12, 4
	_, ok := NewTable(mustSpec(t, "srcip")).Plan(&l, 0)
	assert.False(t, ok)
	l, f := rawLayout(4, true)
	_, ok = NewTable(mustSpec(t, "srcip")).Plan(&l, f)
	require.True(t, ok)
}

// TestAddRawDoesNotAllocate: counting from the bytes allocates nothing
// once the keys exist.
func TestAddRawDoesNotAllocate(t *testing.T) {
	g := flowgen.New(1, 1795556400000)
	l, f := rawLayout(4, true)
	tab := NewTable(mustSpec(t, "ip/bytes"))
	p, ok := tab.Plan(&l, f)
	require.True(t, ok)
	var raws [][]byte
	for i := 0; i < 1000; i++ {
		var r flow.Record
		g.Next(&r)
		b, _ := rawRecord(r, &l, f)
		raws = append(raws, b)
		tab.AddRaw(&p, b)
	}
	allocs := testing.AllocsPerRun(10, func() {
		for _, b := range raws {
			tab.AddRaw(&p, b)
		}
	})
	assert.Zero(t, allocs)
}

// TestAddRawAllLikeAdd: tables fed together from the bytes (the lab's
// srcip, dstip and proto, and a split port table) count what each counts
// from the decoded records.
func TestAddRawAllLikeAdd(t *testing.T) {
	g := flowgen.NewBorder(7, 1795556400000)
	specs := []string{"srcip/bytes", "dstip/bytes", "proto/bytes", "port:p/flows"}
	var decoded, raw []*Table
	for _, s := range specs {
		decoded, raw = append(decoded, NewTable(mustSpec(t, s))), append(raw, NewTable(mustSpec(t, s)))
	}
	type layout struct {
		l     flow.Layout
		flows uint16
		plans []RawPlan
	}
	var layouts []*layout
	for _, fam := range []uint8{4, 6} {
		for _, counters := range []bool{true, false} {
			l, f := rawLayout(fam, counters)
			lo := &layout{l: l, flows: f}
			for _, tb := range raw {
				p, ok := tb.Plan(&lo.l, f)
				require.True(t, ok)
				lo.plans = append(lo.plans, p)
			}
			layouts = append(layouts, lo)
		}
	}
	for i := 0; i < 5000; i++ {
		var r flow.Record
		g.Next(&r)
		lo := layouts[i%len(layouts)]
		b, dec := rawRecord(r, &lo.l, lo.flows)
		for _, tb := range decoded {
			tb.Add(&dec)
		}
		AddRawAll(raw, lo.plans, b)
	}
	for i, s := range specs {
		o := mustSpec(t, s).Orders[0]
		assert.Equal(t, decoded[i].Top(o, 0, Limit{}, Limit{}), raw[i].Top(o, 0, Limit{}, Limit{}), s)
	}
}
