package aggregate

import (
	"reflect"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/region/regiontest"
)

// pointerFree reports whether values of t hold no pointers, which memory
// outside Go's heap requires.
func pointerFree(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Struct:
		for i := range t.NumField() {
			if !pointerFree(t.Field(i).Type) {
				return false
			}
		}
		return true
	case reflect.Array:
		return pointerFree(t.Elem())
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// TestTableRegions: a table keeps its entries, keys, packed records and
// index in mapped memory outside Go's heap, which holds no pointers, the
// rows in small pages, and Free unmaps it.
func TestTableRegions(t *testing.T) {
	require.True(t, pointerFree(reflect.TypeFor[entry]()), "entries hold no pointers")
	for _, tab := range []*Table{New(FiveTuple()), NewPrinting(FiveTuple())} {
		for i := range 3 * blockSize {
			r := rec(a4, b4, uint16(i), uint16(i>>16), 17, 1000, 2000, 1, 100, 0)
			tab.Add(&r)
		}
		require.Equal(t, 3*blockSize, tab.Len())
		type span struct {
			p unsafe.Pointer
			n uintptr
		}
		var spans []span
		at := func(b unsafe.Pointer, n uintptr) { spans = append(spans, span{b, n}) }
		for i := range tab.blocks {
			at(unsafe.Pointer(&tab.blocks[i][0]), uintptr(len(tab.blocks[i]))*unsafe.Sizeof(entry{}))
			at(unsafe.Pointer(&tab.keys[i][0]), uintptr(len(tab.keys[i])*8))
		}
		for _, c := range tab.recs.chunks {
			at(unsafe.Pointer(unsafe.SliceData(c)), uintptr(cap(c)*8))
		}
		// The rows take small pages (region.MapSmall).
		for i, s := range spans {
			huge, mapped := regiontest.HugeAdvisedAt(t, uintptr(s.p), s.n)
			assert.True(t, mapped, "array %d is mapped", i)
			assert.Empty(t, huge, "array %d is not advised huge pages", i)
		}
		require.NotNil(t, tab.mem.Index[0], "the index grew into mapped memory")
		at(unsafe.Pointer(&tab.mem.Index[0][0]), uintptr(len(tab.mem.Index[0])))
		// Asked right after Free, with nothing allocated in between (see
		// regiontest.Unmapped).
		unmapped := make([]bool, len(spans))
		tab.Free()
		for i, s := range spans {
			unmapped[i] = regiontest.Unmapped(s.p, s.n)
		}
		assert.Zero(t, tab.Len())
		for i := range spans {
			assert.True(t, unmapped[i], "array %d is unmapped", i)
		}
	}
}

// TestIndexSmallPagesFilled: a table's index grows into small pages, all
// filled ahead (Table.grow), not only those the moved slots fall in, which
// a read would map to the zero page and a write fault in again.
func TestIndexSmallPagesFilled(t *testing.T) {
	tab := NewPrinting(FiveTuple())
	defer tab.Free()
	r := rec(a4, b4, 1, 2, 17, 1000, 2000, 1, 100, 0)
	tab.Add(&r)
	require.Equal(t, 1, tab.Len())
	for tab.idx.Len() < 1<<19 { // 4 MiB of slots, two huge pages
		tab.grow()
	}
	regiontest.RequireSmallFilled(t, tab.mem.Index[0], 4<<20)
	tab.Add(&r)
	assert.Equal(t, 1, tab.Len(), "the key is found in the grown index")
}
