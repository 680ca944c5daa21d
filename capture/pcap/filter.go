package pcap

/*
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pcapdl.h"

// compile compiles expr as libpcap compiles it for a capture file of link
// type linktype (a LINKTYPE_ number) written in this host's byte order:
// on a handle opened on such a file's header. A dead handle would compile
// it as for a live capture, which differs: on BSD loopback (DLT_NULL),
// "ip6" then checks this host's AF_INET6 only, where a file's filter
// checks the values of every BSD, as fprobe's pcap_open_offline does. On
// failure it copies libpcap's message into err.
static int compile(unsigned linktype, int snaplen, const char *expr, struct bpf_program *prog, char *err, size_t errlen) {
	struct pcap_file_header h;
	memset(&h, 0, sizeof h);
	h.magic = 0xa1b2c3d4;
	h.version_major = PCAP_VERSION_MAJOR;
	h.version_minor = PCAP_VERSION_MINOR;
	h.snaplen = snaplen;
	h.linktype = linktype;
	FILE *f = fmemopen(&h, sizeof h, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "fmemopen: %s", strerror(errno));
		return -1;
	}
	char perr[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_fopen_offline(f, perr);
	if (p == NULL) {
		fclose(f);
		snprintf(err, errlen, "%s", perr);
		return -1;
	}
	int rc = pcap_compile(p, prog, expr, 1, PCAP_NETMASK_UNKNOWN);
	if (rc < 0)
		snprintf(err, errlen, "%s", pcap_geterr(p));
	pcap_close(p); // closes f
	return rc;
}

static int match(struct bpf_program *prog, const u_char *data, unsigned caplen, unsigned wirelen) {
	struct pcap_pkthdr h = {0};
	h.caplen = caplen;
	h.len = wirelen;
	return pcap_offline_filter(prog, &h, data);
}
*/
import "C"

import (
	"errors"
	"unsafe"

	"github.com/nfgo/nftools/capture"
)

// Filter is a compiled BPF filter that runs on frames in the process: for
// capture files and streams, which no kernel filters.
//
// It calls libpcap directly rather than through gopacket, whose filters
// take link types of 8 bits: tcpdump -i any writes LINUX_SLL2 (276). It is
// compiled as libpcap compiles the filter of a capture file, as fprobe -i
// - does on its pcap_open_offline handle.
type Filter struct {
	prog C.struct_bpf_program
}

// NewFilter compiles expr (tcpdump's syntax) for frames of link type link
// cut to snaplen bytes. The error is libpcap's message.
func NewFilter(link capture.LinkType, snaplen int, expr string) (*Filter, error) {
	if err := load(); err != nil {
		return nil, err
	}
	if snaplen <= 0 {
		snaplen = 262144
	}
	cexpr := C.CString(expr)
	defer C.free(unsafe.Pointer(cexpr))
	var msg [C.PCAP_ERRBUF_SIZE]C.char
	f := &Filter{}
	if C.compile(C.uint(link), C.int(snaplen), cexpr, &f.prog, &msg[0], C.size_t(len(msg))) < 0 {
		return nil, errors.New(C.GoString(&msg[0]))
	}
	return f, nil
}

// CompileFilter checks that expr compiles for link, as fprobe's -f is
// checked before anything starts.
func CompileFilter(link capture.LinkType, snaplen int, expr string) error {
	f, err := NewFilter(link, snaplen, expr)
	if err == nil {
		f.Close()
	}
	return err
}

// Match reports whether the filter passes frame f.
func (f *Filter) Match(fr *capture.Frame) bool {
	if len(fr.Data) == 0 {
		return C.match(&f.prog, nil, 0, C.uint(fr.WireLen)) != 0
	}
	return C.match(&f.prog, (*C.u_char)(unsafe.Pointer(&fr.Data[0])), C.uint(len(fr.Data)), C.uint(fr.WireLen)) != 0
}

// Close frees the compiled program.
func (f *Filter) Close() {
	C.pcap_freecode(&f.prog)
}
