package filter_test

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/filter"
	"github.com/nfgo/nftools/flow"
)

// TestRawMatcherEmptyLayout: for a record that carries no field at all,
// every filter of the corpus that has a raw test answers as Match does
// for the empty flow, since a field a record lacks reads as 0. (The
// flowfile package tests the raw tests on real records.)
func TestRawMatcherEmptyLayout(t *testing.T) {
	empty := make([]byte, 64)
	raw := 0
	for _, c := range readCorpus(t, "corpus.txt") {
		f, err := filter.Compile(c.expr, filter.Options{})
		require.NoError(t, err, c.expr)
		m := f.RawMatcher(&flow.Layout{})
		if m == nil {
			continue
		}
		raw++
		assert.Equal(t, f.Match(&flow.Record{}), m(empty), c.expr)
	}
	assert.Greater(t, raw, 400)
}

// TestRawMatcherNone: a filter that needs more than the record's fields
// has no raw test; the reader then decodes and calls Match.
func TestRawMatcherNone(t *testing.T) {
	for _, expr := range []string{"count > 5", "proto tcp and count < 3", "(proto tcp) %tcp", "flowlabel web"} {
		f, err := filter.Compile(expr, filter.Options{})
		require.NoError(t, err, expr)
		assert.Nil(t, f.RawMatcher(&flow.Layout{}), expr)
	}
	f, err := filter.Compile("proto tcp or ident bench", filter.Options{})
	require.NoError(t, err)
	m := f.RawMatcher(&flow.Layout{})
	require.NotNil(t, m, "ident is settled by the binding")
	assert.False(t, m(make([]byte, 64)))
	assert.True(t, f.WithIdent("bench").RawMatcher(&flow.Layout{})(make([]byte, 64)))
}

// TestRawMatcherShared: every worker and file that asks for a layout's
// test gets the same one (it counts and reorders once), and a filter
// bound to an ident has tests of its own.
func TestRawMatcherShared(t *testing.T) {
	f, err := filter.Compile("proto tcp and ident bench or proto udp", filter.Options{})
	require.NoError(t, err)
	var l flow.Layout
	l.Off[flow.FieldProto] = 20
	m := f.RawMatcher(&l)
	require.NotNil(t, m)
	l2 := l
	m2 := f.RawMatcher(&l2)
	// The same closure, not one made alike: a func value points at it.
	assert.Equal(t, *(*unsafe.Pointer)(unsafe.Pointer(&m)), *(*unsafe.Pointer)(unsafe.Pointer(&m2)))
	rec := make([]byte, 40)
	rec[20] = 6 // tcp
	assert.False(t, m(rec))
	assert.True(t, f.WithIdent("bench").RawMatcher(&l)(rec))
}

// TestRawMatcherSharedCode: layouts that differ only in fields the filter
// does not read share one test, a layout that moves a field it reads gets
// a test of its own, and each answers for its own layout.
func TestRawMatcherSharedCode(t *testing.T) {
	f, err := filter.Compile("proto tcp and src port 80 or src ip 10.0.0.1", filter.Options{})
	require.NoError(t, err)
	ptr := func(m func([]byte) bool) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&m)) }
	var l flow.Layout
	l.Off[flow.FieldProto], l.Off[flow.FieldSrcPort] = 20, 16
	l.Off[flow.FieldSrcAddr], l.Fam[flow.FieldSrcAddr] = 24, 4
	m := f.RawMatcher(&l)
	require.NotNil(t, m)
	other := l
	other.Off[flow.FieldSrcVLAN] = 32 // read by no test
	assert.Equal(t, ptr(m), ptr(f.RawMatcher(&other)), "a field the filter does not read")
	moved := l
	moved.Off[flow.FieldProto] = 21
	mm := f.RawMatcher(&moved)
	require.NotNil(t, mm)
	assert.NotEqual(t, ptr(m), ptr(mm), "a field the filter reads, elsewhere")
	v6 := l
	v6.Fam[flow.FieldSrcAddr] = 6
	assert.NotEqual(t, ptr(m), ptr(f.RawMatcher(&v6)), "an address of the other family")

	rec := make([]byte, 48)
	rec[20], rec[16] = 6, 80 // tcp, port 80 at l's places
	assert.True(t, m(rec))
	assert.False(t, mm(rec), "proto at 21 is 0")
	rec[21] = 6
	assert.True(t, mm(rec))
	rec[20], rec[21] = 17, 17
	assert.False(t, m(rec))
	copy(rec[24:], []byte{1, 0, 0, 10}) // 10.0.0.1, stored as the 32-bit number
	assert.True(t, m(rec))
}
