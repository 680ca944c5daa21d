package flowfile

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
)

// The V3 encoder and decoder here are written out by hand, element by
// element (they run per flow); these tests hold them to flow.V3Places,
// the one table of where each field sits, for every field.

// placeSets are the element sets of the tests: every modeled element,
// with the IPv4 variants of the paired ones or with the IPv6 ones.
var placeSets = map[string]flow.Elements{
	"IPv4": modeled &^ (1<<flow.ElemIPv6 | 1<<flow.ElemBGPNextHopV6 | 1<<flow.ElemIPNextHopV6 | 1<<flow.ElemExporterIPv6),
	"IPv6": modeled &^ (1<<flow.ElemIPv4 | 1<<flow.ElemBGPNextHopV4 | 1<<flow.ElemIPNextHopV4 | 1<<flow.ElemExporterIPv4),
}

// placesOf returns the places of element id, those of the record header
// for id 0.
func placesOf(id int) []flow.V3Place {
	if id == 0 {
		return flow.V3HeaderPlaces()
	}
	return flow.V3Places(id)
}

// distinctRecord returns a record that carries the elements of set, with
// a value in each field the table places in them whose bytes are not
// zero and differ from those of its neighbours.
func distinctRecord(t *testing.T, set flow.Elements) flow.Record {
	r := flow.Record{Elements: set}
	c := byte(0)
	next := func() byte {
		c++
		if c == 0 {
			c++
		}
		return c
	}
	for id := 0; id <= flow.MaxModeledElement; id++ {
		if id > 0 && !set.Has(id) {
			continue
		}
		for _, p := range placesOf(id) {
			var v [16]byte
			for i := range p.Width {
				v[i] = next()
			}
			switch {
			case p.Fam == 4:
				p.Field.SetAddr(&r, netip.AddrFrom4([4]byte(v[:4])))
			case p.Fam == 6:
				p.Field.SetAddr(&r, netip.AddrFrom16(v))
			case p.Field == flow.FieldFlows:
				r.Flows = le.Uint64(v[:8])
			default:
				x := le.Uint64(v[:8])
				if p.Field == flow.FieldSrcVLAN || p.Field == flow.FieldDstVLAN {
					x &= 0xffff // nfdump keeps 16 bits of a VLAN id (Field.Set)
				}
				p.Field.Set(&r, x)
				require.Equal(t, x, p.Field.Value(&r), "%s holds the value", p.Field.Name())
			}
		}
	}
	return r
}

// placeBytes returns the bytes the table says field p.Field of r is
// stored as at p.
func placeBytes(p flow.V3Place, r *flow.Record) []byte {
	b := make([]byte, 16)
	switch p.Fam {
	case 4:
		_, lo := flow.AddrWords(p.Field.Addr(r))
		le.PutUint32(b, uint32(lo))
	case 6:
		hi, lo := flow.AddrWords(p.Field.Addr(r))
		le.PutUint64(b, hi)
		le.PutUint64(b[8:], lo)
	default:
		v := p.Field.Value(r)
		if p.Field == flow.FieldFlows {
			v = r.Flows // the stored count, not AggrFlows
		}
		le.PutUint64(b, v)
	}
	return b[:p.Width]
}

// tableV3 builds the V3 record of r's elements from the table alone: the
// elements in ascending order, each field's bytes at its place.
func tableV3(r *flow.Record) []byte {
	b := make([]byte, flow.V3HeaderSize)
	n := 0
	for id := 1; id <= flow.MaxModeledElement; id++ {
		if !r.Elements.Has(id) {
			continue
		}
		e := make([]byte, flow.ElemSize[id])
		binary.LittleEndian.PutUint16(e, uint16(id))
		binary.LittleEndian.PutUint16(e[2:], flow.ElemSize[id])
		for _, p := range flow.V3Places(id) {
			copy(e[flow.V3ElemHeaderSize+int(p.Off):], placeBytes(p, r))
		}
		b = append(b, e...)
		n++
	}
	le.PutUint16(b, recV3)
	le.PutUint16(b[2:], uint16(len(b)))
	le.PutUint16(b[4:], uint16(n))
	for _, p := range flow.V3HeaderPlaces() {
		copy(b[p.Off:], placeBytes(p, r))
	}
	return b
}

// TestV3EncodeAtTablePlaces encodes a record with a distinct value in
// each field and finds each value at its place in the table, in its
// width, and nothing but zeros outside the places.
func TestV3EncodeAtTablePlaces(t *testing.T) {
	for name, set := range placeSets {
		t.Run(name, func(t *testing.T) {
			r := distinctRecord(t, set)
			b := appendV3(nil, &r, new(v3Layout))
			require.Equal(t, tableV3(&r), b, "the encoder writes what the table says")
			// The same, place by place, to name a field that differs.
			check := func(id int, p []byte) {
				covered := make([]bool, len(p))
				for _, pl := range placesOf(id) {
					end := int(pl.Off) + int(pl.Width)
					require.LessOrEqual(t, end, len(p))
					assert.Equal(t, placeBytes(pl, &r), p[pl.Off:end], "element %d: %s", id, pl.Field.Name())
					for i := int(pl.Off); i < end; i++ {
						covered[i] = true
					}
				}
				for i, x := range p {
					if !covered[i] && (id > 0 || i >= 6) {
						assert.Zero(t, x, "element %d: byte %d is no field's", id, i)
					}
				}
			}
			check(0, b[:flow.V3HeaderSize])
			var seen flow.Elements
			for off := flow.V3HeaderSize; off < len(b); {
				id, l := int(le.Uint16(b[off:])), int(le.Uint16(b[off+2:]))
				require.Equal(t, int(flow.ElemSize[id]), l, "element %d", id)
				check(id, b[off+flow.V3ElemHeaderSize:off+l])
				seen = seen.With(id)
				off += l
			}
			assert.Equal(t, set, seen)
		})
	}
}

// TestV3DecodeFromTablePlaces decodes records built from the table alone,
// each field's distinct value at its place, and finds each field holding
// its value, through decodeV3 and the reader's shapes, whose totals read
// the counters where the table has them; clearing an element zeroes
// exactly the fields the table places in it.
func TestV3DecodeFromTablePlaces(t *testing.T) {
	for name, set := range placeSets {
		t.Run(name, func(t *testing.T) {
			want := distinctRecord(t, set)
			b := tableV3(&want)
			var got flow.Record
			_, err := decodeV3(b, &got, allElements)
			require.NoError(t, err)
			assert.Equal(t, want, got)
			for id := 1; id <= flow.MaxModeledElement; id++ {
				for _, p := range flow.V3Places(id) {
					if set.Has(id) {
						assert.Equal(t, placeBytes(p, &want), placeBytes(p, &got), "element %d: %s", id, p.Field.Name())
					}
				}
			}
			var d v3Decoder
			d.reset(allElements)
			for i := range 2 { // learning the shape, then by the shape
				got = flow.Record{}
				_, err = d.decode(b, &got)
				require.NoError(t, err)
				assert.Equal(t, want, got, "through the shape decoder, %d", i)
			}
			// The shape's sums read the generic and counter elements'
			// bytes by hand as well.
			var sums, added flow.Totals
			d.find(b).total(b, &sums)
			added.Add(&want)
			assert.Equal(t, added, sums, "a shape's totals")

			for id := 1; id <= flow.MaxModeledElement; id++ {
				if !set.Has(id) {
					continue
				}
				r := want
				clearElement(id, &r)
				cleared := want
				for _, p := range flow.V3Places(id) {
					clearPlace(p, &cleared)
				}
				assert.Equal(t, cleared, r, fmt.Sprintf("clearing element %d", id))
			}
		})
	}
}

// clearPlace zeroes the field at p in r.
func clearPlace(p flow.V3Place, r *flow.Record) {
	switch {
	case p.Fam != 0:
		p.Field.SetAddr(r, netip.Addr{})
	case p.Field == flow.FieldFlows:
		r.Flows = 0
	default:
		p.Field.Set(r, 0)
	}
}
