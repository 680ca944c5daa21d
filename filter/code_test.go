package filter

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/flowgen"
)

// TestLoadsReadLikeValue reads every field the code loads from the record
// both ways, at its offset and with flow.Field.Value, on flows with random
// values: they must agree, or a field moved in flow.Record.
func TestLoadsReadLikeValue(t *testing.T) {
	if !fastLoads {
		t.Skip("the code reads fields with flow.Field.Value on this machine")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	fields := 0
	for f := flow.Field(1); f < flow.NumFields; f++ {
		l := loadable[f]
		if l.width == 0 {
			continue
		}
		fields++
		for i := 0; i < 200; i++ {
			r := flowgen.Random(rng)
			// Random leaves some fields zero: fill every byte of this
			// one, and its neighbours, with something.
			b := unsafe.Slice((*byte)(unsafe.Pointer(&r.First)), unsafe.Offsetof(r.SrcAddr)-unsafe.Offsetof(r.First))
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
			m := unsafe.Slice((*byte)(unsafe.Pointer(&r.InSrcMAC)), unsafe.Offsetof(r.Label)-unsafe.Offsetof(r.InSrcMAC))
			for j := range m {
				m[j] = byte(rng.Uint32())
			}
			r.SrcPort, r.DstPort = uint16(rng.Uint32()), uint16(rng.Uint32())
			x := *(*uint64)(unsafe.Add(unsafe.Pointer(&r), l.off)) & (^uint64(0) >> (64 - 8*uint(l.width)))
			require.Equal(t, f.Value(&r), x, "field %s", f.Name())
		}
	}
	require.Greater(t, fields, 40)
}

// TestCodeFolds checks what lowering settles at compile time: constant
// tests go, impossible comparisons never pass, and the flags quirk
// becomes a comparison.
func TestCodeFolds(t *testing.T) {
	for _, c := range []struct {
		expr  string
		entry uint32 // reject, accept, or firstOp for "some op"
	}{
		{"any", accept},
		{"not any", reject},
		{"any and any", accept},
		{"# only a comment", reject},
		{"proto tcp", firstOp},
		{"any and proto tcp", firstOp},
		{"not any or proto tcp", firstOp},
		{"proto tcp or any", accept}, // both ways lead to any
		{"geo DE", reject},
	} {
		f, err := Compile(c.expr, Options{})
		require.NoError(t, err, c.expr)
		got := f.entry
		if got > firstOp {
			got = firstOp
		}
		require.Equal(t, c.entry, got, c.expr)
	}
	// An address is one op, not nfdump's two blocks.
	f, err := Compile("src net 10.0.0.0/8", Options{})
	require.NoError(t, err)
	require.Equal(t, kAddr, f.code[f.entry].kind)
	require.Equal(t, accept, f.code[f.entry].next[1])
	require.Equal(t, reject, f.code[f.entry].next[0])
	f, err = Compile("not flags SA", Options{})
	require.NoError(t, err)
	// proto tcp, then on true the flags.
	o := f.code[f.code[f.entry].next[1]]
	require.Equal(t, kLoad, o.kind)
	require.Equal(t, passBits[cmpGT], o.pass)
	require.Zero(t, o.value)
}

// TestCodeCompact: the code holds only the ops the walk can reach, so
// that RawMatcher's copy of it for each record layout stays small: an or
// of 100 networks, folded into a chain, is two ops (the chain and an
// address test it leaves out), not 401; an address fused from two blocks
// is one; and every op left is reached.
func TestCodeCompact(t *testing.T) {
	var nets []string
	for i := range 100 {
		nets = append(nets, fmt.Sprintf("net %d.%d.0.0/16", 20+i, (i*37)%256))
	}
	for _, c := range []struct {
		expr string
		ops  int
	}{
		{strings.Join(nets, " or "), 2},
		{"src net 10.0.0.0/8", 1},
		{"proto tcp and src net 10.0.0.0/8", 2},
		{"any", 0},
		{flowgen.BenchFilters()[4], 22}, // each flags test is proto tcp and the flag
	} {
		f, err := Compile(c.expr, Options{})
		require.NoError(t, err, c.expr)
		require.Equal(t, c.ops, len(f.code)-int(firstOp), "%.60s", c.expr)
		seen := map[uint32]bool{}
		var walk func(i uint32)
		walk = func(i uint32) {
			if i < firstOp || seen[i] {
				return
			}
			seen[i] = true
			walk(f.code[i].next[0])
			walk(f.code[i].next[1])
		}
		walk(f.entry)
		require.Len(t, seen, c.ops, "%s: ops reached", c.expr)
	}
}

// TestHashSetLikeAMap adds random keys, clustered as addresses are, and
// looks up those and others: the set (its bitmap of seen hashes first)
// answers as a map does.
func TestHashSetLikeAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{1, 10, 1000, 50_000} {
		var h hashSet
		want := map[addr128]bool{}
		key := func() addr128 {
			if rng.IntN(2) == 0 {
				return addr128{0, 0x0a000000 | uint64(rng.IntN(4*n))} // 10.x, IPv4
			}
			return addr128{0x20010db8 << 32, uint64(rng.IntN(4 * n))}
		}
		for i := 0; i < n; i++ {
			k := key()
			h.add(k)
			want[k] = true
		}
		require.Equal(t, len(want), h.n)
		for i := 0; i < 20*n; i++ {
			k := key()
			require.Equal(t, want[k], h.has(k), "n %d key %x", n, k)
		}
	}
	var empty *hashSet
	require.False(t, empty.has(addr128{}))
}
