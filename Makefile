# nftools: goprobe, gocapd and godump, drop-in replacements for fprobe,
# nfcapd and nfdump. `make demo` and `make test` work on a fresh machine.

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
# The services: systemd finds units under /usr/local/lib too; the
# /etc/default files are where the units read them, whatever the PREFIX.
SYSCONFDIR  ?= /etc
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
SERVICE_ENV  = DESTDIR='$(DESTDIR)' BINDIR='$(BINDIR)' SYSCONFDIR='$(SYSCONFDIR)' UNITDIR='$(UNITDIR)' SYSUSERSDIR='$(SYSUSERSDIR)'

# The machine's Go lives in /usr/local/go; CI's environment may not have it
# on PATH.
export PATH := $(PATH):/usr/local/go/bin

GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/nfgo/nftools/internal/version.Version=$(VERSION)
# urfave/cli's markdown and man page writers and its "did you mean"
# suggestions are unused; without them no start pays for their package
# initialisation (a markdown parser's tables and regular expressions, a
# sixth of what `godump -V` costs).
TAGS    := urfave_cli_no_docs,urfave_cli_no_suggest

BINS := bin/goprobe bin/gocapd bin/godump
# Man pages by section: goprobe replaces fprobe(8), a system command.
MANS1 := man/gocapd.1 man/godump.1
MANS8 := man/goprobe.8

.PHONY: all build test demo bench lint install uninstall deb deps clean FORCE

all: build

build: $(BINS)

# Only goprobe links libpcap; the collector and the reader are static.
# goprobe, dynamically linked, is position-independent as Debian's
# hardening asks of every such binary (lintian's hardening-no-pie). Its
# relocations, one for every pointer in the binary's data, are packed
# (RELR, glibc 2.36 and binutils 2.38 on) where the linker can: 550 KB
# less binary, and less resident memory by as much, as the loader reads
# them all at every start.
RELR := $(shell printf 'int main(void){return 0;}' | $${CC:-cc} -x c - -o /dev/null -Wl,-z,pack-relative-relocs 2>/dev/null && echo -extldflags=-Wl,-z,pack-relative-relocs)
bin/goprobe: FORCE
	CGO_ENABLED=1 $(GO) build -buildmode=pie -trimpath -tags '$(TAGS)' -ldflags '$(LDFLAGS) $(RELR)' -o $@ ./cmd/goprobe

# The floor under goprobe's memory for scripts/bench/goprobe.sh, built as
# goprobe is; not installed.
bin/rssfloor: FORCE
	CGO_ENABLED=1 $(GO) build -buildmode=pie -trimpath -ldflags '-s -w $(RELR)' -o $@ ./scripts/rssfloor

bin/gocapd bin/godump: FORCE
	CGO_ENABLED=0 $(GO) build -trimpath -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o $@ ./cmd/$(@F)

deps:
	scripts/deps.sh

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test: deps lint build
	scripts/check-install.sh
	$(GO) test -count=1 -timeout 30m ./...

demo: deps build
	scripts/demo.sh

bench: deps build
	scripts/bench/flowfile.sh
	scripts/bench/godump.sh
	scripts/bench/filter.sh
	scripts/bench/gocapd.sh
	scripts/bench/goprobe.sh
	if [ "$$(id -u)" = 0 ]; then scripts/bench/goprobe-live.sh; else echo "bench: goprobe-live.sh skipped (needs root)"; fi

install: build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)/
	install -m 0644 $(MANS1) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(MANS8) $(DESTDIR)$(MANDIR)/man8/
	$(SERVICE_ENV) scripts/service.sh install

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(BINS)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MANS1)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MANS8)))
	$(SERVICE_ENV) scripts/service.sh uninstall

# The Debian package: what make install puts under /usr and /etc, packed
# by scripts/mkdeb (nfpm). Debian versions start with a digit.
DEB_VERSION ?= 0.0~git$(subst -,.,$(VERSION))
DEBDIR      ?= bin
deb: build
	rm -rf bin/deb-stage
	$(MAKE) -s install DESTDIR=$(CURDIR)/bin/deb-stage PREFIX=/usr >/dev/null
	$(GO) run ./scripts/mkdeb -stage bin/deb-stage -version '$(DEB_VERSION)' -o '$(DEBDIR)'
	rm -rf bin/deb-stage

clean:
	rm -rf bin
