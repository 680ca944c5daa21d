package netflow

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
)

// TestV3SlotsCoverTargets: every target that is not core has its slot in
// the V3 record from flow.V3Places, but for the latency values (no plan
// takes them), and slotFields names the Record field setTarget fills for
// the target: the one field it leaves not zero.
func TestV3SlotsCoverTargets(t *testing.T) {
	latency := map[target]bool{tClientDelay: true, tServerDelay: true, tApplLatency: true}
	for tg := tNone + 1; tg < target(len(v3Slots)); tg++ {
		s, f := v3Slots[tg], slotFields[tg]
		switch {
		case coreOf(tg) >= 0:
			assert.Zero(t, s.width, "core target %d has a slot", tg)
			continue
		case latency[tg]:
			assert.Zero(t, s.width, "latency target %d has a slot", tg)
			continue
		}
		require.NotZero(t, s.width, "target %d has no slot", tg)
		p, ok := flow.V3PlaceOf(f.field, f.fam)
		require.True(t, ok)
		assert.Equal(t, v3Slot{p.Elem, p.Off, p.Width}, s, "target %d: %s", tg, f.field.Name())

		var r flow.Record
		setTarget(&r, tg, 0x0102030405060708, 0x1112131415161718)
		if f.fam != 0 {
			a := f.field.Addr(&r)
			assert.Equal(t, int(f.fam) == 4, a.Is4(), "target %d fills %s in family %d", tg, f.field.Name(), f.fam)
			assert.True(t, a.IsValid(), "target %d fills %s", tg, f.field.Name())
			f.field.SetAddr(&r, netip.Addr{})
		} else {
			assert.NotZero(t, f.field.Value(&r), "target %d fills %s", tg, f.field.Name())
			f.field.Set(&r, 0)
		}
		assert.Zero(t, r, "target %d fills %s and nothing else", tg, f.field.Name())
	}
	assert.Equal(t, target(len(v3Slots)), tMPLS1+10, "the slots end with the last MPLS label")
}

// TestV3CoreAtTablePlaces: the hand-written stores of a plan's frame (the
// exporter's address in buildFrame; the core values in writeCore, which
// runs per flow) put each value at its place in flow.V3Places, and
// writeCore leaves the generic element's other fields as the plan's steps
// stored them.
func TestV3CoreAtTablePlaces(t *testing.T) {
	for _, fam := range []uint8{4, 6} {
		addr := netip.MustParseAddr("192.0.2.77")
		exp := flow.ElemExporterIPv4
		if fam == 6 {
			addr, exp = netip.MustParseAddr("2001:db8::77:1"), flow.ElemExporterIPv6
		}
		e := &exporter{key: exporterKey{addr: addr}}
		set := flow.Elements(0).With(flow.ElemGeneric).With(flow.ElemIPv4).With(flow.ElemCounters).With(exp)
		var frame [V3Room]byte
		var elemAt [flow.MaxModeledElement + 1]int
		size := buildFrame(frame[:], &elemAt, set, 9, e)
		require.Equal(t, flow.V3HeaderSize+52+12+28+int(flow.ElemSize[exp]), size)
		require.Equal(t, genericAt, elemAt[flow.ElemGeneric]+flow.V3ElemHeaderSize, "the generic element comes first")

		r := flow.Record{EngineType: 0x11, EngineID: 0x12, ExporterID: 0x1314, Flags: 0x15,
			First: 0x2122232425262728, Last: 0x3132333435363738, Received: 0x4142434445464748,
			InPackets: 0x5152535455565758, InBytes: 0x6162636465666768, SrcPort: 0x7172, DstPort: 0x7374, Proto: 0x75,
			Flows: 0x8182838485868788, OutPackets: 0x9192939495969798, OutBytes: 0xa1a2a3a4a5a6a7a8,
			NFVersion: 9, Exporter: addr}
		writeCore(frame[:], &r, elemAt[flow.ElemCounters]+flow.V3ElemHeaderSize)
		fields := []flow.Field{flow.FieldEngineType, flow.FieldEngineID, flow.FieldExporterID, flow.FieldRecordFlags, flow.FieldNFVersion,
			flow.FieldFirst, flow.FieldLast, flow.FieldReceived, flow.FieldInPackets, flow.FieldInBytes,
			flow.FieldSrcPort, flow.FieldDstPort, flow.FieldProto,
			flow.FieldFlows, flow.FieldOutPackets, flow.FieldOutBytes, flow.FieldTCPFlags, flow.FieldFwdStatus, flow.FieldSrcTos}
		for _, f := range fields {
			p, ok := flow.V3PlaceOf(f, 0)
			require.True(t, ok, f.Name())
			at := int(p.Off)
			if p.Elem != 0 {
				at += elemAt[p.Elem] + flow.V3ElemHeaderSize
			}
			var v [8]byte
			copy(v[:], frame[at:at+int(p.Width)])
			want := f.Value(&r)
			if f == flow.FieldFlows {
				want = r.Flows // the stored count
			}
			assert.Equal(t, want, le.Uint64(v[:]), "%s", f.Name())
		}
		p, ok := flow.V3PlaceOf(flow.FieldRouter, fam)
		require.True(t, ok)
		at := elemAt[exp] + flow.V3ElemHeaderSize + int(p.Off)
		hi, lo := flow.AddrWords(addr)
		if fam == 4 {
			assert.Equal(t, uint32(lo), le.Uint32(frame[at:]), "the exporter's address")
		} else {
			assert.Equal(t, [2]uint64{hi, lo}, [2]uint64{le.Uint64(frame[at:]), le.Uint64(frame[at+8:])}, "the exporter's address")
		}
	}
}

// TestV5FrameLayout checks the places v5V3Records writes a v5 record's
// words at without looking: EXgenericFlow's payload after the record
// header, EXipv4Flow's addresses in the words at v5AddrWord, and the
// optional elements and the exporter's address from v5TailAt on, for
// every frame of an IPv4 and an IPv6 exporter.
func TestV5FrameLayout(t *testing.T) {
	for _, a := range []string{"192.0.2.1", "2001:db8::1"} {
		e := &exporter{key: exporterKey{version: 5, addr: netip.MustParseAddr(a)}}
		for k := 0; k < 8; k++ {
			f := newV5Frame(e, k)
			if got := binary.LittleEndian.Uint16(f.frame[genericAt-flow.V3ElemHeaderSize:]); got != flow.ElemGeneric {
				t.Errorf("%s frame %d: element %d before the generic payload", a, k, got)
			}
			at := genericAt - flow.V3ElemHeaderSize + int(flow.ElemSize[flow.ElemGeneric])
			if at != v5AddrWord || binary.LittleEndian.Uint16(f.frame[at:]) != flow.ElemIPv4 {
				t.Errorf("%s frame %d: EXipv4Flow at %d, not %d", a, k, at, v5AddrWord)
			}
			if end := at + int(flow.ElemSize[flow.ElemIPv4]); end > v5TailAt || f.size < v5TailAt {
				t.Errorf("%s frame %d: EXipv4Flow ends at %d, record at %d, tail from %d", a, k, end, f.size, v5TailAt)
			}
			for i, o := range []int{f.misc, f.as, f.nextHop} {
				if o != 0 && o < v5TailAt {
					t.Errorf("%s frame %d: an optional payload at %d, before the tail", a, k, o)
				}
				// v5Encode stores the values over the frame's bytes
				// there (8 bytes, 4 for the next hop), which must be
				// zeros.
				if n := []int{8, 8, 4}[i]; o != 0 && !bytes.Equal(f.frame[o:o+n], make([]byte, n)) {
					t.Errorf("%s frame %d: % x at %d, where v5Encode stores values", a, k, f.frame[o:o+n], o)
				}
			}
		}
	}
}
