package pcap

/*
#cgo linux LDFLAGS: -ldl
#include <stdlib.h>
#include "pcapdl.h"
*/
import "C"

import (
	"errors"
	"sync"
)

// goprobe opens libpcap with dlopen(3) when it first captures live or
// compiles a filter, instead of linking it: linked, the dynamic loader
// maps libpcap and the eight libraries it needs (D-Bus, systemd, gcrypt,
// lzma, zstd, lz4, libcap, gpg-error) at every start, also for --read and
// -i -, which read capture files in Go and never call it. That was about
// 4 ms of a start's 20 ms of processor time and 1.1 MB of resident memory
// (scripts/bench/goprobe.sh's start-up and idle figures).
//
// Without cgo, opening libpcap through github.com/ebitengine/purego
// v0.11.3's Dlopen, goprobe would start no faster and sit no lower:
// purego's own stand-in for runtime/cgo (fakecgo) links the C library
// and its loader as cgo does, so the smallest program that can open
// libpcap either way costs the same (scripts/rssfloor against the same
// program on purego: 1.01x the processor time to start, paired medians
// of 60, and 3.4 to 3.6 MB resident both). Only a static Go program,
// without the C library, starts lower (0.64x the processor time, 1.9 MB
// resident): one that could not open libpcap at all, and so could not
// capture live or compile -f.
var lib struct {
	sync.Mutex
	loaded bool
}

// load opens libpcap once; until it succeeds every call tries again. Its
// error names the library and says why the loader refused it.
func load() error {
	lib.Lock()
	defer lib.Unlock()
	if lib.loaded {
		return nil
	}
	var msg [512]C.char
	if C.pcapdl_load(&msg[0], C.size_t(len(msg))) < 0 {
		return errors.New("cannot load libpcap: " + C.GoString(&msg[0]))
	}
	lib.loaded = true
	return nil
}
