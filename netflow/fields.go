package netflow

import "github.com/nfgo/nftools/flow"

// target is the Record field an information element lands in.
type target uint8

const (
	tNone target = iota // element created (or not), value not modelled
	tInBytes
	tInPackets
	tFlows
	tProto
	tSrcTos
	tFwdStatus
	tTCPFlags
	tSrcPort
	tDstPort
	tSrc4
	tDst4
	tSrc6
	tDst6
	tSrcMask
	tDstMask
	tInput
	tOutput
	tNextHop4
	tNextHop6
	tBGP4
	tBGP6
	tSrcAS
	tDstAS
	tFirst
	tLast
	tOutBytes
	tOutPackets
	tDstTos
	tInSrcMAC
	tOutDstMAC
	tInDstMAC
	tOutSrcMAC
	tSrcVLAN
	tDstVLAN
	tDir
	tBiDir
	tEndReason
	tNextAS
	tPrevAS
	tClientDelay
	tServerDelay
	tApplLatency
	tMPLS1 // tMPLS1 + i for label i+1
)

// stack slots: values an element passes to the post-processing of a record
// instead of (or besides) a Record field.
const (
	sNone = iota
	sICMP
	sICMPType
	sICMPCode
	sFirstUp // v9 #22; IPFIX #21 (sic, nfcapd swaps them)
	sLastUp  // v9 #21; IPFIX #22
	sSampler
	sEventMsec
	sSysInit
	sClientSec
	sServerSec
	sApplSec
	sEngineType
	sEngineID
	sDstPort
	sDuration
	numStack
)

// ie maps one information element to what nfcapd 1.7.1 makes of it.
type ie struct {
	elem    uint8  // V3 element the value goes into; 0: none (EXnull)
	target  target // Record field, tNone for elements beyond 17 or stack-only
	outLen  uint8  // size of the field in nfdump's element: values are truncated to it
	stack   uint8  // stack slot, sNone for none
	varOut  bool   // output takes the input's length (payloads)
	present bool
}

func m(elem int, t target, outLen int) ie {
	return ie{elem: uint8(elem), target: t, outLen: uint8(outLen), present: true}
}

func st(elem int, slot int) ie { return ie{elem: uint8(elem), stack: uint8(slot), present: true} }

// Elements beyond the modelled 17: the record gets nothing for them, but a
// template holding them is kept as nfcapd keeps it.
const (
	exNselCommon  = 19
	exNselXlate4  = 20
	exNselXlate6  = 21
	exNselXlatePt = 22
	exNselACL     = 23
	exNselUser    = 24
	exNelCommon   = 25
	exNelXlatePt  = 26
	exNbarApp     = 27
	exInPayload   = 29
	exOutPayload  = 30
	exObservation = 33
	exVrf         = 36
)

// Local element ids nfcapd uses for values it adds itself.
const (
	localIPv4Received   = 32764
	localIPv6Received   = 32765
	localMsecReceived   = 32766
	localInPayload      = 32767
	localOutPayload     = 32768
	reverseEnterpriseNo = 29305
)

// v9Fields is nfcapd 1.7.1's v9TranslationMap as data.
var v9Fields = map[uint16]ie{
	1:   m(flow.ElemGeneric, tInBytes, 8),
	2:   m(flow.ElemGeneric, tInPackets, 8),
	3:   m(flow.ElemCounters, tFlows, 8),
	4:   m(flow.ElemGeneric, tProto, 1),
	5:   m(flow.ElemGeneric, tSrcTos, 1),
	89:  m(flow.ElemGeneric, tFwdStatus, 1),
	6:   m(flow.ElemGeneric, tTCPFlags, 1),
	7:   m(flow.ElemGeneric, tSrcPort, 2),
	8:   m(flow.ElemIPv4, tSrc4, 4),
	9:   m(flow.ElemMisc, tSrcMask, 1),
	10:  m(flow.ElemMisc, tInput, 4),
	11:  m(flow.ElemGeneric, tDstPort, 2),
	176: st(flow.ElemGeneric, sICMPType),
	178: st(flow.ElemGeneric, sICMPType),
	177: st(flow.ElemGeneric, sICMPCode),
	179: st(flow.ElemGeneric, sICMPCode),
	12:  m(flow.ElemIPv4, tDst4, 4),
	13:  m(flow.ElemMisc, tDstMask, 1),
	14:  m(flow.ElemMisc, tOutput, 4),
	15:  m(flow.ElemIPNextHopV4, tNextHop4, 4),
	16:  m(flow.ElemAS, tSrcAS, 4),
	17:  m(flow.ElemAS, tDstAS, 4),
	18:  m(flow.ElemBGPNextHopV4, tBGP4, 4),
	21:  st(flow.ElemGeneric, sLastUp),
	22:  st(flow.ElemGeneric, sFirstUp),
	23:  m(flow.ElemCounters, tOutBytes, 8),
	24:  m(flow.ElemCounters, tOutPackets, 8),
	27:  m(flow.ElemIPv6, tSrc6, 16),
	28:  m(flow.ElemIPv6, tDst6, 16),
	29:  m(flow.ElemMisc, tSrcMask, 1),
	30:  m(flow.ElemMisc, tDstMask, 1),
	32:  st(flow.ElemGeneric, sICMP),
	55:  m(flow.ElemMisc, tDstTos, 1),
	56:  m(flow.ElemMAC, tInSrcMAC, 8),
	57:  m(flow.ElemMAC, tOutDstMAC, 8),
	58:  m(flow.ElemVLAN, tSrcVLAN, 4),
	59:  m(flow.ElemVLAN, tDstVLAN, 4),
	243: m(flow.ElemVLAN, tSrcVLAN, 4),
	254: m(flow.ElemVLAN, tDstVLAN, 4),
	61:  m(flow.ElemMisc, tDir, 1),
	62:  m(flow.ElemIPNextHopV6, tNextHop6, 16),
	63:  m(flow.ElemBGPNextHopV6, tBGP6, 16),
	128: m(flow.ElemAdjacentAS, tNextAS, 4),
	129: m(flow.ElemAdjacentAS, tPrevAS, 4),
	70:  m(flow.ElemMPLS, tMPLS1+0, 4),
	71:  m(flow.ElemMPLS, tMPLS1+1, 4),
	72:  m(flow.ElemMPLS, tMPLS1+2, 4),
	73:  m(flow.ElemMPLS, tMPLS1+3, 4),
	74:  m(flow.ElemMPLS, tMPLS1+4, 4),
	75:  m(flow.ElemMPLS, tMPLS1+5, 4),
	76:  m(flow.ElemMPLS, tMPLS1+6, 4),
	77:  m(flow.ElemMPLS, tMPLS1+7, 4),
	78:  m(flow.ElemMPLS, tMPLS1+8, 4),
	79:  m(flow.ElemMPLS, tMPLS1+9, 4),
	80:  m(flow.ElemMAC, tInDstMAC, 8),
	81:  m(flow.ElemMAC, tOutSrcMAC, 8),
	152: m(flow.ElemGeneric, tFirst, 8),
	153: m(flow.ElemGeneric, tLast, 8),
	160: st(0, sSysInit),
	38:  st(0, sEngineType),
	39:  st(0, sEngineID),

	localIPv4Received: m(flow.ElemExporterIPv4, tNone, 4),
	localIPv6Received: m(flow.ElemExporterIPv6, tNone, 16),
	localMsecReceived: m(flow.ElemGeneric, tNone, 0),

	// NSEL (Cisco ASA)
	85:    m(flow.ElemGeneric, tInBytes, 8),
	86:    m(flow.ElemGeneric, tInPackets, 8),
	231:   m(flow.ElemGeneric, tInBytes, 8),
	232:   m(flow.ElemCounters, tOutBytes, 8),
	298:   m(flow.ElemGeneric, tInPackets, 8),
	299:   m(flow.ElemCounters, tOutPackets, 8),
	323:   st(0, sEventMsec),
	148:   m(exNselCommon, tNone, 4),
	233:   m(exNselCommon, tNone, 1),
	40005: m(exNselCommon, tNone, 1),
	33002: m(exNselCommon, tNone, 2),
	225:   m(exNselXlate4, tNone, 4),
	40001: m(exNselXlate4, tNone, 4),
	226:   m(exNselXlate4, tNone, 4),
	40002: m(exNselXlate4, tNone, 4),
	281:   m(exNselXlate6, tNone, 16),
	282:   m(exNselXlate6, tNone, 16),
	227:   m(exNselXlatePt, tNone, 2),
	228:   m(exNselXlatePt, tNone, 2),
	40003: m(exNselXlatePt, tNone, 2),
	40004: m(exNselXlatePt, tNone, 2),
	33000: m(exNselACL, tNone, 12),
	33001: m(exNselACL, tNone, 12),
	40000: m(exNselUser, tNone, 66),
	234:   m(exVrf, tNone, 4),
	235:   m(exVrf, tNone, 4),
	// NEL
	230: m(exNelCommon, tNone, 1),
	283: m(exNelCommon, tNone, 4),
	361: m(exNelXlatePt, tNone, 2),
	362: m(exNelXlatePt, tNone, 2),
	363: m(exNelXlatePt, tNone, 2),
	364: m(exNelXlatePt, tNone, 2),
	// nProbe latency
	57555: m(flow.ElemLatency, tClientDelay, 8),
	57557: m(flow.ElemLatency, tServerDelay, 8),
	57559: m(flow.ElemLatency, tApplLatency, 8),
	57554: st(flow.ElemLatency, sClientSec),
	57556: st(flow.ElemLatency, sServerSec),
	57558: st(flow.ElemLatency, sApplSec),
	// NBAR
	95: {elem: exNbarApp, varOut: true, present: true},
	// sampling
	48:  st(0, sSampler),
	302: st(0, sSampler),
}

// ipfixFields is nfcapd 1.7.1's ipfixTranslationMap as data.
var ipfixFields = map[uint16]ie{
	1:   m(flow.ElemGeneric, tInBytes, 8),
	2:   m(flow.ElemGeneric, tInPackets, 8),
	3:   m(flow.ElemCounters, tFlows, 8),
	4:   m(flow.ElemGeneric, tProto, 1),
	5:   m(flow.ElemGeneric, tSrcTos, 1),
	6:   m(flow.ElemGeneric, tTCPFlags, 1),
	7:   m(flow.ElemGeneric, tSrcPort, 2),
	8:   m(flow.ElemIPv4, tSrc4, 4),
	9:   m(flow.ElemMisc, tSrcMask, 1),
	10:  m(flow.ElemMisc, tInput, 4),
	11:  {elem: flow.ElemGeneric, target: tDstPort, outLen: 2, stack: sDstPort, present: true},
	12:  m(flow.ElemIPv4, tDst4, 4),
	13:  m(flow.ElemMisc, tDstMask, 1),
	14:  m(flow.ElemMisc, tOutput, 4),
	15:  m(flow.ElemIPNextHopV4, tNextHop4, 4),
	16:  m(flow.ElemAS, tSrcAS, 4),
	17:  m(flow.ElemAS, tDstAS, 4),
	18:  m(flow.ElemBGPNextHopV4, tBGP4, 4),
	21:  st(0, sFirstUp), // sic: nfcapd 1.7.1 takes flowEndSysUpTime as first
	22:  st(0, sLastUp),
	160: st(0, sSysInit),
	23:  m(flow.ElemCounters, tOutBytes, 8),
	24:  m(flow.ElemCounters, tOutPackets, 8),
	27:  m(flow.ElemIPv6, tSrc6, 16),
	28:  m(flow.ElemIPv6, tDst6, 16),
	29:  m(flow.ElemMisc, tSrcMask, 1),
	30:  m(flow.ElemMisc, tDstMask, 1),
	32:  {elem: flow.ElemGeneric, target: tDstPort, outLen: 2, stack: sICMP, present: true},
	139: {elem: flow.ElemGeneric, target: tDstPort, outLen: 2, stack: sICMP, present: true},
	55:  m(flow.ElemMisc, tDstTos, 1),
	56:  m(flow.ElemMAC, tInSrcMAC, 8),
	57:  m(flow.ElemMAC, tOutDstMAC, 8),
	58:  m(flow.ElemVLAN, tSrcVLAN, 4),
	59:  m(flow.ElemVLAN, tDstVLAN, 4),
	61:  m(flow.ElemMisc, tDir, 1),
	239: m(flow.ElemMisc, tBiDir, 1),
	136: m(flow.ElemMisc, tEndReason, 1),
	62:  m(flow.ElemIPNextHopV6, tNextHop6, 16),
	63:  m(flow.ElemBGPNextHopV6, tBGP6, 16),
	70:  m(flow.ElemMPLS, tMPLS1+0, 4),
	71:  m(flow.ElemMPLS, tMPLS1+1, 4),
	72:  m(flow.ElemMPLS, tMPLS1+2, 4),
	73:  m(flow.ElemMPLS, tMPLS1+3, 4),
	74:  m(flow.ElemMPLS, tMPLS1+4, 4),
	75:  m(flow.ElemMPLS, tMPLS1+5, 4),
	76:  m(flow.ElemMPLS, tMPLS1+6, 4),
	77:  m(flow.ElemMPLS, tMPLS1+7, 4),
	78:  m(flow.ElemMPLS, tMPLS1+8, 4),
	79:  m(flow.ElemMPLS, tMPLS1+9, 4),
	80:  m(flow.ElemMAC, tInDstMAC, 8),
	81:  m(flow.ElemMAC, tOutSrcMAC, 8),
	85:  m(flow.ElemGeneric, tInBytes, 8),
	86:  m(flow.ElemGeneric, tInPackets, 8),
	152: m(flow.ElemGeneric, tFirst, 8),
	153: m(flow.ElemGeneric, tLast, 8),
	// sic: nfcapd 1.7.1 stores the delta microseconds unconverted.
	158: m(flow.ElemGeneric, tFirst, 8),
	159: m(flow.ElemGeneric, tLast, 8),
	161: st(0, sDuration),

	localIPv4Received: m(flow.ElemExporterIPv4, tNone, 4),
	localIPv6Received: m(flow.ElemExporterIPv6, tNone, 16),
	localMsecReceived: m(flow.ElemGeneric, tNone, 0),

	171: m(flow.ElemCounters, tOutBytes, 8),
	172: m(flow.ElemCounters, tOutPackets, 8),
	38:  st(0, sEngineType),
	39:  st(0, sEngineID),
	95:  m(exNbarApp, tNone, 4),
	149: m(exObservation, tNone, 4),
	138: m(exObservation, tNone, 8),
	48:  st(0, sSampler),
	302: st(0, sSampler),
	234: m(exVrf, tNone, 4),
	235: m(exVrf, tNone, 4),
	// NAT
	323: {elem: exNelCommon, outLen: 8, stack: sEventMsec, present: true},
	230: m(exNelCommon, tNone, 1),
	225: m(exNselXlate4, tNone, 4),
	226: m(exNselXlate4, tNone, 4),
	227: m(exNselXlatePt, tNone, 2),
	228: m(exNselXlatePt, tNone, 2),
	// payload
	localInPayload:  {elem: exInPayload, varOut: true, present: true},
	localOutPayload: {elem: exOutPayload, varOut: true, present: true},
}

// ipfixReverse maps an element with the reverse enterprise number (RFC 5103)
// to the element nfcapd stores it as.
var ipfixReverse = map[uint16]uint16{
	85: 171, 86: 172, 1: 23, 2: 24, localInPayload: localOutPayload,
}

// v9Reverse is the same for the few v9 exporters that send reverse elements.
var v9Reverse = map[uint16]uint16{1: 23, 2: 24}
