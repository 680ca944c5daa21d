package flowfile

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/flowgen"
	"github.com/nfgo/nftools/internal/testutil"
)

// recordingVisitor keeps copies of the flows of its block. With slow set,
// it sleeps on some blocks, so that the workers finish blocks out of order.
type recordingVisitor struct {
	flows  []flow.Record
	slow   bool
	blocks int
}

func (v *recordingVisitor) Reset() {
	v.flows = v.flows[:0]
	v.blocks++
	if v.slow && v.blocks%3 == 1 {
		time.Sleep(2 * time.Millisecond)
	}
}

func (v *recordingVisitor) Flow(r *flow.Record) { v.flows = append(v.flows, *r) }

// visitResult is what a read delivered: the flows (from Flow, or from the
// visitors in the order Next handed them out), the other records in order,
// and how reading ended.
type visitResult struct {
	flows   []flow.Record
	kinds   []Kind
	tally   flow.Totals
	err     string
	skipped Skipped
	bytes   uint64
}

// readVisiting reads path with opts, through visitors when visit is set,
// and checks that Release gets back every visitor once.
func readVisiting(t *testing.T, path string, opts ReadOptions, visit, slow bool) visitResult {
	t.Helper()
	made := map[*recordingVisitor]int{}
	if visit {
		opts.Visit = func() BlockVisitor {
			v := &recordingVisitor{slow: slow}
			made[v] = 0
			return v
		}
		opts.Release = func(b BlockVisitor) { made[b.(*recordingVisitor)]++ }
	}
	r, err := Open(path, opts)
	require.NoError(t, err)
	var res visitResult
	for r.Next() {
		switch r.Kind() {
		case KindFlow:
			require.False(t, visit, "a visiting reader hands out no flows")
			res.flows = append(res.flows, *r.Flow())
			res.tally.Add(r.Flow())
		case KindBlock:
			v := r.Block().(*recordingVisitor)
			require.NotEmpty(t, v.flows, "a block is handed out only with flows")
			res.flows = append(res.flows, v.flows...)
		default:
			res.kinds = append(res.kinds, r.Kind())
		}
	}
	if visit {
		res.tally = r.Tally()
	}
	if r.Err() != nil {
		res.err = r.Err().Error()
	}
	res.skipped, res.bytes = r.Skipped(), r.BytesRead()
	require.NoError(t, r.Close())
	assert.LessOrEqual(t, len(made), 8, "a few visitors per reader")
	for v, n := range made {
		assert.Equal(t, 1, n, "visitor %p released once", v)
	}
	return res
}

// checkVisit reads path with ReadOptions.Visit, with one to three
// workers, and checks that the visitors see, in file order, the flows a
// plain read hands out, and that the other records, sums, error and counts
// are the same.
func checkVisit(t *testing.T, path string, opts ReadOptions) {
	t.Helper()
	want := readVisiting(t, path, opts, false, false)
	for _, workers := range []int{1, 2, 3} {
		opts.Workers = workers
		got := readVisiting(t, path, opts, true, workers > 1)
		if !assert.Equal(t, len(want.flows), len(got.flows), "visit, %d workers: flows", workers) {
			continue
		}
		for i := range want.flows {
			if !assert.Equal(t, want.flows[i], got.flows[i], "visit, %d workers: flow %d", workers, i) {
				break
			}
		}
		w, g := want, got
		w.flows, g.flows = nil, nil
		assert.Equal(t, w, g, "visit, %d workers", workers)
	}
}

func TestVisitLikeReading(t *testing.T) {
	root := filepath.Join(testutil.RepoRoot(), "..", "shared", "testdata", "nfcapd-1.7.1")
	for _, name := range []string{"sample-nfcapd-uncompressed", "sample-nfcapd-lz4", "sample-nfcapd-sampled",
		"flows/2026/11/24/nfcapd.202611242140"} {
		p := filepath.Join(root, name)
		if _, err := os.Stat(p); err == nil {
			checkVisit(t, p, ReadOptions{})
		}
	}
	rng := rand.New(rand.NewPCG(21, 22))
	f := randomFile(rng, 30000)
	for _, comp := range allCompressions {
		p := filepath.Join(t.TempDir(), "f")
		writeTestFile(t, p, WriteOptions{Compression: comp}, &f)
		checkVisit(t, p, ReadOptions{})
	}
}

// TestVisitElements: the workers decode the elements asked for, and at
// least those the sums need.
func TestVisitElements(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	f := randomFile(rng, 5000)
	p := filepath.Join(t.TempDir(), "f")
	writeTestFile(t, p, WriteOptions{Compression: LZ4}, &f)
	want := flow.Elements(1 << flow.ElemIPv4)
	plain := readVisiting(t, p, ReadOptions{Elements: want | flow.TotalsElements}, false, false)
	got := readVisiting(t, p, ReadOptions{Elements: want, Workers: 2}, true, false)
	require.Equal(t, len(plain.flows), len(got.flows))
	for i := range plain.flows {
		require.Equal(t, plain.flows[i], got.flows[i], "flow %d", i)
	}
	assert.Equal(t, plain.tally, got.tally)
}

// TestVisitDamagedFile: the blocks before a damaged one come out, in
// order, before the error.
func TestVisitDamagedFile(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	f := randomFile(rng, 40000)
	f.exporters, f.samplers, f.stats = nil, nil, nil
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	writeTestFile(t, good, WriteOptions{Compression: LZ4}, &f)
	data, err := os.ReadFile(good)
	require.NoError(t, err)
	offs := blockOffsets(t, data)
	require.GreaterOrEqual(t, len(offs), 5)
	perBlock := flowsPerBlock(t, data)
	before := perBlock[0] + perBlock[1] + perBlock[2]

	// Block 3's payload is garbage: LZ4 fails on it.
	bad := bytes.Clone(data)
	for i := offs[3] + blockHeaderSize; i < offs[4]; i += 5 {
		bad[i] ^= 0xa5
	}
	p := filepath.Join(dir, "bad")
	require.NoError(t, os.WriteFile(p, bad, 0o644))
	for _, workers := range []int{1, 2, 3} {
		got := readVisiting(t, p, ReadOptions{Workers: workers}, true, true)
		require.Len(t, got.flows, before, "%d workers", workers)
		for i := range got.flows {
			require.Equal(t, f.flows[i], got.flows[i], "flow %d", i)
		}
		assert.Contains(t, got.err, "block 3 at offset")
		assert.Equal(t, uint64(before), got.tally.Records)
	}
	checkVisit(t, p, ReadOptions{})

	// A damaged record in the middle of block 2: the flows before it, in
	// its block too, are visited, then reading ends with its error.
	comp := filepath.Join(dir, "plain")
	writeTestFile(t, comp, WriteOptions{Compression: None}, &f)
	plainData, err := os.ReadFile(comp)
	require.NoError(t, err)
	pOffs := blockOffsets(t, plainData)
	recBad := bytes.Clone(plainData)
	pos := int(pOffs[2]) + blockHeaderSize
	for i := 0; i < 10; i++ {
		pos += int(le.Uint16(recBad[pos+2:]))
	}
	le.PutUint16(recBad[pos+2:], 0) // record 10 of block 2: size 0
	p = filepath.Join(dir, "badrec")
	require.NoError(t, os.WriteFile(p, recBad, 0o644))
	pPer := flowsPerBlock(t, plainData)
	got := readVisiting(t, p, ReadOptions{Workers: 2}, true, true)
	assert.Len(t, got.flows, pPer[0]+pPer[1]+10)
	assert.Contains(t, got.err, "record 10 at payload offset")
	checkVisit(t, p, ReadOptions{})
}

// TestVisitRecover reads a crashed collector file with Recover through
// visitors: the whole blocks before the crash, no error.
func TestVisitRecover(t *testing.T) {
	good, p, f, perBlock := crashedFile(t, 27, 4243)
	got := readVisiting(t, p, ReadOptions{Recover: true, Workers: 2}, true, true)
	assert.Empty(t, got.err)
	require.Len(t, got.flows, perBlock[0]+perBlock[1])
	for i := range got.flows {
		require.Equal(t, f.flows[i], got.flows[i], "flow %d", i)
	}
	checkVisit(t, p, ReadOptions{Recover: true})
	checkVisit(t, good, ReadOptions{Recover: true})
}

// TestVisitCloseEarly closes a visiting reader in the middle of a file:
// every visitor still comes back through Release.
func TestVisitCloseEarly(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	f := randomFile(rng, 30000)
	p := filepath.Join(t.TempDir(), "f")
	writeTestFile(t, p, WriteOptions{Compression: LZ4}, &f)
	for i := 0; i < 6; i++ {
		made, released := 0, 0
		r, err := Open(p, ReadOptions{Workers: 2,
			Visit:   func() BlockVisitor { made++; return &recordingVisitor{slow: true} },
			Release: func(BlockVisitor) { released++ }})
		require.NoError(t, err)
		for j := 0; j < i && r.Next(); j++ {
		}
		require.NoError(t, r.Close())
		assert.False(t, r.Next())
		assert.Equal(t, made, released)
	}
}

// rawVisitor takes the records from their bytes when their layout has
// addresses (and the generic element), reading the fields it keeps as
// the layout says, and decoded otherwise.
type rawVisitor struct {
	recordingVisitor
	raw   int
	plans *atomic.Int64 // plans asked for, by all the reader's visitors
}

// rawPlan is a rawVisitor's plan: the layout and the flow count's offset.
type rawPlan struct {
	l     flow.Layout
	flows uint16
}

func (v *rawVisitor) RawPlan(l *flow.Layout, flows uint16) any {
	v.plans.Add(1)
	if l.Fam[flow.FieldSrcAddr] == 0 || l.Off[flow.FieldFirst] == 0 {
		return nil
	}
	return &rawPlan{*l, flows}
}

func (v *rawVisitor) FlowRaw(plan any, rec []byte) {
	p := plan.(*rawPlan)
	v.raw++
	var r flow.Record
	u64 := func(f flow.Field) uint64 {
		if o := p.l.Off[f]; o != 0 {
			return le.Uint64(rec[o:])
		}
		return 0
	}
	r.First, r.Last = u64(flow.FieldFirst), u64(flow.FieldLast)
	r.InPackets, r.InBytes = u64(flow.FieldInPackets), u64(flow.FieldInBytes)
	r.OutPackets, r.OutBytes = u64(flow.FieldOutPackets), u64(flow.FieldOutBytes)
	r.SrcPort, r.DstPort = le.Uint16(rec[p.l.Off[flow.FieldSrcPort]:]), le.Uint16(rec[p.l.Off[flow.FieldDstPort]:])
	r.Proto = rec[p.l.Off[flow.FieldProto]]
	if p.flows != 0 {
		r.Flows = le.Uint64(rec[p.flows:])
	}
	o := p.l.Off[flow.FieldSrcAddr]
	if p.l.Fam[flow.FieldSrcAddr] == 4 {
		r.SrcAddr = addr4(le.Uint32(rec[o:]))
	} else {
		r.SrcAddr = addr6(rec[o:])
	}
	v.flows = append(v.flows, r)
}

// Flow keeps what FlowRaw reads of a decoded record.
func (v *rawVisitor) Flow(d *flow.Record) {
	v.flows = append(v.flows, rawFields(d))
}

// rawFields is r cut to the fields a rawVisitor reads from the bytes.
func rawFields(d *flow.Record) flow.Record {
	return flow.Record{First: d.First, Last: d.Last, InPackets: d.InPackets, InBytes: d.InBytes,
		OutPackets: d.OutPackets, OutBytes: d.OutBytes, SrcPort: d.SrcPort, DstPort: d.DstPort,
		Proto: d.Proto, Flows: d.Flows, SrcAddr: d.SrcAddr}
}

// TestVisitRaw: a RawVisitor gets most records from their bytes, asked
// for a plan once per layout and worker (and again when a file of more
// layouts than a decoder keeps makes it learn one again), and finds in
// them, through the layout and the flow count's offset, what the records
// decode to.
func TestVisitRaw(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	mixed := randomFile(rng, 30000)
	border := randomFile(rng, 30000)
	// Flows of a few layouts (a border router's exporters), in the mixed
	// file among flows of random ones.
	g := flowgen.NewBorder(33, 1_795_555_903_000)
	for i := range mixed.flows {
		if i%4 != 0 {
			g.Next(&mixed.flows[i])
		}
		g.Next(&border.flows[i])
	}
	for _, tt := range []struct {
		name     string
		f        *testFile
		maxPlans int
	}{{"mixed", &mixed, 3000}, {"border", &border, 100}} {
		p := filepath.Join(t.TempDir(), "f")
		writeTestFile(t, p, WriteOptions{Compression: LZ4}, tt.f)
		want := readVisiting(t, p, ReadOptions{}, false, false)
		for _, workers := range []int{1, 2} {
			var plans atomic.Int64
			var visitors []*rawVisitor
			r, err := Open(p, ReadOptions{Workers: workers, Visit: func() BlockVisitor {
				v := &rawVisitor{plans: &plans}
				visitors = append(visitors, v)
				return v
			}})
			require.NoError(t, err)
			var got []flow.Record
			for r.Next() {
				if r.Kind() == KindBlock {
					got = append(got, r.Block().(*rawVisitor).flows...)
				}
			}
			require.NoError(t, r.Err())
			require.NoError(t, r.Close())
			require.Len(t, got, len(want.flows))
			for i := range want.flows {
				require.Equal(t, rawFields(&want.flows[i]), got[i], "%s, %d workers: flow %d", tt.name, workers, i)
			}
			raw := 0
			for _, v := range visitors {
				raw += v.raw
			}
			assert.Greater(t, raw, len(got)/2, "%s, %d workers: most flows from their bytes", tt.name, workers)
			assert.Less(t, int(plans.Load()), tt.maxPlans, "%s, %d workers: a plan per layout, not per flow", tt.name, workers)
		}
	}
}
