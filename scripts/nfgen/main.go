// Command nfgen writes nfdump flow files for demos and benchmarks: either
// generated flows (-n) or a copy of an existing flow file (-copy), in any
// compression. It is a developer tool; it is not installed. The flows come
// in one of two shapes (-shape): home, a few hundred hosts on a few
// services behind one exporter, or border, an edge router's mix of many
// exporters, hosts and ports (see internal/flowgen).
//
//	nfgen -n 100000 -z lz4 -I demo -o /tmp/nfcapd.202611242140
//	nfgen -n 250000 -shape border -seed 3 -o /tmp/nfcapd.202611242145
//	nfgen -copy nfcapd.202611242140 -z lzo -o /tmp/copy
//	nfgen -full -n 20000 -o /tmp/full    # every element present in some flows
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/internal/flowgen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "nfgen:", err)
		os.Exit(1)
	}
}

func run() error {
	n := flag.Int("n", 1000, "number of flows to generate")
	out := flag.String("o", "", "output file (required)")
	comp := flag.String("z", "lz4", "compression: none, lzo, bz2, lz4, zstd, with :level")
	ident := flag.String("I", "nfgen", "ident stored in the file")
	seed := flag.Uint64("seed", 1, "random seed")
	start := flag.String("start", "2026-11-24T21:40:00Z", "time of the first flow (RFC 3339)")
	copyFrom := flag.String("copy", "", "copy the records of this flow file instead of generating")
	full := flag.Bool("full", false, "generate flows that carry every modeled element in some flows and not in others (filter tests)")
	shape := flag.String("shape", "home", "shape of the generated flows: home or border")
	flag.Parse()
	if *out == "" {
		return errors.New("-o is required")
	}
	c, level, err := flowfile.ParseCompression(*comp)
	if err != nil {
		return err
	}
	wo := flowfile.WriteOptions{Compression: c, Level: level, Ident: *ident}
	if *copyFrom != "" {
		wo.Count = flowfile.CountNone // copyFile keeps the source's record
	}
	w, err := flowfile.Create(*out, wo)
	if err != nil {
		return err
	}
	identSet := false
	flag.Visit(func(f *flag.Flag) { identSet = identSet || f.Name == "I" })
	switch {
	case *copyFrom != "":
		err = copyFile(w, *copyFrom, !identSet)
	case *full:
		err = generateFull(w, *n, *seed, *start)
	default:
		err = generate(w, *shape, *n, *seed, *start)
	}
	if err != nil {
		w.Close()
		os.Remove(*out)
		return err
	}
	return w.Close()
}

// source is a flow generator of either shape.
type source interface{ Next(r *flow.Record) }

// generate writes n flows of the shape and, as a collector does, the
// exporters they came from and a statistics record per exporter.
func generate(w *flowfile.Writer, shape string, n int, seed uint64, start string) error {
	t, err := time.Parse(time.RFC3339, start)
	if err != nil {
		return fmt.Errorf("-start: %w", err)
	}
	var (
		g         source
		exporters []flow.Exporter
	)
	switch shape {
	case "home":
		h := flowgen.New(seed, uint64(t.UnixMilli()))
		g, exporters = h, []flow.Exporter{h.Exporter()}
	case "border":
		b := flowgen.NewBorder(seed, uint64(t.UnixMilli()))
		g, exporters = b, b.Exporters()
	default:
		return fmt.Errorf("-shape %q: not home or border", shape)
	}
	stats := make([]flow.ExporterStat, len(exporters))
	for i := range exporters {
		if err := w.WriteExporter(&exporters[i]); err != nil {
			return err
		}
		stats[i].SysID = uint32(exporters[i].SysID)
	}
	var r flow.Record
	for i := 0; i < n; i++ {
		g.Next(&r)
		stats[r.ExporterID-1].Flows++
		if err := w.WriteFlow(&r); err != nil {
			return err
		}
	}
	// About 30 flows fill a datagram.
	for i := range stats {
		stats[i].Packets = stats[i].Flows/30 + 1
	}
	return w.WriteExporterStats(stats)
}

// generateFull writes n flows of flowgen.Full and its exporters.
func generateFull(w *flowfile.Writer, n int, seed uint64, start string) error {
	t, err := time.Parse(time.RFC3339, start)
	if err != nil {
		return fmt.Errorf("-start: %w", err)
	}
	g := flowgen.NewFull(seed, uint64(t.UnixMilli()))
	var stats []flow.ExporterStat
	for _, exp := range g.Exporters() {
		if err := w.WriteExporter(&exp); err != nil {
			return err
		}
		stats = append(stats, flow.ExporterStat{SysID: uint32(exp.SysID), Packets: uint64(n/90 + 1), Flows: uint64(n / 3)})
	}
	var r flow.Record
	for i := 0; i < n; i++ {
		g.Next(&r)
		if err := w.WriteFlow(&r); err != nil {
			return err
		}
	}
	return w.WriteExporterStats(stats)
}

// copyFile writes every record of the file at path, in order, and keeps its
// statistics record and, with keepIdent, its ident.
func copyFile(w *flowfile.Writer, path string, keepIdent bool) error {
	r, err := flowfile.Open(path, flowfile.ReadOptions{})
	if err != nil {
		return err
	}
	defer r.Close()
	if err := w.Copy(r); err != nil {
		return err
	}
	// Keep the source's counters: they include sequence failures and the
	// time slot of a file without flows.
	*w.Stat() = r.Stat()
	if ident, ok := r.Ident(); ok && keepIdent {
		return w.SetIdent(ident)
	}
	return nil
}
