package output

import (
	"strconv"

	"github.com/nfgo/nftools/flow"
)

// appendProto appends nfdump's ProtoString: the name, or with plain (or a
// number without a name) the number left-aligned in 5 columns.
func appendProto(b []byte, p uint8, plain bool) []byte {
	if plain || int(p) >= len(flow.ProtoNames) {
		return appendUL(b, uint64(p), 5)
	}
	return append(b, flow.ProtoNames[p]...)
}

// appendFlags appends the 8-character TCP flag string "CEUAPRSF".
func appendFlags(b []byte, f uint8) []byte {
	const names = "CEUAPRSF"
	for i := 0; i < 8; i++ {
		if f&(0x80>>uint(i)) != 0 {
			b = append(b, names[i])
		} else {
			b = append(b, '.')
		}
	}
	return b
}

// appendMAC appends a MAC held as a number as aa:bb:cc:dd:ee:ff.
func appendMAC(b []byte, m uint64) []byte {
	for i := 5; i >= 0; i-- {
		b = hex2(b, uint8(m>>(8*uint(i))))
		if i > 0 {
			b = append(b, ':')
		}
	}
	return b
}

// appendMPLS appends label-exp-eos with the label in width w ("%*u-%1u-%1u").
func appendMPLS(b []byte, l uint32, w int) []byte {
	b = appendU(b, uint64(l>>4), w)
	b = append(b, '-')
	b = strconv.AppendUint(b, uint64((l&0xf)>>1), 10)
	b = append(b, '-')
	return strconv.AppendUint(b, uint64(l&1), 10)
}

// appendDuration appends nfdump's DurationString of d seconds, including
// what its int arithmetic makes of durations that wrapped below zero.
func appendDuration(b []byte, d float64) []byte {
	days := cInt(d / 86400)
	sum := 86400 * days
	hours := cInt((d - float64(sum)) / 3600)
	sum += 3600 * hours
	min := cInt((d - float64(sum)) / 60)
	sec := d - float64(sum) - float64(60*min)
	if days == 0 {
		b = append(b, "    "...)
	} else {
		b = appendI(b, int64(days), 2, false)
		b = append(b, "d "...)
	}
	b = appendI(b, int64(hours), 2, true)
	b = append(b, ':')
	b = appendI(b, int64(min), 2, true)
	b = append(b, ':')
	return appendF(b, sec, 3, 6, true)
}
