package pcap

// This package stands in for gopacket/pcap (see the package doc for why),
// so it is checked against it: the tests may import gopacket/pcap, goprobe
// may not (cmd/goprobe's TestNoGopacket). Both read the same capture
// files and compile the same filters, and must agree on the link type, on
// every frame's bytes, lengths and time, on what a filter passes and on
// what libpcap refuses; live, both capture the same frames off the same
// interface.

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/gopacket/layers"
	gopcap "github.com/google/gopacket/pcap"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/nfgo/nftools/capture"
	"github.com/nfgo/nftools/internal/pktgen"
	"github.com/nfgo/nftools/internal/testutil"
)

// testCaptures lists the package's test captures and the shared ones the
// real nfcapd's tests used (Ethernet, cooked v1 in big-endian nanoseconds,
// a pcapng file of many link types).
func testCaptures(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../testdata/*.pcap*")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	shared := testutil.NfcapdSamples(t)
	return append(files, filepath.Join(shared, "lo.pcap"), filepath.Join(shared, "edge.pcap"))
}

// compared are the filters both compile for every file: protocols,
// ports, hosts, lengths, and bytes at offsets (which depend on the link
// header libpcap assumes for the link type).
var compared = []string{
	"ip", "ip6", "udp", "tcp", "icmp or icmp6", "tcp[tcpflags] & tcp-syn != 0",
	"udp port 53", "tcp dst port 80", "portrange 1000-2000", "host 127.0.0.1",
	"net 10.0.0.0/8", "greater 100", "less 64", "vlan", "ether[0] & 1 = 1",
	"ip[8] < 64", "ip6 and udp", "not ip and not ip6",
}

// TestFilesAgainstGopacket: capture's pure-Go reader (which goprobe's
// --read and -i - use) against libpcap's pcap_open_offline through
// gopacket/pcap, and our Filter against gopacket's BPF on every frame.
func TestFilesAgainstGopacket(t *testing.T) {
	for _, file := range testCaptures(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			if !compareFile(t, file) {
				// libpcap refuses a pcapng file at its first interface
				// of another link type (pcap_datalink has one per
				// handle), where ours reads on: each link type's frames,
				// as ours read them, go to a pcap file of their own and
				// are compared there.
				for _, part := range splitByLink(t, file) {
					t.Run(filepath.Base(part), func(t *testing.T) { assert.True(t, compareFile(t, part)) })
				}
			}
		})
	}
}

// compareFile reads file with both and compares every frame and every
// filter's answer on it. It returns false when libpcap refused a pcapng
// file of several link types, after checking that the file has them.
func compareFile(t *testing.T, file string) bool {
	g, err := gopcap.OpenOffline(file)
	require.NoError(t, err)
	defer g.Close()
	s, err := capture.OpenFile(file)
	require.NoError(t, err)
	defer s.Close()
	link := s.LinkType()
	// gopacket's LinkType is 8 bits wide: LINUX_SLL2 (276) comes out as
	// 20.
	assert.Equal(t, uint8(toDLT(link)), uint8(g.LinkType()), "link type")

	// The filters: ours compiled for the file's link type, gopacket's on
	// its handle; each compiles or fails alike.
	type pair struct {
		expr string
		ours *Filter
		bpf  *gopcap.BPF
	}
	var filters []pair
	for _, expr := range compared {
		ours, oerr := NewFilter(link, 262144, expr)
		bpf, gerr := g.NewBPF(expr)
		if gerr != nil {
			assert.EqualError(t, oerr, gerr.Error(), expr)
			continue
		}
		require.NoError(t, oerr, expr)
		defer ours.Close()
		filters = append(filters, pair{expr, ours, bpf})
	}
	require.NotEmpty(t, filters)

	var f capture.Frame
	frames, matched := 0, 0
	for {
		data, ci, gerr := g.ReadPacketData()
		if gerr != nil && !errors.Is(gerr, io.EOF) {
			require.ErrorContains(t, g.Error(), "different from the type of the first interface", "libpcap: %v", gerr)
			others := 0
			for s.Next(&f) == nil {
				if f.Link != link {
					others++
				}
			}
			require.Positive(t, others, "frames of other link types")
			return false
		}
		oerr := s.Next(&f)
		if gerr != nil {
			assert.ErrorIs(t, oerr, io.EOF, "frame %d: libpcap is at the end", frames+1)
			break
		}
		require.NoError(t, oerr, "frame %d", frames+1)
		frames++
		require.Equal(t, link, f.Link, "frame %d", frames)
		assert.Equal(t, data, f.Data, "frame %d", frames)
		assert.Equal(t, ci.Length, f.WireLen, "frame %d", frames)
		assert.Equal(t, ci.Timestamp.UnixNano(), f.Time, "frame %d", frames)
		for _, p := range filters {
			got := p.ours.Match(&f)
			assert.Equal(t, p.bpf.Matches(ci, data), got, "frame %d: %s", frames, p.expr)
			if got {
				matched++
			}
		}
	}
	assert.Positive(t, frames)
	assert.Positive(t, matched)
	return true
}

// splitByLink writes the frames of file into a pcap file per link type
// (nanosecond times), as our reader reads them, and returns their paths.
// Link types libpcap does not know are left out.
func splitByLink(t *testing.T, file string) []string {
	s, err := capture.OpenFile(file)
	require.NoError(t, err)
	defer s.Close()
	dir := t.TempDir()
	type part struct {
		path string
		f    *os.File
		w    *pktgen.Pcap
	}
	parts := map[capture.LinkType]*part{}
	var order []capture.LinkType
	var f capture.Frame
	for s.Next(&f) == nil {
		p := parts[f.Link]
		if p == nil {
			if gopcap.DatalinkValToName(toDLT(f.Link)) == "" {
				continue
			}
			p = &part{path: filepath.Join(dir, fmt.Sprintf("%s-%s.pcap", filepath.Base(file), f.Link))}
			p.f, err = os.Create(p.path)
			require.NoError(t, err)
			p.w = pktgen.NewPcap(p.f, uint32(f.Link), pktgen.PcapOptions{Nano: true})
			parts[f.Link] = p
			order = append(order, f.Link)
		}
		p.w.WriteRecord(f.Time, f.Data, f.WireLen)
	}
	var paths []string
	for _, l := range order {
		require.NoError(t, parts[l].w.Err())
		require.NoError(t, parts[l].f.Close())
		paths = append(paths, parts[l].path)
	}
	require.Greater(t, len(paths), 1)
	return paths
}

// TestCompileErrorsAgainstGopacket: an expression libpcap refuses is
// refused with the same message by both, whatever the link type.
func TestCompileErrorsAgainstGopacket(t *testing.T) {
	for _, tt := range []struct {
		link capture.LinkType
		expr string
	}{
		{capture.LinkEthernet, "tcp port"},
		{capture.LinkEthernet, "nosuchword"},
		{capture.LinkEthernet, "port 70000"},
		{capture.LinkRaw, "ether host 1:2:3:4:5:6"},
		{capture.LinkLinuxSLL, "vlan 5000"},
	} {
		_, oerr := NewFilter(tt.link, 256, tt.expr)
		_, gerr := gopcap.NewBPF(gopacketLink(tt.link), 256, tt.expr)
		require.Error(t, gerr, "%s on %v", tt.expr, tt.link)
		assert.EqualError(t, oerr, gerr.Error(), "%s on %v", tt.expr, tt.link)
	}
}

// toDLT turns a LINKTYPE_ number into libpcap's DLT_ number, which
// pcap_datalink and gopacket use.
func toDLT(link capture.LinkType) int {
	if link == capture.LinkRaw {
		return gopcap.DatalinkNameToVal("RAW") // 12, or 14 on BSD/OS
	}
	return int(link)
}

// gopacketLink is a link type as gopacket names it.
func gopacketLink(l capture.LinkType) layers.LinkType { return layers.LinkType(toDLT(l)) }

// TestLiveAgainstGopacket: ours and gopacket's live captures, open at once
// on the same interface with the same filter, see the same frames: the
// same link type, bytes and lengths, in the same order.
func TestLiveAgainstGopacket(t *testing.T) {
	vp := testutil.NewVethPair(t)
	const filter = "udp port 5003 or icmp"
	ours := open(t, vp, LiveConfig{Snaplen: 128, Filter: filter, Timeout: 20 * time.Millisecond})
	var g *gopcap.Handle
	var err error
	require.NoError(t, vp.A.Do(func() {
		var in *gopcap.InactiveHandle
		if in, err = gopcap.NewInactiveHandle(vp.IfA); err != nil {
			return
		}
		defer in.CleanUp()
		in.SetSnapLen(128)
		in.SetTimeout(20 * time.Millisecond)
		if g, err = in.Activate(); err == nil {
			err = g.SetBPFFilter(filter)
		}
	}))
	require.NoError(t, err)
	defer g.Close()
	assert.Equal(t, uint8(ours.LinkType()), uint8(g.LinkType()))

	// From B: datagrams of growing sizes (longer than the snap length
	// too), to a closed port, so that A answers with ICMP.
	const n = 20
	require.NoError(t, vp.B.Do(func() {
		var u net.Conn
		if u, err = net.Dial("udp4", vp.AddrA.String()+":5003"); err != nil {
			return
		}
		defer u.Close()
		for i := range n {
			if _, err = u.Write(make([]byte, 10+i*20)); errors.Is(err, unix.ECONNREFUSED) {
				err = nil // the port unreachable of the one before
			}
			if err != nil {
				return
			}
		}
	}))
	require.NoError(t, err)

	type frame struct {
		data    []byte
		wireLen int
	}
	var ourFrames, theirs []frame
	var f capture.Frame
	for deadline := time.Now().Add(10 * time.Second); len(ourFrames) < n && time.Now().Before(deadline); {
		switch err := ours.Next(&f); {
		case errors.Is(err, capture.ErrTimeout):
		case err != nil:
			t.Fatal(err)
		default:
			ourFrames = append(ourFrames, frame{append([]byte(nil), f.Data...), f.WireLen})
		}
	}
	for deadline := time.Now().Add(10 * time.Second); len(theirs) < len(ourFrames) && time.Now().Before(deadline); {
		data, ci, err := g.ReadPacketData()
		if errors.Is(err, gopcap.NextErrorTimeoutExpired) {
			continue
		}
		require.NoError(t, err)
		theirs = append(theirs, frame{data, ci.Length})
	}
	require.GreaterOrEqual(t, len(ourFrames), n, "the datagrams and their port unreachables")
	assert.Equal(t, theirs, ourFrames)
	for _, fr := range ourFrames {
		assert.LessOrEqual(t, len(fr.data), 128, "the snap length")
	}
}
