package flow

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestV3PlacesFitTheirElements checks the table against itself and the
// element sizes: each element's places lie inside its payload (the
// header's inside the record header, after its type, size and element
// count), in ascending order without overlapping, and have a width their
// kind allows.
func TestV3PlacesFitTheirElements(t *testing.T) {
	for id := 0; id <= MaxModeledElement; id++ {
		places := V3Places(id)
		if id == 0 {
			places = V3HeaderPlaces()
		}
		require.NotEmpty(t, places, "element %d has no places", id)
		start, end := 6, V3HeaderSize
		if id > 0 {
			start, end = 0, int(ElemSize[id])-V3ElemHeaderSize
		}
		for _, p := range places {
			name := p.Field.Name()
			assert.Equal(t, id, int(p.Elem), "%s listed under element %d", name, id)
			assert.GreaterOrEqual(t, int(p.Off), start, "%s in element %d overlaps the field before it", name, id)
			assert.LessOrEqual(t, int(p.Off)+int(p.Width), end, "%s runs past element %d", name, id)
			start = int(p.Off) + int(p.Width)
			switch {
			case p.Field.Kind() == KindAddr:
				assert.Contains(t, []V3Place{{p.Field, p.Elem, p.Off, 4, 4}, {p.Field, p.Elem, p.Off, 16, 6}}, p,
					"%s: an address is 4 bytes of family 4 or 16 of family 6", name)
			default:
				assert.Zero(t, p.Fam, "%s is a number", name)
				assert.Contains(t, []uint8{1, 2, 4, 8}, p.Width, "%s", name)
			}
		}
	}
	assert.Nil(t, V3Places(0), "element 0 is no element")
	assert.Nil(t, V3Places(-1))
	assert.Nil(t, V3Places(MaxModeledElement+1))
	assert.Nil(t, V3Places(ElemLabel))
}

// TestV3PlacesCoverStoredFields checks that every field the record stores
// has a place, in the elements Field.Elements names (none for the
// header's fields), and that the fields derived from others have none.
func TestV3PlacesCoverStoredFields(t *testing.T) {
	derived := map[Field]bool{FieldDuration: true, FieldIPv6: true, FieldICMPType: true, FieldICMPCode: true}
	var in [NumFields]Elements
	var header [NumFields]bool
	for id := 0; id <= MaxModeledElement; id++ {
		places := V3Places(id)
		if id == 0 {
			places = V3HeaderPlaces()
		}
		for _, p := range places {
			if id == 0 {
				header[p.Field] = true
			} else {
				assert.False(t, in[p.Field].Has(id), "%s twice in element %d", p.Field.Name(), id)
				in[p.Field] = in[p.Field].With(id)
			}
			got, ok := V3PlaceOf(p.Field, p.Fam)
			assert.True(t, ok)
			assert.Equal(t, p, got)
		}
	}
	for f := FieldFirst; f < NumFields; f++ {
		switch {
		case derived[f]:
			assert.Zero(t, in[f], "%s is derived but has a place", f.Name())
			assert.False(t, header[f], "%s is derived but has a place", f.Name())
		case header[f]:
			assert.Zero(t, f.Elements(), "%s is in the record header", f.Name())
			assert.Zero(t, in[f], "%s is in the header and in an element", f.Name())
		default:
			assert.Equal(t, f.Elements(), in[f], "%s: table places it in %b, Field.Elements says %b", f.Name(), in[f], f.Elements())
		}
	}
	for _, miss := range []struct {
		f   Field
		fam uint8
	}{{FieldSrcAddr, 0}, {FieldSrcPort, 4}, {FieldDuration, 0}, {FieldIPv6, 0}} {
		_, ok := V3PlaceOf(miss.f, miss.fam)
		assert.False(t, ok, "%s in family %d", miss.f.Name(), miss.fam)
	}
}

// TestMaxV3Size: a record of every modeled element fits MaxV3Size.
func TestMaxV3Size(t *testing.T) {
	n := V3HeaderSize
	for id := 1; id <= MaxModeledElement; id++ {
		n += int(ElemSize[id])
	}
	assert.Equal(t, 388, n)
	assert.LessOrEqual(t, n, MaxV3Size)
}
