package filter_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/filter"
	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/testutil"
)

func elems(ids ...int) flow.Elements {
	var e flow.Elements
	for _, id := range ids {
		e = e.With(id)
	}
	return e
}

func TestReads(t *testing.T) {
	addrs := elems(flow.ElemIPv4, flow.ElemIPv6)
	tests := []struct {
		expr string
		want flow.Elements
	}{
		{"any", 0},
		{"", 0},
		{"proto tcp", elems(flow.ElemGeneric)},
		{"ip 1.2.3.4", addrs},
		{"ipv6", addrs},
		{"vlan 5", elems(flow.ElemVLAN)},
		{"mac 00:11:22:33:44:55", elems(flow.ElemMAC)},
		{"mpls any 5", elems(flow.ElemMPLS)},
		{"mpls label3 5", elems(flow.ElemMPLS)},
		{"pps > 5", elems(flow.ElemGeneric)},
		{"flows > 1 or out bytes > 0", elems(flow.ElemCounters)},
		{"next ip 1.2.3.4", elems(flow.ElemIPNextHopV4, flow.ElemIPNextHopV6)},
		{"bgpnext ip 1.2.3.4", elems(flow.ElemBGPNextHopV4, flow.ElemBGPNextHopV6)},
		{"router ip 1.2.3.4", elems(flow.ElemExporterIPv4, flow.ElemExporterIPv6)},
		{"as 5 and prev as 3", elems(flow.ElemAS, flow.ElemAdjacentAS)},
		{"if 3 or dir 1 or dst tos 4 or mask 8", elems(flow.ElemMisc)},
		{"client latency > 1", elems(flow.ElemLatency)},
		{"sysid 1 and nfversion 9 and engine-type 1 and count 5 and ident x", 0},
		{"ip in [1.2.3.4]", addrs},
		{"port in [80]", elems(flow.ElemGeneric)},
	}
	for _, tt := range tests {
		f, err := filter.Compile(tt.expr, filter.Options{})
		require.NoError(t, err, tt.expr)
		assert.Equal(t, tt.want, f.Reads(), tt.expr)
	}
}

func TestAcceptsAll(t *testing.T) {
	for expr, want := range map[string]bool{
		"": true, "any": true, "ANY": true, "(any)": true, "any # all": true,
		"not not any": true, "not any": false, " ": false, "proto tcp": false, "any and any": false,
	} {
		f, err := filter.Compile(expr, filter.Options{})
		require.NoError(t, err, expr)
		assert.Equal(t, want, f.AcceptsAll(), "%q", expr)
	}
}

func TestNeedsGeo(t *testing.T) {
	f, err := filter.Compile("src geo de or proto tcp", filter.Options{})
	require.NoError(t, err)
	assert.True(t, f.NeedsGeo())
	f, err = filter.Compile("as 5", filter.Options{})
	require.NoError(t, err)
	assert.False(t, f.NeedsGeo(), "AS filters work without a geo database")
}

// TestUnsupported checks that a primitive on a field godump's records do
// not hold is an error naming the field, not a filter that silently
// matches nothing.
func TestUnsupported(t *testing.T) {
	tests := []struct{ expr, field, tok string }{
		{"asa event create", "NSEL firewall events", "create"},
		{"asa event denied ingress", "NSEL firewall events", "ingress"},
		{"asa xevent > 1001", "NSEL firewall events", "1001"},
		{"nat event add", "NAT events", "add"},
		{"xip 1.2.3.4", "translated addresses", "1.2.3.4"},
		{"src xnet 10.0.0.0/8", "translated addresses", "8"},
		{"dst xport 80", "translated addresses", "80"},
		{"nip in [1.2.3.4]", "translated addresses", "]"},
		{"nport 5", "translated addresses", "5"},
		{"src nat ip 1.2.3.4", "translated addresses", "1.2.3.4"},
		{"dst xlate port 80", "translated addresses", "80"},
		{"ingress vrf 5", "VRF ids", "5"},
		{"egress acl 5", "ACL ids", "5"},
		{"pblock start 1000", "NAT port blocks", "1000"},
		{"port in pblock", "NAT port blocks", "pblock"},
		{"tun proto tcp", "tunnel protocols", "tcp"},
		{"tunip 1.2.3.4", "tunnel addresses", "1.2.3.4"},
		{"src tun ip 1.2.3.4", "tunnel addresses", "1.2.3.4"},
		{"payload content abc", "payload", "abc"},
		{"payload regex 'a.*b' i", "payload", "i"},
		{"payload ja3 defined", "payload", "defined"},
		{"observation domain id 5", "observation domain", "5"},
		{"proto tcp and asa event deny", "NSEL firewall events", "deny"},
	}
	for _, tt := range tests {
		_, err := filter.Compile(tt.expr, filter.Options{})
		var fe *filter.Error
		if !assert.True(t, errors.As(err, &fe), "%s: %v", tt.expr, err) {
			continue
		}
		assert.Contains(t, fe.Msg, tt.field, tt.expr)
		assert.Equal(t, tt.tok, fe.Token, tt.expr)
		assert.True(t, strings.HasPrefix(err.Error(), "Line 1: godump's flow records carry no "), err.Error())
	}
}

func TestErrorsInFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	inner := write("inner", "port 80\n or port 70000\n")
	ok := write("ok", "proto tcp # web\n")

	// An error in an included file names that file and its line.
	_, err := filter.Compile("proto udp or\n@include "+inner, filter.Options{})
	require.Error(t, err)
	assert.Equal(t, "File '"+inner+"' line 2: Port outside of range 0..65535 at '70000'", err.Error())

	// Back in the -f file, errors name it again, with its own line count.
	_, err = filter.Compile("@include "+ok+"\nand\nfoo", filter.Options{File: "main.flt"})
	require.Error(t, err)
	assert.Equal(t, "File 'main.flt' line 3: syntax error at 'foo'", err.Error())

	f, err := filter.Compile("proto udp or @include "+ok, filter.Options{})
	require.NoError(t, err)
	assert.True(t, f.Match(rec()))

	// A missing file and a loop end with nfdump's status 255.
	_, err = filter.Compile("@include "+filepath.Join(dir, "missing"), filter.Options{})
	assert.True(t, filter.IsInclude(err))
	assert.Equal(t, "Failed to open include file '"+filepath.Join(dir, "missing")+"': No such file or directory", err.Error())
	loop := filepath.Join(dir, "loop")
	write("loop", "@include "+loop+"\n")
	_, err = filter.Compile("@include "+loop, filter.Options{})
	assert.True(t, filter.IsInclude(err))
	assert.Equal(t, "Includes nested too deeply", err.Error())

	// A binary filter file: the message escapes what is not printable.
	_, err = filter.Compile("proto tcp and \x01\xff", filter.Options{File: "bin\x1b[2J"})
	require.Error(t, err)
	assert.Equal(t, `File 'bin\x1b[2J' line 1: syntax error at '\x01'`, err.Error())
	// The text ends at its first NUL byte, as nfdump reads it.
	f, err = filter.Compile("proto tcp\x00garbage", filter.Options{})
	require.NoError(t, err)
	assert.True(t, f.Match(rec()))
}

// TestLimitsAsNfdump nests parentheses and nots around nfdump's parser
// limit: the same filters compile, and those too deep fail with nfdump's
// message at the same token. The filters are read from files (-f), being
// longer than a command line argument may be.
func TestLimitsAsNfdump(t *testing.T) {
	testutil.RequireTool(t, "nfdump")
	dir := t.TempDir()
	var corpus []corpusLine
	var texts []string
	add := func(text string) {
		path := filepath.Join(dir, fmt.Sprintf("f%d", len(corpus)))
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
		corpus = append(corpus, corpusLine{expr: path})
		texts = append(texts, text)
	}
	for _, n := range []int{9996, 9997, 9998, 9999, 20000} {
		add(strings.Repeat("(", n) + "any" + strings.Repeat(")", n))
		add(strings.Repeat("not ", n) + "any")
		add("proto tcp and " + strings.Repeat("(port 1 or ", n/3) + "port 2" + strings.Repeat(")", n/3))
		add(strings.Repeat("src port 1 or dst port 2 and ", n/2) + "proto tcp\n")
		add(strings.Repeat("(", n/2) + "\n" + strings.Repeat("not ", n/2) + "\n\nip in [1.2.3.4 10.0.0.0/8]" + strings.Repeat(")", n/2))
	}
	results := runAll(t, corpus, func(path string) []string { return []string{"-Z", "-f", path} })
	for i, c := range corpus {
		_, err := filter.Compile(texts[i], filter.Options{File: c.expr})
		if results[i].Code == 0 {
			assert.NoError(t, err, "%.40s...", texts[i])
			continue
		}
		if assert.Error(t, err, "%.40s...", texts[i]) {
			assert.Equal(t, results[i].Stderr, err.Error()+"\n", "%.40s...", texts[i])
		}
	}
}

// TestBigFilters compiles a megabyte of terms and long address lists:
// each compiles (no stack overflow, no quadratic time), and matches.
func TestBigFilters(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 1<<20; i++ {
		fmt.Fprintf(&b, "port %d or ", i%65536)
	}
	b.WriteString("proto tcp")
	f, err := filter.Compile(b.String(), filter.Options{})
	require.NoError(t, err)
	assert.True(t, f.Match(rec()))

	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	b.Reset()
	b.WriteString("ip in [")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "10.%d.%d.%d ", i>>16&255, i>>8&255, i&255)
	}
	b.WriteString("2001:db8::/32]")
	f, err = filter.Compile(b.String(), filter.Options{})
	require.NoError(t, err)
	assert.True(t, f.Match(rec()))
	last := fmt.Sprintf("10.%d.%d.%d", (n-1)>>16&255, (n-1)>>8&255, (n-1)&255)
	assert.True(t, f.Match(rec(func(r *flow.Record) { r.SrcAddr, r.DstAddr = addr(last), addr("1.1.1.1") })))
	assert.False(t, f.Match(rec(func(r *flow.Record) { r.SrcAddr, r.DstAddr = addr("10.255.255.255"), addr("1.1.1.1") })))
	assert.True(t, f.Match(rec(v6)))
}
