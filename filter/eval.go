package filter

import "github.com/nfgo/nftools/flow"

// Match reports whether the flow passes the filter. A count primitive
// sees the running number 0 here; readers of a filter that UsesCount call
// MatchCount.
func (f *Filter) Match(r *flow.Record) bool {
	ok, _ := f.run(r, 0, false)
	return ok
}

// MatchCount is Match for the record with running number count (the
// first flow record read is 1; nfdump keeps the number in 32 bits).
func (f *Filter) MatchCount(r *flow.Record, count uint64) bool {
	ok, _ := f.run(r, count, false)
	return ok
}

// MatchLabel is MatchCount that also returns the flow label a passing flow
// gets: that of the last labelled test on the way to the result, as nfdump
// computes it ("" for none).
func (f *Filter) MatchLabel(r *flow.Record, count uint64) (bool, string) {
	return f.run(r, count, f.labels)
}

// run walks the tree as nfdump's RunExtendedFilter does: from the start
// block along onTrue or onFalse until 0; the result is the last test's,
// inverted if its block is.
func (f *Filter) run(r *flow.Record, count uint64, labels bool) (bool, string) {
	idx := f.start
	var ev, inv bool
	label := ""
	for idx != 0 {
		b := &f.blocks[idx]
		inv = b.invert
		ev = f.test(b, r, count)
		if ev {
			if labels && b.label != "" {
				label = b.label
			}
			idx = b.onTrue
		} else {
			label = ""
			idx = b.onFalse
		}
	}
	if ev == inv {
		return false, ""
	}
	return true, label
}

// test runs one block's test.
func (f *Filter) test(b *block, r *flow.Record, count uint64) bool {
	var x uint64
	switch b.op {
	case opConst:
	case opField:
		x = (b.field.Value(r) << b.fshift) & b.mask
	case opAddrHi, opAddrLo:
		a := b.field.Addr(r)
		if b.fam != 0 && a.IsValid() && a.Is4() != (b.fam == 4) {
			return false
		}
		hi, lo := flow.AddrWords(a)
		if b.op == opAddrHi {
			x = hi & b.mask
		} else {
			x = lo & b.mask
		}
	case opCount:
		x = (uint64(uint32(count)) << 32) & b.mask
	case opIdent:
		return f.identMatch != nil && f.identMatch[b.ident]
	case opFunc:
		x = function(b.fn, r)
	case opIPList:
		a := b.field.Addr(r)
		hi, lo := flow.AddrWords(a)
		k := addr128{hi, lo}
		if b.ips.blind {
			return b.ips.contains(k, false)
		}
		if !a.IsValid() {
			// An address the flow does not carry reads as 0 in either family.
			return b.ips.contains(k, true) || b.ips.contains(k, false)
		}
		return b.ips.contains(k, a.Is4())
	}
	switch b.comp {
	case cmpEQ:
		return x == b.value
	case cmpGT:
		return x > b.value
	case cmpLT:
		return x < b.value
	case cmpGE:
		return x >= b.value
	case cmpLE:
		return x <= b.value
	case cmpFlags:
		// nfdump's flags quirk: under an odd number of nots the block
		// tests "any of the flags", then the inversion makes it "none".
		if b.invert {
			return x > 0
		}
		return x == b.value
	case cmpULList:
		return b.vals.contains(x)
	}
	return false
}

// function computes nfdump's flow functions. Durations and rates use
// unsigned 64-bit arithmetic as nfdump does, and a rate over no time is 0.
func function(fn fnCode, r *flow.Record) uint64 {
	switch fn {
	case fnPPS, fnBPS:
		d := r.Last - r.First
		if d == 0 {
			return 0
		}
		if fn == fnPPS {
			return 1000 * r.InPackets / d
		}
		return 8000 * r.InBytes / d
	case fnBPP:
		if r.InPackets == 0 {
			return 0
		}
		return r.InBytes / r.InPackets
	case fnDuration:
		return r.Last - r.First
	case fnMPLSEOS, fnMPLSAny:
		// Both look for the bottom-of-stack entry; 1.7.1's "any" is a copy
		// of "eos". Without one the value cannot match a label.
		for _, l := range r.MPLS {
			if l&1 != 0 {
				return uint64(l & 0x00fffff0)
			}
		}
		return 0xff000000
	}
	return 0
}
