package flow

// The frame of nfdump's V3 record (nfdump 1.7.1's nfxV3.h), for the file
// codec (flowfile) and the decoders that write V3 records themselves
// (netflow's plans).
const (
	V3RecordType     = 11 // the record's type in a block
	V3HeaderSize     = 12 // the record header: type, size, element count, engine, sysid, flags, version
	V3ElemHeaderSize = 4  // each element's header: its type and length
	// MaxV3Size bounds a V3 record of every modeled element, each once
	// (388 bytes with the header; a flow label comes on top).
	MaxV3Size = 512
)

// V3Place says where a field's value sits in nfdump's V3 record: in
// element Elem (0: the record header) at byte Off of the element's
// payload (of the record, for the header), Width bytes wide. A number is
// stored little-endian in Width bytes. An IPv4 address (Fam 4) is stored
// as the little-endian 32-bit number of its 4 bytes, an IPv6 address (Fam
// 6) as two halves, each the big-endian number of 8 address bytes stored
// little-endian (Layout.Fam). Fields the record does not store (FieldDuration,
// FieldIPv6, and FieldICMPType and FieldICMPCode, which are the bytes of
// the destination port) have no place.
type V3Place struct {
	Field Field
	Elem  uint8
	Off   uint8
	Width uint8
	Fam   uint8 // 4 or 6 for an address, 0 for a number
}

// v3Places is the one table of where each stored field sits in the V3
// record, by element. Every piece of code that reads or writes V3 records
// by offset either derives its offsets from it (flowfile's raw selection
// layout, netflow's plan slots) or is tested against it for every field
// (flowfile's and netflow's hand-written encoders and decoders, which
// run per flow: see their tests). A field that moves or a new field is
// edited here.
var v3Places = [...]V3Place{
	{FieldEngineType, 0, 6, 1, 0},
	{FieldEngineID, 0, 7, 1, 0},
	{FieldExporterID, 0, 8, 2, 0},
	{FieldRecordFlags, 0, 10, 1, 0},
	{FieldNFVersion, 0, 11, 1, 0},

	{FieldFirst, ElemGeneric, 0, 8, 0},
	{FieldLast, ElemGeneric, 8, 8, 0},
	{FieldReceived, ElemGeneric, 16, 8, 0},
	{FieldInPackets, ElemGeneric, 24, 8, 0},
	{FieldInBytes, ElemGeneric, 32, 8, 0},
	{FieldSrcPort, ElemGeneric, 40, 2, 0},
	{FieldDstPort, ElemGeneric, 42, 2, 0},
	{FieldProto, ElemGeneric, 44, 1, 0},
	{FieldTCPFlags, ElemGeneric, 45, 1, 0},
	{FieldFwdStatus, ElemGeneric, 46, 1, 0},
	{FieldSrcTos, ElemGeneric, 47, 1, 0},

	{FieldSrcAddr, ElemIPv4, 0, 4, 4},
	{FieldDstAddr, ElemIPv4, 4, 4, 4},

	{FieldSrcAddr, ElemIPv6, 0, 16, 6},
	{FieldDstAddr, ElemIPv6, 16, 16, 6},

	{FieldInIf, ElemMisc, 0, 4, 0},
	{FieldOutIf, ElemMisc, 4, 4, 0},
	{FieldSrcMask, ElemMisc, 8, 1, 0},
	{FieldDstMask, ElemMisc, 9, 1, 0},
	{FieldDir, ElemMisc, 10, 1, 0},
	{FieldDstTos, ElemMisc, 11, 1, 0},
	{FieldBiFlowDir, ElemMisc, 12, 1, 0},
	{FieldEndReason, ElemMisc, 13, 1, 0},
	{FieldRevTCPFlags, ElemMisc, 14, 1, 0},

	// The stored flow count, 0 for a record that stands for one flow
	// (FieldFlows reads it as 1).
	{FieldFlows, ElemCounters, 0, 8, 0},
	{FieldOutPackets, ElemCounters, 8, 8, 0},
	{FieldOutBytes, ElemCounters, 16, 8, 0},

	{FieldSrcVLAN, ElemVLAN, 0, 4, 0},
	{FieldDstVLAN, ElemVLAN, 4, 4, 0},

	{FieldSrcAS, ElemAS, 0, 4, 0},
	{FieldDstAS, ElemAS, 4, 4, 0},

	{FieldBGPNextHop, ElemBGPNextHopV4, 0, 4, 4},
	{FieldBGPNextHop, ElemBGPNextHopV6, 0, 16, 6},
	{FieldIPNextHop, ElemIPNextHopV4, 0, 4, 4},
	{FieldIPNextHop, ElemIPNextHopV6, 0, 16, 6},
	{FieldRouter, ElemExporterIPv4, 0, 4, 4},
	{FieldRouter, ElemExporterIPv6, 0, 16, 6},

	{FieldMPLS1, ElemMPLS, 0, 4, 0},
	{FieldMPLS2, ElemMPLS, 4, 4, 0},
	{FieldMPLS3, ElemMPLS, 8, 4, 0},
	{FieldMPLS4, ElemMPLS, 12, 4, 0},
	{FieldMPLS5, ElemMPLS, 16, 4, 0},
	{FieldMPLS6, ElemMPLS, 20, 4, 0},
	{FieldMPLS7, ElemMPLS, 24, 4, 0},
	{FieldMPLS8, ElemMPLS, 28, 4, 0},
	{FieldMPLS9, ElemMPLS, 32, 4, 0},
	{FieldMPLS10, ElemMPLS, 36, 4, 0},

	{FieldInSrcMAC, ElemMAC, 0, 8, 0},
	{FieldOutDstMAC, ElemMAC, 8, 8, 0},
	{FieldInDstMAC, ElemMAC, 16, 8, 0},
	{FieldOutSrcMAC, ElemMAC, 24, 8, 0},

	{FieldNextAS, ElemAdjacentAS, 0, 4, 0},
	{FieldPrevAS, ElemAdjacentAS, 4, 4, 0},

	{FieldClientLatency, ElemLatency, 0, 8, 0},
	{FieldServerLatency, ElemLatency, 8, 8, 0},
	{FieldApplLatency, ElemLatency, 16, 8, 0},
}

// v3ByElem holds each element's part of v3Places (element 0: the record
// header), which lists the places element by element.
var v3ByElem = func() (s [MaxModeledElement + 1][]V3Place) {
	for i := 0; i < len(v3Places); {
		j := i
		for j < len(v3Places) && v3Places[j].Elem == v3Places[i].Elem {
			j++
		}
		s[v3Places[i].Elem] = v3Places[i:j:j]
		i = j
	}
	return s
}()

// V3Places returns the places of the fields element id holds, in the
// order of their offsets; none for an element this package does not
// model. The caller must not modify them.
func V3Places(id int) []V3Place {
	if id < 1 || id > MaxModeledElement {
		return nil
	}
	return v3ByElem[id]
}

// V3HeaderPlaces returns the places of the fields the record header
// holds, their offsets in the record. The caller must not modify them.
func V3HeaderPlaces() []V3Place { return v3ByElem[0] }

// V3PlaceOf returns the place of field f, of an address field the one in
// family fam (4 or 6; 0 for a number field), and false when the record
// stores no such field there.
func V3PlaceOf(f Field, fam uint8) (V3Place, bool) {
	for _, p := range v3Places {
		if p.Field == f && p.Fam == fam {
			return p, true
		}
	}
	return V3Place{}, false
}
