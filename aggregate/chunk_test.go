package aggregate

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/region"
)

// TestArenaFirstChunkSmall: an arena's first chunk is firstChunk words,
// so that a small table's records stay in its pool's first region (small
// pages), the next ones full chunks; records on both sides of the change
// come back whole.
func TestArenaFirstChunkSmall(t *testing.T) {
	var pool region.Pool
	defer pool.Free()
	a := arena{mem: &pool}
	var recs []flow.Record
	var refs []uint32
	for i := 0; len(a.chunks) < 3; i++ {
		r := flow.Record{Elements: 0x16, NFVersion: 9, SrcAddr: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}),
			DstAddr: netip.MustParseAddr("2001:db8::2"), Proto: 6, SrcPort: uint16(i), DstPort: 80, Input: uint32(i)}
		recs = append(recs, r)
		refs = append(refs, a.put(&r, uint32(i)))
	}
	require.Len(t, a.chunks, 3)
	assert.Equal(t, firstChunk, cap(a.chunks[0]))
	assert.Equal(t, 1<<arenaBits, cap(a.chunks[1]))
	assert.Equal(t, 1<<arenaBits, cap(a.chunks[2]))
	for i, ref := range refs {
		var got flow.Record
		require.Equal(t, uint32(i), a.get(ref, &got))
		require.Equal(t, recs[i].SrcAddr, got.SrcAddr, "record %d", i)
		require.Equal(t, recs[i].Input, got.Input, "record %d", i)
	}
}
