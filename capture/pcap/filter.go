package pcap

/*
#cgo linux LDFLAGS: -lpcap
#cgo darwin LDFLAGS: -lpcap
#cgo freebsd LDFLAGS: -lpcap
#include <stdio.h>
#include <stdlib.h>
#include <pcap.h>

// compile compiles expr for a link type without an interface; on failure
// it copies libpcap's message into err.
static int compile(int dlt, int snaplen, const char *expr, struct bpf_program *prog, char *err, size_t errlen) {
	pcap_t *p = pcap_open_dead(dlt, snaplen);
	if (p == NULL) {
		snprintf(err, errlen, "link type %d is unknown to libpcap", dlt);
		return -1;
	}
	int rc = pcap_compile(p, prog, expr, 1, PCAP_NETMASK_UNKNOWN);
	if (rc < 0)
		snprintf(err, errlen, "%s", pcap_geterr(p));
	pcap_close(p);
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
// take link types of 8 bits: tcpdump -i any writes LINUX_SLL2 (276).
type Filter struct {
	prog C.struct_bpf_program
}

// NewFilter compiles expr (tcpdump's syntax) for frames of link type link
// cut to snaplen bytes. The error is libpcap's message.
func NewFilter(link capture.LinkType, snaplen int, expr string) (*Filter, error) {
	if snaplen <= 0 {
		snaplen = 262144
	}
	cexpr := C.CString(expr)
	defer C.free(unsafe.Pointer(cexpr))
	var msg [C.PCAP_ERRBUF_SIZE]C.char
	f := &Filter{}
	if C.compile(C.int(toDLT(link)), C.int(snaplen), cexpr, &f.prog, &msg[0], C.size_t(len(msg))) < 0 {
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

// toDLT turns a LINKTYPE_ number into libpcap's DLT_ number.
func toDLT(link capture.LinkType) int {
	if link == capture.LinkRaw {
		return C.DLT_RAW
	}
	return int(link)
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
