package aggregate

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
)

func TestParseOrder(t *testing.T) {
	for _, s := range []string{"bytes", "BYTES", "bytes:a", "tstart:d", "bps", "ibps", "obps"} {
		_, err := ParseOrder(s)
		assert.NoError(t, err, s)
	}
	for _, s := range []string{"foo", "bytes:x", ""} {
		_, err := ParseOrder(s)
		assert.EqualError(t, err, "Unknown print order '"+s+"'")
	}
	o, err := ParseOrder("tstart")
	require.NoError(t, err)
	assert.Equal(t, "tstart", o.Name())
	assert.True(t, o.Ascending())
}

func TestSortByBps(t *testing.T) {
	// nfdump 1.7.1 compares 0 for every bps key (fix 7); godump sorts.
	recs := []flow.Record{
		{First: 0, Last: 1000, InBytes: 100},  // 800 bps
		{First: 0, Last: 1000, InBytes: 1000}, // 8000 bps
		{First: 0, Last: 2000, InBytes: 500},  // 2000 bps
	}
	ptrs := []*flow.Record{&recs[0], &recs[1], &recs[2]}
	o, err := ParseOrder("bps")
	require.NoError(t, err)
	o.Sort(ptrs)
	assert.Equal(t, []uint64{1000, 500, 100}, []uint64{ptrs[0].InBytes, ptrs[1].InBytes, ptrs[2].InBytes})
	o, _ = ParseOrder("bps:a")
	o.Sort(ptrs)
	assert.Equal(t, []uint64{100, 500, 1000}, []uint64{ptrs[0].InBytes, ptrs[1].InBytes, ptrs[2].InBytes})
}

func TestSortKeys(t *testing.T) {
	r := flow.Record{First: 1000, Last: 3000, InPackets: 10, InBytes: 1000, OutPackets: 2, OutBytes: 600, Flows: 3}
	want := map[string]uint64{
		"flows": 3, "packets": 12, "ipkg": 10, "opkg": 2, "bytes": 1600, "ibyte": 1000, "obyte": 600,
		"pps": 6, "ipps": 5, "opps": 1, "bps": 6400, "ibps": 4000, "obps": 2400,
		"bpp": 133, "ibpp": 100, "obpp": 300, "tstart": 1000, "tend": 3000, "duration": 2000,
	}
	for name, v := range want {
		o, err := ParseOrder(name)
		require.NoError(t, err)
		assert.Equal(t, v, o.key(&r), name)
	}
}
