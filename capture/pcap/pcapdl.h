// pcapdl.h: libpcap's functions as goprobe calls them, through pointers
// that pcapdl_load fills from the library it opens with dlopen(3) when a
// capture first needs it (see lib.go for why). Including this header
// after pcap.h turns each call to a libpcap function in the C code of
// this package into a call through its pointer.
#ifndef PCAPDL_H
#define PCAPDL_H

#include <stddef.h>
#include <pcap.h>

#define PCAPDL_FUNCS(X) \
	X(pcap_create) \
	X(pcap_close) \
	X(pcap_set_snaplen) \
	X(pcap_set_promisc) \
	X(pcap_set_buffer_size) \
	X(pcap_set_timeout) \
	X(pcap_activate) \
	X(pcap_statustostr) \
	X(pcap_geterr) \
	X(pcap_setnonblock) \
	X(pcap_datalink) \
	X(pcap_stats) \
	X(pcap_next_ex) \
	X(pcap_get_selectable_fd) \
	X(pcap_compile) \
	X(pcap_setfilter) \
	X(pcap_freecode) \
	X(pcap_findalldevs) \
	X(pcap_freealldevs) \
	X(pcap_fopen_offline) \
	X(pcap_offline_filter)

#define PCAPDL_DECLARE(name) extern __typeof__(name) *pcapdl_##name;
PCAPDL_FUNCS(PCAPDL_DECLARE)
#undef PCAPDL_DECLARE

// pcapdl_load opens libpcap and looks up every function above, once; it
// returns 0, or -1 with the loader's reason in err. The Go side calls it
// under a lock, until it has succeeded once.
int pcapdl_load(char *err, size_t errlen);

// pcapdl.c, which defines the pointers, names libpcap's functions
// themselves.
#ifndef PCAPDL_NO_RENAME
#define pcap_create (*pcapdl_pcap_create)
#define pcap_close (*pcapdl_pcap_close)
#define pcap_set_snaplen (*pcapdl_pcap_set_snaplen)
#define pcap_set_promisc (*pcapdl_pcap_set_promisc)
#define pcap_set_buffer_size (*pcapdl_pcap_set_buffer_size)
#define pcap_set_timeout (*pcapdl_pcap_set_timeout)
#define pcap_activate (*pcapdl_pcap_activate)
#define pcap_statustostr (*pcapdl_pcap_statustostr)
#define pcap_geterr (*pcapdl_pcap_geterr)
#define pcap_setnonblock (*pcapdl_pcap_setnonblock)
#define pcap_datalink (*pcapdl_pcap_datalink)
#define pcap_stats (*pcapdl_pcap_stats)
#define pcap_next_ex (*pcapdl_pcap_next_ex)
#define pcap_get_selectable_fd (*pcapdl_pcap_get_selectable_fd)
#define pcap_compile (*pcapdl_pcap_compile)
#define pcap_setfilter (*pcapdl_pcap_setfilter)
#define pcap_freecode (*pcapdl_pcap_freecode)
#define pcap_findalldevs (*pcapdl_pcap_findalldevs)
#define pcap_freealldevs (*pcapdl_pcap_freealldevs)
#define pcap_fopen_offline (*pcapdl_pcap_fopen_offline)
#define pcap_offline_filter (*pcapdl_pcap_offline_filter)
#endif

#endif
