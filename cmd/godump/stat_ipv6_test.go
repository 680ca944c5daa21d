package main

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/internal/flowgen"
	"github.com/nfgo/nftools/internal/testutil"
)

// lowIPv6 are IPv6 addresses with an upper half of 0, which nfdump 1.7.1's
// element statistics print as the IPv4 address of their low 32 bits (notes
// section 13 item 8), and their text as godump and nfdump's listings print
// them (inet_ntop's, which writes ::2:3 in the IPv4-compatible form).
var lowIPv6 = []struct {
	addr netip.Addr
	text string
}{{netip.MustParseAddr("::1"), "::1"}, {netip.MustParseAddr("::2:3"), "::0.2.0.3"}}

// ipToken is anything in a statistics row that may be an IPv6 address.
var ipToken = regexp.MustCompile(`( *)([0-9a-fA-F.]*:[0-9a-fA-F:.]*)`)

// lowToIPv4 returns what nfdump prints for the address tok in a statistics
// row: the IPv4 address of the low 32 bits when tok is an IPv6 address
// whose upper half is 0, and tok otherwise.
func lowToIPv4(tok string) (string, bool) {
	a, err := netip.ParseAddr(tok)
	if err != nil || !a.Is6() {
		return tok, false
	}
	b := a.As16()
	if binary.BigEndian.Uint64(b[:8]) != 0 {
		return tok, false
	}
	return netip.AddrFrom4([4]byte(b[12:])).String(), true
}

// nfdumpStyle turns godump's statistics output into nfdump 1.7.1's: in the
// element tables' rows (plain, csv and pipe; the records of -s record are
// left alone), an IPv6 address with an upper half of 0 becomes the IPv4
// address of its low 32 bits, right-aligned to the same width in the plain
// layout, and in the pipe layout the address family 2 with that address.
// godump prints these addresses as IPv6 on purpose (godump.1
// COMPATIBILITY); TestStatIPv6LikeNfdump checks that it does.
func nfdumpStyle(out string) string {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		switch f := strings.Split(l, "|"); {
		case len(f) == 14 && f[0] == "10" && f[4] == "0" && f[5] == "0":
			// Words 6 and 7 are the lower half, byte-swapped.
			w2, _ := strconv.ParseUint(f[6], 10, 64)
			w3, _ := strconv.ParseUint(f[7], 10, 64)
			lo := bits.ReverseBytes64(w2<<32 | w3)
			f[0], f[6], f[7] = "2", "0", strconv.FormatUint(lo&0xffffffff, 10)
			lines[i] = strings.Join(f, "|")
		case strings.Count(l, ",") == 13 && l != "" && l[0] >= '0' && l[0] <= '9':
			f = strings.Split(l, ",")
			f[4], _ = lowToIPv4(f[4])
			lines[i] = strings.Join(f, ",")
		case rowPattern.MatchString(l):
			lines[i] = ipToken.ReplaceAllStringFunc(l, func(m string) string {
				tok := strings.TrimLeft(m, " ")
				v4, ok := lowToIPv4(tok)
				if !ok {
					return m
				}
				pad := len(m) - len(v4)
				if pad < 1 {
					pad = 1
				}
				return strings.Repeat(" ", pad) + v4
			})
		}
	}
	return strings.Join(lines, "\n")
}

// TestStatIPv6LikeNfdump: element statistics print IPv6 addresses with an
// upper half of 0 as IPv6, in rows of their own, and everything else as
// nfdump does.
func TestStatIPv6LikeNfdump(t *testing.T) {
	testutil.RequireTool(t, "nfdump")
	path := filepath.Join(t.TempDir(), "nfcapd.202611242140")
	w, err := flowfile.Create(path, flowfile.WriteOptions{Compression: flowfile.LZ4})
	require.NoError(t, err)
	g := flowgen.New(5, 1795556400000)
	var r flow.Record
	for i := 0; i < 3000; i++ {
		g.Next(&r)
		if i%10 == 0 {
			// Sources, destinations and both in low IPv6 addresses,
			// with more flows than any other host so they rank first.
			r.SrcAddr, r.DstAddr = lowIPv6[i/10%2].addr, netip.MustParseAddr("2001:db8::9")
			if i%30 == 0 {
				r.SrcAddr, r.DstAddr = r.DstAddr, r.SrcAddr
			}
		}
		require.NoError(t, w.WriteFlow(&r))
	}
	require.NoError(t, w.Close())

	for _, cl := range []string{
		"-s srcip/bytes -n 5", "-s dstip -n 5", "-s ip/flows -n 5", "-s srcip:p/packets -n 6 -N",
		"-s srcip/bytes -n 5 -o csv", "-s dstip/flows -n 5 -o csv -q", "-s srcip/bytes -n 5 -o pipe",
	} {
		args := append([]string{"-r", path}, strings.Fields(cl)...)
		compareStats(t, "", strings.Join(args, " "))
		got := godump(args...)
		if strings.Contains(cl, "pipe") {
			assert.Contains(t, got.stdout, "\n10|", cl)
			assert.NotContains(t, got.stdout, "|0|0|0|1|", cl)
			continue
		}
		for _, a := range lowIPv6 {
			assert.Contains(t, got.stdout, a.text, cl)
		}
		assert.NotContains(t, got.stdout, "0.0.0.1", cl)
	}
}
