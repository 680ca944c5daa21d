package collector

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nfgo/nftools/flow"
)

// TestBlockStatsKeepsWhatWasWritten: flows are counted into the block the
// writer puts them in; when only the first blocks reach the disk, keep
// returns their counts and the number of flows in the others, also after
// written blocks were merged to keep few apart.
func TestBlockStatsKeepsWhatWasWritten(t *testing.T) {
	tcp := flow.Record{NFVersion: 5, Proto: flow.ProtoTCP, InPackets: 2, InBytes: 100, First: 1000, Last: 2000}
	for _, tc := range []struct {
		name    string
		blocks  int    // blocks of 10 flows handed to the disk, then 3 flows in the open block
		written uint64 // blocks written
		settle  uint64 // written blocks known while counting (0: none)
	}{
		{"all written", 3, 3, 0},
		{"none written", 3, 0, 0},
		{"two of five", 5, 2, 0},
		{"merged early", 20, 17, 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b blockStats
			b.reset()
			for i := 0; i < tc.blocks; i++ {
				for j := 0; j < 10; j++ {
					b.cur.add(&tcp)
				}
				assert.True(t, b.queued(uint64(i+1)))
				assert.False(t, b.queued(uint64(i+1)), "no new block")
				if tc.settle > 0 && uint64(i+1) >= tc.settle && len(b.blocks) >= maxInFlight {
					b.settle(tc.settle)
				}
			}
			for j := 0; j < 3; j++ {
				b.cur.add(&tcp)
			}
			all := b.all()
			assert.Equal(t, uint64(10*tc.blocks+3), all.st.Flows)
			kept, lost := b.keep(tc.written)
			assert.Equal(t, 10*tc.written, kept.st.Flows)
			assert.Equal(t, 20*tc.written, kept.st.Packets)
			assert.Equal(t, uint64(10*tc.blocks+3)-10*tc.written, lost)
			if tc.written > 0 {
				st := kept.stat(1, 2)
				assert.Equal(t, uint64(1000), st.FirstSeen)
				assert.Equal(t, uint64(2000), st.LastSeen)
			}
		})
	}
}
