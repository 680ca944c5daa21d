// Package filter is nfdump 1.7.1's filter language: the expressions godump
// takes after its options or from -f, such as 'proto tcp and dst port in
// [80 443]'. Compile parses and compiles an expression once; Match then
// tests flows against it, concurrently and without allocating, and
// RawMatcher tests them on the bytes of the records a file stores, before
// anything is decoded.
//
// The compiled program is nfdump's own filter tree, built the way its
// grammar builds it, so every primitive means what it means in 1.7.1,
// including the surprises: an element a flow does not carry reads as 0
// (vlan 0 matches flows without VLANs), flags under not tests "any of the
// letters" before inverting, pps, bps and bpp are 0 when their divisor is,
// and mpls any looks only at the bottom of the label stack. -X prints the
// same tree nfdump prints, and errors carry nfdump's texts.
//
// Two 1.7.1 behaviours are deliberately not copied: AS primitives work
// without a geo database (nfdump refuses them), and an address or prefix
// only matches flows of its own family (nfdump stores IPv4 as ::a.b.c.d,
// so net ::/64 matched every IPv4 flow). Primitives on fields godump's
// records do not hold (NSEL, NAT, tunnels, payload, observation ids) are
// errors naming the field rather than silent non-matches. The
// spellings nfdump 1.7.2 to 1.7.8 added are accepted where 1.7.1 has no
// meaning for them: icmp type N, engine type N, exporter [sysid] N, bgp
// next ip, first seen / last seen with an ISO 8601 time, [src|dst] nat ip,
// and quoted strings.
package filter

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/nfgo/nftools/flow"
)

// Resolver turns host names in a filter into addresses at compile time.
type Resolver interface {
	// LookupHost returns the addresses of a host name.
	LookupHost(name string) ([]netip.Addr, error)
	// LookupAddr returns the name of an address (for the messages nfdump
	// prints while it resolves), or an error.
	LookupAddr(a netip.Addr) (string, error)
}

// Options says what compiling needs beyond the text.
type Options struct {
	// File is the -f file the text came from; errors then say "File
	// '<f>' line N:" as nfdump's do.
	File string
	// Resolver looks up host names (ip HOST, ip in [HOST]); nil uses the
	// system's (/etc/hosts, then DNS). NewResolver makes one that asks a
	// given name server (godump's -D).
	Resolver Resolver
	// Log receives the lines nfdump prints while resolving ("Resolving
	// <name> ...", "IPv4 address: ..."), which nfdump writes to stdout;
	// nil discards them.
	Log io.Writer
	// Open reads an @include file; nil reads it from the file system.
	Open func(name string) ([]byte, error)
	// Location is the time zone of first seen / last seen times; nil is
	// the local one, as for nfdump's -t.
	Location *time.Location
	// MaxText bounds the text read, the filter and its @include files
	// together; 0 means 256 MiB. Memory and compile time grow with the
	// text and nothing else.
	MaxText int
}

const defaultMaxText = 256 << 20

// open reads an @include file, at most MaxText bytes of it: a device
// such as /dev/zero must not fill the memory.
func (o *Options) open(name string) ([]byte, error) {
	if o.Open != nil {
		return o.Open(name)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, int64(o.MaxText)+1))
}

// Filter is a compiled filter. It is immutable: Match may run on any
// number of goroutines at once.
type Filter struct {
	blocks   []block // the tree as -X prints it
	prog     []inst  // the same tree, packed for MatchLabel's walk
	code     []op    // the same tree, lowered for Match's (code.go)
	entry    uint32  // where Match's walk starts in code
	ips      []*addrSet
	vals     []*valSet
	chains   []*addrChain // folded chains of address tests (chain.go)
	addrs    []addrTest   // the tests of the code's kAddr ops
	start    uint32
	extended bool
	idents   []string
	// flowLabels are the labels flowlabel primitives compare with, by the
	// index in inst.aux.
	flowLabels []string
	// identMatch is the ident test's answer for each ident in the filter,
	// set by WithIdent; nil when bound to no ident (nfdump: no match).
	identMatch []bool
	count      bool
	labels     bool
	geo        bool
	reads      flow.Elements
	all        bool
	// raw holds the raw tests made for each record layout (raw.go).
	raw *rawTests
}

// Compile compiles a filter expression. An empty text is "any" (nfdump
// substitutes it); text that holds only blanks or comments compiles into a
// filter that matches nothing, as in nfdump. Like nfdump, the text ends at
// its first NUL byte. Errors are *Error (nfdump exits 254) or
// *IncludeError (exit 255).
func Compile(src string, opts Options) (*Filter, error) { return compile(src, opts, false) }

// compile compiles src; with familyBlind it keeps nfdump 1.7.1's address
// comparison, IPv4 as ::a.b.c.d, which the differential tests use to show
// that the family rule is the only difference in what matches.
func compile(src string, opts Options, familyBlind bool) (*Filter, error) {
	if i := strings.IndexByte(src, 0); i >= 0 {
		src = src[:i]
	}
	if src == "" {
		src = "any"
	}
	if opts.MaxText == 0 {
		opts.MaxText = defaultMaxText
	}
	if len(src) > opts.MaxText {
		return nil, &Error{File: opts.File, Line: 1, Msg: "filter longer than " + itoa(opts.MaxText) + " bytes"}
	}
	p := &parser{sc: newScanner(src, opts.File, &opts), opts: &opts, b: newBuilder(src), maxDepth: maxStack, familyBlind: familyBlind}
	start, err := p.compile()
	if err != nil {
		return nil, err
	}
	f := &Filter{
		blocks:     p.b.finish(),
		start:      start,
		idents:     p.idents,
		flowLabels: p.flowLabels,
		count:      p.count,
		labels:     p.labels,
		geo:        p.geo,
	}
	f.extended = p.b.extended(p.labels)
	f.prog = make([]inst, len(f.blocks))
	for i := 1; i < len(f.blocks); i++ {
		b := &f.blocks[i]
		f.reads |= b.reads()
		in := &f.prog[i]
		*in = inst{
			mask: b.mask, value: b.value, onTrue: b.onTrue, onFalse: b.onFalse,
			op: b.op, field: b.field, fshift: b.fshift, comp: b.comp, fn: b.fn,
			fam: b.fam, addr: addrIndex(b.field), invert: b.invert, aux: uint32(b.ident),
		}
		switch {
		case b.ips != nil:
			in.aux = uint32(len(f.ips))
			f.ips = append(f.ips, b.ips)
		case b.vals != nil:
			in.aux = uint32(len(f.vals))
			f.vals = append(f.vals, b.vals)
		}
	}
	f.raw = &rawTests{}
	f.all = start == 1 && len(f.blocks) == 2 && f.blocks[1].data == dataAny && !f.blocks[1].invert
	if foldAddrChains {
		f.foldChains()
	}
	f.lower()
	return f, nil
}

// reads returns the V3 elements a block's test needs.
func (b *block) reads() flow.Elements {
	switch b.op {
	case opField, opAddrHi, opAddrLo, opIPList:
		return b.field.Elements()
	case opFlowLabel:
		return 1 << flow.ElemLabel
	case opFunc:
		if b.fn == fnMPLSEOS || b.fn == fnMPLSAny {
			return flow.FieldMPLS1.Elements()
		}
		return flow.FieldDuration.Elements()
	}
	return 0
}

// Reads returns the V3 elements whose fields the filter reads, so a reader
// can decode only those (with those of its other work). An element not
// decoded must read as zero, as an element the flow does not carry does.
func (f *Filter) Reads() flow.Elements { return f.reads }

// AcceptsAll reports whether the filter lets every flow pass without
// looking at it: no filter, or any.
func (f *Filter) AcceptsAll() bool { return f.all }

// UsesCount reports whether the filter has a count primitive. count tests
// a record's running number across all files, counted as nfdump counts:
// every flow record read, before the -t window and the filter. A reader
// must then give each record its number (MatchCount), which in practice
// means selecting in file order.
func (f *Filter) UsesCount() bool { return f.count }

// UsesIdent reports whether the filter has an ident primitive, whose
// answer depends on the file being read (WithIdent).
func (f *Filter) UsesIdent() bool { return len(f.idents) > 0 }

// NeedsGeo reports whether the filter has a geo primitive. Country codes
// need a geo database godump does not have; like nfdump without one,
// godump refuses to run such a filter (-Z and -X still accept it).
func (f *Filter) NeedsGeo() bool { return f.geo }

// HasLabels reports whether the filter attaches flow labels (%label).
func (f *Filter) HasLabels() bool { return f.labels }

// WithIdent returns the filter bound to the ident of the file whose flows
// it will test; ident primitives compare with it exactly, as nfdump does
// (up to its 128 characters). The filter itself, unbound, treats the file
// as one without an ident, for which ident never matches. Binding is
// cheap: the tree is shared.
func (f *Filter) WithIdent(ident string) *Filter {
	if len(f.idents) == 0 {
		return f
	}
	g := *f
	g.raw = &rawTests{} // ident tests are settled in them
	g.identMatch = make([]bool, len(f.idents))
	for i, id := range f.idents {
		g.identMatch[i] = cut(ident, 128) == cut(id, 128)
	}
	return &g
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// ErrnoText returns the C library's text for an error that wraps an
// errno (glibc's strerror capitalises what Go's syscall table spells in
// lower case), for nfdump's messages about files it could not read.
func ErrnoText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s := errno.Error()
		if s != "" {
			return strings.ToUpper(s[:1]) + s[1:]
		}
	}
	return err.Error()
}

// systemResolver resolves with Go's resolver: /etc/hosts, then DNS.
type systemResolver struct{ r *net.Resolver }

func (s systemResolver) LookupHost(name string) ([]netip.Addr, error) {
	return s.r.LookupNetIP(context.Background(), "ip", name)
}

func (s systemResolver) LookupAddr(a netip.Addr) (string, error) {
	names, err := s.r.LookupAddr(context.Background(), a.String())
	if err != nil || len(names) == 0 {
		return "", errors.New("no name")
	}
	return strings.TrimSuffix(names[0], "."), nil
}

// NewResolver returns a resolver that asks the name server at server (a
// name or an address, port 53), as nfdump's -D does. An empty server
// means the system's resolver.
func NewResolver(server string) (Resolver, error) {
	if server == "" {
		return systemResolver{net.DefaultResolver}, nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip", server)
	if err != nil || len(addrs) == 0 {
		return nil, errors.New("Can not resolv nameserver " + server + ": Unknown host")
	}
	ns := net.JoinHostPort(addrs[0].Unmap().String(), "53")
	r := &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, ns)
		},
	}
	return systemResolver{r}, nil
}

// resolve looks a host name up as nfdump's lookup_host does, printing what
// nfdump prints. A name that does not resolve is an error.
func (p *parser) resolve(name string) ([]ipAddr, bool) {
	r := p.opts.Resolver
	if r == nil {
		r = systemResolver{net.DefaultResolver}
	}
	p.log("Resolving " + name + " ...")
	addrs, err := r.LookupHost(name)
	if err != nil || len(addrs) == 0 {
		p.note = "Failed to resolve IP address for " + name + ": Unknown error"
		return nil, false
	}
	out := make([]ipAddr, 0, len(addrs))
	for _, a := range addrs {
		a = a.Unmap()
		rev, err := r.LookupAddr(a)
		if err != nil {
			rev = "<reverse lookup failed>"
		}
		v := "6"
		if a.Is4() {
			v = "4"
		}
		p.log("IPv" + v + " address: " + a.String() + " (" + rev + ")")
		hi, lo := flow.AddrWords(a)
		out = append(out, ipAddr{addr128{hi, lo}, a.Is4()})
	}
	return out, true
}

func (p *parser) log(line string) {
	if p.opts.Log != nil {
		io.WriteString(p.opts.Log, line+"\n")
	}
}
