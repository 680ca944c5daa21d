package filter

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"unsafe"

	"github.com/nfgo/nftools/flow"
)

// Match reports whether the flow passes the filter. A count primitive
// sees the running number 0 here; readers of a filter that UsesCount call
// MatchCount.
func (f *Filter) Match(r *flow.Record) bool { return f.run(r, 0) }

// MatchCount is Match for the record with running number count (the
// first flow record read is 1; nfdump keeps the number in 32 bits).
func (f *Filter) MatchCount(r *flow.Record, count uint64) bool { return f.run(r, count) }

// MatchLabel is MatchCount that also returns the flow label a passing flow
// gets: that of the last labelled test on the way to the result, as nfdump
// computes it ("" for none).
func (f *Filter) MatchLabel(r *flow.Record, count uint64) (bool, string) {
	idx := f.start
	var ev, inv bool
	var st walkState
	label := ""
	for idx != 0 {
		in := &f.prog[idx]
		inv = in.invert
		ev = f.test(in, r, count, &st)
		if ev {
			if l := f.blocks[idx].label; l != "" {
				label = l
			}
			idx = in.onTrue
		} else {
			label = ""
			idx = in.onFalse
		}
	}
	if ev == inv {
		return false, ""
	}
	return true, label
}

// inst is one block's test and links, packed for the walk; the block
// keeps what -X prints.
type inst struct {
	mask, value     uint64
	onTrue, onFalse uint32
	aux             uint32 // index of the block's address or value set, or ident
	op              opKind
	field           flow.Field
	fshift          uint8
	comp            cmpOp
	fn              fnCode
	fam             uint8
	addr            uint8 // address ops: which of the record's addresses (addrIndex)
	invert          bool
}

// addrIndex numbers the address fields for the walk's cache.
func addrIndex(f flow.Field) uint8 {
	switch f {
	case flow.FieldSrcAddr:
		return 0
	case flow.FieldDstAddr:
		return 1
	case flow.FieldIPNextHop:
		return 2
	case flow.FieldBGPNextHop:
		return 3
	}
	return 4
}

// walkState holds what one walk has read of the record: its addresses as
// nfdump's words, each converted once however many blocks test it.
type walkState struct {
	addr [5]addrWords
}

// addrWords is an address as nfdump's words, and its family: 0 not read
// yet, 1 not carried, 4 or 6.
type addrWords struct {
	hi, lo uint64
	fam    uint8
}

// load reads address slot i of the record (addrIndex) into the walk's
// cache.
func (st *walkState) load(i uint8, r *flow.Record) {
	st.addr[i].load(addrAt(r, i))
}

// addrAt returns the record's address of slot i (addrIndex).
func addrAt(r *flow.Record, i uint8) *netip.Addr {
	return (*netip.Addr)(unsafe.Add(unsafe.Pointer(r), addrOffs[i%5]))
}

func (w *addrWords) load(a *netip.Addr) {
	w.fam = 1
	switch {
	case a.Is4():
		v := a.As4()
		w.hi, w.lo, w.fam = 0, uint64(binary.BigEndian.Uint32(v[:])), 4
	case a.IsValid():
		v := a.As16()
		w.hi, w.lo, w.fam = binary.BigEndian.Uint64(v[:8]), binary.BigEndian.Uint64(v[8:]), 6
	}
}

// test runs one block's test (run does the common ones itself).
func (f *Filter) test(in *inst, r *flow.Record, count uint64, st *walkState) bool {
	var x uint64
	switch in.op {
	case opConst:
	case opField:
		x = (in.field.Value(r) << in.fshift) & in.mask
	case opAddrLo, opAddrHi:
		w := &st.addr[in.addr]
		if w.fam == 0 {
			st.load(in.addr, r)
		}
		if in.fam != 0 && w.fam != 1 && w.fam != in.fam {
			return false
		}
		x = w.lo & in.mask
		if in.op == opAddrHi {
			x = w.hi & in.mask
		}
	case opIPList:
		w := &st.addr[in.addr]
		if w.fam == 0 {
			st.load(in.addr, r)
		}
		return f.ips[in.aux].has(w)
	case opCount:
		x = (uint64(uint32(count)) << 32) & in.mask
	case opIdent:
		return f.identMatch != nil && f.identMatch[in.aux]
	case opFlowLabel:
		return strings.EqualFold(r.Label, f.flowLabels[in.aux])
	case opAddrChain:
		return f.chains[in.aux].match(r, st)
	case opFunc:
		x = function(in.fn, r)
	}
	switch in.comp {
	case cmpEQ:
		return x == in.value
	case cmpGT:
		return x > in.value
	case cmpLT:
		return x < in.value
	case cmpGE:
		return x >= in.value
	case cmpLE:
		return x <= in.value
	case cmpFlags:
		// nfdump's flags quirk: under an odd number of nots the block
		// tests "any of the flags", then the inversion makes it "none".
		if in.invert {
			return x > 0
		}
		return x == in.value
	case cmpULList:
		return f.vals[in.aux].contains(x)
	}
	return false
}

// function computes nfdump's flow functions. Durations and rates use
// unsigned 64-bit arithmetic as nfdump does, and a rate over no time is 0.
func function(fn fnCode, r *flow.Record) uint64 {
	if fn == fnMPLSEOS || fn == fnMPLSAny {
		return mplsBottom(&r.MPLS)
	}
	return rate(fn, r.First, r.Last, r.InPackets, r.InBytes)
}

// rate computes the flow functions of a flow's times and counters.
func rate(fn fnCode, first, last, packets, bytes uint64) uint64 {
	switch fn {
	case fnPPS, fnBPS:
		d := last - first
		if d == 0 {
			return 0
		}
		if fn == fnPPS {
			return 1000 * packets / d
		}
		return 8000 * bytes / d
	case fnBPP:
		if packets == 0 {
			return 0
		}
		return bytes / packets
	case fnDuration:
		return last - first
	}
	return 0
}

// mplsBottom is mpls eos and mpls any: both look for the bottom-of-stack
// entry; 1.7.1's "any" is a copy of "eos". Without one the value cannot
// match a label.
func mplsBottom(stack *[10]uint32) uint64 {
	for _, l := range stack {
		if l&1 != 0 {
			return uint64(l & 0x00fffff0)
		}
	}
	return 0xff000000
}
