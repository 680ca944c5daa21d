package main

import (
	"bufio"
	"io"
	"strings"

	"github.com/nfgo/nftools/internal/getopt"
	"github.com/nfgo/nftools/internal/version"
)

// spec declares every option of fprobe 1.1 (getopt string
// "aBbcdefghiKklmnpqrSstuvx" with values for all but h, k and p), plus -V
// --read, --pidfile and --metrics, which fprobe does not have. The usage texts are fprobe's,
// where goprobe does the same; man/goprobe.8 documents every option.
var spec = &getopt.Spec{
	Name:     "goprobe",
	Synopsis: "[options] remote:port[/[local][/type]] ...",
	Options: []getopt.Option{
		{Letter: 'h', Usage: "Display this help", Implemented: true},
		{Letter: 'V', Usage: "Display the version", Implemented: true},
		{Letter: 'p', Usage: "Don't put the interface into promiscuous mode", Implemented: true},
		{Letter: 'i', Arg: getopt.RequiredArg, ArgName: "interface", Usage: "Network interface name (- reads a pcap stream on stdin)", Implemented: true},
		{Letter: 'f', Arg: getopt.RequiredArg, ArgName: "expression", Usage: "Filter expression (see tcpdump manual for details)", Implemented: true},
		{Letter: 's', Arg: getopt.RequiredArg, ArgName: "seconds", Usage: "How often scan for expired flows [5]", Implemented: true},
		{Letter: 'g', Arg: getopt.RequiredArg, ArgName: "seconds", Usage: "Fragmented flow lifetime [30]", Implemented: true},
		{Letter: 'd', Arg: getopt.RequiredArg, ArgName: "seconds", Usage: "Idle flow lifetime (inactive timer) [60]", Implemented: true},
		{Letter: 'e', Arg: getopt.RequiredArg, ArgName: "seconds", Usage: "Active flow lifetime (active timer) [300]", Implemented: true},
		{Letter: 'n', Arg: getopt.RequiredArg, ArgName: "version", Usage: "NetFlow version for use (1, 5, 7, 9 or 10) [5]", Implemented: true},
		{Letter: 'a', Arg: getopt.RequiredArg, ArgName: "address", Usage: "Use <address> as source for NetFlow flow", Implemented: true},
		{Letter: 'x', Arg: getopt.RequiredArg, ArgName: "id[:id]", Usage: "Workaround for SNMP interfaces indexes [0]", Implemented: true},
		{Letter: 'b', Arg: getopt.RequiredArg, ArgName: "flows", Usage: "Memory bulk size (1..4294967295) [10000]", Implemented: true},
		{Letter: 'm', Arg: getopt.RequiredArg, ArgName: "kilobytes", Usage: "Memory limit (0=no limit) [0]", Implemented: true},
		{Letter: 'q', Arg: getopt.RequiredArg, ArgName: "flows", Usage: "Export queue length [100]", Implemented: true},
		{Letter: 'B', Arg: getopt.RequiredArg, ArgName: "kilobytes", Usage: "Kernel capture buffer size [0]", Implemented: true},
		{Letter: 'r', Arg: getopt.RequiredArg, ArgName: "priority", Usage: "Real-time priority (0=disabled, 1..99) [0]", Implemented: true},
		{Letter: 't', Arg: getopt.RequiredArg, ArgName: "B:N", Usage: "Produce <N> nanosecond delay after each <B> bytes sent [0:0]", Implemented: true},
		{Letter: 'S', Arg: getopt.RequiredArg, ArgName: "bytes", Usage: "Snaplen [256]", Implemented: true},
		{Letter: 'K', Arg: getopt.RequiredArg, ArgName: "bytes", Usage: "Link layer header size", Implemented: true},
		{Letter: 'k', Usage: "Don't exclude link layer header from packet size", Implemented: true},
		{Letter: 'c', Arg: getopt.RequiredArg, ArgName: "directory", Usage: "Directory to chroot to", Implemented: true},
		{Letter: 'u', Arg: getopt.RequiredArg, ArgName: "user", Usage: "User to run as", Implemented: true},
		{Letter: 'v', Arg: getopt.RequiredArg, ArgName: "level", Usage: "Maximum log level (0=EMERG, ..., 6=INFO, 7=DEBUG) [6]", Implemented: true},
		{Letter: 'l', Arg: getopt.RequiredArg, ArgName: "[dst][:id]", Usage: "Log destination and log/pidfile idetifier [1]", Implemented: true},
		{Long: "read", Arg: getopt.RequiredArg, ArgName: "file", Usage: "Read the packets from a pcap or pcapng file", Implemented: true},
		{Long: "pidfile", Arg: getopt.RequiredArg, ArgName: "file", Usage: "Write the pid into file instead of /var/run/goprobe[id].pid (empty: no pid file)", Implemented: true},
		{Long: "metrics", Arg: getopt.RequiredArg, ArgName: "addr", Usage: "Serve Prometheus metrics over HTTP at addr (host:port or :port), path /metrics", Implemented: true},
	},
}

// printUsage writes the help in fprobe's layout: the banner, the synopsis,
// then an option per line with its description after one or two tabs.
func printUsage(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(spec.Name + ": a NetFlow probe. Version " + version.Version + "\n")
	bw.WriteString("Usage: " + spec.Name + " " + spec.Synopsis + "\n\n")
	line := func(head, usage string) {
		tabs := "\t"
		if len(head) < 8 {
			tabs = "\t\t"
		}
		bw.WriteString(head + tabs + usage + "\n")
	}
	for _, o := range spec.Options {
		head := o.Flag()
		switch {
		case o.Letter == 'x':
			head = "-x <id>[:<id>]" // fprobe's way of saying the second is optional
		case o.Arg != getopt.NoArg:
			head += " <" + o.ArgName + ">"
		}
		line(head, strings.ReplaceAll(o.Usage, "\n", " "))
	}
	line("remote:port", "Address of the NetFlow collector")
	return bw.Flush()
}
