package filter

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
)

// chainCase is a filter and the addresses its flows are made of: inside
// its networks, beside them, and others.
type chainCase struct {
	expr  string
	addrs []netip.Addr
	folds bool // the filter has a chain to fold
}

// chainCases builds filters with long ors of address primitives, alone and
// among other terms, inverted, with mixed families and prefix lengths,
// and on the next hops.
func chainCases(rng *rand.Rand) []chainCase {
	var cases []chainCase
	list := func(n int, term func(i int) (string, netip.Addr)) (string, []netip.Addr) {
		var terms []string
		var addrs []netip.Addr
		for i := 0; i < n; i++ {
			t, a := term(i)
			terms = append(terms, t)
			addrs = append(addrs, a)
			// The next address, often outside a host's or small net's
			// range, and the same bits in the other family.
			addrs = append(addrs, a.Next())
			if a.Is4() {
				b := a.As4()
				addrs = append(addrs, netip.AddrFrom16([16]byte{12: b[0], 13: b[1], 14: b[2], 15: b[3]}))
			}
		}
		return strings.Join(terms, " or "), addrs
	}
	net4 := func(i int) (string, netip.Addr) {
		a := netip.AddrFrom4([4]byte{byte(20 + i), byte(i * 37), byte(rng.IntN(256)), byte(rng.IntN(256))})
		bits := []int{8, 16, 24, 32}[i%4]
		return fmt.Sprintf("net %s/%d", netip.PrefixFrom(a, bits).Masked().Addr(), bits), a
	}
	net6 := func(i int) (string, netip.Addr) {
		a := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(i), byte(rng.IntN(256)), 15: byte(rng.IntN(256))})
		bits := []int{32, 48, 64, 96, 128}[i%5]
		return fmt.Sprintf("net %s/%d", netip.PrefixFrom(a, bits).Masked().Addr(), bits), a
	}
	host := func(dir string) func(i int) (string, netip.Addr) {
		return func(i int) (string, netip.Addr) {
			a := netip.AddrFrom4([4]byte{10, byte(i), 0, byte(1 + i)})
			if i%3 == 2 {
				a = netip.AddrFrom16([16]byte{0xfe, 0x80, 14: byte(i), 15: 1})
			}
			return dir + "ip " + a.String(), a
		}
	}
	mixed := func(i int) (string, netip.Addr) {
		if i%2 == 0 {
			return net4(i)
		}
		return net6(i)
	}
	for _, c := range []struct {
		n     int
		term  func(int) (string, netip.Addr)
		wrap  string
		folds bool
	}{
		{100, net4, "%s", true},
		{40, net6, "%s", true},
		{30, mixed, "%s", true},
		{20, host("src "), "%s", true},
		{20, host("dst "), "proto tcp and (%s)", true},
		{20, host(""), "(%s) or proto udp", true},
		{20, host("next "), "%s", true},
		{20, net4, "not (%s)", false}, // inverted blocks stay
		{20, net4, "(%s) and not proto tcp", true},
		{12, host("src "), "proto udp or (%s) and packets > 5", true},
		{3, net4, "%s", false}, // too short to fold
	} {
		expr, addrs := list(c.n, c.term)
		cases = append(cases, chainCase{fmt.Sprintf(c.wrap, expr), addrs, c.folds})
	}
	// Two chains, one on each side of an and.
	a, aa := list(12, host("src "))
	b, ba := list(12, net4)
	cases = append(cases, chainCase{"(" + a + ") and (" + b + ")", append(aa, ba...), true})
	return cases
}

// TestFoldedChainsMatchLikeBlocks compiles filters with long ors of
// address primitives with and without folding their chains, and wants the
// same answer on flows from inside and outside their networks, of both
// families and without addresses.
func TestFoldedChainsMatchLikeBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, c := range chainCases(rng) {
		folded, err := Compile(c.expr, Options{})
		require.NoError(t, err)
		foldAddrChains = false
		plain, err := Compile(c.expr, Options{})
		foldAddrChains = true
		require.NoError(t, err)
		require.Empty(t, plain.chains)
		if c.folds {
			require.NotEmpty(t, folded.chains, c.expr)
		} else {
			require.Empty(t, folded.chains, c.expr)
		}
		pick := func() netip.Addr {
			switch rng.IntN(8) {
			case 0:
				return netip.Addr{} // not carried
			case 1:
				return netip.AddrFrom4([4]byte{byte(rng.IntN(256)), byte(rng.IntN(256)), 0, 1})
			}
			return c.addrs[rng.IntN(len(c.addrs))]
		}
		passed := 0
		for i := 0; i < 4000; i++ {
			r := flow.Record{
				SrcAddr: pick(), DstAddr: pick(), IPNextHop: pick(), BGPNextHop: pick(),
				Proto: []uint8{6, 17}[rng.IntN(2)], InPackets: uint64(rng.IntN(10)),
			}
			want := plain.Match(&r)
			require.Equal(t, want, folded.Match(&r), "%s\non %+v", c.expr, r)
			if want {
				passed++
			}
		}
		require.Greater(t, passed, 0, c.expr)
		require.Less(t, passed, 4000, c.expr)
	}
}
