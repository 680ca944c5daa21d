package netflow_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/netflow"
)

// recordSink is a V3BatchHandler that keeps every V3 record it gets,
// one by one (FlowV3) or in batches (FlowsV3), in order. With small set,
// every other V3Space is too small for a batch (but holds V3Room), as a
// writer's block near its end may be.
type recordSink struct {
	nopHandler
	small   bool
	calls   int
	room    []byte
	records [][]byte
	batches int
}

func (h *recordSink) V3Space() []byte {
	h.calls++
	if h.room == nil {
		h.room = make([]byte, netflow.V3BatchRoom)
	}
	if h.small && h.calls%2 == 0 {
		return h.room[:netflow.V3Room+10]
	}
	return h.room
}

func (h *recordSink) FlowV3(f *netflow.V3Flow) {
	h.records = append(h.records, bytes.Clone(f.Record))
}

func (h *recordSink) FlowsV3(b *netflow.V3Batch) {
	h.batches++
	start := 0
	for i := range b.N {
		h.records = append(h.records, bytes.Clone(b.Records[start:b.Ends[i]]))
		start = int(b.Ends[i])
	}
}

// TestV3BatchFallbacks: the records of a v9 data set go into batches
// while the handler's room takes them, and one by one, the same bytes,
// while it does not; a set whose last record is cut short delivers the
// records before it and fails as the general path does.
func TestV3BatchFallbacks(t *testing.T) {
	decode := func(small bool, pkts ...[]byte) (*recordSink, error) {
		d := netflow.NewDecoder(netflow.Options{V3: true})
		h := &recordSink{small: small}
		var err error
		for _, p := range pkts {
			err = errors.Join(err, d.Decode(p, lo, when, h))
		}
		return h, err
	}
	data := [][]byte{v9Template(), v9Data(1, 70), v9Data(2, 3), v9Data(3, 31)}
	want, err := decode(false, data...)
	require.NoError(t, err)
	require.Len(t, want.records, 70+3+31)
	assert.Equal(t, 3+1+2, want.batches, "batches of at most 30 records")
	got, err := decode(true, data...)
	require.NoError(t, err)
	assert.Less(t, got.batches, want.batches, "some records one by one")
	assert.Equal(t, want.records, got.records)

	// The set's last record cut short by 5 bytes (its padding included).
	short := v9Data(1, 5)
	set := short[20:]
	n := len(set) - (len(set)-4)%25 - 5
	be16 := func(b []byte, v int) { b[0], b[1] = byte(v>>8), byte(v) }
	be16(set[2:], n)
	short = short[:20+n]
	h, err := decode(false, v9Template(), short)
	var ne *netflow.Error
	require.ErrorAs(t, err, &ne)
	assert.Equal(t, netflow.ReasonRecord, ne.Reason)
	assert.Equal(t, want.records[:4], h.records, "the records before the one cut short")
}
