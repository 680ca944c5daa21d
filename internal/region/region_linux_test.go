package region

import (
	"testing"

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
