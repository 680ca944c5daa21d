package region

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/region/regiontest"
)

// TestMapHugeFrom: a region asks for huge pages from hugeFrom on,
// in whole huge pages inside it, and none when it is smaller than a huge
// page past hugeFrom; Free unmaps it.
func TestMapHugeFrom(t *testing.T) {
	for _, tt := range []struct {
		size, hugeFrom int
		want           []string // MiB offsets advised huge
	}{
		{size: 16 << 20, hugeFrom: 8 << 20, want: []string{"8-16"}},
		{size: 16<<20 + 4096, hugeFrom: 3 << 20, want: []string{"4-16"}},
		{size: 8 << 20, hugeFrom: 0, want: []string{"0-8"}},
		{size: 9 << 20, hugeFrom: 8 << 20},
		{size: 1 << 20, hugeFrom: 0},
	} {
		b, ok := Map(tt.size, tt.hugeFrom)
		require.True(t, ok)
		require.Len(t, b, tt.size)
		b[0], b[len(b)-1] = 1, 1
		huge, mapped := regiontest.HugeAdvised(t, b)
		assert.True(t, mapped)
		assert.Equal(t, tt.want, huge, "size %d from %d", tt.size, tt.hugeFrom)
		Free(b)
		_, mapped = regiontest.HugeAdvised(t, b)
		assert.False(t, mapped, "freed")
	}
}

// TestPoolSmallPages: a pool's regions, the first and the bigger ones
// after it, ask for no huge page (MapSmall), where Map would ask for them
// from the start.
func TestPoolSmallPages(t *testing.T) {
	var p Pool
	defer p.Free()
	for _, n := range []int{1 << 20, MinPool, MaxPool} {
		b := p.Take(n)
		b[0], b[n-1] = 1, 1
	}
	require.Len(t, p.mapped, 3, "a region for each take")
	for i, b := range p.mapped {
		huge, mapped := regiontest.HugeAdvised(t, b)
		assert.True(t, mapped)
		assert.Empty(t, huge, "region %d of %d MiB", i, len(b)>>20)
	}
	b, ok := Map(8<<20, 0)
	require.True(t, ok)
	defer Free(b)
	huge, _ := regiontest.HugeAdvised(t, b)
	assert.Equal(t, []string{"0-8"}, huge, "Map from 0 does ask for them")
}

func TestPopulate(t *testing.T) {
	const n = 5 << 20 // small pages and, from 2 MiB on, huge ones
	b, ok := Map(n, HugePage)
	require.True(t, ok)
	defer Free(b)
	resident := func() int { return regiontest.Resident(t, b) }
	require.Zero(t, resident(), "a fresh region costs nothing")
	// A populated huge page is filled whole: 2 MiB of small pages and
	// one huge page, short of the last MiB.
	Populate(b[:2*HugePage])
	assert.Equal(t, 2*HugePage/unix.Getpagesize(), resident(), "the populated pages, no others")
	for i, c := range b {
		if c != 0 {
			t.Fatalf("byte %d is %d after Populate", i, c)
		}
	}
	Populate(nil)
}
