package stats

import (
	"net/netip"
	"runtime"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/region/regiontest"
)

// TestSplitRegions: a Split's parts keep their rows in the one pool they
// share and each its index in a region of its own, all mapped outside
// Go's heap, and freeing the Split's memory unmaps them all.
func TestSplitRegions(t *testing.T) {
	spec := mustSpec(t, "srcport/flows")
	s := NewSplit(spec, 2)
	block := NewTable(spec)
	for i := 0; i < 1<<16; i++ {
		r := flow.Record{SrcPort: uint16(i), Flows: 1}
		block.Add(&r)
	}
	MergeBlocks([]*Split{s}, []*Table{block}, []uint64{s.Reserve(block)})
	require.Equal(t, 1<<16, s.Len())
	var spans [][]byte
	for p, part := range s.parts {
		b := part.mem.Index[p]
		require.NotNil(t, b, "part %d's index grew into mapped memory", p)
		spans = append(spans, b)
		for _, c := range part.chunks {
			spans = append(spans, unsafe.Slice((*byte)(unsafe.Pointer(c)), unsafe.Sizeof(*c)))
		}
	}
	for i, b := range spans {
		_, mapped := regiontest.HugeAdvisedAt(t, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		assert.True(t, mapped, "array %d is mapped", i)
	}
	// Whether the memory is unmapped is asked of the kernel right after
	// it was given back, with nothing allocated in between: a mapping the
	// runtime makes later may take the same addresses.
	unmapped := make([]bool, len(spans))
	s.parts[0].mem.Free()
	for i, b := range spans {
		unmapped[i] = regiontest.Unmapped(unsafe.Pointer(&b[0]), uintptr(len(b)))
	}
	for i := range spans {
		assert.True(t, unmapped[i], "array %d is unmapped", i)
	}
	// Until here the Split's cleanup, which frees the same memory, must
	// not run.
	runtime.KeepAlive(s)
}

// TestBlockTableRegions: a block table keeps its rows and, once grown,
// its index outside Go's heap; it counts and merges as a table on Go's
// heap does, keeps its memory over Reset, and Free unmaps it.
func TestBlockTableRegions(t *testing.T) {
	spec := mustSpec(t, "srcport/flows")
	block, want := NewBlockTable(spec), NewTable(spec)
	s := NewSplit(spec, 2)
	for round := 0; round < 2; round++ {
		block.Reset()
		// Fewer keys than put the block in log mode (logFrom), which
		// gives its index back.
		for i := 0; i < 1<<14; i++ {
			r := flow.Record{SrcPort: uint16(i * (round + 1)), Flows: 1}
			block.Add(&r)
			want.Add(&r)
		}
		MergeBlocks([]*Split{s}, []*Table{block}, []uint64{s.Reserve(block)})
	}
	requireSameTops(t, spec, want, s, "block table in regions")
	require.False(t, block.log)
	require.NotNil(t, block.mem.Index[0], "the index grew into mapped memory")
	spans := [][]byte{block.mem.Index[0]}
	for _, c := range block.chunks {
		spans = append(spans, unsafe.Slice((*byte)(unsafe.Pointer(c)), unsafe.Sizeof(*c)))
	}
	for i, b := range spans {
		_, mapped := regiontest.HugeAdvisedAt(t, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		assert.True(t, mapped, "array %d is mapped", i)
	}
	unmapped := make([]bool, len(spans))
	block.Free()
	for i, b := range spans {
		unmapped[i] = regiontest.Unmapped(unsafe.Pointer(&b[0]), uintptr(len(b)))
	}
	for i := range spans {
		assert.True(t, unmapped[i], "array %d is unmapped", i)
	}
	runtime.KeepAlive(block)
}

// TestIndexSmallPagesFilled: a table's index grows into small pages, all
// filled ahead (Table.grow), not huge pages, whose first touch on the
// benchmark machine was its host filling 2 MiB; and the keys stay found.
func TestIndexSmallPagesFilled(t *testing.T) {
	spec := mustSpec(t, "srcport/flows")
	tab := NewBlockTable(spec)
	defer tab.Free()
	r := flow.Record{SrcPort: 53, Flows: 1}
	tab.Add(&r)
	for tab.idx.Len() < 1<<19 { // 4 MiB of slots, two huge pages
		tab.grow()
	}
	regiontest.RequireSmallFilled(t, tab.mem.Index[0], 4<<20)
	tab.Add(&r)
	require.Equal(t, 1, tab.Len(), "the key is found in the grown index")
	assert.Equal(t, uint64(2), tab.counter(0).flows)
}

// TestLogModeGivesIndexBack: a block table whose Split grows to logFrom
// keys in a part goes to log mode and unmaps its index, and the Split
// still counts what counting the flows one by one counts.
func TestLogModeGivesIndexBack(t *testing.T) {
	spec := mustSpec(t, "srcip/flows")
	block, want := NewBlockTable(spec), NewTable(spec)
	defer block.Free()
	s := NewSplit(spec, 2)
	var index []byte
	for round := 0; round < 4; round++ {
		block.Reset()
		for i := 0; i < 3*logFrom; i++ {
			// Keys seen again in the block and in the blocks before.
			v := (i*7 + round*1000) % (2 * logFrom)
			r := flow.Record{SrcAddr: netip.AddrFrom4([4]byte{10, 0, byte(v >> 8), byte(v)}), InBytes: uint64(i % 5), Flows: 1}
			block.Add(&r)
			want.Add(&r)
		}
		if round == 0 {
			index = block.mem.Index[0]
			require.NotNil(t, index, "the index grew into mapped memory")
		}
		MergeBlocks([]*Split{s}, []*Table{block}, []uint64{s.Reserve(block)})
		require.True(t, block.log, "round %d", round)
		if round == 0 {
			require.Nil(t, block.mem.Index[0])
			require.True(t, regiontest.Unmapped(unsafe.Pointer(&index[0]), uintptr(len(index))), "the index is unmapped")
		}
	}
	requireSameTops(t, spec, want, s, "log mode")
}
