package capture

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/pktgen"
)

// mapping is one of /proc/self/smaps's mappings with its VmFlags and the
// KiB of it in huge pages.
type mapping struct {
	start, end uintptr
	flags      []string
	hugeKB     int
}

// mappings reads /proc/self/smaps.
func mappings(t *testing.T) []mapping {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	require.NoError(t, err)
	defer f.Close()
	var ms []mapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if flags, ok := strings.CutPrefix(line, "VmFlags:"); ok && len(ms) > 0 {
			ms[len(ms)-1].flags = strings.Fields(flags)
			continue
		}
		if kb, ok := strings.CutPrefix(line, "AnonHugePages:"); ok && len(ms) > 0 {
			ms[len(ms)-1].hugeKB, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(kb), " kB"))
			continue
		}
		span, _, _ := strings.Cut(line, " ")
		lo, hi, ok := strings.Cut(span, "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 == nil && err2 == nil {
			ms = append(ms, mapping{start: uintptr(start), end: uintptr(end)})
		}
	}
	require.NoError(t, sc.Err())
	return ms
}

// hugeAdvised returns which of the region's bytes [from, to) the kernel
// was asked to back with huge pages (VmFlags hg), as "from-to" offsets,
// and whether all of the region is mapped.
func hugeAdvised(t *testing.T, b []byte) (huge []string, mapped bool) {
	t.Helper()
	return hugeAdvisedAt(t, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
}

// hugeAdvisedAt is hugeAdvised of the n bytes at base, memory that may be
// unmapped.
func hugeAdvisedAt(t *testing.T, base, n uintptr) (huge []string, mapped bool) {
	t.Helper()
	end := base + n
	covered := uintptr(0)
	for _, m := range mappings(t) {
		lo, hi := max(m.start, base), min(m.end, end)
		if lo >= hi {
			continue
		}
		covered += hi - lo
		for _, f := range m.flags {
			if f == "hg" {
				huge = append(huge, fmt.Sprintf("%d-%d", (lo-base)>>20, (hi-base)>>20))
			}
		}
	}
	return huge, covered >= n
}

// TestMapRegionHugeFrom: a region asks for huge pages from hugeFrom on,
// in whole huge pages inside it, and none when it is smaller than a huge
// page past hugeFrom; freeRegion unmaps it.
func TestMapRegionHugeFrom(t *testing.T) {
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
		b, ok := mapRegion(tt.size, tt.hugeFrom)
		require.True(t, ok)
		require.Len(t, b, tt.size)
		b[0], b[len(b)-1] = 1, 1
		huge, mapped := hugeAdvised(t, b)
		assert.True(t, mapped)
		assert.Equal(t, tt.want, huge, "size %d from %d", tt.size, tt.hugeFrom)
		freeRegion(b)
		_, mapped = hugeAdvised(t, b)
		assert.False(t, mapped, "freed")
	}
}

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
	_, mapped := hugeAdvisedAt(t, last.addr, last.n)
	assert.True(t, mapped, "the index's region")
	for i, r := range regions[:len(regions)-1] {
		// The kernel may map a later region where an earlier one was.
		reused := false
		for _, l := range regions[i+1:] {
			reused = reused || r.addr < l.addr+l.n && l.addr < r.addr+r.n
		}
		if _, mapped := hugeAdvisedAt(t, r.addr, r.n); mapped && !reused {
			t.Errorf("region %d of %d is still mapped", i+1, len(regions))
		}
	}
	c.Flush()
	assert.Len(t, s.take(), 3000)
}

// TestCacheSlabHugePages: the slab asks for no huge page while its flows
// fit in its first 2 MiB, and once they fill them, for huge pages in the
// rest of it (whole huge pages), the first 2 MiB staying small pages.
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
	full := hugePage / size // the flows that fit in the first 2 MiB
	add(0, full-1)
	huge, _ := hugeAdvisedAt(t, base, uintptr(len(slab)))
	assert.Empty(t, huge, "no huge page for flows that fit in 2 MiB")
	add(full-1, full+2000)
	require.Equal(t, full+2000, c.Stats().Flows)
	huge, _ = hugeAdvisedAt(t, base, uintptr(len(slab)))
	assert.Equal(t, []string{fmt.Sprintf("2-%d", (len(slab)&^(hugePage-1))>>20)}, huge, "MiB of the slab advised huge")
	c.Flush()
	assert.Len(t, s.take(), full+2000)
}
