package filter

import "github.com/nfgo/nftools/flow"

// slot is a field's place in nfdump 1.7.1's master record on a
// little-endian machine (nfdump.h): the 64-bit word, the field's mask in
// it and the shift of its value to that mask. -X prints words, masks and
// shifted values, so the blocks keep them; the test reads the field from
// the flow.Record and shifts it into place.
type slot struct {
	offset uint32
	mask   uint64
	shift  uint8
	field  flow.Field
}

var (
	sNFVersion  = slot{0, 0x000000000000ff00, 8, flow.FieldNFVersion}
	sIPv6       = slot{0, 0x0000000000010000, 16, flow.FieldIPv6} // mflags bit V3_FLAG_IPV6_ADDR
	sFirst      = slot{1, ^uint64(0), 0, flow.FieldFirst}
	sLast       = slot{2, ^uint64(0), 0, flow.FieldLast}
	sPackets    = slot{4, ^uint64(0), 0, flow.FieldInPackets}
	sBytes      = slot{5, ^uint64(0), 0, flow.FieldInBytes}
	sSrcPort    = slot{6, 0x000000000000ffff, 0, flow.FieldSrcPort}
	sDstPort    = slot{6, 0x00000000ffff0000, 16, flow.FieldDstPort}
	sFwdStatus  = slot{6, 0x000000ff00000000, 32, flow.FieldFwdStatus}
	sFlags      = slot{6, 0x0000ff0000000000, 40, flow.FieldTCPFlags}
	sProto      = slot{6, 0x00ff000000000000, 48, flow.FieldProto}
	sTos        = slot{6, 0xff00000000000000, 56, flow.FieldSrcTos}
	sSysID      = slot{7, 0x000000000000ffff, 0, flow.FieldExporterID}
	sEngineType = slot{7, 0x0000000000ff0000, 16, flow.FieldEngineType}
	sEngineID   = slot{7, 0x00000000ff000000, 24, flow.FieldEngineID}
	sICMPCode   = slot{7, 0x00ff000000000000, 48, flow.FieldICMPCode}
	sICMPType   = slot{7, 0xff00000000000000, 56, flow.FieldICMPType}
	sCount      = slot{8, 0xffffffff00000000, 32, flow.FieldNone}
	sInIf       = slot{9, 0x00000000ffffffff, 0, flow.FieldInIf}
	sOutIf      = slot{9, 0xffffffff00000000, 32, flow.FieldOutIf}
	sSrcAS      = slot{10, 0x00000000ffffffff, 0, flow.FieldSrcAS}
	sDstAS      = slot{10, 0xffffffff00000000, 32, flow.FieldDstAS}
	sDstTos     = slot{20, 0x00000000000000ff, 0, flow.FieldDstTos}
	sDir        = slot{20, 0x000000000000ff00, 8, flow.FieldDir}
	sSrcMask    = slot{20, 0x0000000000ff0000, 16, flow.FieldSrcMask}
	sDstMask    = slot{20, 0x00000000ff000000, 24, flow.FieldDstMask}
	sSrcVLAN    = slot{20, 0x0000ffff00000000, 32, flow.FieldSrcVLAN}
	sDstVLAN    = slot{20, 0xffff000000000000, 48, flow.FieldDstVLAN}
	sOutPackets = slot{21, ^uint64(0), 0, flow.FieldOutPackets}
	sOutBytes   = slot{22, ^uint64(0), 0, flow.FieldOutBytes}
	sFlows      = slot{23, ^uint64(0), 0, flow.FieldFlows}
	sInSrcMAC   = slot{24, ^uint64(0), 0, flow.FieldInSrcMAC}
	sOutDstMAC  = slot{25, ^uint64(0), 0, flow.FieldOutDstMAC}
	sInDstMAC   = slot{26, ^uint64(0), 0, flow.FieldInDstMAC}
	sOutSrcMAC  = slot{27, ^uint64(0), 0, flow.FieldOutSrcMAC}
	sNextAS     = slot{35, 0x00000000ffffffff, 0, flow.FieldNextAS}
	sPrevAS     = slot{35, 0xffffffff00000000, 32, flow.FieldPrevAS}
	sClientLat  = slot{36, ^uint64(0), 0, flow.FieldClientLatency}
	sServerLat  = slot{37, ^uint64(0), 0, flow.FieldServerLatency}
	sApplLat    = slot{38, ^uint64(0), 0, flow.FieldApplLatency}
)

// addrSlot is an address field's two words (upper and lower half).
type addrSlot struct {
	hi, lo uint32
	field  flow.Field
}

var (
	aSrc     = addrSlot{11, 12, flow.FieldSrcAddr}
	aDst     = addrSlot{13, 14, flow.FieldDstAddr}
	aNextHop = addrSlot{16, 17, flow.FieldIPNextHop}
	aBGPNext = addrSlot{18, 19, flow.FieldBGPNextHop}
	aRouter  = addrSlot{33, 34, flow.FieldRouter}
)

// mplsWord is the word of MPLS label entry i (0-based): two entries a
// word, the even-numbered label (2, 4, ...) in the upper half.
func mplsSlot(i int) slot {
	s := slot{offset: 28 + uint32(i/2), mask: 0xffffffff, field: flow.FieldMPLS1 + flow.Field(i)}
	if i%2 == 1 {
		s.mask, s.shift = 0xffffffff00000000, 32
	}
	return s
}
