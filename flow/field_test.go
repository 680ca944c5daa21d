package flow

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// setField gives field f of r a value that is not zero, the way a decoder
// would, and returns the number Value should then read.
func setField(r *Record, f Field) uint64 {
	switch f {
	case FieldFirst:
		r.First = 1000
		return 1000
	case FieldLast:
		r.Last = 2000
		return 2000
	case FieldReceived:
		r.Received = 3000
		return 3000
	case FieldDuration:
		r.First, r.Last = 1000, 1250
		return 250
	case FieldInPackets:
		r.InPackets = 7
		return 7
	case FieldInBytes:
		r.InBytes = 700
		return 700
	case FieldOutPackets:
		r.OutPackets = 5
		return 5
	case FieldOutBytes:
		r.OutBytes = 500
		return 500
	case FieldFlows:
		r.Flows = 3
		return 3
	case FieldSrcPort:
		r.SrcPort = 1234
		return 1234
	case FieldDstPort:
		r.DstPort = 80
		return 80
	case FieldICMPType:
		r.DstPort = 3<<8 | 1
		return 3
	case FieldICMPCode:
		r.DstPort = 3<<8 | 1
		return 1
	case FieldProto:
		r.Proto = 17
		return 17
	case FieldTCPFlags:
		r.TCPFlags = 0x12
		return 0x12
	case FieldFwdStatus:
		r.FwdStatus = 2
		return 2
	case FieldSrcTos:
		r.SrcTos = 0xb8
		return 0xb8
	case FieldDstTos:
		r.DstTos = 0x10
		return 0x10
	case FieldNFVersion:
		r.NFVersion = 9
		return 9
	case FieldRecordFlags:
		r.Flags = FlagSampled
		return FlagSampled
	case FieldIPv6:
		r.SrcAddr = netip.MustParseAddr("2001:db8::1")
		r.DstAddr = r.SrcAddr
		return 1
	case FieldEngineType:
		r.EngineType = 4
		return 4
	case FieldEngineID:
		r.EngineID = 5
		return 5
	case FieldExporterID:
		r.ExporterID = 2
		return 2
	case FieldInIf:
		r.Input = 11
		return 11
	case FieldOutIf:
		r.Output = 12
		return 12
	case FieldSrcMask:
		r.SrcMask = 24
		return 24
	case FieldDstMask:
		r.DstMask = 16
		return 16
	case FieldDir:
		r.Dir = 1
		return 1
	case FieldBiFlowDir:
		r.BiFlowDir = 2
		return 2
	case FieldEndReason:
		r.EndReason = 3
		return 3
	case FieldRevTCPFlags:
		r.RevTCPFlags = 0x11
		return 0x11
	case FieldSrcVLAN:
		r.SrcVLAN = 0x10064 // nfdump keeps 16 bits
		return 100
	case FieldDstVLAN:
		r.DstVLAN = 200
		return 200
	case FieldSrcAS:
		r.SrcAS = 65001
		return 65001
	case FieldDstAS:
		r.DstAS = 65002
		return 65002
	case FieldNextAS:
		r.NextAS = 65003
		return 65003
	case FieldPrevAS:
		r.PrevAS = 65004
		return 65004
	case FieldInSrcMAC:
		r.InSrcMAC = 0x0a0b0c0d0e0f
		return 0x0a0b0c0d0e0f
	case FieldOutDstMAC:
		r.OutDstMAC = 1
		return 1
	case FieldInDstMAC:
		r.InDstMAC = 2
		return 2
	case FieldOutSrcMAC:
		r.OutSrcMAC = 3
		return 3
	case FieldClientLatency:
		r.ClientNwDelay = 1500
		return 1500
	case FieldServerLatency:
		r.ServerNwDelay = 2500
		return 2500
	case FieldApplLatency:
		r.ApplLatency = 3500
		return 3500
	case FieldSrcAddr:
		r.SrcAddr = netip.MustParseAddr("10.1.2.3")
		return 0x0a010203
	case FieldDstAddr:
		r.DstAddr = netip.MustParseAddr("10.1.2.4")
		return 0x0a010204
	case FieldIPNextHop:
		r.IPNextHop = netip.MustParseAddr("10.1.2.5")
		return 0x0a010205
	case FieldBGPNextHop:
		r.BGPNextHop = netip.MustParseAddr("10.1.2.6")
		return 0x0a010206
	case FieldRouter:
		r.Exporter = netip.MustParseAddr("10.1.2.7")
		return 0x0a010207
	}
	if f >= FieldMPLS1 && f <= FieldMPLS10 {
		r.MPLS[f-FieldMPLS1] = uint32(f-FieldMPLS1+1)<<4 | 1
		return uint64(f-FieldMPLS1+1)<<4 | 1
	}
	panic("setField: no case for " + f.Name())
}

// TestFieldValue checks every field reads the value set into its Record
// field, and that every other field of that record reads what it reads on
// an empty record: a field reads exactly one place.
func TestFieldValue(t *testing.T) {
	var empty Record
	for f := FieldFirst; f < NumFields; f++ {
		var r Record
		want := setField(&r, f)
		assert.Equal(t, want, f.Value(&r), "field %s", f.Name())
		for g := FieldFirst; g < NumFields; g++ {
			if g == f || related(f, g) {
				continue
			}
			assert.Equal(t, g.Value(&empty), g.Value(&r), "setting %s changed %s", f.Name(), g.Name())
		}
	}
}

// TestFieldSet checks that Set and SetAddr store what Value and Addr
// read, in the one place they read, for every field that is stored, and
// leave the record alone for the derived ones.
func TestFieldSet(t *testing.T) {
	for f := FieldFirst; f < NumFields; f++ {
		var src Record
		setField(&src, f)
		var r Record
		switch {
		case f.Kind() == KindAddr:
			f.SetAddr(&r, f.Addr(&src))
			assert.Equal(t, f.Addr(&src), f.Addr(&r), "field %s", f.Name())
		case f == FieldDuration || f == FieldICMPType || f == FieldICMPCode || f == FieldIPv6 || f == FieldFlows:
			f.Set(&r, f.Value(&src))
			assert.Equal(t, Record{}, r, "%s is derived, not stored", f.Name())
			continue
		default:
			f.Set(&r, f.Value(&src))
			assert.Equal(t, f.Value(&src), f.Value(&r), "field %s", f.Name())
		}
		for g := FieldFirst; g < NumFields; g++ {
			if g != f && !related(f, g) {
				assert.Equal(t, g.Value(&Record{}), g.Value(&r), "setting %s changed %s", f.Name(), g.Name())
			}
		}
	}
}

// TestFieldKeyValue checks nfdump's key masks: 12 label bits of the odd
// MPLS entries, 20 of the even ones, nothing else changed.
func TestFieldKeyValue(t *testing.T) {
	r := Record{MPLS: [10]uint32{0xfffff3, 0xfffff3, 0x12345b}, SrcPort: 0xffff}
	assert.Equal(t, uint64(0xfff0), FieldMPLS1.KeyValue(&r))
	assert.Equal(t, uint64(0xfffff0), FieldMPLS2.KeyValue(&r))
	assert.Equal(t, uint64(0x3450), FieldMPLS3.KeyValue(&r))
	assert.Equal(t, uint64(0), FieldMPLS4.KeyValue(&r))
	assert.Equal(t, uint64(0xffff), FieldSrcPort.KeyValue(&r))
}

// related lists the fields that read the same Record field.
func related(f, g Field) bool {
	groups := [][]Field{
		{FieldFirst, FieldLast, FieldDuration},
		{FieldDstPort, FieldICMPType, FieldICMPCode},
		{FieldIPv6, FieldSrcAddr, FieldDstAddr},
	}
	for _, grp := range groups {
		var inF, inG bool
		for _, x := range grp {
			inF = inF || x == f
			inG = inG || x == g
		}
		if inF && inG {
			return true
		}
	}
	return false
}

// TestFieldElements checks the table against NeededElements: the element
// a writer stores for a field set alone is one the field says it lives in.
// Fields of the record header need none.
func TestFieldElements(t *testing.T) {
	base := (&Record{}).NeededElements()
	for f := FieldFirst; f < NumFields; f++ {
		var r Record
		setField(&r, f)
		added := r.NeededElements() &^ base
		switch f {
		case FieldNFVersion, FieldRecordFlags, FieldEngineType, FieldEngineID, FieldExporterID:
			assert.Zero(t, f.Elements(), "%s is in the record header", f.Name())
			continue
		}
		if added == 0 {
			// The generic element and the IPv4 element are always stored.
			added = base
		}
		assert.NotZero(t, added&f.Elements(), "%s: stored in %b, table says %b", f.Name(), added, f.Elements())
	}
}

func TestFieldByName(t *testing.T) {
	for f := FieldFirst; f < NumFields; f++ {
		got, ok := FieldByName(f.Name())
		require.True(t, ok, "field %d has no name", f)
		assert.Equal(t, f, got)
	}
	got, ok := FieldByName("SRCPORT")
	assert.True(t, ok)
	assert.Equal(t, FieldSrcPort, got)
	_, ok = FieldByName("nosuchfield")
	assert.False(t, ok)
}

func TestFieldAbsentReadsZero(t *testing.T) {
	var r Record
	for f := FieldFirst; f < NumFields; f++ {
		if f == FieldFlows {
			assert.Equal(t, uint64(1), f.Value(&r), "a flow record stands for one flow")
			continue
		}
		assert.Zero(t, f.Value(&r), "field %s", f.Name())
	}
}

func TestAddrWords(t *testing.T) {
	tests := []struct {
		addr   string
		hi, lo uint64
	}{
		{"", 0, 0},
		{"127.0.0.1", 0, 0x7f000001},
		{"::1", 0, 1},
		{"2001:db8::5", 0x20010db800000000, 5},
		{"::ffff:1.2.3.4", 0, 0xffff01020304},
	}
	for _, tt := range tests {
		var a netip.Addr
		if tt.addr != "" {
			a = netip.MustParseAddr(tt.addr)
		}
		hi, lo := AddrWords(a)
		assert.Equal(t, tt.hi, hi, tt.addr)
		assert.Equal(t, tt.lo, lo, tt.addr)
	}
}
