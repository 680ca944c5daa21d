package filter

import (
	"strings"

	"github.com/nfgo/nftools/flow"
)

// dir is a direction qualifier (grammar.y's dqual).
type dir uint8

const (
	dirUnspec dir = iota + 1
	dirSrc
	dirDst
	dirSrcAndDst
	dirSrcOrDst
	dirIn
	dirOut
	dirInSrc
	dirInDst
	dirOutSrc
	dirOutDst
	dirPrev
	dirNext
)

const (
	maxMPLS      = 0x00ffffff
	notExpected  = "This token is not expected here!"
	portRange    = "Port outside of range 0..65535"
	hostNotAllow = "IP address required - hostname not allowed here."
)

// Block constructors. Values are computed as grammar.y computes them, so
// -X prints the same words.

func (p *parser) field(s slot, value uint64, comp cmpOp) uint32 {
	return p.b.newBlock(block{offset: s.offset, mask: s.mask, value: value, comp: comp, op: opField, field: s.field, fshift: s.shift})
}

// fieldVal tests the field against v shifted into its place.
func (p *parser) fieldVal(s slot, v uint64, comp cmpOp) uint32 {
	return p.field(s, (v<<s.shift)&s.mask, comp)
}

// fieldMask tests part of a field's word with a mask of its own.
func (p *parser) fieldMask(s slot, mask, value uint64, comp cmpOp) uint32 {
	return p.b.newBlock(block{offset: s.offset, mask: mask, value: value, comp: comp, op: opField, field: s.field, fshift: s.shift})
}

func (p *parser) function(fn fnCode, value uint64, comp cmpOp) uint32 {
	return p.b.newBlock(block{offset: 0, mask: ^uint64(0), value: value, comp: comp, fn: fn, op: opFunc})
}

func (p *parser) anyBlock() uint32 {
	return p.b.newBlock(block{offset: sProto.offset, data: dataAny, op: opConst})
}

// addrHalf tests one half of an address field; fam is the family of the
// address it compares with.
func (p *parser) addrHalf(a addrSlot, upper bool, mask, value uint64, fam uint8) uint32 {
	if p.familyBlind {
		fam = 0
	}
	bl := block{offset: a.lo, mask: mask, value: value, op: opAddrLo, field: a.field, fam: fam}
	if upper {
		bl.offset, bl.op = a.hi, opAddrHi
	}
	return p.b.newBlock(bl)
}

// addrEq is grammar.y's pair Connect_AND(NewBlock(lower half),
// NewBlock(upper half)).
func (p *parser) addrEq(a addrSlot, ip, mask addr128, fam uint8) uint32 {
	return p.and2(
		func() uint32 { return p.addrHalf(a, false, mask.lo, ip.lo, fam) },
		func() uint32 { return p.addrHalf(a, true, mask.hi, ip.hi, fam) })
}

func (p *parser) addrList(a addrSlot, set *addrSet) uint32 {
	return p.b.newBlock(block{offset: a.hi, mask: ^uint64(0), comp: cmpIPList, data: dataIPs, op: opIPList, field: a.field, ips: set})
}

func (p *parser) valList(s slot, set *valSet) uint32 {
	return p.b.newBlock(block{offset: s.offset, mask: s.mask, comp: cmpULList, data: dataVals, op: opField, field: s.field, fshift: s.shift, vals: set})
}

// and2 and or2 connect two new expressions made by f1 and f2 as
// Connect_AND(f1(), f2()) does in nfdump's binary: f2's blocks first.
func (p *parser) and2(f1, f2 func() uint32) uint32 {
	b2 := f2()
	return p.b.connect(f1(), b2, true)
}

func (p *parser) or2(f1, f2 func() uint32) uint32 {
	b2 := f2()
	return p.b.connect(f1(), b2, false)
}

// srcDst applies the four source/destination qualifiers to a pair of
// tests; any other qualifier is an error at the term's last token.
func (p *parser) srcDst(d dir, src, dst func() uint32) uint32 {
	switch d {
	case dirSrc:
		return src()
	case dirDst:
		return dst()
	case dirUnspec, dirSrcOrDst:
		return p.or2(src, dst)
	case dirSrcAndDst:
		return p.and2(src, dst)
	}
	p.errLast(notExpected)
	return 0
}

func (p *parser) parseComp() cmpOp {
	var c cmpOp
	switch p.peek().kind {
	case tEQ:
		c = cmpEQ
	case tLT:
		c = cmpLT
	case tGT:
		c = cmpGT
	case tLE:
		c = cmpLE
	case tGE:
		c = cmpGE
	default:
		p.pushEmpty()
		return cmpEQ
	}
	p.shift()
	return c
}

// parseDqual parses a direction qualifier before a dqual term.
func (p *parser) parseDqual() dir {
	k := p.peek().kind
	switch k {
	case tSrc, tDst:
		p.shift()
		if op := p.peek().kind; op == tOr || op == tAnd {
			p.shift()
			other := tDst
			if k == tDst {
				other = tSrc
			}
			p.expect(other)
			p.sp -= 2
			if op == tOr {
				return dirSrcOrDst
			}
			return dirSrcAndDst
		}
		if k == tSrc {
			return dirSrc
		}
		return dirDst
	case tIn, tOut:
		p.shift()
		in := k == tIn
		switch p.peek().kind {
		case tSrc:
			p.shift()
			p.sp--
			if in {
				return dirInSrc
			}
			return dirOutSrc
		case tDst:
			p.shift()
			p.sp--
			if in {
				return dirInDst
			}
			return dirOutDst
		}
		if in {
			return dirIn
		}
		return dirOut
	case tPrev:
		p.shift()
		return dirPrev
	}
	p.pushEmpty()
	return dirUnspec
}

// parseTerm parses one primitive.
func (p *parser) parseTerm() uint32 {
	t := p.peek()
	switch t.kind {
	case tAny:
		p.shift()
		return p.anyBlock()
	case tIdent:
		p.shift()
		s := p.expectString()
		if !screenIdent(s) {
			p.errLast("Illegal ident string")
		}
		idx := len(p.idents)
		p.idents = append(p.idents, s)
		return p.b.newBlock(block{value: uint64(idx), comp: cmpIdent, op: opIdent, ident: idx})
	case tIPv4, tIPv6:
		p.shift()
		v := uint64(0)
		if t.kind == tIPv6 {
			v = 1
		}
		return p.fieldVal(sIPv6, v, cmpEQ)
	case tProto:
		p.shift()
		return p.fieldVal(sProto, p.protoNumber("Protocol number > 255", "Unknown protocol"), cmpEQ)
	case tTun:
		p.shift()
		if p.peek().kind == tIP {
			// 1.7.5's tun ip.
			p.shift()
			p.expectString()
			p.unsupported("tunnel addresses", "tun ip")
		}
		p.expect(tProto)
		p.protoNumber("Tunnel protocol number > 255", "Unknown tunnel protocol")
		p.unsupported("tunnel protocols", "tun proto")
	case tFlows:
		p.shift()
		c := p.parseComp()
		return p.field(sFlows, p.expectNumber(), c)
	case tPPS, tBPS, tBPP, tDuration:
		p.shift()
		c := p.parseComp()
		fn := map[tokKind]fnCode{tPPS: fnPPS, tBPS: fnBPS, tBPP: fnBPP, tDuration: fnDuration}[t.kind]
		return p.function(fn, p.expectNumber(), c)
	case tCount:
		p.shift()
		c := p.parseComp()
		n := p.expectNumber()
		p.count = true
		return p.b.newBlock(block{offset: sCount.offset, mask: sCount.mask, value: (n << 32) & sCount.mask, comp: c, op: opCount})
	case tNFVersion:
		p.shift()
		c := p.parseComp()
		n := p.expectNumber()
		if n > 10 {
			p.errLast("Netflow version must be <= 10")
		}
		return p.fieldVal(sNFVersion, n, c)
	case tFlags:
		return p.termFlags()
	case tNext:
		p.shift()
		if p.peek().kind == tIP {
			return p.termHopIP(aNextHop, true)
		}
		return p.dqualTerm(dirNext)
	case tBGPNext:
		p.shift()
		return p.termHopIP(aBGPNext, false)
	case tRouter:
		p.shift()
		return p.termHopIP(aRouter, false)
	case tClient, tServer, tApp:
		p.shift()
		p.expect(tLatency)
		c := p.parseComp()
		s := map[tokKind]slot{tClient: sClientLat, tServer: sServerLat, tApp: sApplLat}[t.kind]
		return p.field(s, p.expectNumber(), c)
	case tSysID:
		p.shift()
		n := p.expectNumber()
		if n > 255 {
			p.errLast("Router SysID expected between be 1..255")
		}
		return p.fieldVal(sSysID, n, cmpEQ)
	case tICMPType, tICMPCode:
		p.shift()
		return p.icmp(t.kind == tICMPType, p.expectNumber(), cmpEQ)
	case tEngineType, tEngineID:
		p.shift()
		c := p.parseComp()
		return p.engine(t.kind == tEngineType, p.expectNumber(), c)
	case tFlowLabel:
		// The label a flow carries in the file (EXlabel), compared
		// case-insensitively; the labels this filter attaches do not
		// count, as in nfdump, which tests the record as read.
		p.shift()
		s := p.expectString()
		if len(s) > 16 {
			p.errLast("Size flowlabel of range 1..16")
		}
		idx := len(p.flowLabels)
		p.flowLabels = append(p.flowLabels, s)
		return p.b.newBlock(block{comp: cmpFlowLabel, data: dataPtr, op: opFlowLabel, ident: idx})
	case tASA:
		p.termASA()
	case tIngress, tEgress:
		p.shift()
		switch p.peek().kind {
		case tVRF:
			p.shift()
			p.parseComp()
			p.expectNumber()
			p.unsupported("VRF ids", strings.ToLower(t.text)+" vrf")
		case tACL, tACE, tXACE:
			p.shift()
			p.parseComp()
			p.expectNumber()
			p.unsupported("NSEL ACL ids", strings.ToLower(t.text)+" acl")
		}
		p.syntaxError()
	case tNAT:
		p.shift()
		if k := p.peek().kind; k == tIP || k == tNet || k == tPort {
			return p.natTerm()
		}
		p.expect(tEvent)
		if p.peek().kind == tReason {
			p.shift()
		} else {
			p.parseComp()
			p.expectNumber()
		}
		p.unsupported("NAT events", "nat event")
	case tPBlock:
		p.shift()
		switch p.peek().kind {
		case tStart, tEnd, tStep, tSize:
			p.shift()
		default:
			p.syntaxError()
		}
		p.parseComp()
		p.expectNumber()
		p.unsupported("NAT port blocks", "pblock")
	case tPayload:
		p.termPayload()
	case tMpls:
		return p.termMPLS()
	case tFwdStat:
		p.shift()
		var id uint64
		if p.peek().kind == tNumber {
			id = p.shift().num
			if id > 255 {
				p.errLast("Forwarding status of range 0..255")
			}
		} else {
			var ok bool
			if id, ok = fwdStatus(p.expectString()); !ok {
				p.errLast("Unknown forwarding status")
			}
		}
		return p.fieldVal(sFwdStatus, id, cmpEQ)
	case tDir:
		p.shift()
		var d uint64
		switch p.peek().kind {
		case tNumber:
			d = p.shift().num
			if d > 2 {
				p.errLast("Flow direction status of range 0, 1")
			}
		case tIngress:
			p.shift()
		case tEgress:
			p.shift()
			d = 1
		default:
			p.syntaxError()
		}
		return p.fieldVal(sDir, d, cmpEQ)
	case tObservation:
		p.shift()
		switch p.peek().kind {
		case tDomain, tPoint:
			p.shift()
		default:
			p.syntaxError()
		}
		p.expect(tID)
		p.expectNumber()
		p.unsupported("observation domain and point ids", "observation")
	case tSrc, tDst, tIn, tOut, tPrev:
		return p.dqualTerm(p.parseDqual())
	case tPackets, tBytes, tTos, tIP, tTunIP, tPort, tXNet, tXPort, tNPort, tNIP,
		tAS, tGeo, tMask, tNet, tIf, tVLAN, tMac:
		p.pushEmpty()
		return p.dqualTerm(dirUnspec)
	case tString:
		if e, ok := p.laterSpelling(); ok {
			return e
		}
	}
	p.syntaxError()
	return 0
}

// protoNumber reads a protocol number or name.
func (p *parser) protoNumber(tooBig, unknown string) uint64 {
	if p.peek().kind == tNumber {
		n := p.shift().num
		if n > 255 {
			p.errLast(tooBig)
		}
		return n
	}
	n, ok := flow.ProtoNumber(p.expectString())
	if !ok {
		p.errLast(unknown)
	}
	return uint64(n)
}

// unsupported rejects a primitive whose field godump's flow records do
// not hold: nfdump would accept it and, on files nfcapd writes from plain
// NetFlow, match nothing or everything; godump says so instead.
func (p *parser) unsupported(what, spelling string) {
	p.errLast("godump's flow records carry no " + what + ", so '" + spelling + "' cannot be filtered")
}

// dqualTerm parses the primitives that take a direction qualifier.
func (p *parser) dqualTerm(d dir) uint32 {
	t := p.peek()
	switch t.kind {
	case tPackets, tBytes:
		p.shift()
		c := p.parseComp()
		n := p.expectNumber()
		in, out := sPackets, sOutPackets
		if t.kind == tBytes {
			in, out = sBytes, sOutBytes
		}
		switch d {
		case dirUnspec, dirIn:
			return p.field(in, n, c)
		case dirOut:
			return p.field(out, n, c)
		}
		p.errLast(notExpected)
	case tTos:
		p.shift()
		c := p.parseComp()
		n := p.expectNumber()
		if n > 255 {
			p.errLast("TOS must be 0..255")
		}
		if d == dirUnspec {
			d = dirSrc
		}
		return p.srcDst(d, func() uint32 { return p.fieldVal(sTos, n, c) }, func() uint32 { return p.fieldVal(sDstTos, n, c) })
	case tIP:
		p.shift()
		if p.peek().kind == tIn {
			p.shift()
			set := p.parseIPList()
			return p.srcDst(d, func() uint32 { return p.addrList(aSrc, set) }, func() uint32 { return p.addrList(aDst, set) })
		}
		return p.termIP(d)
	case tTunIP:
		p.shift()
		p.expectString()
		p.unsupported("tunnel addresses", "tunip")
	case tPort:
		return p.termPort(d)
	case tXNet, tXPort, tNPort, tNIP:
		p.termNSELAddr(t)
	case tNAT:
		// 1.7.5's src nat ip and friends.
		p.shift()
		return p.natTerm()
	case tTun:
		p.shift()
		p.expect(tIP)
		p.expectString()
		p.unsupported("tunnel addresses", "tun ip")
	case tAS:
		return p.termAS(d)
	case tGeo:
		p.shift()
		s := p.expectString()
		if len(s) != 2 {
			p.errLast("Need a two letter geo country code")
		}
		p.geo = true
		v := uint64(upper(s[0])) | uint64(upper(s[1]))<<8
		return p.srcDst(d,
			func() uint32 {
				return p.b.newBlock(block{offset: 15, mask: 0x00000000ffffffff, value: v, op: opConst})
			},
			func() uint32 {
				return p.b.newBlock(block{offset: 15, mask: 0xffffffff00000000, value: v << 32, op: opConst})
			})
	case tMask:
		p.shift()
		n := p.expectNumber()
		if n > 255 {
			p.errLast("Mask outside of range 0..255")
		}
		return p.srcDst(d, func() uint32 { return p.fieldVal(sSrcMask, n, cmpEQ) }, func() uint32 { return p.fieldVal(sDstMask, n, cmpEQ) })
	case tNet:
		return p.termNet(d)
	case tIf:
		p.shift()
		n := p.expectNumber()
		if n > 0xffffffff {
			p.errLast("Input interface number must 0..2^32")
		}
		in := func() uint32 { return p.fieldVal(sInIf, n, cmpEQ) }
		out := func() uint32 { return p.fieldVal(sOutIf, n, cmpEQ) }
		switch d {
		case dirUnspec:
			return p.or2(in, out)
		case dirIn:
			return in()
		case dirOut:
			return out()
		}
		p.errLast(notExpected)
	case tVLAN:
		p.shift()
		n := p.expectNumber()
		if n > 65535 {
			p.errLast("VLAN number of range 0..65535")
		}
		return p.srcDst(d, func() uint32 { return p.fieldVal(sSrcVLAN, n, cmpEQ) }, func() uint32 { return p.fieldVal(sDstVLAN, n, cmpEQ) })
	case tMac:
		return p.termMAC(d)
	default:
		if d != dirUnspec && (t.isWord("xlate")) {
			p.shift()
			return p.natTerm()
		}
	}
	p.syntaxError()
	return 0
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// termIP parses ip|host ADDR after its qualifier: an address, or a host
// name whose every address counts.
func (p *parser) termIP(d dir) uint32 {
	r := p.parseIP(p.expectString(), true)
	if !r.ok {
		p.errLast("Error parsing IP address.")
	}
	if r.incomplete() {
		p.errLast("incomplete IP address")
	}
	switch d {
	case dirSrc:
		return p.chainHosts(aSrc, r)
	case dirDst:
		return p.chainHosts(aDst, r)
	case dirUnspec, dirSrcOrDst, dirSrcAndDst:
		// Two statements in grammar.y: the source chain is made first.
		src := p.chainHosts(aSrc, r)
		return p.b.connect(src, p.chainHosts(aDst, r), d == dirSrcAndDst)
	}
	p.errLast(notExpected)
	return 0
}

// chainHosts ORs an address test for each address of r (nfdump's
// ChainHosts).
func (p *parser) chainHosts(a addrSlot, r ipParse) uint32 {
	all := addr128{^uint64(0), ^uint64(0)}
	var e uint32
	for i, ip := range r.addrs {
		b := p.addrEq(a, ip.addr128, all, ip.fam())
		if i == 0 {
			e = b
		} else {
			e = p.b.connect(e, b, false)
		}
	}
	return e
}

// termHopIP parses [next|bgpnext|router] ip ADDR, and next ip in [...]:
// literal addresses only.
func (p *parser) termHopIP(a addrSlot, list bool) uint32 {
	p.expect(tIP)
	if list && p.peek().kind == tIn {
		p.shift()
		return p.addrList(a, p.parseIPList())
	}
	r := p.parseIP(p.expectString(), false)
	switch {
	case r.host:
		p.errLast(hostNotAllow)
	case !r.ok:
		p.errLast("Error parsing IP address.")
	case r.incomplete():
		p.errLast("incomplete IP address")
	}
	all := addr128{^uint64(0), ^uint64(0)}
	return p.addrEq(a, r.addrs[0].addr128, all, r.addrs[0].fam())
}

// termNet parses net ADDR/BITS and net ADDR MASK.
func (p *parser) termNet(d dir) uint32 {
	p.shift()
	s := p.expectString()
	var ip, mask addr128
	var fam uint8
	switch {
	case p.peek().is('/'):
		p.shift()
		n := p.expectNumber()
		r := p.parseIP(s, false)
		switch {
		case !r.ok && !r.host:
			p.errLast("Invalid IP address")
		case r.host:
			p.errLast(hostNotAllow)
		}
		if n > uint64(r.bytes*8) {
			p.errLast("Too many netbits for this IP address")
		}
		mask = nfdumpMask(!r.v6, n)
		ip, fam = r.addrs[0].and(mask), r.addrs[0].fam()
	case p.peek().kind == tString:
		m := p.shift().str()
		r := p.parseIP(s, false)
		switch {
		case !r.ok && !r.host:
			p.errLast("Invalid IP address")
		case r.host:
			p.errLast(hostNotAllow)
		case r.v6:
			p.errLast("IP netmask syntax valid only for IPv4")
		case r.bytes != 4:
			p.errLast("Need complete IP address")
		}
		rm := p.parseMask(m)
		switch {
		case !rm.ok && !rm.host:
			p.errLast("Invalid IP address")
		case rm.host:
			p.errLast(hostNotAllow)
		case rm.v6 || rm.bytes != 4:
			p.errLast("Invalid netmask for IPv4 address")
		}
		// The mask's upper word is 0: only the low 32 bits are compared.
		mask = addr128{0, rm.addrs[0].lo}
		ip, fam = r.addrs[0].and(mask), 4
	default:
		p.syntaxError()
	}
	return p.srcDst(d, func() uint32 { return p.addrEq(aSrc, ip, mask, fam) }, func() uint32 { return p.addrEq(aDst, ip, mask, fam) })
}

// parseMask parses net's dotted mask; nfdump reads it into its own array,
// so it does not become the last address parsed.
func (p *parser) parseMask(s string) ipParse {
	saved := p.ipstack
	r := p.parseIP(s, false)
	p.ipstack = saved
	return r
}

// parseIPList parses [ addr, addr/bits ... ] after `in`. nfdump's list
// rules read one token past an address to see whether a /bits follows, so
// an error in an address shows the next token; after a comma no /bits may
// follow, and the error shows the address.
func (p *parser) parseIPList() *addrSet {
	p.expectChar('[')
	entries := make([]ipEntry, 0, p.sc.itemsBefore(']'))
	first := true
	for {
		comma := false
		switch t := p.peek(); {
		case t.is(']') && !first:
			p.shift()
			if p.familyBlind {
				for i := range entries {
					entries[i].v4 = false
				}
				s := newAddrSet(entries)
				s.blind = true
				return s
			}
			return newAddrSet(entries)
		case t.is(',') && !first:
			p.shift()
			comma = true
		case t.kind != tString:
			p.syntaxError()
		}
		s := p.expect(tString).str()
		switch {
		case !comma && p.peek().is('/'):
			p.shift()
			n := p.expectNumber()
			r := p.parseIP(s, false)
			if !r.ok && !r.host {
				p.errLast("Invalid IP address")
			}
			if r.incomplete() {
				p.errLast("incomplete IP address")
			}
			ip, v4 := p.ipstack, !r.v6
			if r.host {
				// nfdump goes on with whatever address it parsed last, as
				// an IPv6 one.
				v4 = false
			}
			m := nfdumpMask(v4, n)
			entries = append(entries, ipEntry{ip: ip.and(m), bits: uint8(maskLen(m)), v4: v4})
			p.reduceItem(3, first)
		default:
			r := p.parseIP(s, true)
			if !r.ok {
				if comma {
					p.errLast("Invalid IP address")
				}
				p.errNext("Invalid IP address")
			}
			if r.incomplete() {
				if comma {
					p.errLast("incomplete IP address")
				}
				p.errNext("incomplete IP address")
			}
			for _, a := range r.addrs {
				entries = append(entries, ipEntry{ip: a.addr128, bits: 128, v4: a.v4})
			}
			if comma {
				p.reduceItem(2, first)
			} else {
				p.reduceItem(1, first)
			}
		}
		first = false
	}
}

// reduceItem counts bison's reduction of a list item of n tokens into the
// list: the first item becomes the list, a later one joins it.
func (p *parser) reduceItem(n int, first bool) {
	if first {
		p.sp -= n - 1
		return
	}
	p.sp -= n
}

// parseULList parses [ n, n ... ]: the values in nfdump's tree order
// (sorted, each once).
func (p *parser) parseULList() []uint64 {
	p.expectChar('[')
	var vals []uint64
	first := true
	for {
		t := p.peek()
		switch {
		case t.is(']') && !first:
			p.shift()
			return newValSet(vals).sorted
		case t.is(',') && !first:
			p.shift()
			vals = append(vals, p.expectNumber())
			p.sp -= 2
		case t.kind == tNumber:
			vals = append(vals, p.shift().num)
			if !first {
				p.sp--
			}
		default:
			p.syntaxError()
		}
		first = false
	}
}

// termPort parses [dqual] port [cmp] N and port in [ ... ].
func (p *parser) termPort(d dir) uint32 {
	p.shift()
	if p.peek().kind == tIn {
		p.shift()
		if p.peek().kind == tPBlock {
			p.shift()
			p.unsupported("NAT port blocks", "port in pblock")
		}
		vals := p.parseULList()
		return p.ulList(d, vals, sSrcPort, sDstPort, 65535, portRange)
	}
	c := p.parseComp()
	n := p.expectNumber()
	if n > 65535 {
		p.errLast(portRange)
	}
	return p.srcDst(d, func() uint32 { return p.fieldVal(sSrcPort, n, c) }, func() uint32 { return p.fieldVal(sDstPort, n, c) })
}

// ulList makes the blocks of port in [...] and as in [...]. For both
// directions nfdump checks the range and fills a second tree for the
// destination; one direction alone is neither checked nor sorted again,
// so values out of range are cut to the field's bits.
func (p *parser) ulList(d dir, vals []uint64, src, dst slot, max uint64, rangeMsg string) uint32 {
	both := d == dirUnspec || d == dirSrcOrDst || d == dirSrcAndDst
	var dstVals []uint64
	if both {
		for _, v := range vals {
			if v > max {
				p.errLast(rangeMsg)
			}
			dstVals = append(dstVals, (v<<dst.shift)&dst.mask)
		}
	}
	shifted := func(s slot) []uint64 {
		out := make([]uint64, len(vals))
		for i, v := range vals {
			out[i] = (v << s.shift) & s.mask
		}
		return out
	}
	switch d {
	case dirSrc:
		return p.valList(src, newValSet(shifted(src)))
	case dirDst:
		return p.valList(dst, newValSet(shifted(dst)))
	case dirUnspec, dirSrcOrDst, dirSrcAndDst:
		srcSet := newValSet(shifted(src))
		dstSet := newValSet(dstVals)
		mk := func() uint32 { return p.valList(src, srcSet) }
		mk2 := func() uint32 { return p.valList(dst, dstSet) }
		if d == dirSrcAndDst {
			return p.and2(mk, mk2)
		}
		return p.or2(mk, mk2)
	}
	p.errLast(notExpected)
	return 0
}

// termAS parses [dqual] as [cmp] N and as in [ ... ]. nfdump 1.7.1 needs
// a geo database for any AS filter; godump filters the AS numbers the
// flows carry without one.
func (p *parser) termAS(d dir) uint32 {
	p.shift()
	if p.peek().kind == tIn {
		p.shift()
		vals := p.parseULList()
		return p.ulList(d, vals, sSrcAS, sDstAS, 0xffffffff, "AS number of range")
	}
	c := p.parseComp()
	n := p.expectNumber()
	if n > 0xffffffff {
		p.errLast("AS number of range")
	}
	switch d {
	case dirPrev:
		return p.fieldVal(sPrevAS, n, c)
	case dirNext:
		return p.fieldVal(sNextAS, n, c)
	}
	return p.srcDst(d, func() uint32 { return p.fieldVal(sSrcAS, n, c) }, func() uint32 { return p.fieldVal(sDstAS, n, c) })
}

// termMAC parses [dqual] mac ADDR.
func (p *parser) termMAC(d dir) uint32 {
	p.shift()
	mac := verifyMAC(p.expectString())
	if mac == 0 {
		p.errLast("Invalid MAC address format")
	}
	m := func(s slot) func() uint32 { return func() uint32 { return p.field(s, mac, cmpEQ) } }
	switch d {
	case dirUnspec:
		in := p.or2(m(sInSrcMAC), m(sInDstMAC))
		out := p.or2(m(sOutSrcMAC), m(sOutDstMAC))
		return p.b.connect(in, out, false)
	case dirIn:
		return p.or2(m(sInSrcMAC), m(sInDstMAC))
	case dirOut:
		return p.or2(m(sOutSrcMAC), m(sOutDstMAC))
	case dirSrc:
		return p.or2(m(sInSrcMAC), m(sOutSrcMAC))
	case dirDst:
		return p.or2(m(sInDstMAC), m(sOutDstMAC))
	case dirInSrc:
		return m(sInSrcMAC)()
	case dirInDst:
		return m(sInDstMAC)()
	case dirOutSrc:
		return m(sOutSrcMAC)()
	case dirOutDst:
		return m(sOutDstMAC)()
	}
	p.errLast(notExpected)
	return 0
}

// termFlags parses flags [cmp] N, flags LETTERS and flags AS (the letters
// A and S, which the scanner reads as the keyword as).
func (p *parser) termFlags() uint32 {
	p.shift()
	tcp := func() uint32 { return p.fieldVal(sProto, flow.ProtoTCP, cmpEQ) }
	var fl uint64
	switch p.peek().kind {
	case tAS:
		p.shift()
		fl = flow.TCPAck | flow.TCPSyn
	case tString:
		s := p.shift().str()
		if len(s) > 7 {
			p.errLast("Too many flags")
		}
		cnt := 0
		for _, f := range []struct {
			c   string
			bit uint64
		}{{"F", 1}, {"S", 2}, {"R", 4}, {"P", 8}, {"A", 16}, {"U", 32}} {
			if strings.Contains(s, f.c) {
				fl |= f.bit
				cnt++
			}
		}
		if strings.Contains(s, "X") {
			fl = 63
			cnt++
		}
		if cnt != len(s) {
			p.errLast("Too many flags")
		}
	default:
		c := p.parseComp()
		n := p.expectNumber()
		if n > 63 {
			p.errLast("Flags must be 0..63")
		}
		return p.and2(tcp, func() uint32 { return p.fieldVal(sFlags, n, c) })
	}
	m := (fl << sFlags.shift) & sFlags.mask
	return p.and2(tcp, func() uint32 { return p.fieldMask(sFlags, m, m, cmpFlags) })
}

// icmp tests the ICMP type or code, which implies ICMP or ICMPv6.
func (p *parser) icmp(typ bool, n uint64, c cmpOp) uint32 {
	if n > 255 {
		if typ {
			p.errLast("ICMP type of range 0..255")
		}
		p.errLast("ICMP code of range 0..255")
	}
	s := sICMPCode
	if typ {
		s = sICMPType
	}
	return p.and2(
		func() uint32 {
			return p.or2(
				func() uint32 { return p.fieldVal(sProto, flow.ProtoICMP, cmpEQ) },
				func() uint32 { return p.fieldVal(sProto, flow.ProtoICMPv6, cmpEQ) })
		},
		func() uint32 { return p.fieldVal(s, n, c) })
}

func (p *parser) engine(typ bool, n uint64, c cmpOp) uint32 {
	if n > 255 {
		if typ {
			p.errLast("Engine type of range 0..255")
		}
		p.errLast("Engine ID of range 0..255")
	}
	if typ {
		return p.fieldVal(sEngineType, n, c)
	}
	return p.fieldVal(sEngineID, n, c)
}

// termMPLS parses mpls labelN|expN|eos [cmp] V and mpls any V.
func (p *parser) termMPLS() uint32 {
	p.shift()
	if p.peek().kind == tAny {
		p.shift()
		n := p.expectNumber()
		if n > maxMPLS {
			p.errLast("MPLS value out of range")
		}
		return p.b.newBlock(block{mask: ^uint64(0), value: n << 4, comp: cmpEQ, fn: fnMPLSAny, data: dataPtr, op: opFunc})
	}
	opt := p.expectString()
	c := p.parseComp()
	n := p.expectNumber()
	if n > maxMPLS {
		p.errLast("MPLS value out of range")
	}
	switch {
	case hasPrefixFold(opt, "label"):
		if len(opt) == 5 {
			p.errLast("Missing label number")
		}
		i := strtol(opt[5:])
		if i < 1 || i > 10 {
			p.errLast("MPLS label out of range 1..10")
		}
		s := mplsSlot(int(i) - 1)
		mask, shift := uint64(0xfff0), 4
		if i%2 == 0 {
			mask, shift = 0x00fffff000000000, 36
		}
		return p.fieldMask(s, mask, (n<<shift)&mask, c)
	case strings.EqualFold(opt, "eos"):
		return p.function(fnMPLSEOS, n<<4, c)
	case hasPrefixFold(opt, "exp"):
		if len(opt) == 3 {
			p.errLast("Missing label number")
		}
		i := strtol(opt[3:])
		if n > 7 {
			p.errLast("MPLS exp value out of range")
		}
		if i < 1 || i > 10 {
			p.errLast("MPLS label out of range 1..10")
		}
		s := mplsSlot(int(i) - 1)
		mask, shift := uint64(0xe), 1
		if i%2 == 0 {
			mask, shift = 0x0000000e00000000, 33
		}
		return p.fieldMask(s, mask, n<<shift, c)
	}
	p.errLast("Unknown MPLS option")
	return 0
}

// strtol reads a decimal number as C's strtol does: an optional sign,
// digits up to the first other character, 0 when there are none, and the
// value cut to an int when it overflows a long.
func strtol(s string) int64 {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var v int64
	for i := 0; i < len(s) && isDigit(s[i]); i++ {
		if v > (1<<63-1-9)/10 {
			return -1 // LONG_MAX or LONG_MIN, cut to an int
		}
		v = v*10 + int64(s[i]-'0')
	}
	if neg {
		v = -v
	}
	return int64(int32(v))
}

// termASA parses the NSEL firewall event primitives.
func (p *parser) termASA() {
	p.shift()
	switch p.peek().kind {
	case tEvent:
		p.shift()
		switch p.peek().kind {
		case tReason:
			p.shift()
		case tDenied:
			p.shift()
			switch p.peek().kind {
			case tIngress, tEgress:
				p.shift()
			default:
				p.expectString()
			}
		default:
			p.parseComp()
			p.expectNumber()
		}
	case tXEvent:
		p.shift()
		p.parseComp()
		p.expectNumber()
	default:
		p.syntaxError()
	}
	p.unsupported("NSEL firewall events", "asa event")
}

// termNSELAddr parses xip, xnet, xport, nip and nport.
func (p *parser) termNSELAddr(t token) {
	p.shift()
	switch t.kind {
	case tXNet:
		p.expectString()
		p.expectChar('/')
		p.expectNumber()
	case tXPort, tNPort:
		p.parseComp()
		p.expectNumber()
	case tNIP:
		if p.peek().kind == tIn {
			p.shift()
			p.parseIPList()
		} else {
			p.expectString()
		}
	}
	p.unsupported("NSEL/NAT translated addresses and ports", strings.ToLower(t.text))
}

// natTerm parses 1.7.5's [src|dst] nat ip|net|port.
func (p *parser) natTerm() uint32 {
	switch p.peek().kind {
	case tIP:
		p.shift()
		p.expectString()
	case tNet:
		p.shift()
		p.expectString()
		if p.peek().is('/') {
			p.shift()
			p.expectNumber()
		}
	case tPort:
		p.shift()
		p.parseComp()
		p.expectNumber()
	default:
		p.syntaxError()
	}
	p.unsupported("NSEL/NAT translated addresses and ports", "nat")
	return 0
}

// termPayload parses the payload primitives.
func (p *parser) termPayload() {
	p.shift()
	switch p.peek().kind {
	case tContent:
		p.shift()
		p.expectString()
	case tRegex:
		p.shift()
		p.expectString()
		if p.peek().kind == tString {
			p.shift()
		}
	case tJA3:
		p.shift()
		p.expectString()
	default:
		p.syntaxError()
	}
	p.unsupported("payload", "payload")
}

// screenIdent is nfdump's ScreenIdentString: 1 to 255 letters, digits,
// '_' and '-'.
func screenIdent(s string) bool {
	if len(s) == 0 || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '_' && c != '-' && !isDigit(c) && !isLetter(rune(c)) {
			return false
		}
	}
	return true
}

// verifyMAC is nfdump's VerifyMac: at most 17 characters of hex digits and
// colons, six colon-separated parts of at most 255 each (further parts are
// ignored); 0 means invalid, so the all-zero MAC is rejected.
func verifyMAC(s string) uint64 {
	if len(s) > 17 {
		return 0
	}
	for i := 0; i < len(s); i++ {
		if hexVal(s[i]) < 0 && s[i] != ':' {
			return 0
		}
	}
	parts := strings.Split(s, ":")
	if len(parts) < 6 {
		return 0
	}
	var mac uint64
	for _, part := range parts[:6] {
		var v uint64
		for i := 0; i < len(part); i++ {
			v = v<<4 | uint64(hexVal(part[i]))
			if v > 255 {
				return 0
			}
		}
		mac = mac<<8 | v
	}
	return mac
}

// fwdStatusNames are nfdump's forwarding status names (grammar.y).
var fwdStatusNames = []struct {
	id   uint64
	name string
}{
	{0, "Ukwn"}, {1, "Forw"}, {2, "Frag"}, {16, "Drop"}, {17, "DaclD"},
	{18, "Daclp"}, {19, "Noroute"}, {20, "Dadj"}, {21, "Dfrag"}, {22, "Dbadh"},
	{23, "Dbadtlen"}, {24, "Dbadhlen"}, {25, "DbadTTL"}, {26, "Dpolicy"},
	{27, "Dwred"}, {28, "Drpf"}, {29, "Dforus"}, {30, "DbadOf"}, {31, "Dhw"},
	{128, "Term"}, {129, "Tadj"}, {130, "TincAdj"}, {131, "Tforus"},
}

func fwdStatus(name string) (uint64, bool) {
	for _, f := range fwdStatusNames {
		if strings.EqualFold(f.name, name) {
			return f.id, true
		}
	}
	return 0, false
}
