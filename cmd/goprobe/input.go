package main

import (
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/nfgo/nftools/capture"
	"github.com/nfgo/nftools/capture/pcap"
	"github.com/nfgo/nftools/probe"
)

// openInput opens the interface (-i), stdin (-i -) or the file (--read)
// with the flow cache that o describes, whose flows go to p. Tests put a
// fake capture in its place.
var openInput = openCapture

// linkHeader is the link header size of each link type, as fprobe's table
// has it, for the "K=" of the options log line when -K is not given.
var linkHeader = map[capture.LinkType]int{
	capture.LinkNull: 4, capture.LinkLoop: 4, capture.LinkEthernet: 14,
	capture.LinkLinuxSLL: 16, capture.LinkLinuxSLL2: 20,
}

// openCapture opens the packet source o names and puts the decoder, the
// filter of a capture read and the flow cache behind it.
func openCapture(o *options, stdin io.Reader, p *probe.Probe) (input, inputInfo, error) {
	var (
		src       capture.Source
		name      = o.iface
		interrupt func()
		err       error
	)
	switch {
	case o.readFile != "":
		name = o.readFile
		// The meter's goroutines read the file ahead between them (see
		// probe/decoder.go).
		if src, err = capture.OpenFileShared(o.readFile); err != nil {
			return nil, inputInfo{}, fmt.Errorf("pcap_open_offline(): %w", err)
		}
	case o.iface == "-":
		var r io.Reader
		r, interrupt = interruptible(stdin)
		if src, err = capture.NewFileSource(r, "-"); err != nil {
			return nil, inputInfo{}, fmt.Errorf("pcap_open_offline(): %w", err)
		}
	default:
		if name == "" {
			// fprobe takes libpcap's first interface then.
			if name, err = pcap.DefaultInterface(); err != nil {
				return nil, inputInfo{}, fmt.Errorf("pcap_lookupdev(): %w", err)
			}
		}
		h, err := pcap.OpenLive(pcap.LiveConfig{Interface: name, Snaplen: o.snaplen, Promisc: o.promisc,
			BufferKB: o.bufferKB, Filter: o.filter})
		if err != nil {
			return nil, inputInfo{}, fmt.Errorf("pcap_open_live(): %w", err)
		}
		src = h
	}
	link := src.LinkType()
	cfg := probe.MeterConfig{
		Decoder: capture.Decoder{FixedLink: o.linkSize >= 0, LinkHeader: o.linkSize},
		Cache: capture.CacheConfig{Idle: o.idle, Active: o.active, Fragment: o.frag, MemoryKB: o.memoryKB,
			CountLink: o.withLink, Input: o.in, Output: o.out, Split32: o.version < 9},
		Interrupt: interrupt,
		// Reading ahead holds packets back until more arrive: right for a
		// file, whose next frames are at hand, wrong for a pipe (tcpdump -w -
		// | goprobe -i -) that may stay quiet for minutes with flows in it.
		// Live, libpcap hands over the kernel's ring a block of packets at
		// a time and an idle link ends a read within its timeout (0.1 s),
		// so reading ahead holds nothing back longer than that; and it
		// saves nearly a third of the processor time per packet, as the
		// cache's trips to memory overlap (on a veth pair at 200k
		// packets/s for 3 s, medians of three: 0.32 s of CPU without,
		// 0.21 s with; scripts/bench/goprobe-live.sh).
		ReadAhead: o.readFile != "" || o.iface != "-" || regularFile(stdin),
	}
	if o.filter != "" && o.stream() {
		// No kernel filters a capture read: libpcap's filter runs here,
		// on the frames as the file holds them.
		f, err := pcap.NewFilter(link, o.snaplen, o.filter)
		if err != nil {
			src.Close()
			return nil, inputInfo{}, fmt.Errorf("pcap_compile(): %v. Filter: %s", err, o.filter)
		}
		cfg.Filter = f.Match
	}
	k := o.linkSize
	if k < 0 {
		k = linkHeader[link]
	}
	return probe.NewCaptureMeter(src, cfg, p), inputInfo{Name: name, LinkName: link.String(), Link: int(link), LinkHeader: k}, nil
}

// regularFile reports whether r is an open regular file (goprobe -i - <
// capture.pcap), as opposed to a pipe, a socket or a terminal.
func regularFile(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode().IsRegular()
}

// interruptible returns stdin as a reader that Run can interrupt when
// goprobe is told to stop while the pipe is quiet: a file in non-blocking
// mode, which Go's poller reads and a deadline stops. Other readers are
// returned as they are, with no way to interrupt them.
func interruptible(stdin io.Reader) (io.Reader, func()) {
	f, ok := stdin.(*os.File)
	if !ok {
		return stdin, nil
	}
	if err := syscall.SetNonblock(int(f.Fd()), true); err != nil {
		return stdin, nil
	}
	nb := os.NewFile(f.Fd(), f.Name())
	return nb, func() { nb.SetReadDeadline(time.Now()) }
}
