package output

import (
	"net/netip"
	"slices"

	"github.com/nfgo/nftools/flow"
)

// ip is an address as nfdump's master record holds it: two 64-bit halves,
// with an IPv4 address in the low 32 bits of the second half.
type ip struct{ hi, lo uint64 }

func ipOf(a netip.Addr) ip {
	hi, lo := flow.AddrWords(a)
	return ip{hi, lo}
}

// appendIP4 appends the dotted quad of v (inet_ntop AF_INET), written in
// place: four strconv.AppendUint took 6% of godump -o json's CPU.
func appendIP4(b []byte, v uint32) []byte {
	n := len(b)
	if cap(b)-n < 16 {
		b = slices.Grow(b, 16)
	}
	t := (*[16]byte)(b[n : n+16])
	i := putOctet(t, 0, v>>24)
	t[i&15] = '.'
	i = putOctet(t, i+1, v>>16&0xff)
	t[i&15] = '.'
	i = putOctet(t, i+1, v>>8&0xff)
	t[i&15] = '.'
	i = putOctet(t, i+1, v&0xff)
	return b[:n+i]
}

// putOctet writes x (< 256) in decimal at t[i:] and returns where it ends.
func putOctet(t *[16]byte, i int, x uint32) int {
	if x >= 100 {
		q := x / 100
		r := x - 100*q
		t[i&15], t[(i+1)&15], t[(i+2)&15] = byte('0'+q), twoDigits[2*r], twoDigits[2*r+1]
		return i + 3
	}
	if x >= 10 {
		t[i&15], t[(i+1)&15] = twoDigits[2*x], twoDigits[2*x+1]
		return i + 2
	}
	t[i&15] = byte('0' + x)
	return i + 1
}

// appendIP6 appends x as glibc's inet_ntop(AF_INET6) prints it: the longest
// run of two or more zero groups compressed (the first on ties), lower-case
// hex, and an embedded dotted quad for ::a.b.c.d and ::ffff:a.b.c.d.
func appendIP6(b []byte, x ip) []byte {
	var w [8]uint16
	for i := 0; i < 4; i++ {
		w[i] = uint16(x.hi >> (48 - 16*uint(i)))
		w[4+i] = uint16(x.lo >> (48 - 16*uint(i)))
	}
	best, bestLen, cur, curLen := -1, 0, -1, 0
	for i := 0; i < 8; i++ {
		if w[i] == 0 {
			if cur < 0 {
				cur, curLen = i, 1
			} else {
				curLen++
			}
			continue
		}
		if cur >= 0 {
			if best < 0 || curLen > bestLen {
				best, bestLen = cur, curLen
			}
			cur = -1
		}
	}
	if cur >= 0 && (best < 0 || curLen > bestLen) {
		best, bestLen = cur, curLen
	}
	if best >= 0 && bestLen < 2 {
		best = -1
	}
	for i := 0; i < 8; i++ {
		if best >= 0 && i >= best && i < best+bestLen {
			if i == best {
				b = append(b, ':')
			}
			continue
		}
		if i != 0 {
			b = append(b, ':')
		}
		if i == 6 && best == 0 && (bestLen == 6 || (bestLen == 5 && w[5] == 0xffff)) {
			return appendIP4(b, uint32(x.lo))
		}
		b = appendHex16(b, w[i])
	}
	if best >= 0 && best+bestLen == 8 {
		b = append(b, ':')
	}
	return b
}

// appendHex16 appends v in lower-case hex without leading zeros, as
// strconv.AppendUint(b, v, 16) does, without its calls: those took 4% of
// godump -o json's CPU on the border archive, whose flows are a third
// IPv6.
func appendHex16(b []byte, v uint16) []byte {
	const digits = "0123456789abcdef"
	switch {
	case v >= 0x1000:
		return append(b, digits[v>>12], digits[v>>8&15], digits[v>>4&15], digits[v&15])
	case v >= 0x100:
		return append(b, digits[v>>8], digits[v>>4&15], digits[v&15])
	case v >= 0x10:
		return append(b, digits[v>>4], digits[v&15])
	}
	return append(b, digits[v])
}

// appendAddr appends x as IPv6 when v6, else as IPv4.
func appendAddr(b []byte, x ip, v6 bool) []byte {
	if v6 {
		return appendIP6(b, x)
	}
	return appendIP4(b, uint32(x.lo))
}

// condense shortens an address text longer than 16 characters to its first
// 7 and last 7 characters around "..", as nfdump does without -6.
func condense(s []byte) []byte {
	if len(s) <= 16 {
		return s
	}
	var t [16]byte
	copy(t[:7], s[:7])
	t[7], t[8] = '.', '.'
	copy(t[9:], s[len(s)-7:])
	return append(s[:0], t[:]...)
}

// masked reports whether r is a record printed under an -A list.
func masked(r *flow.Record) bool { return r.Elements&flow.MarkMasked != 0 }

// icmpTypeCode returns the ICMP type and code nfdump prints for an ICMP
// flow: zero for a record printed under an -A list.
func icmpTypeCode(r *flow.Record) (typ, code uint8) {
	if masked(r) {
		return 0, 0
	}
	return r.ICMPType(), r.ICMPCode()
}

// elements returns the set of elements the record carries; a record built
// by a producer (no element in Elements, marks aside) gets the set a
// writer would store.
func elements(r *flow.Record) flow.Elements {
	if r.Elements&^flow.Marks != 0 {
		return r.Elements
	}
	return r.NeededElements()
}

// maskNet applies nfdump's ApplyNetMaskBits to x: for IPv4 the 32-bit shift
// and for IPv6 the 64-bit shift wrap their count as the x86 instructions do,
// so a mask of 0 keeps the address.
func maskNet(x ip, bits uint8, v6 bool) ip {
	if !v6 {
		m := uint32(0xffffffff) << ((32 - uint32(bits)) & 31)
		x.lo = uint64(uint32(x.lo) & m)
		return x
	}
	if bits > 64 {
		x.lo &= ^uint64(0) << ((128 - uint32(bits)) & 63)
	} else {
		x.hi &= ^uint64(0) << ((64 - uint32(bits)) & 63)
		x.lo = 0
	}
	return x
}
