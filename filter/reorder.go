package filter

import "slices"

// The code tests a filter's terms in the order of nfdump's tree, which is
// seldom the cheapest: nfdump's Connect_AND makes the side with fewer
// blocks the first one, so the twenty-term bench filter's last group
// starts with bpp > 500, a division that two thirds of the flows pass,
// before in if 3, which seven eighths fail. Each test a flow goes
// through costs its work and, when its outcome is the flow's and not a
// pattern, a mispredicted branch; a chain of and-ed tests is cheapest
// when the ones most likely to end it come first. Which those are only
// the data say: the raw code counts the outcomes of each test on a
// shape's first records (raw.go), and reorder then sorts each chain by
// its tests' cost over their chance to end the chain.
//
// A chain is tests t1 ... tk that all leave to the same op E on one of
// their outcomes (false for an and, true for an or, either after a not)
// and go on to the next test on the other; t2 ... tk are reached from
// nowhere else. Walking it ends at E when any test takes its way out, and
// goes on from tk otherwise, whatever the order of the tests.

// opCost is what reorder reckons a test of each kind costs, in loads of
// a field.
var opCost = [...]float64{
	kLoad: 1, kAddrLo: 1, kAddrHi: 1, kAddr: 1.2, kIPv6: 1, kDuration: 1.5,
	kLoadSet: 3, kFunc: 4, kIPList: 5, kChain: 6, kTest: 8,
}

// reorder returns code with each chain's tests sorted by cost over the
// chance that they end the chain, and the entry among them. counts holds
// for each op how many walks found its test false and true. The result
// answers as code does for every flow.
func reorder(code []op, entry uint32, counts [][2]uint32) ([]op, uint32) {
	out := slices.Clone(code)
	preds := make([]int32, len(out))
	if entry >= firstOp {
		preds[entry]++
	}
	for i := firstOp; i < uint32(len(out)); i++ {
		for _, n := range out[i].next {
			if n >= firstOp {
				preds[n]++
			}
		}
	}
	// Each chain as its tests and the way each goes on, found from its
	// first test in an order that meets a chain's first test before the
	// others.
	type link struct {
		op   uint32
		cont uint8
	}
	var chains [][]link
	inChain := make([]bool, len(out))
	seen := make([]bool, len(out))
	stack := []uint32{entry}
	for len(stack) > 0 {
		a := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if a < firstOp || seen[a] {
			continue
		}
		seen[a] = true
		stack = append(stack, out[a].next[0], out[a].next[1])
		if inChain[a] {
			continue
		}
		var chain []link
		for _, c := range [2]uint8{1, 0} {
			exit := out[a].next[1-c]
			chain = append(chain[:0], link{a, c})
			for {
				last := chain[len(chain)-1]
				b := out[last.op].next[last.cont]
				if b < firstOp || preds[b] != 1 || inChain[b] {
					break
				}
				o := &out[b]
				if o.next[0] == o.next[1] || o.next[0] != exit && o.next[1] != exit {
					break
				}
				cont := uint8(0)
				if o.next[0] == exit {
					cont = 1
				}
				chain = append(chain, link{b, cont})
			}
			if len(chain) > 1 {
				break
			}
		}
		if len(chain) < 2 {
			continue
		}
		for _, l := range chain {
			inChain[l.op] = true
		}
		chains = append(chains, slices.Clone(chain))
	}
	rank := func(l link) float64 {
		c := counts[l.op]
		p := 0.5 // an op no walk reached: nothing known
		if n := c[0] + c[1]; n > 0 {
			p = float64(c[l.cont]) / float64(n)
		}
		return opCost[out[l.op].kind] / max(1-p, 1.0/64)
	}
	for _, chain := range chains {
		head := chain[0].op
		last := chain[len(chain)-1]
		tail := out[last.op].next[last.cont]
		slices.SortStableFunc(chain, func(x, y link) int {
			rx, ry := rank(x), rank(y)
			switch {
			case rx < ry:
				return -1
			case rx > ry:
				return 1
			}
			return 0
		})
		if chain[0].op != head {
			// Whatever jumped to the old first test jumps to the new
			// one; only the chain's own links lead inside it.
			if entry == head {
				entry = chain[0].op
			}
			for i := firstOp; i < uint32(len(out)); i++ {
				for k, n := range out[i].next {
					if n == head {
						out[i].next[k] = chain[0].op
					}
				}
			}
		}
		for i, l := range chain {
			next := tail
			if i+1 < len(chain) {
				next = chain[i+1].op
			}
			out[l.op].next[l.cont] = next
		}
	}
	return out, entry
}
