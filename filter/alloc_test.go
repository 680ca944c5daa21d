package filter

import (
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/flowgen"
)

// TestCompileMemory: compiling the bench's filters allocates little more
// than was measured when their allocations were cut (88 KB for the 1000
// addresses, 203 KB for the 100 networks, 350 and 323 before): godump
// compiles before it reads, and its heap holds all of it until the first
// collection, so every byte is peak RSS.
func TestCompileMemory(t *testing.T) {
	limits := []uint64{16 << 10, 16 << 10, 100 << 10, 225 << 10, 32 << 10}
	for i, src := range flowgen.BenchFilters() {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f, err := Compile(src, Options{})
		runtime.ReadMemStats(&after)
		require.NoError(t, err)
		runtime.KeepAlive(f)
		got := after.TotalAlloc - before.TotalAlloc
		assert.LessOrEqual(t, got, limits[i], "%.40s...: %d bytes", src, got)
	}
}

func TestBlockHint(t *testing.T) {
	for _, c := range []struct {
		src  string
		want int
	}{
		{"proto tcp", 16},
		{"ip in [ 10.0.0.1 10.0.0.2 " + strings.Repeat("10.1.2.3 ", 1000) + "]", 16},
		{strings.Repeat("net 10.0.0.0/16 or ", 99) + "net 10.0.0.0/16", 449},   // 399 words, an eighth more and block 0
		{"# " + strings.Repeat("word ", 100000) + "\nproto tcp", maxBlockHint}, // bounded
	} {
		assert.Equal(t, c.want, blockHint(c.src), "%.30q", c.src)
	}
}

func TestItemsBefore(t *testing.T) {
	for _, c := range []struct {
		src  string
		want int
	}{
		{" 10.0.0.1, 10.0.0.2 10.0.0.0/8 ] or proto tcp", 5}, // four runs (the 8 of /8 one), and one
		{"]", 1},
		{strings.Repeat("a ", 100000), maxListGuess}, // no bracket: bounded
	} {
		var opts Options
		assert.Equal(t, c.want, newScanner(c.src, "", &opts).itemsBefore(']'), "%.30q", c.src)
	}
}
