package capture

import (
	"fmt"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/pktgen"
	"github.com/nfgo/nftools/internal/region"
	"github.com/nfgo/nftools/internal/region/regiontest"
)

// TestCacheIndexRegions: the index grows into mapped memory and the slots
// it leaves are unmapped at once, not left to the garbage collector.
func TestCacheIndexRegions(t *testing.T) {
	c, s := newCache(cfg)
	// The regions the index was in, by address and length: the memory of
	// those left is not to be read.
	type region struct{ addr, n uintptr }
	var regions []region
	for i := range 3000 {
		c.Add(pkt(t, pktgen.UDP4(up, uint16(i), 9, 0)), t0+int64(i)*sec/100)
		if r := c.mem.idx; r != nil {
			at := region{uintptr(unsafe.Pointer(unsafe.SliceData(r))), uintptr(len(r))}
			if len(regions) == 0 || regions[len(regions)-1] != at {
				regions = append(regions, at)
			}
		}
	}
	require.GreaterOrEqual(t, len(regions), 2, "the index grew twice at least")
	last := regions[len(regions)-1]
	assert.Equal(t, uintptr(c.idx.Len()*8), last.n)
	_, mapped := regiontest.HugeAdvisedAt(t, last.addr, last.n)
	assert.True(t, mapped, "the index's region")
	for i, r := range regions[:len(regions)-1] {
		// The kernel may map a later region where an earlier one was.
		reused := false
		for _, l := range regions[i+1:] {
			reused = reused || r.addr < l.addr+l.n && l.addr < r.addr+r.n
		}
		if _, mapped := regiontest.HugeAdvisedAt(t, r.addr, r.n); mapped && !reused {
			t.Errorf("region %d of %d is still mapped", i+1, len(regions))
		}
	}
	c.Flush()
	assert.Len(t, s.take(), 3000)
}

// TestCacheSlabHugePages: the slab asks for no huge page while its flows
// fit in its first slabSmall bytes, and once they fill them, for huge
// pages in the rest of it (whole huge pages), the first part staying
// small pages.
func TestCacheSlabHugePages(t *testing.T) {
	c, s := newCache(cfg)
	slab := c.mem.slab
	require.NotNil(t, slab, "the slab is mapped")
	base := uintptr(unsafe.Pointer(unsafe.SliceData(slab)))
	size := int(unsafe.Sizeof(entry{}))
	add := func(from, to int) {
		for i := from; i < to; i++ {
			c.Add(pkt(t, pktgen.UDP4(pktgen.V4{Src: pktgen.A4("192.0.2.1"), Dst: pktgen.A4(fmt.Sprintf("10.%d.%d.1", i>>8&255, i&255))},
				uint16(i>>16), 9, 0)), t0+int64(i))
		}
	}
	full := slabSmall / size // the flows that fit in the small pages
	add(0, full-1)
	huge, _ := regiontest.HugeAdvisedAt(t, base, uintptr(len(slab)))
	assert.Empty(t, huge, "no huge page for flows that fit in the small pages")
	add(full-1, full+2000)
	require.Equal(t, full+2000, c.Stats().Flows)
	huge, _ = regiontest.HugeAdvisedAt(t, base, uintptr(len(slab)))
	assert.Equal(t, []string{fmt.Sprintf("%d-%d", slabSmall>>20, (len(slab)&^(region.HugePage-1))>>20)}, huge, "MiB of the slab advised huge")
	c.Flush()
	assert.Len(t, s.take(), full+2000)
}
