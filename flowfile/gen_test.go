package flowfile

import (
	"math/rand/v2"
	"net/netip"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/flowgen"
)

// testFile is a file's worth of random content.
type testFile struct {
	exporters []flow.Exporter
	samplers  []flow.Sampler
	flows     []flow.Record
	stats     []flow.ExporterStat
}

func randomFile(rng *rand.Rand, nflows int) testFile {
	f := testFile{
		exporters: []flow.Exporter{
			{Version: 5, Addr: netip.MustParseAddr("127.0.0.1"), SysID: 1, ID: 0x0102},
			{Version: 9, Addr: netip.MustParseAddr("192.0.2.7"), SysID: 2, ID: 42},
			{Version: 10, Addr: netip.MustParseAddr("2001:db8::5"), SysID: 3, ID: 7},
		},
		samplers: []flow.Sampler{
			{ExporterSysID: 2, Algorithm: 1, ID: 5, PacketInterval: 1, SpaceInterval: 99},
			{ExporterSysID: 1, ID: flow.SamplerDefault, PacketInterval: 1, SpaceInterval: 9},
		},
		stats: []flow.ExporterStat{
			{SysID: 1, SequenceFailures: 2, Packets: 3, Flows: 4},
			{SysID: 2, Packets: 10, Flows: 300},
			{SysID: 3, SequenceFailures: 1, Packets: 1, Flows: 1},
		},
	}
	for i := 0; i < nflows; i++ {
		f.flows = append(f.flows, flowgen.Random(rng))
	}
	return f
}

// write puts f into w in the order nfcapd uses: exporters and samplers,
// flows, then the exporter statistics.
func (f *testFile) write(w *Writer) error {
	for i := range f.exporters {
		if err := w.WriteExporter(&f.exporters[i]); err != nil {
			return err
		}
	}
	for i := range f.samplers {
		if err := w.WriteSampler(&f.samplers[i]); err != nil {
			return err
		}
	}
	for i := range f.flows {
		if err := w.WriteFlow(&f.flows[i]); err != nil {
			return err
		}
	}
	return w.WriteExporterStats(f.stats)
}
