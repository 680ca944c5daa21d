package output

import (
	"fmt"

	"github.com/nfgo/nftools/flow"
)

// ExportersTitle is the line nfdump -E prints before it opens the file.
const ExportersTitle = "Exporters:\n"

// AppendExporters appends what nfdump -E prints after its title for the
// exporters of a file (flowfile.Exporters): "No Exporter records found"
// when the file had none, an empty line, and a line per exporter with its
// statistics, followed by its samplers. IPv6 exporters' lines end in a
// newline and a space, as nfdump prints them.
func AppendExporters(b []byte, list []flow.ExporterSummary, found bool) []byte {
	if !found {
		b = append(b, "No Exporter records found\n"...)
	}
	b = append(b, '\n')
	for i := range list {
		x := &list[i]
		if x.Addr.Is4() || x.Addr.Is4In6() {
			ip := x.Addr.Unmap().String()
			if x.Flows > 0 {
				b = fmt.Appendf(b, "SysID: %d, IP: %16s, version: %d, ID: %2d, Sequence failures: %d, packets: %d, flows: %d\n",
					x.SysID, ip, x.Version, x.ID, uint32(x.SequenceFailures), x.Packets, x.Flows)
			} else {
				b = fmt.Appendf(b, "SysID: %d, IP: %16s, version: %d, ID: %2d - no flows sent\n", x.SysID, ip, x.Version, x.ID)
			}
		} else {
			ip := x.Addr.String()
			if x.Flows > 0 {
				b = fmt.Appendf(b, "SysID: %d, IP: %40s, version: %d, ID: %2d, Sequence failures: %d, packets: %d, flows: %d\n ",
					x.SysID, ip, x.Version, x.ID, uint32(x.SequenceFailures), x.Packets, x.Flows)
			} else {
				b = fmt.Appendf(b, "SysID: %d, IP: %40s, version: %d, ID: %2d\n ", x.SysID, ip, x.Version, x.ID)
			}
		}
		for _, s := range x.Samplers {
			switch s.ID {
			case flow.SamplerOverwrite:
				b = fmt.Appendf(b, "    Sampler: Static overwrite Sampler: algorithm: %d, packet interval: %d, packet space: %d\n", s.Algorithm, s.PacketInterval, s.SpaceInterval)
			case flow.SamplerDefault:
				b = fmt.Appendf(b, "    Sampler: Static default Sampler: algorithm: %d, packet interval: %d, packet space: %d\n", s.Algorithm, s.PacketInterval, s.SpaceInterval)
			case flow.SamplerGeneric:
				b = fmt.Appendf(b, "    Sampler: Generic Sampler: algorithm: %d, packet interval: %d, packet space: %d\n", s.Algorithm, s.PacketInterval, s.SpaceInterval)
			default:
				b = fmt.Appendf(b, "    Sampler: Assigned Sampler: id: %d, algorithm: %d, packet interval: %d, packet space: %d\n", s.ID, s.Algorithm, s.PacketInterval, s.SpaceInterval)
			}
		}
	}
	return b
}
