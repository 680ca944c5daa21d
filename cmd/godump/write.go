package main

import "github.com/nfgo/nftools/flowfile"

// newSink returns the -w file's sink (flowfile.Sink).
func newSink(o *options) *flowfile.Sink {
	return flowfile.NewSink(o.wfile, flowfile.WriteOptions{Compression: o.compression, Level: o.level})
}

// openSink creates the -w file once the run has read a file: with the
// ident of the first file read or, for aggregated or sorted flows, the
// ident "none" that nfdump then gives it.
func openSink(w *flowfile.Sink, s *scan, sorted bool) error {
	ident := ""
	switch {
	case sorted:
		ident = "none"
	case s.hasID:
		ident = s.ident
	}
	return w.Open(ident)
}
