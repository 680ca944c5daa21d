// Package pcap captures live through libpcap for goprobe: promiscuous
// mode, snap length, kernel buffer, a BPF filter, a short read timeout so
// that the capture loop can expire flows on an idle link, and the kernel's
// drop counts. It also compiles filters without an interface (-f checked
// at start, and applied to capture files). Only goprobe imports it: gocapd
// and godump build without cgo.
//
// It calls libpcap through cgo itself rather than through gopacket/pcap:
// that package imports gopacket/layers, whose initialisation fills tables
// of 65536 entries at every start, 53 ms and 14 MB of goprobe's resident
// memory (17 MB for goprobe -h against 3 MB without it), more than
// softflowd uses for a whole capture. The calls are the ones gopacket makes
// (pcap_create, pcap_activate, pcap_next_ex, pcap_stats), and the tests
// check ours against gopacket/pcap: the same frames live and from files,
// the same filter matches and compile errors.
package pcap

/*
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include "pcapdl.h"

// pkt is what next reads: the frame and its header's fields.
typedef struct {
	const u_char *data;
	unsigned caplen, len;
	long long sec, usec;
} pkt;

// next reads the next frame into *o and returns pcap_next_ex's result.
// The handle is non-blocking: with nothing to read, next waits up to msec
// for the capture's descriptor and tries once more. (A blocking
// pcap_next_ex may never come back on an idle link: Linux's packet ring
// hands over a block on its timeout only once a packet is in it.)
static int next(pcap_t *p, pkt *o, int msec) {
	struct pcap_pkthdr *h;
	int rc = pcap_next_ex(p, &h, &o->data);
	if (rc == 0) {
		struct pollfd fd = { pcap_get_selectable_fd(p), POLLIN, 0 };
		if (fd.fd >= 0)
			poll(&fd, 1, msec);
		rc = pcap_next_ex(p, &h, &o->data);
	}
	if (rc == 1) {
		o->caplen = h->caplen;
		o->len = h->len;
		o->sec = h->ts.tv_sec;
		o->usec = h->ts.tv_usec;
	}
	return rc;
}

// setfilter compiles expr on p and puts it in place; on failure libpcap's
// message is in pcap_geterr(p).
static int setfilter(pcap_t *p, const char *expr) {
	struct bpf_program prog;
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0)
		return -1;
	int rc = pcap_setfilter(p, &prog);
	pcap_freecode(&prog);
	return rc;
}

// firstdev copies the name of the first interface that is neither a
// loopback nor "any" into name; it returns 1 when there is one, 0 when
// there is none, -1 with the reason in err.
static int firstdev(char *name, size_t namelen, char *err) {
	pcap_if_t *all, *d;
	if (pcap_findalldevs(&all, err) < 0)
		return -1;
	int found = 0;
	for (d = all; d != NULL; d = d->next) {
		if ((d->flags & PCAP_IF_LOOPBACK) || strcmp(d->name, "any") == 0)
			continue;
		snprintf(name, namelen, "%s", d->name);
		found = 1;
		break;
	}
	pcap_freealldevs(all);
	return found;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
	"unsafe"

	"github.com/nfgo/nftools/capture"
)

// LiveConfig says how to open an interface.
type LiveConfig struct {
	Interface string        // a name as libpcap knows it ("any" works)
	Snaplen   int           // bytes kept of each frame (fprobe's -S; 0: libpcap's 262144)
	Promisc   bool          // put the interface into promiscuous mode (fprobe's default; -p clears it)
	BufferKB  int           // kernel buffer, KiB (-B; 0: libpcap's default)
	Filter    string        // BPF expression, tcpdump's syntax (-f)
	Timeout   time.Duration // longest wait for a packet before Next says ErrTimeout (0: DefaultTimeout)
}

// DefaultTimeout is the read timeout when the config gives none: short
// enough for expiry scans on an idle link, long enough to batch packets.
const DefaultTimeout = 100 * time.Millisecond

// Handle is a live capture; it implements capture.Source.
type Handle struct {
	mu   sync.Mutex // held by Next; Close waits for it
	p    *C.pcap_t  // nil once closed
	out  C.pkt      // Next's result, kept here so that reading allocates nothing
	name string
	link capture.LinkType
	wait C.int  // the read timeout, ms
	recv uint64 // frames delivered by Next
}

var _ capture.Source = (*Handle)(nil)

// OpenLive opens an interface for capture. Its errors name the interface
// and carry libpcap's reason.
func OpenLive(cfg LiveConfig) (*Handle, error) {
	if err := load(); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Interface, err)
	}
	name := C.CString(cfg.Interface)
	defer C.free(unsafe.Pointer(name))
	var errbuf [C.PCAP_ERRBUF_SIZE]C.char
	p := C.pcap_create(name, &errbuf[0])
	if p == nil {
		return nil, fmt.Errorf("%s: %s", cfg.Interface, C.GoString(&errbuf[0]))
	}
	ok := false
	defer func() {
		if !ok {
			C.pcap_close(p)
		}
	}()
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	// Before activation these only record the settings; they fail only
	// on an active handle.
	if cfg.Snaplen > 0 {
		C.pcap_set_snaplen(p, C.int(cfg.Snaplen))
	}
	promisc := C.int(0)
	if cfg.Promisc {
		promisc = 1
	}
	C.pcap_set_promisc(p, promisc)
	if cfg.BufferKB > 0 {
		C.pcap_set_buffer_size(p, C.int(cfg.BufferKB<<10))
	}
	C.pcap_set_timeout(p, C.int(timeout.Milliseconds()))
	if rc := C.pcap_activate(p); rc < 0 {
		// A warning (rc > 0) leaves a working capture; an error says why
		// in a status and, for most, in a message of its own.
		msg := C.GoString(C.pcap_statustostr(rc))
		if detail := C.GoString(C.pcap_geterr(p)); detail != "" && detail != msg {
			msg += " (" + detail + ")"
		}
		return nil, fmt.Errorf("%s: %s", cfg.Interface, msg)
	}
	if C.pcap_setnonblock(p, 1, &errbuf[0]) < 0 {
		return nil, fmt.Errorf("%s: %s", cfg.Interface, C.GoString(&errbuf[0]))
	}
	if cfg.Filter != "" {
		expr := C.CString(cfg.Filter)
		defer C.free(unsafe.Pointer(expr))
		if C.setfilter(p, expr) < 0 {
			return nil, fmt.Errorf("%s: filter %q: %s", cfg.Interface, cfg.Filter, C.GoString(C.pcap_geterr(p)))
		}
	}
	ok = true
	return &Handle{p: p, name: cfg.Interface, link: fromDLT(uint32(C.pcap_datalink(p))), wait: C.int(timeout.Milliseconds())}, nil
}

// fromDLT turns libpcap's DLT_ number into the LINKTYPE_ number of the
// capture files, where they differ.
func fromDLT(dlt uint32) capture.LinkType {
	switch dlt {
	case 12, 14: // DLT_RAW (14 on OpenBSD)
		return capture.LinkRaw
	}
	return capture.LinkType(dlt)
}

// Next fills f with the next frame; it returns capture.ErrTimeout when the
// timeout passed without one, and io.EOF once the handle is closed. The
// frame's data are libpcap's buffer, valid until the next call.
func (h *Handle) Next(f *capture.Frame) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.p == nil {
		return io.EOF
	}
	switch rc := C.next(h.p, &h.out, h.wait); rc {
	case 1:
	case 0:
		return capture.ErrTimeout
	case C.PCAP_ERROR_BREAK:
		return io.EOF
	default:
		return fmt.Errorf("%s: %s", h.name, C.GoString(C.pcap_geterr(h.p)))
	}
	h.recv++
	f.Data = unsafe.Slice((*byte)(unsafe.Pointer(h.out.data)), int(h.out.caplen))
	f.WireLen = int(h.out.len)
	f.Time = int64(h.out.sec)*1e9 + int64(h.out.usec)*1e3
	f.Link = h.link
	return nil
}

// LinkType is the interface's link type.
func (h *Handle) LinkType() capture.LinkType { return h.link }

// Stats returns the kernel's counts (pcap_stats): packets its filter
// passed, dropped for want of buffer space, and dropped by the interface.
// Where libpcap cannot tell, Received counts the frames Next delivered.
func (h *Handle) Stats() capture.SourceStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	var st C.struct_pcap_stat
	if h.p == nil || C.pcap_stats(h.p, &st) < 0 {
		return capture.SourceStats{Received: h.recv}
	}
	return capture.SourceStats{Received: uint64(st.ps_recv), Dropped: uint64(st.ps_drop), IfDropped: uint64(st.ps_ifdrop)}
}

// Close stops the capture; a Next waiting in another goroutine returns
// within the timeout, and Close waits for it.
func (h *Handle) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.p != nil {
		C.pcap_close(h.p)
		h.p = nil
	}
	return nil
}

// DefaultInterface returns the interface a probe captures on when none is
// named, as pcap_lookupdev(3) picks it: the first that libpcap lists and
// that is not a loopback.
func DefaultInterface() (string, error) {
	if err := load(); err != nil {
		return "", err
	}
	var name [256]C.char
	var errbuf [C.PCAP_ERRBUF_SIZE]C.char
	switch C.firstdev(&name[0], C.size_t(len(name)), &errbuf[0]) {
	case 1:
		return C.GoString(&name[0]), nil
	case 0:
		return "", errors.New("no suitable device found")
	default:
		return "", errors.New(C.GoString(&errbuf[0]))
	}
}
