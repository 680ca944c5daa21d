package netflow_test

import (
	"testing"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/netflow"
)

// fuzzDecode feeds a datagram twice to a fresh decoder (so a datagram
// carrying templates and data exercises both) and checks it never panics.
func fuzzDecode(f *testing.F, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		d := netflow.NewDecoder(netflow.Options{DefaultSampling: 3})
		for i := 0; i < 2; i++ {
			_ = d.Decode(pkt, lo, when, nopHandler{})
		}
		_ = d.TakeStats()
	})
}

type nopHandler struct{}

func (nopHandler) Flow(*flow.Record)          {}
func (nopHandler) NewExporter(*flow.Exporter) {}
func (nopHandler) Sampler(*flow.Sampler)      {}

func FuzzV1(f *testing.F) { fuzzDecode(f, cat(u16(1), u16(1), make([]byte, 12+48))) }
func FuzzV5(f *testing.F) { fuzzDecode(f, v5Datagram(1, 0x4005)) }
func FuzzV9(f *testing.F) { fuzzDecode(f, cat(v9Template(), v9Data(1, 2)[20:])) }
func FuzzIPFIX(f *testing.F) {
	fuzzDecode(f, ipfixMsg(0, cat(u16(2), u16(12), u16(300), u16(1), u16(8), u16(4))))
}
