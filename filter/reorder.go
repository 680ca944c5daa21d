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
	kLoadSet: 3, kFunc: 4, kIPList: 5, kChain: 6, kTest: 8, kIPList4: 4,
}

// reorder returns code with each chain's units sorted by cost over the
// chance that they end the chain, and the entry among them. A unit is one
// test, or a run of tests of the other kind inside the chain (the or of
// dst port 80 or dst port 443 in an and): tests that each go on to the
// same op P on one outcome, and to the next of them on the other, the
// last to the chain's exit. counts holds for each op how many walks found
// its test false and true. The result answers as code does for every
// flow.
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
	inChain := make([]bool, len(out))
	// unitAt returns the unit that starts at op b, which pred ways lead
	// to, in a chain whose exit is exit, or false.
	unitAt := func(b uint32, pred int32, exit uint32) (unit, bool) {
		if b < firstOp || preds[b] != pred || inChain[b] {
			return unit{}, false
		}
		o := &out[b]
		if o.next[0] != o.next[1] && (o.next[0] == exit || o.next[1] == exit) {
			cont := uint8(0)
			if o.next[0] == exit {
				cont = 1
			}
			return unit{entry: b, pass: []link{{b, cont}}}, true
		}
		// A run: b, b2, ... each go to P on their way out, the last on
		// to exit.
		for _, d := range [2]uint8{1, 0} {
			u := unit{entry: b}
			pass := o.next[d]
			for cur := b; ; {
				c := &out[cur]
				if c.next[d] != pass || c.next[1-d] == pass {
					break
				}
				u.pass = append(u.pass, link{cur, d})
				next := c.next[1-d]
				if next == exit {
					if len(u.pass) > 1 && pass != exit {
						return u, true
					}
					break
				}
				if next < firstOp || preds[next] != 1 || inChain[next] {
					break
				}
				cur = next
			}
		}
		return unit{}, false
	}
	// The chains, found from their first test in an order that meets a
	// chain's first test before the others.
	var chains [][]unit
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
		var chain []unit
		for _, c := range [2]uint8{1, 0} {
			exit := out[a].next[1-c]
			chain = append(chain[:0], unit{entry: a, pass: []link{{a, c}}})
			for {
				last := chain[len(chain)-1]
				u, ok := unitAt(last.next(out), int32(len(last.pass)), exit)
				if !ok {
					break
				}
				chain = append(chain, u)
			}
			if len(chain) > 1 {
				break
			}
		}
		if len(chain) < 2 {
			continue
		}
		for _, u := range chain {
			for _, l := range u.pass {
				inChain[l.op] = true
			}
		}
		chains = append(chains, slices.Clone(chain))
	}
	for _, chain := range chains {
		head := chain[0].entry
		tail := chain[len(chain)-1].next(out)
		rank := make(map[uint32]float64, len(chain))
		for _, u := range chain {
			rank[u.entry] = u.rank(out, counts)
		}
		slices.SortStableFunc(chain, func(x, y unit) int {
			rx, ry := rank[x.entry], rank[y.entry]
			switch {
			case rx < ry:
				return -1
			case rx > ry:
				return 1
			}
			return 0
		})
		if chain[0].entry != head {
			// Whatever jumped to the old first test jumps to the new
			// one; only the chain's own links lead inside it.
			if entry == head {
				entry = chain[0].entry
			}
			for i := firstOp; i < uint32(len(out)); i++ {
				for k, n := range out[i].next {
					if n == head {
						out[i].next[k] = chain[0].entry
					}
				}
			}
		}
		for i, u := range chain {
			next := tail
			if i+1 < len(chain) {
				next = chain[i+1].entry
			}
			for _, l := range u.pass {
				out[l.op].next[l.cont] = next
			}
		}
	}
	return out, entry
}

// link is an op and the way it goes on (0 on false, 1 on true).
type link struct {
	op   uint32
	cont uint8
}

// unit is what reorder moves: the op it starts at, and the ops and ways
// that lead on from it when it passes.
type unit struct {
	entry uint32
	pass  []link
}

// next is where u goes when it passes.
func (u *unit) next(code []op) uint32 {
	l := u.pass[0]
	return code[l.op].next[l.cont]
}

// rank is u's cost, the tests a walk through it runs, over its chance to
// end the chain, as the counts say.
func (u *unit) rank(code []op, counts [][2]uint32) float64 {
	c := counts[u.entry]
	n := float64(c[0] + c[1])
	if n == 0 {
		// No walk reached it: nothing known.
		cost := 0.0
		for _, l := range u.pass {
			cost += opCost[code[l.op].kind]
		}
		return cost / 0.5
	}
	cost, passed := 0.0, 0.0
	for _, l := range u.pass {
		k := counts[l.op]
		cost += opCost[code[l.op].kind] * float64(k[0]+k[1]) / n
		passed += float64(k[l.cont])
	}
	return cost / max(1-passed/n, 1.0/64)
}
