// Package regiontest reads back how the kernel maps memory (from
// /proc/self/smaps), for the tests of the tables that keep memory in
// region.Map's regions.
package regiontest

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
	"golang.org/x/sys/unix"
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

// HugeAdvised returns which of the region's bytes [from, to) the kernel
// was asked to back with huge pages (VmFlags hg), as "from-to" offsets,
// and whether all of the region is mapped.
func HugeAdvised(t *testing.T, b []byte) (huge []string, mapped bool) {
	t.Helper()
	return HugeAdvisedAt(t, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
}

// HugeAdvisedAt is HugeAdvised of the n bytes at base, memory that may be
// unmapped.
func HugeAdvisedAt(t *testing.T, base, n uintptr) (huge []string, mapped bool) {
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

// Unmapped reports whether no page of the n bytes at p is mapped, asked
// of the kernel with msync(2), which fails with ENOMEM on an unmapped
// page. It allocates nothing and reads no file, so a test that calls it
// right after freeing the memory asks before the runtime, which may map
// new memory at the same addresses at any allocation, can take them: a
// read of /proc/self/smaps there failed now and then under a loaded CI.
func Unmapped(p unsafe.Pointer, n uintptr) bool {
	head := uintptr(p) & (4096 - 1)
	whole := unsafe.Slice((*byte)(unsafe.Add(p, -int(head))), n+head)
	return unix.Msync(whole, unix.MS_ASYNC) == unix.ENOMEM
}

// Resident returns how many of b's pages are in memory (mincore(2)): filled
// pages, and pages a read mapped to the kernel's zero page.
func Resident(t *testing.T, b []byte) int {
	t.Helper()
	page := unix.Getpagesize()
	vec := make([]byte, (len(b)+page-1)/page)
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), uintptr(unsafe.Pointer(unsafe.SliceData(vec))))
	require.Zero(t, errno, "mincore")
	k := 0
	for _, v := range vec {
		k += int(v & 1)
	}
	return k
}

// RequireSmallFilled requires that mem, a table's index of size bytes,
// lies in small pages only (no huge-page advice), all of it mapped and
// every page filled: what the tables' growth into small pages made
// writable ahead (region.MapSmall, region.Populate) leaves.
func RequireSmallFilled(t *testing.T, mem []byte, size int) {
	t.Helper()
	require.Len(t, mem, size)
	huge, mapped := HugeAdvised(t, mem)
	assert.True(t, mapped)
	assert.Empty(t, huge, "no huge pages")
	assert.Equal(t, len(mem)/unix.Getpagesize(), Resident(t, mem), "every page filled")
}
