package netflow

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
)

// TestFastPathMatchesGeneral: for every field nfcapd maps, in v9 and in
// IPFIX, at every length the fast path takes, a record decoded by runFast
// (with its fused kinds) equals the one the general loop of run decodes
// from the same bytes, the stack and core values included.
func TestFastPathMatchesGeneral(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for name, table := range map[string]map[uint16]ie{"v9": v9Fields, "ipfix": ipfixFields} {
		for typ, x := range table {
			for _, n := range []uint16{1, 2, 4, 8, 16} {
				// The field under test between two common ones, so offsets
				// are not all zero.
				fields := []field{
					{inLen: 4, ie: table[8]},
					{inLen: n, ie: x},
					{inLen: 2, ie: table[11]},
				}
				fast := &template{id: 256, data: true, fields: fields}
				fast.finishTemplate()
				fast.compileFast()
				if fast.fastState != fastYes {
					continue
				}
				slow := &template{id: 256, data: true, fields: fields, fastState: fastNo}
				slow.finishTemplate()
				b := make([]byte, fast.fastLen)
				for i := range b {
					b[i] = byte(rng.Uint32())
				}
				var rf, rs flow.Record
				var sf, ss [planVals]uint64
				nf, errF := fast.runFast(b, &rf, &sf)
				ns, errS := slow.run(b, &rs, &ss, &exporter{}, 0)
				require.NoError(t, errF)
				require.NoError(t, errS)
				assert.Equal(t, ns, nf, "%s field %d length %d", name, typ, n)
				assert.Equal(t, rs, rf, "%s field %d length %d", name, typ, n)
				assert.Equal(t, ss, sf, "%s field %d length %d", name, typ, n)
			}
		}
	}
}
