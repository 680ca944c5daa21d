package filter

import "strings"

// ipParse is what nfdump's parse_ip (ipconv.c) makes of a string: an IPv6
// address if it has a colon, a host name if it has a letter, else an IPv4
// address, which may be partial ("10.1" is 10.1.0.0 with bytes 2: net
// accepts it, ip calls it incomplete).
type ipParse struct {
	ok    bool // nfdump's ret 1 (0 is a parse error)
	host  bool // a host name (ret -1 where names are not allowed)
	v6    bool
	bytes int // the bytes the text gave: 4 or 16 for a full address
	addrs []ipAddr
}

// ipAddr is one address of a parse: a host name may give several, of both
// families.
type ipAddr struct {
	addr128
	v4 bool
}

// fam returns the address family as a block's fam: 4 or 6.
func (a ipAddr) fam() uint8 {
	if a.v4 {
		return 4
	}
	return 6
}

// parseIP parses s. With lookup, a host name is resolved; a name that does
// not resolve is a parse error, as it is in nfdump.
func (p *parser) parseIP(s string, lookup bool) ipParse {
	switch {
	case strings.IndexByte(s, ':') >= 0:
		a, n, ok := parseIPv6(s)
		if ok {
			p.ipstack = a
		}
		return ipParse{ok: ok, v6: true, bytes: n, addrs: []ipAddr{{a, false}}}
	case strings.IndexFunc(s, isLetter) >= 0:
		if !lookup {
			return ipParse{host: true}
		}
		addrs, ok := p.resolve(s)
		if ok && len(addrs) > 0 {
			p.ipstack = addrs[0].addr128
		}
		return ipParse{ok: ok, host: true, addrs: addrs}
	}
	v, n, ok := parseIPv4(s)
	a := addr128{0, uint64(v)}
	if ok {
		p.ipstack = a
	}
	return ipParse{ok: ok, bytes: n, addrs: []ipAddr{{a, true}}}
}

func isLetter(r rune) bool { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' }

// incomplete reports nfdump's "incomplete IP address": an address literal
// of fewer bytes than its family has.
func (r ipParse) incomplete() bool {
	if r.host {
		return false
	}
	if r.v6 {
		return r.bytes != 16
	}
	return r.bytes != 4
}

// parseIPv4 is nfdump's parse_ipv4: up to four decimal parts of at most
// 255 (leading zeros allowed) separated by single dots, not ending in a
// dot. It returns the address with missing parts 0 and the number of parts.
func parseIPv4(s string) (uint32, int, bool) {
	var tmp [4]byte
	n, k := 0, 0 // parts seen, current part
	sawDigit := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			v := int(tmp[k])*10 + int(c-'0')
			if v > 255 {
				return 0, n, false
			}
			if !sawDigit {
				n++
				if n > 4 {
					return 0, n, false
				}
				sawDigit = true
			}
			tmp[k] = byte(v)
		case c == '.' && sawDigit:
			if n == 4 {
				return 0, n, false
			}
			k++
			tmp[k] = 0
			sawDigit = false
			if i+1 == len(s) {
				return 0, n, false
			}
		default:
			return 0, n, false
		}
	}
	return uint32(tmp[0])<<24 | uint32(tmp[1])<<16 | uint32(tmp[2])<<8 | uint32(tmp[3]), n, true
}

// parseIPv6 is nfdump's parse_ipv6 (inet_pton6 with the byte count): with
// "::" the address is always 16 bytes; without, the groups written count,
// so "2001:db8" is 4 bytes, which net accepts up to /32.
func parseIPv6(s string) (addr128, int, bool) {
	var tmp [16]byte
	tp, colonp := 0, -1
	i := 0
	if i < len(s) && s[i] == ':' {
		i++
		if i >= len(s) || s[i] != ':' {
			return addr128{}, 0, false
		}
	}
	curtok := i
	sawXDigit := false
	val := 0
	for i < len(s) {
		c := s[i]
		i++
		if d := hexVal(c); d >= 0 {
			val = val<<4 | d
			if val > 0xffff {
				return addr128{}, 0, false
			}
			sawXDigit = true
			continue
		}
		if c == ':' {
			curtok = i
			if !sawXDigit {
				if colonp >= 0 {
					return addr128{}, 0, false
				}
				colonp = tp
				continue
			} else if i >= len(s) {
				return addr128{}, 0, false
			}
			if tp+2 > 16 {
				return addr128{}, 0, false
			}
			tmp[tp], tmp[tp+1] = byte(val>>8), byte(val)
			tp += 2
			sawXDigit = false
			val = 0
			continue
		}
		if c == '.' && tp+4 <= 16 {
			if v4, _, ok := parseIPv4(s[curtok:]); ok {
				tmp[tp], tmp[tp+1], tmp[tp+2], tmp[tp+3] = byte(v4>>24), byte(v4>>16), byte(v4>>8), byte(v4)
				tp += 4
				sawXDigit = false
				break
			}
		}
		return addr128{}, 0, false
	}
	if sawXDigit {
		if tp+2 > 16 {
			return addr128{}, 0, false
		}
		tmp[tp], tmp[tp+1] = byte(val>>8), byte(val)
		tp += 2
	}
	if colonp >= 0 {
		n := tp - colonp
		for k := 1; k <= n; k++ {
			tmp[16-k] = tmp[colonp+n-k]
			tmp[colonp+n-k] = 0
		}
		tp = 16
	}
	var a addr128
	for k := 0; k < 8; k++ {
		a.hi = a.hi<<8 | uint64(tmp[k])
		a.lo = a.lo<<8 | uint64(tmp[8+k])
	}
	return a, tp, true
}

func hexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
