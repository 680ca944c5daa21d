// The loader pcapdl.h declares.
#include <dlfcn.h>
#include <stdio.h>

#define PCAPDL_NO_RENAME
#include "pcapdl.h"

#define PCAPDL_DEFINE(name) __typeof__(name) *pcapdl_##name;
PCAPDL_FUNCS(PCAPDL_DEFINE)
#undef PCAPDL_DEFINE

// The names libpcap is installed under: Debian's and Ubuntu's (the one
// goprobe's package depends on) first, then other systems' and the
// development link's.
static const char *const names[] = {
#if defined(__APPLE__)
	"libpcap.A.dylib",
#else
	"libpcap.so.0.8",
	"libpcap.so.1",
	"libpcap.so.8",
#endif
	"libpcap.so",
};

int pcapdl_load(char *err, size_t errlen) {
	void *lib = NULL;
	for (size_t i = 0; i < sizeof names / sizeof names[0] && lib == NULL; i++) {
		lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
		// The first name's reason says most: it is the library the
		// package depends on.
		if (lib == NULL && i == 0)
			snprintf(err, errlen, "%s", dlerror());
	}
	if (lib == NULL)
		return -1;
#define PCAPDL_LOOKUP(name) \
	if ((pcapdl_##name = (__typeof__(name) *)dlsym(lib, #name)) == NULL) { \
		snprintf(err, errlen, "%s", dlerror()); \
		return -1; \
	}
	PCAPDL_FUNCS(PCAPDL_LOOKUP)
#undef PCAPDL_LOOKUP
	return 0;
}

// The libraries goprobe opens, as an ELF note that packaging tools read
// (the .note.dlopen of https://systemd.io/ELF_DLOPEN_METADATA/), since
// dlopen leaves libpcap out of the program's DT_NEEDED: scripts/mkdeb
// makes the package depend on them from it.
#define PCAPDL_NOTE "[{\"feature\":\"pcap\",\"description\":\"live capture and BPF filters\"," \
	"\"priority\":\"required\",\"soname\":[\"libpcap.so.0.8\"]}]"
__attribute__((used, section(".note.dlopen"), aligned(4))) static const struct {
	unsigned n_namesz, n_descsz, n_type;
	char name[4];
	char desc[(sizeof PCAPDL_NOTE + 3) & ~3];
} pcapdl_note = {4, sizeof PCAPDL_NOTE, 0x407c0c0a, "FDO", PCAPDL_NOTE};
