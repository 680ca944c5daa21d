package main

import (
	"fmt"
	"os"
	"runtime/trace"
)

// traceEnv names a file that receives a Go execution trace of the
// collection (go tool trace FILE): where the receive loop, the worker and
// the file writer run, wait for each other and wait for a processor. A
// developer's tool, left out of the man page; scripts/bench/gocapd.sh
// sets it with TRACE=1. The tracer costs CPU time of its own, so the
// figures of a traced run are not the collector's.
const traceEnv = "GOCAPD_TRACE"

// startTrace starts the trace that traceEnv asks for, if any, and returns
// the function that ends it.
func startTrace() (func(), error) {
	path := os.Getenv(traceEnv)
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", traceEnv, err)
	}
	if err := trace.Start(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", traceEnv, err)
	}
	return func() {
		trace.Stop()
		f.Close()
	}, nil
}
