package filter

import "github.com/nfgo/nftools/flow"

// A compiled filter is nfdump 1.7.1's filter tree: an array of blocks, each
// one test of the flow, linked by the block to go to when the test is true
// (onTrue) and when it is false (onFalse); 0 ends the walk, and the result
// is the last test's, inverted if that block is inverted. Building the
// same tree the same way (NewBlock, Connect_AND, Connect_OR, Invert in
// nftree.c, called in the order grammar.y calls them) gives the same
// answers in every corner, including the ones that surprise (flags under
// not), and the same -X dump.
//
// nfdump copies block lists and walks every block on each connect and
// inversion, which is quadratic in the number of terms. The builder here
// keeps the same tree with linked lists, inversion parities in a
// union-find, and lists of the blocks whose true or false exit is still
// open, so a megabyte of terms compiles in linear time.

// cmpOp is nfdump's comparator (filter.h's CMP_* order, printed by -X).
type cmpOp uint8

const (
	cmpEQ cmpOp = iota
	cmpGT
	cmpLT
	cmpGE
	cmpLE
	cmpIdent
	cmpFlowLabel
	cmpFlags
	cmpIPList
	cmpULList
	cmpPayload
	cmpRegex
)

// fnCode is nfdump's flow function (nftree.h's FUNC_* order).
type fnCode uint8

const (
	fnNone fnCode = iota
	fnPPS
	fnBPS
	fnBPP
	fnDuration
	fnMPLSEOS
	fnMPLSAny
)

var fnNames = [...]string{"none", "pps", "bps", "bpp", "duration", "mpls eos", "mpls any"}

// opKind says where a block's test reads its value.
type opKind uint8

const (
	opConst     opKind = iota // no value: 0 (the any block)
	opField                   // a flow.Field, shifted to its place in nfdump's word
	opAddrHi                  // upper 64 bits of an address field
	opAddrLo                  // lower 64 bits of an address field
	opCount                   // the record's running number
	opIdent                   // the file's ident
	opFunc                    // pps, bps, bpp, duration, mpls eos, mpls any
	opIPList                  // an address field in an address set
	opFlowLabel               // the flow's label, equal to one of Filter.flowLabels
)

// dataKind is what nfdump hangs on a block's data pointer; -X prints it.
type dataKind uint8

const (
	dataNone dataKind = iota
	dataAny           // the any block's (void *)-1
	dataPtr           // any other pointer (mpls any's option): "Error comp: N"
	dataIPs           // an address list
	dataVals          // a port or AS list
)

// block is one node of the tree.
type block struct {
	// nfdump's view, for -X and for the test itself.
	offset uint32 // 64-bit word of nfdump's master record
	mask   uint64
	value  uint64
	comp   cmpOp
	fn     fnCode
	data   dataKind

	// The test.
	op     opKind
	field  flow.Field
	fshift uint8 // where the field sits in nfdump's word
	// fam, when not 0, is the address family (4 or 6) of the address a
	// test compares with: a flow whose famField is of the other family
	// fails it. nfdump compares IPv4 as ::a.b.c.d, so `net ::/64` matched
	// every IPv4 flow; godump keeps the families apart.
	fam      uint8
	famField flow.Field
	ips      *addrSet
	vals     *valSet
	ident    int

	onTrue, onFalse uint32
	invert          bool
	label           string
	// For -X: the superblock the block belongs to, and a superblock's
	// blocks (empty for a block absorbed into another).
	superblock uint32
	list       []uint32
}

// builder makes the tree. Index 0 is reserved: a jump to 0 ends the walk.
type builder struct {
	blocks []block
	nodes  []node
}

// node is the builder's bookkeeping for a block; see tree.go's doc.
type node struct {
	parent uint32 // union-find: the superblock this block was absorbed into
	par    bool   // inversion relative to parent (a root's: of all its blocks)
	// A root's list of blocks (head, tail, length) and its open exits:
	// blocks whose onTrue (ot) or onFalse (of) is still 0, split by their
	// inversion parity relative to the root.
	head, tail, num uint32
	ot, of          [2]list
	// Links of this block in those lists.
	next, nextT, nextF uint32
}

type list struct{ head, tail uint32 }

// newBuilder returns a builder with room for about as many blocks as
// src has words outside brackets (blockHint): an or of 100 networks,
// four words and four blocks each, then takes 83 KB instead of growing
// through 186 KB, garbage that godump's heap holds before its first
// collection, and so peak RSS.
func newBuilder(src string) *builder {
	n := blockHint(src)
	return &builder{blocks: make([]block, 1, n), nodes: make([]node, 1, n)}
}

// blockHint guesses the number of blocks text src compiles into: its
// words (runs of string characters) outside brackets, where a list is
// one block, and an eighth more. A primitive makes one to four blocks of
// its one to four words; and, or and not make none. The guess is at
// least 16 and at most maxBlockHint, beyond which the blocks grow as a
// slice does, so that a long comment reserves little.
func blockHint(src string) int {
	n, in, depth := 0, false, 0
	for i := 0; i < len(src) && n < maxBlockHint; i++ {
		c := src[i]
		switch c {
		case '[':
			depth++
		case ']':
			depth = max(0, depth-1)
		}
		str := isStringChar(c)
		if str && !in && depth == 0 {
			n++
		}
		in = str
	}
	return min(max(16, n+n/8+1), maxBlockHint) // and the reserved block 0
}

// maxBlockHint bounds blockHint.
const maxBlockHint = 1024

// newBlock appends a block that is its own superblock (nfdump's NewBlock).
func (b *builder) newBlock(bl block) uint32 {
	n := uint32(len(b.blocks))
	b.blocks = append(b.blocks, bl)
	b.nodes = append(b.nodes, node{
		parent: n, head: n, tail: n, num: 1,
		ot: [2]list{{n, n}, {}}, of: [2]list{{n, n}, {}},
	})
	return n
}

// extended reports whether nfdump would run this tree with its extended
// engine: any comparator other than equality, or any function.
func (b *builder) extended(labels bool) bool {
	if labels {
		return true
	}
	for i := 1; i < len(b.blocks); i++ {
		if b.blocks[i].comp > 0 || b.blocks[i].fn > 0 {
			return true
		}
	}
	return false
}

// find returns a block's superblock and its inversion parity relative to
// it (path compression keeps repeated finds cheap).
func (b *builder) find(j uint32) (root uint32, par bool) {
	// Walk up, then compress.
	r, p := j, false
	for b.nodes[r].parent != r {
		p = p != b.nodes[r].par
		r = b.nodes[r].parent
	}
	// Second pass: point every block on the path at r with its parity.
	cur, cp := j, p
	for b.nodes[cur].parent != r && cur != r {
		nx := b.nodes[cur].parent
		nxPar := cp != b.nodes[cur].par
		b.nodes[cur].parent, b.nodes[cur].par = r, cp
		cur, cp = nx, nxPar
	}
	return r, p
}

// inverted reports whether block j is inverted now.
func (b *builder) inverted(j uint32) bool {
	r, p := b.find(j)
	if r == j {
		return b.nodes[r].par
	}
	return p != b.nodes[r].par
}

// connect joins two superblocks as nfdump's Connect_AND (and) or
// Connect_OR and returns the superblock of the result.
func (b *builder) connect(b1, b2 uint32, and bool) uint32 {
	x, y := b1, b2
	// The block with fewer children becomes the superblock, unless the
	// second is the any block, which stays last so the others are tested.
	if !(b.blocks[b2].data == dataAny || b.nodes[b1].num <= b.nodes[b2].num) {
		x, y = b2, b1
	}
	nx := &b.nodes[x]
	p := 0
	if nx.par {
		p = 1
	}
	// AND sends the exits that end true (onTrue of a plain block, onFalse
	// of an inverted one) to y; OR those that end false. A block's
	// parity relative to the root, xor the root's, is its inversion.
	ot, of := &nx.ot[p], &nx.of[1-p]
	if !and {
		ot, of = &nx.ot[1-p], &nx.of[p]
	}
	for j := ot.head; j != 0; {
		nj := b.nodes[j].nextT
		b.blocks[j].onTrue = y
		b.nodes[j].nextT = 0
		j = nj
	}
	for j := of.head; j != 0; {
		nj := b.nodes[j].nextF
		b.blocks[j].onFalse = y
		b.nodes[j].nextF = 0
		j = nj
	}
	*ot, *of = list{}, list{}
	b.absorb(x, y)
	return x
}

// absorb appends y's blocks to superblock x (nfdump's UpdateList).
func (b *builder) absorb(x, y uint32) {
	nx, ny := &b.nodes[x], &b.nodes[y]
	// The block list, in nfdump's order: x's, then y's.
	b.nodes[nx.tail].next = ny.head
	nx.tail = ny.tail
	nx.num += ny.num
	// y's blocks keep their inversion: relative to x they flip when the
	// two roots' parities differ.
	s := 0
	if nx.par != ny.par {
		s = 1
	}
	for p := 0; p < 2; p++ {
		b.appendList(&nx.ot[p], ny.ot[p^s], true)
		b.appendList(&nx.of[p], ny.of[p^s], false)
	}
	ny.parent, ny.par = x, ny.par != nx.par
	ny.head, ny.tail, ny.num = 0, 0, 0
	ny.ot, ny.of = [2]list{}, [2]list{}
}

func (b *builder) appendList(dst *list, src list, t bool) {
	if src.head == 0 {
		return
	}
	if dst.head == 0 {
		*dst = src
		return
	}
	if t {
		b.nodes[dst.tail].nextT = src.head
	} else {
		b.nodes[dst.tail].nextF = src.head
	}
	dst.tail = src.tail
}

// invert inverts every block of superblock a (nfdump's Invert).
func (b *builder) invert(a uint32) uint32 {
	b.nodes[a].par = !b.nodes[a].par
	return a
}

// addLabel gives label to the blocks of superblock a whose onTrue is still
// open (nfdump's AddLabel).
func (b *builder) addLabel(a uint32, label string) {
	for p := 0; p < 2; p++ {
		for j := b.nodes[a].ot[p].head; j != 0; j = b.nodes[j].nextT {
			b.blocks[j].label = label
		}
	}
}

// finish settles each block's inversion and superblock and returns the
// blocks.
func (b *builder) finish() []block {
	for j := 1; j < len(b.blocks); j++ {
		bl := &b.blocks[j]
		bl.invert = b.inverted(uint32(j))
		bl.superblock, _ = b.find(uint32(j))
		if n := &b.nodes[j]; n.num > 0 {
			bl.list = make([]uint32, 0, n.num)
			for k := n.head; k != 0; k = b.nodes[k].next {
				bl.list = append(bl.list, k)
				if k == n.tail {
					break
				}
			}
		}
	}
	return b.blocks
}
