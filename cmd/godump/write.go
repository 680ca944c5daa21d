package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
)

// writeSink writes the flows that passed to the -w file, with the
// exporter and sampler records the first time each is met, as nfdump does.
// The file is written under a temporary name and renamed into place when
// complete, so a reader never sees half a file.
type writeSink struct {
	o *options
	// sorted: the flows are aggregated or sorted (listAggregated), and
	// nfdump then gives the file the ident "none", not the input's.
	sorted    bool
	w         *flowfile.Writer
	exporters map[uint16]flow.Exporter
	samplers  map[flow.Sampler]bool
}

func tempName(final string) string {
	return filepath.Join(filepath.Dir(final), fmt.Sprintf(".%s.godump-%d", filepath.Base(final), os.Getpid()))
}

func (ws *writeSink) open(s *scan) error {
	if ws.w != nil {
		return nil
	}
	ident := ""
	switch {
	case ws.sorted:
		ident = "none"
	case s.hasID:
		ident = s.ident
	}
	w, err := flowfile.Create(tempName(ws.o.wfile), flowfile.WriteOptions{
		Compression: ws.o.compression, Level: ws.o.level, Ident: ident,
	})
	if err != nil {
		return err
	}
	ws.w = w
	ws.exporters = map[uint16]flow.Exporter{}
	ws.samplers = map[flow.Sampler]bool{}
	return nil
}

func (ws *writeSink) add(kind flowfile.Kind, r *flowfile.Reader, s *scan) error {
	if err := ws.open(s); err != nil {
		return err
	}
	switch kind {
	case flowfile.KindFlow:
		return ws.w.WriteFlow(r.Flow())
	case flowfile.KindExporter:
		e := *r.Exporter()
		if _, seen := ws.exporters[e.SysID]; seen {
			return nil
		}
		ws.exporters[e.SysID] = e
		return ws.w.WriteExporter(&e)
	case flowfile.KindSampler:
		sm := *r.Sampler()
		if ws.samplers[sm] {
			return nil
		}
		ws.samplers[sm] = true
		return ws.w.WriteSampler(&sm)
	}
	return nil
}

// close finishes the file; with no file read at all none is written, as
// with nfdump.
func (ws *writeSink) close() error {
	if ws.w == nil {
		return nil
	}
	if err := ws.w.CloseAs(ws.o.wfile); err != nil {
		os.Remove(ws.w.Name())
		return err
	}
	return nil
}
