package stats

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/output"
)

// unmixSmall inverts the upper half of smallHash, step by step.
func unmixSmall(x uint32) uint32 {
	x *= inverse(0x85ebca6b)
	x ^= x>>15 ^ x>>30
	return x * inverse(0x9e3779b1)
}

// inverse is the inverse of odd a modulo 1<<32 (Newton's iteration, each
// step doubling the bits that are right).
func inverse(a uint32) uint32 {
	x := a // right in the lowest 3 bits
	for i := 0; i < 4; i++ {
		x *= 2 - a*x
	}
	return x
}

// TestSmallHashTagIsKey: the tag of a small key (the upper half of its
// hash) gives the key back, so that two small keys never share a tag and
// the index may match them without reading their rows.
func TestSmallHashTagIsKey(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vs := []uint32{0, 1, 2, 53, 0xffff, 1 << 31, 0xffffffff, 0xc0a80001}
	for i := 0; i < 100000; i++ {
		vs = append(vs, rng.Uint32())
	}
	require.Equal(t, uint32(1), inverse(0x9e3779b1)*0x9e3779b1)
	for _, v := range vs {
		require.Equal(t, v, unmixSmall(uint32(smallHash(v)>>32)), "%#x", v)
	}
}

// TestKeysLikeMap: a table finds the row of every key, small ones (IPv4
// addresses, ports) and others (IPv6 addresses, also those whose upper
// half is 0, and keys of a protocol split) among each other, while its
// index grows, as a map of the keys counts them; and merged block by
// block into a Split of parts, the same.
func TestKeysLikeMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var addrs []netip.Addr
	for i := 0; i < 3000; i++ {
		var a netip.Addr
		switch i % 4 {
		case 0:
			a = netip.AddrFrom4([4]byte{0, 0, byte(i >> 8), byte(i)})
		case 1:
			a = netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), byte(i >> 8), byte(i)})
		case 2:
			var b [16]byte
			b[14], b[15] = byte(i>>8), byte(i)
			a = netip.AddrFrom16(b) // ::x, whose key words are those of 0.0.x.x
		default:
			var b [16]byte
			b[0], b[1], b[15] = 0x20, 0x01, byte(i)
			b[7] = byte(i >> 8)
			a = netip.AddrFrom16(b)
		}
		addrs = append(addrs, a)
	}
	type key struct {
		a     netip.Addr
		proto uint8
	}
	for _, s := range []string{"srcip/flows", "srcip:p/flows", "srcport/flows", "srcport:p/flows"} {
		spec := mustSpec(t, s)
		tab := NewTable(spec)
		split := NewSplit(spec, 3)
		block := NewTable(spec)
		want := map[key]uint64{}
		for i := 0; i < 40000; i++ {
			r := flow.Record{SrcAddr: addrs[rng.IntN(len(addrs))], SrcPort: uint16(rng.IntN(5000)),
				Proto: []uint8{0, 6, 17}[rng.IntN(3)], Flows: 1, First: 1, Last: 2}
			k := key{a: r.SrcAddr}
			if spec.Element.Name == "srcport" {
				k.a = netip.AddrFrom4([4]byte{0, 0, byte(r.SrcPort >> 8), byte(r.SrcPort)})
			}
			if spec.ProtoSplit {
				k.proto = r.Proto
			}
			want[k]++
			tab.Add(&r)
			block.Add(&r)
			if i%1000 == 999 {
				MergeBlocks([]*Split{split}, []*Table{block}, []uint64{split.Reserve(block)})
				block.Reset()
			}
		}
		assert.Equal(t, len(want), tab.Len(), s)
		assert.Equal(t, len(want), split.Len(), s)
		for _, blk := range []*struct {
			rows []rowKeyCount
		}{{rowsOf(tab.Top(spec.Orders[0], 0, Limit{}, Limit{}).Rows)}, {rowsOf(split.Top(spec.Orders[0], 0, Limit{}, Limit{}).Rows)}} {
			got := map[key]uint64{}
			for _, r := range blk.rows {
				got[key{r.addr, r.proto}] = r.flows
			}
			assert.Equal(t, want, got, s)
		}
	}
}

type rowKeyCount struct {
	addr  netip.Addr
	proto uint8
	flows uint64
}

// rowsOf turns rows back into the addresses of their keys (ports as
// 0.0.x.x), with protocol and flow count.
func rowsOf(rows []output.StatRow) []rowKeyCount {
	var out []rowKeyCount
	for _, r := range rows {
		var a netip.Addr
		if r.IPv6 {
			var b [16]byte
			for i := 0; i < 8; i++ {
				b[i], b[8+i] = byte(r.Hi>>(56-8*i)), byte(r.Lo>>(56-8*i))
			}
			a = netip.AddrFrom16(b)
		} else {
			a = netip.AddrFrom4([4]byte{byte(r.Lo >> 24), byte(r.Lo >> 16), byte(r.Lo >> 8), byte(r.Lo)})
		}
		out = append(out, rowKeyCount{a, r.Proto, r.Flows})
	}
	return out
}
