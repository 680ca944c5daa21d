package getopt

import (
	"bufio"
	"io"
	"strings"
)

// PrintUsage writes the help text in nfdump's layout: "usage <name>
// <synopsis>", then one line per option in declaration order with the
// descriptions in one column.
func (s *Spec) PrintUsage(w io.Writer) error {
	heads := make([]string, len(s.Options))
	width := 0
	for i, o := range s.Options {
		heads[i] = optionHead(o)
		width = max(width, len(heads[i]))
	}
	bw := bufio.NewWriter(w)
	bw.WriteString("usage " + s.Name)
	if s.Synopsis != "" {
		bw.WriteString(" " + s.Synopsis)
	}
	bw.WriteByte('\n')
	for i, o := range s.Options {
		bw.WriteString(heads[i])
		bw.WriteString(strings.Repeat(" ", width-len(heads[i])+2))
		bw.WriteString(o.Usage)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// optionHead is the left column of an option's help line: "-q",
// "-r <file>", "-z[=<method>]" or "--metrics <addr>".
func optionHead(o Option) string {
	head := o.Flag()
	switch o.Arg {
	case RequiredArg:
		head += " <" + o.ArgName + ">"
	case OptionalArg:
		head += "[=<" + o.ArgName + ">]"
	}
	return head
}
