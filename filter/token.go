package filter

import "strings"

// tokKind is a token of nfdump 1.7.1's filter language (scanner.l).
type tokKind uint8

const (
	tEOF    tokKind = iota
	tNumber         // decimal, hex or k/m/g/t scaled
	tString         // [A-Za-z0-9_:.-]+, or a quoted string (1.7.4)
	tChar           // any other single character; text holds it

	// Keywords, in scanner.l's order.
	tAny
	tIP // ip, host
	tTunIP
	tIf
	tMac
	tMpls
	tIn
	tIdent
	tOut
	tFlags
	tNFVersion
	tCount
	tProto
	tTun
	tTos
	tDir // dir, flowdir
	tNet
	tPort
	tAS
	tGeo
	tPackets
	tBytes
	tFlowLabel
	tFlows
	tBPP
	tBPS
	tPPS
	tDuration
	tIPv4 // ipv4, inet
	tIPv6 // ipv6, inet6
	tICMPType
	tICMPCode
	tEngineType
	tEngineID
	tSrc
	tDst
	tNext
	tPrev // prev, previous
	tIngress
	tEgress
	tBGPNext
	tRouter
	tVLAN
	tMask
	tFwdStat
	tClient
	tServer
	tApp
	tLatency
	tSysID
	tObservation
	tDomain
	tPoint
	tID
	tASA
	tEvent
	tReason // ignore, invalid, create, add, term, delete, deny
	tDenied
	tXEvent
	tNIP // xip, nip
	tXNet
	tXPort
	tACL
	tACE
	tXACE
	tNAT
	tVRF
	tNPort
	tPBlock
	tStart
	tEnd
	tStep
	tSize
	tPayload
	tContent
	tRegex
	tJA3
	tAnd // and, &&
	tOr  // or, ||
	tNot // not, !
	tEQ  // =, ==, eq
	tGT  // >, gt
	tLT  // <, lt
	tGE  // >=, ge
	tLE  // <=, le
)

// keywords maps the lower-case keywords to their tokens. nfdump builds its
// scanner with flex -i, so every keyword is case-insensitive.
var keywords = map[string]tokKind{
	"any": tAny, "ip": tIP, "host": tIP, "tunip": tTunIP, "if": tIf, "mac": tMac,
	"mpls": tMpls, "in": tIn, "ident": tIdent, "out": tOut, "flags": tFlags,
	"nfversion": tNFVersion, "count": tCount, "proto": tProto, "tun": tTun,
	"tos": tTos, "dir": tDir, "flowdir": tDir, "net": tNet, "port": tPort,
	"as": tAS, "geo": tGeo, "packets": tPackets, "bytes": tBytes,
	"flowlabel": tFlowLabel, "flows": tFlows, "bpp": tBPP, "bps": tBPS,
	"pps": tPPS, "duration": tDuration, "ipv4": tIPv4, "inet": tIPv4,
	"ipv6": tIPv6, "inet6": tIPv6, "icmp-type": tICMPType,
	"icmp-code": tICMPCode, "engine-type": tEngineType, "engine-id": tEngineID,
	"src": tSrc, "dst": tDst, "next": tNext, "prev": tPrev, "previous": tPrev,
	"ingress": tIngress, "egress": tEgress, "bgpnext": tBGPNext,
	"router": tRouter, "vlan": tVLAN, "mask": tMask, "fwdstat": tFwdStat,
	"client": tClient, "server": tServer, "app": tApp, "latency": tLatency,
	"sysid": tSysID, "observation": tObservation, "domain": tDomain,
	"point": tPoint, "id": tID, "asa": tASA, "event": tEvent,
	"ignore": tReason, "invalid": tReason, "create": tReason, "add": tReason,
	"term": tReason, "delete": tReason, "deny": tReason, "denied": tDenied,
	"xevent": tXEvent, "xip": tNIP, "xnet": tXNet, "xport": tXPort,
	"acl": tACL, "ace": tACE, "xace": tXACE, "nat": tNAT, "vrf": tVRF,
	"nport": tNPort, "pblock": tPBlock, "start": tStart, "end": tEnd,
	"step": tStep, "size": tSize, "nip": tNIP, "payload": tPayload,
	"content": tContent, "regex": tRegex, "ja3": tJA3,
	"and": tAnd, "or": tOr, "not": tNot,
	"eq": tEQ, "gt": tGT, "lt": tLT, "ge": tGE, "le": tLE,
}

// maxKeywordLen bounds the keyword lookup so that a long string run is
// never lower-cased just to miss the map.
const maxKeywordLen = len("observation")

func lookupKeyword(s string) (tokKind, bool) {
	if len(s) > maxKeywordLen {
		return 0, false
	}
	var buf [maxKeywordLen]byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	k, ok := keywords[string(buf[:len(s)])]
	return k, ok
}

// token is one token as the parser sees it: its kind, its text as typed
// (nfdump's yytext, which error messages quote), its value for numbers,
// and where the scanner stood after reading it (nfdump's messages name
// the scanner's current line and file, not the token's).
type token struct {
	kind  tokKind
	text  string
	num   uint64
	line  int
	file  string
	quote bool // a quoted string (1.7.4's spelling); text keeps the quotes
}

// str returns a string token's value: its text without the quotes.
func (t token) str() string {
	if t.quote {
		return t.text[1 : len(t.text)-1]
	}
	return t.text
}

// is reports whether t is the single character c.
func (t token) is(c byte) bool { return t.kind == tChar && len(t.text) == 1 && t.text[0] == c }

// isWord reports whether t is the bare word w (a string, not a keyword),
// case-insensitively: the later spellings use words 1.7.1 has no keyword
// for ("icmp", "engine", "seen").
func (t token) isWord(w string) bool {
	return t.kind == tString && !t.quote && strings.EqualFold(t.text, w)
}
