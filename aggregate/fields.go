package aggregate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/cnum"
)

// fieldID names one -A key field. The constants follow nfdump 1.7.1's
// table; the key is built in this order whatever order the user typed.
type fieldID uint8

const (
	fSrcIP4 fieldID = iota
	fSrcIP6
	fSrcNet
	fDstNet
	fSrcIP
	fDstIP
	fXSrcIP
	fXDstIP
	fXSrcPort
	fXDstPort
	fDstIP4
	fDstIP6
	fNext
	fBGPNext
	fRouter
	fInSrcMAC
	fOutDstMAC
	fInDstMAC
	fOutSrcMAC
	fSrcAS
	fDstAS
	fNextAS
	fPrevAS
	fInIf
	fOutIf
	fMPLS1 // the ten labels are fMPLS1 to fMPLS1+9
)

// The fields after the MPLS labels; declared apart so that the ten labels
// keep their numbers.
const (
	fSrcPort fieldID = fMPLS1 + 10 + iota
	fDstPort
	fSrcVLAN
	fDstVLAN
	fSrcMask
	fDstMask
	fProto
	fTos
	fSrcTos
	fDstTos
	fODID
	fOPID
	fSrcGeo
	fDstGeo
	numFields
)

// fieldInfo describes a field: its -A name, its size in the key, the fmt
// token the automatic -A format prints for it ("" for none) and the field
// of flow's field table it keys. NSEL, observation and geo fields, which
// godump's record model does not hold, key flow.FieldNone: zero in every
// flow, so they never split a key.
type fieldInfo struct {
	name  string
	size  int
	token string
	// prefix: the name takes /bits (srcip4/N and friends) and needs it.
	prefix int // 0 none, 4 IPv4 bits, 6 IPv6 bits
	field  flow.Field
}

var fieldTable = func() [numFields]fieldInfo {
	var t [numFields]fieldInfo
	t[fSrcIP4] = fieldInfo{"srcip4", 16, "%sa", 4, flow.FieldSrcAddr}
	t[fSrcIP6] = fieldInfo{"srcip6", 16, "%sa", 6, flow.FieldSrcAddr}
	t[fSrcNet] = fieldInfo{"srcnet", 16, "%sn", 0, flow.FieldSrcAddr}
	t[fDstNet] = fieldInfo{"dstnet", 16, "%dn", 0, flow.FieldDstAddr}
	t[fSrcIP] = fieldInfo{"srcip", 16, "%sa", 0, flow.FieldSrcAddr}
	t[fDstIP] = fieldInfo{"dstip", 16, "%da", 0, flow.FieldDstAddr}
	t[fXSrcIP] = fieldInfo{"xsrcip", 16, "%xsa", 0, flow.FieldNone}
	t[fXDstIP] = fieldInfo{"xdstip", 16, "%xda", 0, flow.FieldNone}
	t[fXSrcPort] = fieldInfo{"xsrcport", 2, "%xsp", 0, flow.FieldNone}
	t[fXDstPort] = fieldInfo{"xdstport", 2, "%xdp", 0, flow.FieldNone}
	t[fDstIP4] = fieldInfo{"dstip4", 16, "%da", 4, flow.FieldDstAddr}
	t[fDstIP6] = fieldInfo{"dstip6", 16, "%da", 6, flow.FieldDstAddr}
	t[fNext] = fieldInfo{"next", 16, "%nh", 0, flow.FieldIPNextHop}
	t[fBGPNext] = fieldInfo{"bgpnext", 16, "%nhb", 0, flow.FieldBGPNextHop}
	t[fRouter] = fieldInfo{"router", 16, "%ra", 0, flow.FieldRouter}
	t[fInSrcMAC] = fieldInfo{"insrcmac", 8, "%ismc", 0, flow.FieldInSrcMAC}
	t[fOutDstMAC] = fieldInfo{"outdstmac", 8, "%odmc", 0, flow.FieldOutDstMAC}
	t[fInDstMAC] = fieldInfo{"indstmac", 8, "%idmc", 0, flow.FieldInDstMAC}
	t[fOutSrcMAC] = fieldInfo{"outsrcmac", 8, "%osmc", 0, flow.FieldOutSrcMAC}
	t[fSrcAS] = fieldInfo{"srcas", 4, "%sas", 0, flow.FieldSrcAS}
	t[fDstAS] = fieldInfo{"dstas", 4, "%das", 0, flow.FieldDstAS}
	t[fNextAS] = fieldInfo{"nextas", 4, "%nas", 0, flow.FieldNextAS}
	t[fPrevAS] = fieldInfo{"prevas", 4, "%pas", 0, flow.FieldPrevAS}
	t[fInIf] = fieldInfo{"inif", 4, "%in", 0, flow.FieldInIf}
	t[fOutIf] = fieldInfo{"outif", 4, "%out", 0, flow.FieldOutIf}
	for i := 0; i < 10; i++ {
		n := strconv.Itoa(i + 1)
		t[fMPLS1+fieldID(i)] = fieldInfo{"mpls" + n, 4, "%mpls" + n, 0, flow.FieldMPLS1 + flow.Field(i)}
	}
	t[fSrcPort] = fieldInfo{"srcport", 2, "%sp", 0, flow.FieldSrcPort}
	t[fDstPort] = fieldInfo{"dstport", 2, "%dp", 0, flow.FieldDstPort}
	t[fSrcVLAN] = fieldInfo{"srcvlan", 2, "%svln", 0, flow.FieldSrcVLAN}
	t[fDstVLAN] = fieldInfo{"dstvlan", 2, "%dvln", 0, flow.FieldDstVLAN}
	t[fSrcMask] = fieldInfo{"srcmask", 1, "%smk", 0, flow.FieldSrcMask}
	t[fDstMask] = fieldInfo{"dstmask", 1, "%dmk", 0, flow.FieldDstMask}
	t[fProto] = fieldInfo{"proto", 1, "%pr", 0, flow.FieldProto}
	t[fTos] = fieldInfo{"tos", 1, "%tos", 0, flow.FieldSrcTos}
	t[fSrcTos] = fieldInfo{"srctos", 1, "%stos", 0, flow.FieldSrcTos}
	t[fDstTos] = fieldInfo{"dsttos", 1, "%dtos", 0, flow.FieldDstTos}
	t[fODID] = fieldInfo{"odid", 1, "%odid", 0, flow.FieldNone}
	t[fOPID] = fieldInfo{"opid", 1, "%opid", 0, flow.FieldNone}
	t[fSrcGeo] = fieldInfo{"srcgeo", 4, "%sc", 0, flow.FieldNone}
	t[fDstGeo] = fieldInfo{"dstgeo", 4, "%dc", 0, flow.FieldNone}
	return t
}()

// Error is a bad aggregation argument. Its text is nfdump 1.7.1's message
// (nfdump exits 1).
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func errorf(format string, a ...any) error { return &Error{Msg: fmt.Sprintf(format, a...)} }

// mask128 is a 128-bit address mask as two words, high word first.
type mask128 struct{ hi, lo uint64 }

var allOnes = mask128{^uint64(0), ^uint64(0)}

// prefixMask returns nfdump's mask for srcip4/N (v4) or srcip6/N. The
// shifts wrap their count as x86 does, as nfdump's do: for /N above 64 the
// low word's shift is 64-N, which wraps to the right 128-N.
func prefixMask(bits uint32, v4 bool) mask128 {
	if v4 {
		return mask128{^uint64(0), ^uint64(0) << ((32 - bits) & 63)}
	}
	if bits > 64 {
		return mask128{^uint64(0), ^uint64(0) << ((64 - bits) & 63)}
	}
	return mask128{^uint64(0) << ((64 - bits) & 63), 0}
}

// Spec says how flows are aggregated: the -a 5-tuple, -b/-B bidirectional
// 5-tuple, or an -A field list.
type Spec struct {
	custom bool
	bidir  bool
	guess  bool
	active [numFields]bool
	fields []fieldID // active fields in table order
	masks  [numFields]mask128
	// srcMask and dstMask are what nfdump applies to the printed
	// addresses: the mask of the last srcip4/srcip6 (dstip4/dstip6)
	// typed, all ones when none was.
	srcMask, dstMask mask128
	hasMasks         bool
	// netbits: bit 0 srcnet, bit 1 dstnet; the record's own masks are
	// applied to its addresses before the key is built.
	netbits int
	format  string
	keyLen  int
	// ops are the steps customKey takes, one per active field in table
	// order, worked out once so that keying a flow only walks them.
	ops []keyOp
}

// keyOp is how one -A field goes into the key.
type keyOp struct {
	kind  keyKind
	field flow.Field
	mask  mask128 // the address mask of a source or destination field
}

// keyKind is what a keyOp writes.
type keyKind uint8

const (
	keySrc  keyKind = iota // the (masked) source address, 16 bytes
	keyDst                 // the (masked) destination address, 16 bytes
	keyAddr                // another address, 16 bytes
	keyNum1                // a number of 1, 2, 4 or 8 bytes
	keyNum2
	keyNum4
	keyNum8
	keyZero16 // an NSEL address godump's records do not hold
)

// op returns the keyOp of field id under address mask m.
func op(id fieldID, m mask128) keyOp {
	info := &fieldTable[id]
	o := keyOp{field: info.field, mask: m}
	switch {
	case info.field == flow.FieldSrcAddr:
		o.kind = keySrc
	case info.field == flow.FieldDstAddr:
		o.kind = keyDst
	case info.field.Kind() == flow.KindAddr:
		o.kind = keyAddr
	case info.size == 1:
		o.kind = keyNum1
	case info.size == 2:
		o.kind = keyNum2
	case info.size == 4:
		o.kind = keyNum4
	case info.size == 8:
		o.kind = keyNum8
	default:
		o.kind = keyZero16
	}
	return o
}

// FiveTuple returns the spec of -a: proto, addresses and ports.
func FiveTuple() *Spec { return &Spec{keyLen: fiveTupleLen} }

// Bidir returns the spec of -b, or of -B when guess is set: the 5-tuple,
// with TCP and UDP flows of the opposite direction merged in, and -B's
// guess of the client side when printing.
func Bidir(guess bool) *Spec { return &Spec{bidir: true, guess: guess, keyLen: fiveTupleLen} }

const fiveTupleLen = 16 + 16 + 2 + 2 + 1

// ParseFields reads an -A list: comma separated field names, case
// insensitive, srcip4/N, srcip6/N, dstip4/N and dstip6/N with their prefix
// length. Errors carry nfdump's messages.
func ParseFields(list string) (*Spec, error) {
	s := &Spec{custom: true, srcMask: allOnes, dstMask: allOnes}
	var format strings.Builder
	for _, tok := range strings.Split(list, ",") {
		if tok == "" {
			// nfdump splits with strtok, which skips empty fields.
			continue
		}
		name := tok
		hasBits := false
		var m mask128
		if i := strings.IndexByte(tok, '/'); i >= 0 {
			hasBits = true
			name = tok[:i]
			bits := cnum.Atoi(tok[i+1:])
			switch {
			case strings.HasSuffix(name, "4"):
				if bits < 1 || bits > 32 {
					return nil, errorf("Subnet mask length '%d' out of range for IPv4", bits)
				}
				m = prefixMask(uint32(bits), true)
			case strings.HasSuffix(name, "6"):
				// nfdump's message says IPv4 here too.
				if bits < 1 || bits > 128 {
					return nil, errorf("Subnet mask length '%d' out of range for IPv4", bits)
				}
				m = prefixMask(uint32(bits), false)
			default:
				return nil, errorf("Need src4/dst4 or src6/dst6 for IPv4 or IPv6 to aggregate with explicit netmask: '%s'", tok)
			}
		}
		id, ok := lookupField(name)
		if !ok {
			return nil, errorf("Unknown aggregation field '%s'", name)
		}
		if s.active[id] {
			return nil, errorf("Duplicate aggregation mask: %s", name)
		}
		info := fieldTable[id]
		switch {
		case info.prefix != 0 && !hasBits:
			return nil, errorf("'%s' needs number of subnet bits to aggregate", name)
		case info.prefix == 0 && hasBits:
			return nil, errorf("'%s' No subnet bits allowed here", name)
		}
		// nfdump builds the automatic format in the order typed.
		format.WriteString(info.token)
		format.WriteByte(' ')
		s.active[id] = true
		s.masks[id] = allOnes
		if hasBits {
			s.masks[id] = m
			s.hasMasks = true
			if name[0] == 's' || name[0] == 'S' {
				s.srcMask = m
			} else {
				s.dstMask = m
			}
		}
		switch id {
		case fSrcNet:
			s.netbits |= 1
		case fDstNet:
			s.netbits |= 2
		}
	}
	for id := fieldID(0); id < numFields; id++ {
		if s.active[id] {
			s.fields = append(s.fields, id)
			s.ops = append(s.ops, op(id, s.masks[id]))
			s.keyLen += fieldTable[id].size
		}
	}
	if len(s.fields) == 0 {
		return nil, errorf("No aggregation specified!")
	}
	// nfdump joins "%ts %td ", the tokens and "%pkt ..." with one more
	// space each, so two spaces separate the parts.
	s.format = "fmt:%ts %td  " + format.String() + " %pkt %byt %bps %bpp %fl"
	return s, nil
}

func lookupField(name string) (fieldID, bool) {
	for id := fieldID(0); id < numFields; id++ {
		if strings.EqualFold(fieldTable[id].name, name) {
			return id, true
		}
	}
	return 0, false
}

// Format returns the output format nfdump chooses for the spec when no -o
// is given: the -A fields between the times and the counters, biline for
// -b and -B, and "" (the default mode) for -a.
func (s *Spec) Format() string {
	switch {
	case s.custom:
		return s.format
	case s.bidir:
		return "biline"
	}
	return ""
}

// Custom reports whether the spec is an -A field list.
func (s *Spec) Custom() bool { return s.custom }

// needSwap is nfdump's guess (-B) that a TCP or UDP flow goes from the
// server to the client: its source port is the lower one across one of
// the 1024, 32768 or 49152 borders.
func needSwap(r *flow.Record) bool {
	if r.Proto != flow.ProtoTCP && r.Proto != flow.ProtoUDP {
		return false
	}
	sp, dp := r.SrcPort, r.DstPort
	return sp < 1024 && dp >= 1024 || sp < 32768 && dp >= 32768 || sp < 49152 && dp >= 49152
}

// fieldReads returns the V3 elements whose fields the key field id reads:
// its field's, and for srcnet and dstnet those of the record's prefix
// lengths, which mask the address first.
func fieldReads(id fieldID) flow.Elements {
	e := fieldTable[id].field.Elements()
	if id == fSrcNet || id == fDstNet {
		e |= flow.FieldSrcMask.Elements() | flow.FieldDstMask.Elements()
	}
	return e
}

// PrintReads returns the V3 elements whose fields a table from
// NewPrinting reads: for an -A list the generic and counter elements
// (times, counters, flags), the flow's label, the addresses and the next
// hops and exporter (whose families an -A record keeps) and those of the
// key fields; every element for the others, which keep the first flow
// whole.
func (s *Spec) PrintReads() flow.Elements {
	if !s.custom {
		return ^flow.Elements(0)
	}
	e := flow.Elements(1<<flow.ElemGeneric | 1<<flow.ElemCounters | 1<<flow.ElemLabel |
		1<<flow.ElemIPv4 | 1<<flow.ElemIPv6 |
		1<<flow.ElemBGPNextHopV4 | 1<<flow.ElemBGPNextHopV6 |
		1<<flow.ElemIPNextHopV4 | 1<<flow.ElemIPNextHopV6 |
		1<<flow.ElemExporterIPv4 | 1<<flow.ElemExporterIPv6)
	for _, id := range s.fields {
		e |= fieldReads(id)
	}
	return e
}
