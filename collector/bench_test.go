package collector

import (
	"encoding/binary"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/netflow"
)

// benchField is one field of a template in the benchmark datagrams.
type benchField struct{ ie, length uint16 }

// The templates of scripts/nfsend: what a v9 router typically exports for
// IPv4 (35 bytes a record) and the same flows in IPFIX with 64-bit
// counters and millisecond times (55 bytes a record).
var (
	benchV9Fields = []benchField{
		{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {6, 1}, {5, 1},
		{2, 4}, {1, 4}, {22, 4}, {21, 4}, {10, 2}, {14, 2},
	}
	benchIPFIXFields = []benchField{
		{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {6, 1}, {5, 1},
		{2, 8}, {1, 8}, {152, 8}, {153, 8}, {10, 4}, {14, 4},
	}
)

// benchDatagrams builds a template datagram and n data datagrams of
// perDatagram flows each, for NetFlow v9 (version 9) or IPFIX (10), with
// the sequence numbers an exporter would send. For NetFlow v5 (5) it
// builds no template.
func benchDatagrams(version, n, perDatagram int) (tmpl []byte, data [][]byte) {
	if version == 5 {
		return nil, benchV5Datagrams(n, perDatagram)
	}
	be := binary.BigEndian
	fields := benchV9Fields
	if version == 10 {
		fields = benchIPFIXFields
	}
	const unixSecs = 1_800_000_000
	const uptime = 86_400_000 // booted a day ago
	header := func(b []byte, count int, seq uint32) []byte {
		if version == 10 {
			b = be.AppendUint16(b, 10)
			b = be.AppendUint16(b, 0) // length, set below
			b = be.AppendUint32(b, unixSecs)
			b = be.AppendUint32(b, seq)
			return be.AppendUint32(b, 1)
		}
		b = be.AppendUint16(b, 9)
		b = be.AppendUint16(b, uint16(count))
		b = be.AppendUint32(b, uptime)
		b = be.AppendUint32(b, unixSecs)
		b = be.AppendUint32(b, seq)
		return be.AppendUint32(b, 1)
	}
	finish := func(b []byte) []byte {
		if version == 10 {
			be.PutUint16(b[2:], uint16(len(b)))
		}
		return b
	}
	// template: set 0 (v9) or 2 (IPFIX), template 256
	tmpl = header(nil, 1, 0)
	setID := uint16(0)
	if version == 10 {
		setID = 2
	}
	tmpl = be.AppendUint16(tmpl, setID)
	tmpl = be.AppendUint16(tmpl, uint16(8+4*len(fields)))
	tmpl = be.AppendUint16(tmpl, 256)
	tmpl = be.AppendUint16(tmpl, uint16(len(fields)))
	for _, f := range fields {
		tmpl = be.AppendUint16(tmpl, f.ie)
		tmpl = be.AppendUint16(tmpl, f.length)
	}
	tmpl = finish(tmpl)

	seq := uint32(0)
	if version == 9 {
		seq = 1 // v9 counts datagrams, the template one included
	}
	flowNo := 0
	for i := 0; i < n; i++ {
		b := header(nil, perDatagram, seq)
		if version == 9 {
			seq++
		} else {
			seq += uint32(perDatagram)
		}
		start := len(b)
		b = be.AppendUint16(b, 256)
		b = be.AppendUint16(b, 0) // length, set below
		for j := 0; j < perDatagram; j++ {
			flowNo++
			for _, f := range fields {
				var v uint64
				switch f.ie {
				case 8:
					v = 0x0a000000 | uint64(flowNo&0xffff)
				case 12:
					v = 0xc0a80000 | uint64(flowNo>>4&0xffff)
				case 7:
					v = uint64(1024 + flowNo%50000)
				case 11:
					v = 443
				case 4:
					v = []uint64{6, 17, 1, 47}[flowNo%4]
				case 6:
					v = 0x18
				case 2:
					v = uint64(1 + flowNo%100)
				case 1:
					v = uint64(64 * (1 + flowNo%100))
				case 22:
					v = uptime - 5000
				case 21:
					v = uptime - 100
				case 152:
					v = unixSecs*1000 - 5000
				case 153:
					v = unixSecs*1000 - 100
				case 10, 14:
					v = 3
				}
				for k := int(f.length) - 1; k >= 0; k-- {
					b = append(b, byte(v>>(8*k)))
				}
			}
		}
		for (len(b)-start)%4 != 0 {
			b = append(b, 0)
		}
		be.PutUint16(b[start+2:], uint16(len(b)-start))
		data = append(data, finish(b))
	}
	return tmpl, data
}

// benchV5Datagrams builds n NetFlow v5 datagrams of perDatagram flows
// each, with the interfaces set as nfsend sends them (so that every
// record has the interface element) and no AS numbers or next hop.
func benchV5Datagrams(n, perDatagram int) [][]byte {
	be := binary.BigEndian
	const unixSecs = 1_800_000_000
	const uptime = 86_400_000 // booted a day ago
	var data [][]byte
	flowNo := 0
	for i := 0; i < n; i++ {
		// version count sysUptime unixSecs unixNsecs sequence engine(2) sampling
		b := be.AppendUint16(nil, 5)
		b = be.AppendUint16(b, uint16(perDatagram))
		b = be.AppendUint32(b, uptime)
		b = be.AppendUint32(b, unixSecs)
		b = be.AppendUint32(b, 0)
		b = be.AppendUint32(b, uint32(i*perDatagram))
		b = be.AppendUint32(b, 0)
		for j := 0; j < perDatagram; j++ {
			flowNo++
			b = be.AppendUint32(b, 0x0a000000|uint32(flowNo&0xffff))    // srcaddr
			b = be.AppendUint32(b, 0xc0a80000|uint32(flowNo>>4&0xffff)) // dstaddr
			b = be.AppendUint32(b, 0)                                   // nexthop
			b = be.AppendUint16(b, 3)                                   // input
			b = be.AppendUint16(b, 4)                                   // output
			b = be.AppendUint32(b, uint32(1+flowNo%100))                // dPkts
			b = be.AppendUint32(b, uint32(64*(1+flowNo%100)))           // dOctets
			b = be.AppendUint32(b, uptime-5000)                         // first
			b = be.AppendUint32(b, uptime-100)                          // last
			b = be.AppendUint16(b, uint16(1024+flowNo%50000))           // srcport
			b = be.AppendUint16(b, 443)                                 // dstport
			b = append(b, 0, 0x18, []byte{6, 17, 1, 47}[flowNo%4], 0)   // pad tcpFlags prot tos
			b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)                       // AS numbers, masks, pad
		}
		data = append(data, b)
	}
	return data
}

// BenchmarkWorker pushes datagrams through the worker's path, as the
// collector runs it: decode, count and write into an nfcapd file (LZ4
// off, as the bench script runs gocapd). The nodisk variants write the
// blocks nowhere: the CPU of the collector's own code, without the
// kernel's copy into the page cache, which on a virtual machine costs
// from 0.1 to 2 ns a byte depending on whether the host still backs the
// pages the kernel hands out.
func BenchmarkWorker(b *testing.B) {
	for _, bc := range []struct {
		name    string
		version int
		nodisk  bool
	}{{"v5", 5, false}, {"v9", 9, false}, {"ipfix", 10, false},
		{"v5/nodisk", 5, true}, {"v9/nodisk", 9, true}, {"ipfix/nodisk", 10, true}} {
		b.Run(bc.name, func(b *testing.B) {
			const per = 24
			tmpl, data := benchDatagrams(bc.version, 1024, per)
			c, err := New(Config{
				Sources:  []Source{{Ident: "bench", Dir: benchDir(b)}},
				Interval: time.Hour,
			}, nil)
			if err != nil {
				b.Fatal(err)
			}
			c.slot = time.Now().Truncate(time.Hour)
			for _, k := range c.sinks {
				if err := c.open(k); err != nil {
					b.Fatal(err)
				}
				if bc.nodisk {
					k.w.Close()
					w, err := flowfile.NewWriter(discard{}, "bench", flowfile.WriteOptions{Workers: 2, Count: flowfile.CountNone})
					if err != nil {
						b.Fatal(err)
					}
					k.w = w
				}
			}
			from := netip.MustParseAddr("127.0.0.1")
			at := time.Now()
			if tmpl != nil {
				c.process(tmpl, from, at)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(data[0])))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.process(data[i%len(data)], from, at)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)*per/b.Elapsed().Seconds(), "flows/s")
			for _, k := range c.sinks {
				if k.bad != 0 {
					b.Fatalf("%d bad datagrams", k.bad)
				}
				k.w.Close()
			}
		})
	}
}

// benchDir is where the benchmark writes: in memory (/dev/shm) where
// there is such a file system, so the disk's mood does not move the
// numbers of the code under test.
func benchDir(b *testing.B) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		dir, err := os.MkdirTemp("/dev/shm", "gocapd-bench-")
		if err == nil {
			b.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return b.TempDir()
}

// discard is a file that keeps nothing.
type discard struct{}

func (discard) WriteAt(p []byte, _ int64) (int, error) { return len(p), nil }

// planBench is what a sink does with a flow, without the disk: write it
// into a file and count it.
type planBench struct {
	w    *flowfile.Writer
	stat flowfile.Stat
}

func (h *planBench) Flow(r *flow.Record) {
	h.w.WriteFlow(r)
	h.stat.AddNfcapd(r)
}

func (h *planBench) V3Space() []byte { return h.w.V3Space() }

func (h *planBench) FlowV3(f *netflow.V3Flow) {
	h.w.CommitV3(len(f.Record))
	h.stat.AddNfcapd(f.Flow)
}

func (h *planBench) NewExporter(e *flow.Exporter) { h.w.WriteExporter(e) }
func (h *planBench) Sampler(s *flow.Sampler)      { h.w.WriteSampler(s) }

// BenchmarkDecodeEncode decodes the bench's datagrams and encodes their
// flows into a file's blocks (no disk), the general way (Records that
// flowfile's encoder writes) and through the decoder's V3 plans: the CPU
// a flow costs gocapd besides receiving and writing.
func BenchmarkDecodeEncode(b *testing.B) {
	for _, version := range []int{5, 9, 10} {
		for _, plan := range []bool{false, true} {
			name := map[int]string{5: "v5", 9: "v9", 10: "ipfix"}[version] + map[bool]string{false: "/record", true: "/v3plan"}[plan]
			b.Run(name, func(b *testing.B) {
				const per = 24
				tmpl, data := benchDatagrams(version, 1024, per)
				w, err := flowfile.NewWriter(discard{}, "bench", flowfile.WriteOptions{Workers: 1, Count: flowfile.CountNone})
				if err != nil {
					b.Fatal(err)
				}
				defer w.Close()
				h := &planBench{w: w}
				d := netflow.NewDecoder(netflow.Options{V3: plan})
				from := netip.MustParseAddr("127.0.0.1")
				at := time.Now()
				if tmpl != nil {
					d.Decode(tmpl, from, at, h)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := d.Decode(data[i%len(data)], from, at, h); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/per, "ns/flow")
			})
		}
	}
}
