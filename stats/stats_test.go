package stats

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/flowgen"
	"github.com/nfgo/nftools/output"
)

func orderNames(os []Order) []string {
	var n []string
	for _, o := range os {
		n = append(n, o.Name)
	}
	return n
}

func TestParseSpec(t *testing.T) {
	tests := []struct {
		in      string
		elem    string // "" for record
		split   bool
		orders  []string
		asc     bool
		invalid bool
	}{
		{in: "srcip", elem: "srcip", orders: []string{"flows"}},
		{in: "SRCIP/BYTES", elem: "srcip", orders: []string{"bytes"}},
		{in: "dstport:p/bytes", elem: "dstport", split: true, orders: []string{"bytes"}},
		// Anything after the colon asks for the split.
		{in: "srcip:x", elem: "srcip", split: true, orders: []string{"flows"}},
		{in: "proto", elem: "proto", split: true, orders: []string{"flows"}},
		// Orders print in table order; the last direction wins.
		{in: "ip/bytes:a/flows", elem: "ip", orders: []string{"flows", "bytes"}},
		{in: "ip/flows/bytes:ab", elem: "ip", orders: []string{"flows", "bytes"}, asc: true},
		{in: "ip/-", elem: "ip", orders: []string{"-"}},
		{in: "record/bytes", orders: []string{"bytes"}},
		{in: "record:p", orders: []string{"flows"}},
		{in: "foo", invalid: true},
		{in: "srcip/", invalid: true},
		{in: "srcip/bytes/", invalid: true},
		{in: "srcip//bytes", invalid: true},
		{in: "srcip/bytes:", invalid: true},
		{in: "srcip/bytes:x", invalid: true},
		{in: "/bytes", invalid: true},
		{in: "inam", invalid: true},
	}
	for _, tt := range tests {
		s, err := ParseSpec(tt.in)
		if tt.invalid {
			assert.EqualError(t, err, "Unknown stat: '"+tt.in+"'!", tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		if tt.elem == "" {
			assert.True(t, s.Record(), tt.in)
		} else {
			require.False(t, s.Record(), tt.in)
			assert.Equal(t, tt.elem, s.Element.Name, tt.in)
		}
		assert.Equal(t, tt.split, s.ProtoSplit, tt.in)
		assert.Equal(t, tt.orders, orderNames(s.Orders), tt.in)
		assert.Equal(t, tt.asc, s.Ascending, tt.in)
	}
}

func TestParseLimit(t *testing.T) {
	tests := []struct {
		in   string
		want Limit
		err  string
	}{
		{in: "1000", want: Limit{Value: 1000}},
		{in: "+10k", want: Limit{Value: 10000}},
		{in: "-10K", want: Limit{Value: 10000, Less: true}},
		{in: "3g", want: Limit{Value: 3000000000}},
		{in: "2M", want: Limit{Value: 2000000}},
		{in: "10b", want: Limit{Value: 10}},
		{in: "1.5k", want: Limit{Value: 1000}},
		{in: "0", want: Limit{}},
		{in: "-", want: Limit{Less: true}},
		{in: "x10", err: "Can't understand 'x10'"},
		{in: "10x", err: "Can't understand 'x' in '10x'"},
		{in: "+abc", err: "Can't understand 'c' in '+abc'"},
		{in: "", err: "Can't understand ''"},
	}
	for _, tt := range tests {
		got, err := ParseLimit(tt.in)
		if tt.err != "" {
			assert.EqualError(t, err, tt.err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

func flowRec(src, dst string, sp, dp uint16, proto uint8, first, last, pk, by uint64) flow.Record {
	return flow.Record{
		SrcAddr: netip.MustParseAddr(src), DstAddr: netip.MustParseAddr(dst), SrcPort: sp, DstPort: dp,
		Proto: proto, First: first, Last: last, InPackets: pk, InBytes: by,
	}
}

func mustSpec(t *testing.T, s string) Spec {
	t.Helper()
	spec, err := ParseSpec(s)
	require.NoError(t, err)
	return spec
}

func TestTableTop(t *testing.T) {
	recs := []flow.Record{
		flowRec("10.0.0.1", "10.0.0.2", 1000, 80, 6, 1000, 2000, 10, 1000),
		flowRec("10.0.0.1", "10.0.0.3", 1001, 443, 6, 500, 1500, 5, 5000),
		flowRec("10.0.0.2", "10.0.0.1", 80, 1000, 17, 3000, 3000, 2, 100),
		flowRec("::1", "2001:db8::1", 5, 53, 17, 0, 10, 1, 100),
	}
	tests := []struct {
		spec   string
		order  int // index into the spec's orders
		topN   int
		pk, by Limit
		want   []output.StatRow
	}{
		{spec: "srcip/bytes", want: []output.StatRow{
			{Lo: 0x0a000001, Flows: 2, InPackets: 15, InBytes: 6000, First: 500, Last: 2000},
			{Lo: 0x0a000002, Flows: 1, InPackets: 2, InBytes: 100, First: 3000, Last: 3000},
			// ::1 has an upper half of 0, is IPv6 all the same, and
			// ranks after 10.0.0.2 by first sight.
			{Lo: 1, IPv6: true, Flows: 1, InPackets: 1, InBytes: 100, First: 0, Last: 10},
		}},
		{spec: "srcip/bytes:a", topN: 2, want: []output.StatRow{
			{Lo: 0x0a000002, Flows: 1, InPackets: 2, InBytes: 100, First: 3000, Last: 3000},
			{Lo: 1, IPv6: true, Flows: 1, InPackets: 1, InBytes: 100, First: 0, Last: 10},
		}},
		// ip counts a flow under both addresses.
		{spec: "ip/flows", topN: 1, want: []output.StatRow{
			{Lo: 0x0a000001, Flows: 3, InPackets: 17, InBytes: 6100, First: 500, Last: 3000},
		}},
		{spec: "proto/packets", want: []output.StatRow{
			{Lo: 6, Proto: 6, Flows: 2, InPackets: 15, InBytes: 6000, First: 500, Last: 2000},
			{Lo: 17, Proto: 17, Flows: 2, InPackets: 3, InBytes: 200, First: 0, Last: 3000},
		}},
		{spec: "dstport/bytes", by: Limit{Value: 100}, want: []output.StatRow{
			{Lo: 443, Flows: 1, InPackets: 5, InBytes: 5000, First: 500, Last: 1500},
			{Lo: 80, Flows: 1, InPackets: 10, InBytes: 1000, First: 1000, Last: 2000},
		}},
		{spec: "dstport/bytes", pk: Limit{Value: 5, Less: true}, want: []output.StatRow{
			{Lo: 1000, Flows: 1, InPackets: 2, InBytes: 100, First: 3000, Last: 3000},
			{Lo: 53, Flows: 1, InPackets: 1, InBytes: 100, First: 0, Last: 10},
		}},
		// pps: 1000*packets/msec; 0 for a span of 0.
		{spec: "dstport/pps", topN: 2, want: []output.StatRow{
			{Lo: 53, Flows: 1, InPackets: 1, InBytes: 100, First: 0, Last: 10},
			{Lo: 80, Flows: 1, InPackets: 10, InBytes: 1000, First: 1000, Last: 2000},
		}},
	}
	for _, tt := range tests {
		spec := mustSpec(t, tt.spec)
		tab := NewTable(spec)
		for i := range recs {
			tab.Add(&recs[i])
		}
		blk := tab.Top(spec.Orders[tt.order], tt.topN, tt.pk, tt.by)
		assert.Equal(t, tt.want, blk.Rows, tt.spec)
		assert.Equal(t, spec.Element.Header, blk.Header)
		assert.Equal(t, spec.Orders[tt.order].Name, blk.Order)
	}
}

func TestAscendingIgnoredFrom100Rows(t *testing.T) {
	spec := mustSpec(t, "srcport/bytes:a")
	for _, n := range []int{99, 100} {
		tab := NewTable(spec)
		for i := 0; i < n; i++ {
			r := flowRec("10.0.0.1", "10.0.0.2", uint16(i), 80, 6, 0, 0, 1, uint64(i+1))
			tab.Add(&r)
		}
		rows := tab.Top(spec.Orders[0], 1, Limit{}, Limit{}).Rows
		if n < heapsortLimit {
			assert.Equal(t, uint64(1), rows[0].InBytes)
		} else {
			// nfdump's radix sort ignores :a.
			assert.Equal(t, uint64(n), rows[0].InBytes)
		}
	}
}

func TestElementKeys(t *testing.T) {
	r := flow.Record{
		SrcAddr: netip.MustParseAddr("2001:db8::1"), DstAddr: netip.MustParseAddr("::ffff:1.2.3.4"),
		SrcVLAN: 0x12345, MPLS: [10]uint32{0x123453, 0xabcdef}, InSrcMAC: 0x0a0b0c0d0e0f,
	}
	tests := []struct {
		elem   string
		hi, lo uint64
		v6     bool
	}{
		{"srcip", 0x20010db800000000, 1, true},
		{"dstip", 0, 0xffff01020304, true},
		{"srcvlan", 0, 0x2345, false},
		{"mpls1", 0, 0x3450, false},
		{"mpls2", 0, 0xabcde0 << 32, false},
		{"inmac", 0, 0x0a0b0c0d0e0f, false},
		{"nbar", 0, 0, false},
		{"nhip", 0, 0, false},
	}
	for _, tt := range tests {
		e := lookupElement(tt.elem)
		require.NotNil(t, e, tt.elem)
		hi, lo, v6 := fieldKey(e.fields[0], &r)
		assert.Equal(t, [2]uint64{tt.hi, tt.lo}, [2]uint64{hi, lo}, tt.elem)
		assert.Equal(t, tt.v6, v6, tt.elem)
	}
}

func TestMergeAndTopRecords(t *testing.T) {
	a, b := mustSpec(t, "record/bytes"), mustSpec(t, "record/flows/bpp")
	assert.Equal(t, []string{"flows", "bytes", "bpp"}, orderNames(MergeOrders(a.Orders, b.Orders)))
	recs := []flow.Record{
		flowRec("10.0.0.1", "10.0.0.2", 1, 2, 6, 0, 0, 1, 100),
		flowRec("10.0.0.1", "10.0.0.2", 1, 3, 6, 0, 0, 1, 300),
		flowRec("10.0.0.1", "10.0.0.2", 1, 4, 6, 0, 0, 1, 300),
	}
	get := func(i int, r *flow.Record) { *r = recs[i] }
	top := TopRecords(len(recs), get, a.Orders[0], false, 2)
	assert.Equal(t, []uint16{3, 4}, []uint16{top[0].DstPort, top[1].DstPort})
	top = TopRecords(len(recs), get, a.Orders[0], true, 0)
	assert.Equal(t, []uint16{2, 3, 4}, []uint16{top[0].DstPort, top[1].DstPort, top[2].DstPort})
}

func TestAddDoesNotAllocate(t *testing.T) {
	g := flowgen.New(1, 1795556400000)
	recs := make([]flow.Record, 1000)
	for i := range recs {
		g.Next(&recs[i])
	}
	tab := NewTable(mustSpec(t, "ip/bytes"))
	for i := range recs {
		tab.Add(&recs[i])
	}
	// Every key exists now: counting allocates nothing.
	allocs := testing.AllocsPerRun(10, func() {
		for i := range recs {
			tab.Add(&recs[i])
		}
	})
	assert.Zero(t, allocs)
}

// TestTopAllocatesPerTable: ranking a table allocates for the block it
// returns, not for each of its rows (a counter per row once went to the
// heap: 200 k allocations for a border router's addresses).
func TestTopAllocatesPerTable(t *testing.T) {
	g := flowgen.NewBorder(1, 1795556400000)
	spec := mustSpec(t, "srcip/bytes")
	tab := NewTable(spec)
	var r flow.Record
	for i := 0; i < 5000; i++ {
		g.Next(&r)
		tab.Add(&r)
	}
	require.Greater(t, tab.Len(), 1000)
	for _, topN := range []int{10, 0} {
		allocs := testing.AllocsPerRun(5, func() { tab.Top(spec.Orders[0], topN, Limit{}, Limit{}) })
		assert.Less(t, allocs, 20.0, "top %d", topN)
	}
	recs := make([]flow.Record, 1000)
	for i := range recs {
		g.Next(&recs[i])
	}
	get := func(i int, r *flow.Record) { *r = recs[i] }
	rec := mustSpec(t, "record/bytes")
	allocs := testing.AllocsPerRun(5, func() { TopRecords(len(recs), get, rec.Orders[0], false, 10) })
	assert.Less(t, allocs, 20.0, "records")
}

func BenchmarkTableAdd(b *testing.B) {
	g := flowgen.New(1, 1795556400000)
	recs := make([]flow.Record, 1<<16)
	for i := range recs {
		g.Next(&recs[i])
	}
	for _, s := range []string{"srcip/bytes", "ip/bytes", "dstport:p/bytes", "proto/bytes"} {
		spec, err := ParseSpec(s)
		require.NoError(b, err)
		b.Run(s, func(b *testing.B) {
			tab := NewTable(spec)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tab.Add(&recs[i&(len(recs)-1)])
			}
		})
	}
}

func BenchmarkTop(b *testing.B) {
	g := flowgen.New(1, 1795556400000)
	spec, err := ParseSpec("srcport/bytes")
	require.NoError(b, err)
	tab := NewTable(spec)
	var r flow.Record
	for i := 0; i < 1<<18; i++ {
		g.Next(&r)
		tab.Add(&r)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tab.Top(spec.Orders[0], 10, Limit{}, Limit{})
	}
}

// TestRowSize: a row and its key fit in a cache line, so that counting a
// flow under a key touches one line after the index.
func TestRowSize(t *testing.T) {
	assert.Equal(t, uintptr(64), unsafe.Sizeof(row{}))
	assert.Equal(t, uintptr(8), unsafe.Sizeof(hashRow{}), "a block in log mode has one for each flow")
}

// TestIPv6KeysApart: an IPv6 address with an upper half of 0 is a row of
// its own, apart from the IPv4 address with the same low bits, and says it
// is IPv6; out counters add up apart from the row.
func TestIPv6KeysApart(t *testing.T) {
	recs := []flow.Record{
		flowRec("10.0.0.9", "0.0.0.1", 5, 53, 17, 20, 30, 1, 50),
		flowRec("::2", "::1", 5, 53, 17, 40, 50, 1, 10),
		flowRec("10.0.0.8", "0.0.0.1", 5, 53, 17, 10, 60, 2, 30),
	}
	recs[0].OutPackets, recs[0].OutBytes = 3, 70
	spec := mustSpec(t, "dstip/bytes")
	tab := NewTable(spec)
	for i := range recs {
		tab.Add(&recs[i])
	}
	assert.Equal(t, []output.StatRow{
		{Lo: 1, Flows: 2, InPackets: 3, InBytes: 80, OutPackets: 3, OutBytes: 70, First: 10, Last: 60},
		{Lo: 1, IPv6: true, Flows: 1, InPackets: 1, InBytes: 10, First: 40, Last: 50},
	}, tab.Top(spec.Orders[0], 0, Limit{}, Limit{}).Rows)
}

// TestTopNLikeCut: the top N kept while walking the table are the first N
// of the whole ranking, for every order, both directions and with limits.
func TestTopNLikeCut(t *testing.T) {
	g := flowgen.NewBorder(4, 1795556400000)
	var r flow.Record
	for _, s := range []string{"srcip/flows/bytes/pps/bpp", "dstport:p/packets/obyte:a", "proto/bytes:a", "srcport/bytes:a",
		"dstip/ipkg/opkg/ibyte/bps/ibpp", "srcport/opps:a/-"} {
		spec := mustSpec(t, s)
		tab := NewTable(spec)
		for i := 0; i < 5000; i++ {
			g.Next(&r)
			r.InBytes %= 5000 // ties
			tab.Add(&r)
		}
		for _, o := range spec.Orders {
			for _, lim := range []Limit{{}, {Value: 3000}, {Value: 100000, Less: true}} {
				all := tab.Top(o, 0, Limit{}, lim).Rows
				for _, n := range []int{1, 10, 99, 100, 101, len(all) + 1} {
					got := tab.Top(o, n, Limit{}, lim).Rows
					assert.Equal(t, all[:min(n, len(all))], got, "%s by %s, -L %+v, top %d", s, o.Name, lim, n)
				}
			}
		}
	}
}

// TestFastKeysLikeKeyFuncs: the elements Add counts without their key
// functions count as the key functions do.
func TestFastKeysLikeKeyFuncs(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	g := flowgen.NewBorder(2, 1795556400000)
	recs := make([]flow.Record, 4000)
	for i := range recs {
		if i%2 == 0 {
			recs[i] = flowgen.Random(rng)
		} else {
			g.Next(&recs[i])
		}
	}
	fastOnes := 0
	for _, e := range elements {
		name := e.Name
		if e.fast() == fastNone {
			continue
		}
		fastOnes++
		for _, split := range []string{"", ":p"} {
			spec := mustSpec(t, name+split+"/bytes")
			fast, slow := NewTable(spec), NewTable(spec)
			slow.fast = fastNone
			for i := range recs {
				fast.Add(&recs[i])
				slow.Add(&recs[i])
			}
			require.NotEqual(t, fastNone, fast.fast, name)
			assert.Equal(t, slow.Top(spec.Orders[0], 0, Limit{}, Limit{}), fast.Top(spec.Orders[0], 0, Limit{}, Limit{}), name+split)
		}
	}
	// srcip, dstip, ip, srcport, dstport, port, proto
	assert.Equal(t, 7, fastOnes)
}

// tiedBorder returns n border-shaped flows from seed whose in bytes are
// cut below below, so that many rank equal (ties).
func tiedBorder(seed uint64, n int, below uint64) []flow.Record {
	g := flowgen.NewBorder(seed, 1795556400000)
	recs := make([]flow.Record, n)
	for i := range recs {
		g.Next(&recs[i])
		recs[i].InBytes %= below
	}
	return recs
}

// TestTopRecordsNLikeCut: the top N records kept while ranking are the
// first N of the whole ranking, for every order and both directions.
func TestTopRecordsNLikeCut(t *testing.T) {
	recs := tiedBorder(6, 3000, 3000)
	get := func(i int, r *flow.Record) { *r = recs[i] }
	for _, o := range orders {
		for _, asc := range []bool{false, true} {
			all := TopRecords(len(recs), get, o, asc, 0)
			require.Len(t, all, len(recs))
			for _, n := range []int{1, 10, 101, len(recs) + 1} {
				got := TopRecords(len(recs), get, o, asc, n)
				assert.Equal(t, all[:min(n, len(all))], got, "by %s, asc %v, top %d", o.Name, asc, n)
			}
		}
	}
}
