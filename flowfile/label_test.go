package flowfile

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
)

// labelSelector labels flows by protocol, as a filter with flow labels
// does: TCP "tcp", UDP "udp", ICMP passes without a label, the rest does
// not pass.
type labelSelector struct{}

func (labelSelector) Reads() flow.Elements { return 1 << flow.ElemGeneric }

func (labelSelector) Match(r *flow.Record) bool {
	r.Label = protoLabel(r.Proto)
	return r.Proto == flow.ProtoTCP || r.Proto == flow.ProtoUDP || r.Proto == flow.ProtoICMP
}

func protoLabel(p uint8) string {
	switch p {
	case flow.ProtoTCP:
		return "tcp"
	case flow.ProtoUDP:
		return "udp"
	}
	return ""
}

// TestSelectorLabels checks that the label a selector gives a flow comes
// out with it, whether Next hands the flows out (the workers select, Next
// decodes the flows again) or visitors see them, and that a label does
// not stay on the flows after it.
func TestSelectorLabels(t *testing.T) {
	rng := rand.New(rand.NewPCG(45, 46))
	f := randomFile(rng, 20000)
	for i := range f.flows {
		f.flows[i].Proto = []uint8{flow.ProtoTCP, flow.ProtoUDP, flow.ProtoICMP, 47}[rng.IntN(4)]
	}
	p := filepath.Join(t.TempDir(), "f")
	writeTestFile(t, p, WriteOptions{Compression: LZ4}, &f)
	var want []string
	for _, r := range f.flows {
		if r.Proto != 47 {
			want = append(want, protoLabel(r.Proto))
		}
	}
	for _, opts := range []ReadOptions{
		{Select: labelSelector{}},
		{Select: labelSelector{}, Workers: 3, Elements: 1 << flow.ElemIPv4},
		{Select: labelSelector{}, Workers: 2, Visit: func() BlockVisitor { return &recordingVisitor{} }},
	} {
		r, err := Open(p, opts)
		require.NoError(t, err)
		var got []string
		for r.Next() {
			switch r.Kind() {
			case KindFlow:
				got = append(got, r.Flow().Label)
			case KindBlock:
				for _, f := range r.Block().(*recordingVisitor).flows {
					got = append(got, f.Label)
				}
			}
		}
		require.NoError(t, r.Err())
		require.NoError(t, r.Close())
		assert.Equal(t, want, got)
	}
}

// TestWriteLabel checks the EXlabel element a labelled flow is written
// with: last, the label and a NUL byte, unpadded, as nfdump writes it; and
// that the record still reads back.
func TestWriteLabel(t *testing.T) {
	r := flow.Record{Proto: 6, SrcPort: 80, Label: "web"}
	var l v3Layout
	plain := appendV3(nil, &flow.Record{Proto: 6, SrcPort: 80}, &l)
	b := appendV3(nil, &r, &l)
	require.Len(t, b, len(plain)+4+4)
	assert.Equal(t, uint16(len(b)), le.Uint16(b[2:]), "record size")
	assert.Equal(t, le.Uint16(plain[4:])+1, le.Uint16(b[4:]), "element count")
	// element 28, length 8, "web", NUL
	assert.Equal(t, []byte{28, 0, 8, 0, 'w', 'e', 'b', 0}, b[len(plain):])
	assert.Equal(t, plain[4:], appendV3(nil, &flow.Record{Proto: 6, SrcPort: 80}, &l)[4:], "the layout cache is unchanged")
	back := flow.Record{Label: "stale"}
	skipped, err := decodeV3(b, &back, allElements)
	require.NoError(t, err)
	assert.Zero(t, skipped)
	assert.Equal(t, "web", back.Label)
	assert.True(t, back.Elements.Has(flow.ElemLabel))
	assert.Equal(t, uint16(80), back.SrcPort)
	// The label string is made once, not per flow.
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = decodeV3(b, &back, allElements) }))
	// A flow without a label after a labelled one has none.
	_, err = decodeV3(plain, &back, allElements)
	require.NoError(t, err)
	assert.Equal(t, "", back.Label)
	assert.False(t, back.Elements.Has(flow.ElemLabel))
	// The reader's decoder, which learns a layout from the first record
	// and decodes the next ones of it by their shape, does the same.
	var d v3Decoder
	d.reset(allElements)
	for i := 0; i < 3; i++ {
		back.Label = "stale"
		_, err = d.decode(b, &back)
		require.NoError(t, err)
		assert.Equal(t, "web", back.Label, "record %d", i)
		assert.True(t, back.Elements.Has(flow.ElemLabel))
		_, err = d.decode(plain, &back)
		require.NoError(t, err)
		assert.Equal(t, "", back.Label, "record %d", i)
	}
	require.NotNil(t, d.find(b), "a labelled record has a shape")
	// Decoded without its element, the label is listed but not read.
	back = flow.Record{}
	_, err = decodeV3(b, &back, 1<<flow.ElemGeneric)
	require.NoError(t, err)
	assert.Equal(t, "", back.Label)
	assert.True(t, back.Elements.Has(flow.ElemLabel))
}

// TestLabelOf: a label ends at its NUL byte, and equal labels share one
// string.
func TestLabelOf(t *testing.T) {
	assert.Equal(t, "abc", labelOf([]byte("abc\x00\x00\x00")))
	assert.Equal(t, "abc", labelOf([]byte("abc")))
	assert.Equal(t, "", labelOf([]byte{0, 'x'}))
	a, b := labelOf([]byte("same\x00")), labelOf([]byte("same\x00"))
	assert.Equal(t, unsafe.StringData(a), unsafe.StringData(b))
}
