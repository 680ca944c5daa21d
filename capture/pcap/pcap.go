// Package pcap captures live through libpcap (gopacket/pcap) for goprobe:
// promiscuous mode, snap length, kernel buffer, a BPF filter, a short read
// timeout so that the capture loop can expire flows on an idle link, and
// the kernel's drop counts. It also compiles filters without an interface
// (-f checked at start, and applied to capture files). Only goprobe imports
// it: gocapd and godump build without cgo.
package pcap

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/gopacket/pcap"

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
	h    *pcap.Handle
	name string
	link capture.LinkType
	recv uint64 // frames delivered by Next
}

var _ capture.Source = (*Handle)(nil)

// OpenLive opens an interface for capture. Its errors name the interface
// and carry libpcap's reason.
func OpenLive(cfg LiveConfig) (*Handle, error) {
	in, err := pcap.NewInactiveHandle(cfg.Interface)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Interface, err)
	}
	defer in.CleanUp()
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if cfg.Snaplen > 0 {
		if err := in.SetSnapLen(cfg.Snaplen); err != nil {
			return nil, fmt.Errorf("%s: snap length %d: %w", cfg.Interface, cfg.Snaplen, err)
		}
	}
	if err := in.SetPromisc(cfg.Promisc); err != nil {
		return nil, fmt.Errorf("%s: promiscuous mode: %w", cfg.Interface, err)
	}
	if cfg.BufferKB > 0 {
		if err := in.SetBufferSize(cfg.BufferKB << 10); err != nil {
			return nil, fmt.Errorf("%s: buffer of %d KiB: %w", cfg.Interface, cfg.BufferKB, err)
		}
	}
	if err := in.SetTimeout(timeout); err != nil {
		return nil, fmt.Errorf("%s: timeout: %w", cfg.Interface, err)
	}
	h, err := in.Activate()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Interface, err)
	}
	handle := &Handle{h: h, name: cfg.Interface, link: fromDLT(uint32(h.LinkType()))}
	if cfg.Filter != "" {
		if err := h.SetBPFFilter(cfg.Filter); err != nil {
			h.Close()
			return nil, fmt.Errorf("%s: filter %q: %w", cfg.Interface, cfg.Filter, err)
		}
	}
	return handle, nil
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
// timeout passed without one, and io.EOF once the handle is closed.
func (h *Handle) Next(f *capture.Frame) error {
	data, ci, err := h.h.ZeroCopyReadPacketData()
	switch {
	case err == nil:
	case errors.Is(err, pcap.NextErrorTimeoutExpired):
		return capture.ErrTimeout
	case errors.Is(err, io.EOF):
		return io.EOF
	default:
		return fmt.Errorf("%s: %w", h.name, err)
	}
	h.recv++
	f.Data, f.WireLen, f.Time, f.Link = data, ci.Length, ci.Timestamp.UnixNano(), h.link
	return nil
}

// LinkType is the interface's link type.
func (h *Handle) LinkType() capture.LinkType { return h.link }

// Stats returns the kernel's counts (pcap_stats): packets its filter
// passed, dropped for want of buffer space, and dropped by the interface.
// Where libpcap cannot tell, Received counts the frames Next delivered.
func (h *Handle) Stats() capture.SourceStats {
	s, err := h.h.Stats()
	if err != nil {
		return capture.SourceStats{Received: h.recv}
	}
	return capture.SourceStats{Received: uint64(s.PacketsReceived), Dropped: uint64(s.PacketsDropped), IfDropped: uint64(s.PacketsIfDropped)}
}

// Close stops the capture; a Next waiting in another goroutine returns
// within the timeout.
func (h *Handle) Close() error {
	h.h.Close()
	return nil
}

// pcapIfLoopback is libpcap's PCAP_IF_LOOPBACK flag of an interface.
const pcapIfLoopback = 1

// DefaultInterface returns the interface a probe captures on when none is
// named, as pcap_lookupdev(3) picks it: the first that libpcap lists and
// that is not a loopback.
func DefaultInterface() (string, error) {
	devs, err := pcap.FindAllDevs()
	if err != nil {
		return "", err
	}
	for _, d := range devs {
		if d.Flags&pcapIfLoopback == 0 && d.Name != "any" {
			return d.Name, nil
		}
	}
	return "", errors.New("no suitable device found")
}
