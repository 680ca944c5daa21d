package netflow

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestEncFieldsMatchDecoder: every element the encoders write is one the
// decoders map to the same Record field (or the same stack slot), in v9
// and in IPFIX, so the encode table and the decode table cannot drift.
func TestEncFieldsMatchDecoder(t *testing.T) {
	groups := [][]encField{encAddr4, encAddr6, encPorts, encCounts, encCountsWide, encTimes, encMAC, encPostMAC, encVLAN, encRouting4, encRouting6}
	for _, g := range groups {
		for _, f := range g {
			for _, c := range []struct {
				name  string
				tab   map[uint16]ie
				id    uint16
				ipfix bool
			}{{"v9", v9Fields, f.v9, false}, {"ipfix", ipfixFields, f.ipfix, true}} {
				x, ok := c.tab[c.id]
				what := fmt.Sprintf("%s element %d", c.name, c.id)
				if !assert.True(t, ok, what) {
					continue
				}
				src := f.src
				if c.ipfix && (src == fromFirstUp || src == fromLastUp) {
					src = fromTarget // IPFIX sends absolute times
				}
				switch src {
				case fromTarget, fromHop4, fromHop6, fromAddr6, fromSrcPort:
					assert.Equal(t, f.target, x.target, what)
				case fromFirstUp:
					assert.Equal(t, uint8(sFirstUp), x.stack, what)
				case fromLastUp:
					assert.Equal(t, uint8(sLastUp), x.stack, what)
				case fromICMP:
					assert.Contains(t, []uint8{sICMP}, x.stack, what)
				}
			}
		}
	}
}

// TestShapes: template ids are 256 + shape, every shape's fields are
// distinct elements, and the largest shape fits the default MTU.
func TestShapes(t *testing.T) {
	for s := range numShapes {
		for _, ipfix := range []bool{false, true} {
			tm := buildTemplate(s, ipfix)
			assert.Equal(t, []byte{byte((256 + s) >> 8), byte(256 + s)}, tm.spec[:2])
			seen := map[uint16]bool{}
			for i := range tm.ops {
				id := uint16(tm.spec[4+4*i])<<8 | uint16(tm.spec[5+4*i])
				assert.False(t, seen[id], "shape %d element %d twice", s, id)
				seen[id] = true
			}
			assert.Less(t, v9HeaderLen+8+len(tm.spec)+tm.recLen+3, DefaultMTU)
		}
	}
}
