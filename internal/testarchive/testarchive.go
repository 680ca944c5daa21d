// Package testarchive builds the flow archive the filter's differential
// tests read: every nfcapd 1.7.1 sample file, and two files of
// flowgen.Full flows, which carry every modeled element in some flows and
// not in others, under the idents "full" and "second". nfdump -R and
// godump -R read the directory's files in the same order.
package testarchive

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/internal/flowgen"
)

// GeneratedFlows is the number of flows in each generated file.
const GeneratedFlows = 4000

// Build fills dir with copies of the sample files (named by their sorted
// order, so that two samples of the same name do not collide) and the two
// generated files.
func Build(dir string, samples []string) error {
	samples = slices.Sorted(slices.Values(samples))
	for i, src := range samples {
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("nfcapd.2026010100%02d", i)), data, 0o644); err != nil {
			return err
		}
	}
	for i, ident := range []string{"full", "second"} {
		path := filepath.Join(dir, fmt.Sprintf("nfcapd.2026120100%02d", i))
		if err := writeFull(path, ident, uint64(i+1)); err != nil {
			return err
		}
	}
	return nil
}

func writeFull(path, ident string, seed uint64) error {
	w, err := flowfile.Create(path, flowfile.WriteOptions{Compression: flowfile.LZ4, Ident: ident})
	if err != nil {
		return err
	}
	g := flowgen.NewFull(seed, 1_795_555_903_000)
	for _, e := range g.Exporters() {
		if err := w.WriteExporter(&e); err != nil {
			w.Close()
			return err
		}
	}
	var r flow.Record
	for n := 0; n < GeneratedFlows; n++ {
		g.Next(&r)
		if err := w.WriteFlow(&r); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}
