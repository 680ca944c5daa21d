package filter

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"github.com/nfgo/nftools/flow"
)

// noResolver keeps fuzzing off the network: every name fails to resolve.
type noResolver struct{}

func (noResolver) LookupHost(string) ([]netip.Addr, error) { return nil, errors.New("no lookups") }
func (noResolver) LookupAddr(netip.Addr) (string, error)   { return "", errors.New("no lookups") }

// fuzzOptions keep a fuzzed filter off the network and the file system.
func fuzzOptions() Options {
	return Options{
		Resolver: noResolver{},
		Open:     func(string) ([]byte, error) { return []byte("proto tcp"), nil },
		MaxText:  1 << 16,
	}
}

// recordFrom builds a flow from fuzz bytes, every field taken from them.
func recordFrom(b []byte) flow.Record {
	var buf [160]byte
	copy(buf[:], b)
	u64 := func(i int) uint64 { return binary.LittleEndian.Uint64(buf[i*8:]) }
	r := flow.Record{
		NFVersion: buf[0], EngineType: buf[1], EngineID: buf[2], ExporterID: uint16(buf[3]),
		First: u64(1), Last: u64(2), InPackets: u64(3), InBytes: u64(4), OutPackets: u64(5),
		Flows: u64(6), SrcPort: uint16(u64(7)), DstPort: uint16(u64(7) >> 16),
		Proto: buf[64], TCPFlags: buf[65], FwdStatus: buf[66], SrcTos: buf[67], DstTos: buf[68],
		Input: uint32(u64(9)), Output: uint32(u64(9) >> 32), SrcMask: buf[69], DstMask: buf[70], Dir: buf[71],
		SrcVLAN: uint32(u64(10)), DstVLAN: uint32(u64(10) >> 32), SrcAS: uint32(u64(11)), DstAS: uint32(u64(11) >> 32),
		InSrcMAC: u64(12) & 0xffffffffffff, OutDstMAC: u64(13) & 0xffffffffffff,
		ClientNwDelay: u64(14), ServerNwDelay: u64(15),
	}
	for i := range r.MPLS {
		r.MPLS[i] = uint32(buf[72+i]) << 4
	}
	r.MPLS[buf[82]%10] |= 1
	var a16 [16]byte
	copy(a16[:], buf[96:112])
	if buf[83]&1 == 0 {
		r.SrcAddr = netip.AddrFrom4([4]byte(a16[:4]))
		r.DstAddr = netip.AddrFrom4([4]byte(a16[4:8]))
	} else {
		r.SrcAddr = netip.AddrFrom16(a16)
		copy(a16[8:], buf[112:120])
		r.DstAddr = netip.AddrFrom16(a16)
	}
	if buf[83]&2 != 0 {
		r.IPNextHop = r.DstAddr
	}
	return r
}

// hasFlagsTest reports whether f tests flag letters, whose test under not
// is nfdump's any-of rather than the complement.
func hasFlagsTest(f *Filter) bool {
	for i := range f.blocks {
		if f.blocks[i].comp == cmpFlags {
			return true
		}
	}
	return false
}

// FuzzCompile compiles any text: no panic, errors carry a message, and a
// filter that compiles dumps and matches; "not (expr)" is its complement
// where nfdump's flags quirk does not apply.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"proto tcp and port 80", "not flags SA", "ip in [10.0.0.0/8 ::1, 1.2.3.4]",
		"(port 1 or port 2) %lbl and not net 2001:db8::/32", "mpls eos > 5 or vlan 0",
		"src and dst net 10.0.0.0 255.0.255.0", "@include x", "count < 5 # c\n and ident a",
		"first seen > 2024-01-01T10", "mac 0:1:2:3:4:5 or bpp 0", "((((any))))", "'x' \"y\"",
		"net 1.0.0.0/8 or net 2.2.0.0/16 or ip 3.3.3.3 or net 2001:db8::/32 or host 4.4.4.4 or dst net 5.0.0.0/8",
	} {
		f.Add(s, []byte("seed"))
	}
	f.Fuzz(func(t *testing.T, src string, rec []byte) {
		flt, err := Compile(src, fuzzOptions())
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("%q: empty error", src)
			}
			return
		}
		if err := flt.Dump(discard{}); err != nil {
			t.Fatal(err)
		}
		r := recordFrom(rec)
		m := flt.WithIdent("id").MatchCount(&r, 3)
		if hasFlagsTest(flt) || flt.start == 0 {
			return
		}
		inv, err := Compile("not ("+src+"\n)", fuzzOptions())
		if err != nil {
			return // a label or comment that does not survive the parentheses
		}
		if inv.WithIdent("id").MatchCount(&r, 3) == m {
			t.Fatalf("%q and its negation agree on %+v", src, r)
		}
	})
}

// FuzzMatch runs known filters on arbitrary flows: no panic, no
// difference between the record's ways in (Match, MatchCount with 0,
// MatchLabel).
func FuzzMatch(f *testing.F) {
	exprs := []string{
		"proto tcp and port 80", "net 10.0.0.0/8 or ip in [::1 2001:db8::/32]", "not flags SA or pps > 100",
		"mpls any 5 or mpls label3 > 7", "vlan 0 and mac 00:00:00:00:00:01 or as 0", "bpp 0 or bps > 1m",
		"(proto udp) %dns or (proto tcp) %tcp", "next ip 0.0.0.0 and dst port in [53 80]",
		// A chain of address tests that compiles into one folded block.
		"proto tcp and (net 1.0.0.0/8 or net 2.2.0.0/16 or ip 3.3.3.3 or net 2001:db8::/32 or src ip 4.4.4.4 or dst net 5.0.0.0/8)",
	}
	var filters []*Filter
	for _, e := range exprs {
		flt, err := Compile(e, fuzzOptions())
		if err != nil {
			f.Fatal(err)
		}
		filters = append(filters, flt)
	}
	f.Add([]byte("seed"))
	f.Fuzz(func(t *testing.T, rec []byte) {
		r := recordFrom(rec)
		for _, flt := range filters {
			m := flt.Match(&r)
			ok, _ := flt.MatchLabel(&r, 0)
			if m != flt.MatchCount(&r, 0) || m != ok {
				t.Fatalf("ways of matching disagree on %+v", r)
			}
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
