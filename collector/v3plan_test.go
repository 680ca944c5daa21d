package collector

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/internal/testutil"
	"github.com/nfgo/nftools/netflow"
)

// v3Recorder is a netflow handler that writes what it gets into a flow
// file, Records with WriteFlow and the decoder's V3 records with WriteV3,
// and keeps what a collector counts of each flow. The room it gives the
// decoder is full of stale bytes, as a reused block's is.
type v3Recorder struct {
	w         *flowfile.Writer
	file      memFile
	space     [netflow.V3Room]byte
	planned   int // flows that came as V3 records
	stat      flowfile.Stat
	counted   []flow.Record // the values a collector counts, per flow
	misplaced int           // V3 records not at the start of the room
	given     *byte         // the start of the room V3Space gave last
}

// memFile is a file in memory.
type memFile struct{ b []byte }

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	if end := int(off) + len(p); end > len(f.b) {
		f.b = append(f.b, make([]byte, end-len(f.b))...)
	}
	return copy(f.b[off:], p), nil
}

func newV3Recorder(t *testing.T, name string) *v3Recorder {
	h := &v3Recorder{}
	w, err := flowfile.NewWriter(&h.file, name, flowfile.WriteOptions{Ident: "plan", Workers: 1, Count: flowfile.CountNone,
		Created: time.Unix(1_800_000_000, 0)})
	require.NoError(t, err)
	h.w = w
	return h
}

// count keeps the values netflow.V3Flow promises of r.
func (h *v3Recorder) count(r *flow.Record) {
	h.stat.AddNfcapd(r)
	h.counted = append(h.counted, flow.Record{
		ExporterID: r.ExporterID, EngineType: r.EngineType, EngineID: r.EngineID, Flags: r.Flags, NFVersion: r.NFVersion,
		Received: r.Received, First: r.First, Last: r.Last, InPackets: r.InPackets, InBytes: r.InBytes,
		OutPackets: r.OutPackets, OutBytes: r.OutBytes, Flows: r.Flows, SrcPort: r.SrcPort, DstPort: r.DstPort, Proto: r.Proto,
	})
}

func (h *v3Recorder) Flow(r *flow.Record) {
	h.w.WriteFlow(r)
	h.count(r)
}

func (h *v3Recorder) V3Space() []byte {
	for i := range h.space {
		h.space[i] = 0xa5
	}
	h.given = &h.space[0]
	return h.space[:]
}

func (h *v3Recorder) FlowV3(f *netflow.V3Flow) {
	if len(f.Record) == 0 || &f.Record[0] != h.given {
		h.misplaced++
	}
	h.w.WriteV3(f.Record)
	h.count(f.Flow)
	h.planned++
}

// v3BatchRecorder is a v3Recorder that takes the records of a v5 or v7
// block, or of a v9 or IPFIX set, at once (netflow.V3BatchHandler), in a room of stale bytes as
// large as the decoder asks for, and writes them with one CommitV3s.
type v3BatchRecorder struct {
	*v3Recorder
	room [netflow.V3BatchRoom]byte
	// inBatch marks the flows (by index in counted) that came in a
	// batch, which carries no ports.
	inBatch map[int]bool
	// badSums counts the batches whose Sums were not those of their
	// Counts.
	badSums int
}

func (h *v3BatchRecorder) V3Space() []byte {
	for i := range h.room {
		h.room[i] = 0xa5
	}
	h.given = &h.room[0]
	return h.room[:]
}

func (h *v3BatchRecorder) FlowsV3(b *netflow.V3Batch) {
	if b.N == 0 || &b.Records[0] != &h.room[0] || len(b.Records) != int(b.Ends[b.N-1]) {
		h.misplaced++
	}
	copy(h.w.V3Space(), b.Records)
	// A batch may begin a new block (kept < N): v9 and IPFIX sets come
	// in batches too, and the files of the tests outgrow a block.
	kept, err := h.w.CommitV3s(b.Ends[:b.N])
	if err != nil || kept < 0 || kept > b.N {
		h.misplaced++
	}
	for i := range b.N {
		c := b.Count(i)
		r := *b.Flow
		r.First, r.Last, r.InPackets, r.InBytes, r.Proto = c.First, c.Last, c.Packets, c.Bytes, c.Proto
		// Ports are not among the counts: the general path's are
		// cleared too before the comparison.
		r.SrcPort, r.DstPort = 0, 0
		h.inBatch[len(h.counted)] = true
		h.count(&r)
	}
	h.planned += b.N
	// The decoder's sums are those of its counts, summed as a collector
	// sums them (countV3 takes them for a whole batch).
	var want flowfile.NfcapdSums
	for i := range b.N {
		c := b.Count(i)
		want.Add(c.First, c.Last, c.Packets, c.Bytes, c.Proto)
	}
	if flowfile.NfcapdSums(b.Sums) != want {
		h.badSums++
	}
}

func (h *v3Recorder) NewExporter(e *flow.Exporter) { h.w.WriteExporter(e) }
func (h *v3Recorder) Sampler(s *flow.Sampler)      { h.w.WriteSampler(s) }

// bytes closes the file and returns it.
func (h *v3Recorder) bytes(t *testing.T) []byte {
	require.NoError(t, h.w.Close())
	return h.file.b
}

// datagram is one datagram of an exporter.
type datagram struct {
	b    []byte
	from netip.Addr
}

// sameThroughPlan decodes the datagrams once the general way (Records
// written by flowfile's encoder), once with the decoder's V3 plans, and
// once more with a handler that takes v5 and v7 blocks at once, and checks
// that all write the same file and count the same; it returns the flows
// that went through a plan, and those of them that came in a batch.
func sameThroughPlan(t *testing.T, opts netflow.Options, dgrams []datagram) (int, int) {
	t.Helper()
	general, planned := newV3Recorder(t, "general"), newV3Recorder(t, "planned")
	batched := &v3BatchRecorder{v3Recorder: newV3Recorder(t, "batched"), inBatch: map[int]bool{}}
	at := time.UnixMilli(1_800_000_000_123)
	for i, h := range []netflow.Handler{general, planned, batched} {
		o := opts
		o.V3 = i > 0
		d := netflow.NewDecoder(o)
		for _, g := range dgrams {
			d.Decode(g.b, g.from, at, h)
		}
	}
	require.Zero(t, general.planned)
	want := general.bytes(t)
	for _, h := range []*v3Recorder{planned, batched.v3Recorder} {
		require.Zero(t, h.misplaced, "V3 records not encoded at the start of the handler's room")
		require.Equal(t, len(general.counted), len(h.counted), "flows")
		for i := range general.counted {
			w := general.counted[i]
			if h == batched.v3Recorder && batched.inBatch[i] {
				w.SrcPort, w.DstPort = 0, 0
			}
			require.Equal(t, w, h.counted[i], "what a collector counts of flow %d", i)
		}
		assert.Equal(t, general.stat, h.stat)
		got := h.bytes(t)
		require.Equal(t, len(want), len(got), "file sizes")
		for i := range want {
			if want[i] != got[i] {
				lo, hi := max(0, i-32), min(len(want), i+32)
				t.Fatalf("files differ at byte %d:\ngeneral % x\nplanned % x", i, want[lo:hi], got[lo:hi])
			}
		}
	}
	require.Equal(t, planned.planned, batched.planned, "flows through a plan, one by one and in batches")
	require.Zero(t, batched.badSums, "batches whose sums are not those of their counts")
	return planned.planned, len(batched.inBatch)
}

// TestV3PlanVendorDatagrams: for every sample datagram of the shared
// vendor collection, each exporter from its own address, the flows the
// decoder encodes with its V3 plans are byte for byte the records
// flowfile's encoder writes for the Records of the general path, and a
// collector counts the same of them.
func TestV3PlanVendorDatagrams(t *testing.T) {
	var dgrams []datagram
	for i, g := range testutil.VendorGroups(t) {
		from := netip.AddrFrom4([4]byte{127, 0, 1, byte(i + 1)})
		for _, f := range g.Files {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			dgrams = append(dgrams, datagram{b, from})
		}
	}
	// The bench's datagrams too, from an IPv6 exporter.
	for _, v := range []int{9, 10} {
		tmpl, data := benchDatagrams(v, 4, 24)
		from := netip.MustParseAddr("2001:db8::9")
		dgrams = append(dgrams, datagram{tmpl, from})
		for _, b := range data {
			dgrams = append(dgrams, datagram{b, from})
		}
	}
	for _, sampling := range []int64{0, 10, -7} {
		n, _ := sameThroughPlan(t, netflow.Options{DefaultSampling: sampling}, dgrams)
		t.Logf("sampling %d: %d flows through a plan", sampling, n)
		assert.Greater(t, n, 200, "most flows of the samples go through a plan")
	}
}

// TestV3PlanEveryField: for every field nfcapd maps, in v9 and in IPFIX,
// at each length the fast path takes, between the fields of a typical
// template, records of random values (and each protocol that changes
// post-processing: ICMP, ICMPv6, TCP, UDP) are written the same through
// the plan as through the general path, sampled or not. Each field and
// length has a template of its own.
func TestV3PlanEveryField(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	be := binary.BigEndian
	from := netip.MustParseAddr("192.0.2.1")
	for _, version := range []uint16{9, 10} {
		header := func(b []byte, seq uint32) []byte {
			b = be.AppendUint16(b, version)
			if version == 9 {
				b = be.AppendUint16(b, 1)
				b = be.AppendUint32(b, 86_400_000)
				b = be.AppendUint32(b, 1_800_000_000)
			} else {
				b = be.AppendUint16(b, 0)
				b = be.AppendUint32(b, 1_800_000_000)
			}
			b = be.AppendUint32(b, seq)
			return be.AppendUint32(b, 7)
		}
		finish := func(b []byte) []byte {
			if version == 10 {
				be.PutUint16(b[2:], uint16(len(b)))
			}
			return b
		}
		var dgrams []datagram
		id := uint16(256)
		for typ := uint16(1); typ < 512; typ++ {
			for _, n := range []uint16{1, 2, 4, 8, 16} {
				id++
				// source and destination address, the field under test,
				// protocol and ports, counters, times
				fields := [][2]uint16{{8, 4}, {12, 4}, {typ, n}, {4, 1}, {7, 2}, {11, 2}, {2, 4}, {1, 4}}
				if version == 9 {
					fields = append(fields, [2]uint16{22, 4}, [2]uint16{21, 4})
				} else {
					fields = append(fields, [2]uint16{152, 8}, [2]uint16{153, 8})
				}
				recLen := 0
				for _, f := range fields {
					recLen += int(f[1])
				}
				tmpl := header(nil, 0)
				tmpl = be.AppendUint16(tmpl, map[uint16]uint16{9: 0, 10: 2}[version])
				tmpl = be.AppendUint16(tmpl, uint16(8+4*len(fields)))
				tmpl = be.AppendUint16(tmpl, id)
				tmpl = be.AppendUint16(tmpl, uint16(len(fields)))
				for _, f := range fields {
					tmpl = be.AppendUint16(tmpl, f[0])
					tmpl = be.AppendUint16(tmpl, f[1])
				}
				data := header(nil, 1)
				start := len(data)
				data = be.AppendUint16(data, id)
				data = be.AppendUint16(data, 0)
				for _, proto := range []byte{1, 58, 6, 17, byte(rng.Uint32())} {
					rec := make([]byte, recLen)
					for i := range rec {
						rec[i] = byte(rng.Uint32())
					}
					rec[8+int(n)] = proto
					data = append(data, rec...)
				}
				// The set ends with the last record (no padding): the
				// plan's loads of the last one end at its fields' ends,
				// so they must not read past the datagram.
				be.PutUint16(data[start+2:], uint16(len(data)-start))
				dgrams = append(dgrams, datagram{finish(tmpl), from}, datagram{finish(data), from})
			}
		}
		for _, sampling := range []int64{0, -5} {
			opts := netflow.Options{DefaultSampling: sampling, MaxTemplates: 4096}
			planned, _ := sameThroughPlan(t, opts, dgrams)
			t.Logf("version %d, sampling %d: %d flows through a plan", version, sampling, planned)
			assert.Greater(t, planned, 5000)
		}
	}
}

// TestV3PlanV5: NetFlow v5 and v7 records of random values, with and
// without interfaces, AS numbers and next hop (the elements whose
// presence depends on the values), ICMP among them, from an IPv4 and an
// IPv6 exporter, sampled by the header or by -s or not, are written
// straight into V3 records exactly as flowfile's encoder writes them.
func TestV3PlanV5(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	be := binary.BigEndian
	var dgrams []datagram
	for _, version := range []uint16{5, 7} {
		recLen := map[uint16]int{5: 48, 7: 52}[version]
		for _, from := range []netip.Addr{netip.MustParseAddr("192.0.2.5"), netip.MustParseAddr("2001:db8::5")} {
			for _, sampling := range []uint16{0, 0x4000 | 9} {
				for seq := uint32(0); seq < 8; seq++ {
					const count = 30
					b := be.AppendUint16(nil, version)
					b = be.AppendUint16(b, count)
					b = be.AppendUint32(b, 86_400_000)    // uptime
					b = be.AppendUint32(b, 1_800_000_000) // secs
					b = be.AppendUint32(b, 123_000_000)   // nsecs
					b = be.AppendUint32(b, seq*count)
					b = be.AppendUint16(b, 0x0102) // engine type and id
					b = be.AppendUint16(b, sampling)
					for i := 0; i < count; i++ {
						rec := make([]byte, recLen)
						for j := range rec {
							rec[j] = byte(rng.Uint32())
						}
						// Zero interfaces, AS numbers and next hop in turn.
						if i&1 != 0 {
							clear(rec[12:16])
						}
						if i&2 != 0 {
							clear(rec[40:44])
						}
						if i&4 != 0 {
							clear(rec[8:12])
						}
						rec[38] = []byte{1, 6, 17, rec[38]}[i%4]
						// times within the uptime, now and then wrapped
						be.PutUint32(rec[24:], 86_000_000-uint32(i)*1000)
						be.PutUint32(rec[28:], 86_300_000+uint32(i)*100)
						b = append(b, rec...)
					}
					dgrams = append(dgrams, datagram{b, from})
				}
			}
		}
	}
	for _, sampling := range []int64{0, 10, -7} {
		n, batched := sameThroughPlan(t, netflow.Options{DefaultSampling: sampling}, dgrams)
		assert.Equal(t, 2*2*2*8*30, n, "every v5 and v7 flow goes straight into a V3 record")
		assert.Equal(t, n, batched, "every v5 and v7 flow comes in a batch to a handler that takes them")
	}
}

// TestV3SumClassIsNfcapdSums: the decoder sums a batch's flows by the
// classes of flowfile.NfcapdSums, protocol for protocol, so that a
// collector may take its sums for a file's stat record as they are.
func TestV3SumClassIsNfcapdSums(t *testing.T) {
	for p := range 256 {
		var s flowfile.NfcapdSums
		s.Add(1, 2, 3, 4, uint8(p))
		c := netflow.V3SumClass[p]
		require.Less(t, int(c), flowfile.NumSumClasses)
		require.Equal(t, uint64(1), s.Flows[c], "protocol %d: class %d", p, c)
		require.Equal(t, uint64(3), s.Packets[c], "protocol %d", p)
	}
}

// TestBatchesSplitOverBlocksCounted runs v5 datagrams of 30 flows, of
// four protocols and varied times, through a collector until they fill
// several blocks, so that batches are split over two blocks (the
// collector then counts them one by one from their records rather than
// from the decoder's sums): the file's stat record is the sum of the
// flows read back from it, as nfcapd counts them.
func TestBatchesSplitOverBlocksCounted(t *testing.T) {
	dir := t.TempDir()
	c, err := New(Config{Sources: []Source{{Ident: "split", Dir: dir}}, Interval: time.Hour}, nil)
	require.NoError(t, err)
	c.slot = time.Now().Truncate(time.Hour)
	for _, k := range c.sinks {
		require.NoError(t, c.open(k))
	}
	data := benchV5Datagrams(1500, 30)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, b := range data {
		// Each flow's first and last somewhere in the last hour, so
		// that each block's first and last seen differ.
		for rec := b[24:]; len(rec) >= 48; rec = rec[48:] {
			last := 86_400_000 - uint32(rng.IntN(3_600_000))
			binary.BigEndian.PutUint32(rec[24:], last-uint32(rng.IntN(60_000)))
			binary.BigEndian.PutUint32(rec[28:], last)
		}
	}
	from := netip.MustParseAddr("127.0.0.1")
	at := time.UnixMilli(1_800_000_000_000)
	for _, b := range data {
		c.process(b, from, at)
	}
	k := c.sinks[0]
	path := k.w.Name()
	require.NoError(t, k.w.Close())
	// What the collector counted, as it writes it into the file's stat
	// record at a rotation.
	got := k.acct.all().st

	r, err := flowfile.Open(path, flowfile.ReadOptions{})
	require.NoError(t, err)
	defer r.Close()
	var want flowfile.Stat
	for r.Next() {
		if r.Kind() == flowfile.KindFlow {
			want.AddNfcapd(r.Flow())
		}
	}
	require.NoError(t, r.Err())
	require.Equal(t, uint64(len(data)*30), want.Flows)
	require.Greater(t, int64(len(data)*30*104), int64(3*flowfile.WriteBlockSize), "the flows fill several blocks")
	assert.Equal(t, want, got)
}
