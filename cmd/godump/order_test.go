package main

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
)

func fmtSscan(s string, n *int) (int, error) { return fmt.Sscan(s, n) }

func TestParseOrder(t *testing.T) {
	for _, s := range []string{"bytes", "BYTES", "bytes:a", "tstart:d", "bps", "ibps", "obps"} {
		_, err := parseOrder(s)
		assert.NoError(t, err, s)
	}
	for _, s := range []string{"foo", "bytes:x", ""} {
		_, err := parseOrder(s)
		assert.EqualError(t, err, "Unknown print order '"+s+"'")
	}
}

func TestSortByBps(t *testing.T) {
	// nfdump 1.7.1 compares 0 for every bps key (fix 7); godump sorts.
	recs := []flow.Record{
		{First: 0, Last: 1000, InBytes: 100},  // 800 bps
		{First: 0, Last: 1000, InBytes: 1000}, // 8000 bps
		{First: 0, Last: 2000, InBytes: 500},  // 2000 bps
	}
	ptrs := []*flow.Record{&recs[0], &recs[1], &recs[2]}
	o, err := parseOrder("bps")
	require.NoError(t, err)
	o.sort(ptrs)
	assert.Equal(t, []uint64{1000, 500, 100}, []uint64{ptrs[0].InBytes, ptrs[1].InBytes, ptrs[2].InBytes})
	o, _ = parseOrder("bps:a")
	o.sort(ptrs)
	assert.Equal(t, []uint64{100, 500, 1000}, []uint64{ptrs[0].InBytes, ptrs[1].InBytes, ptrs[2].InBytes})
}
