package filter

import (
	"bufio"
	"fmt"
	"io"
)

// Dump writes the compiled tree as nfdump's -X prints it: the start block
// and engine, then every block with its word, mask and value in nfdump's
// master record, its links, and the lists it holds.
func (f *Filter) Dump(w io.Writer) error {
	bw := bufio.NewWriter(w)
	engine := "Fast"
	if f.extended {
		engine = "Extended"
	}
	fmt.Fprintf(bw, "StartNode: %d Engine: %s\n", f.start, engine)
	for i := 1; i < len(f.blocks); i++ {
		b := &f.blocks[i]
		not := ""
		if b.invert {
			not = "!"
		}
		label := b.label
		if label == "" {
			label = "<none>"
		}
		fmt.Fprintf(bw, "Index: %d, Offset: %d, Mask: %016x, Value: %016x, Superblock: %d, Numblocks: %d, %sOnTrue: %d, %sOnFalse: %d Comp: %d Function: %s, Label: %s\n",
			i, b.offset, b.mask, b.value, b.superblock, len(b.list), not, b.onTrue, not, b.onFalse, b.comp, fnNames[b.fn], label)
		switch b.data {
		case dataIPs:
			for _, e := range b.ips.kept {
				m := e.mask()
				fmt.Fprintf(bw, "value: %016x %016x mask: %016x %016x\n", e.ip.hi, e.ip.lo, m.hi, m.lo)
			}
		case dataVals:
			for _, v := range b.vals.dump {
				fmt.Fprintf(bw, "%016x \n", v)
			}
		case dataAny, dataPtr:
			fmt.Fprintf(bw, "Error comp: %d\n", b.comp)
		}
		bw.WriteString("\tBlocks: ")
		for _, j := range b.list {
			fmt.Fprintf(bw, "%d ", j)
		}
		bw.WriteString("\n")
	}
	fmt.Fprintf(bw, "NumBlocks: %d\n", len(f.blocks)-1)
	for i, id := range f.idents {
		fmt.Fprintf(bw, "Ident %d: %s\n", i, id)
	}
	return bw.Flush()
}
