package main

import "github.com/nfgo/nftools/internal/getopt"

// spec declares every option of fprobe 1.1, plus -V, which fprobe does not
// have. Only the options marked Implemented work in this release;
// man/goprobe.1 documents exactly those.
var spec = &getopt.Spec{
	Name:     "goprobe",
	Synopsis: "[options] remote:port[/[local][/type]] ...",
	Options: []getopt.Option{
		{Letter: 'h', Usage: "print this help and exit", Implemented: true},
		{Letter: 'V', Usage: "print the version and exit", Implemented: true},

		// Capture.
		{Letter: 'i', Arg: getopt.RequiredArg, ArgName: "interface", Usage: "capture on interface; - reads a pcap stream from stdin"},
		{Letter: 'f', Arg: getopt.RequiredArg, ArgName: "expression", Usage: "capture only packets matching this pcap filter"},
		{Letter: 'p', Usage: "do not put the interface into promiscuous mode"},
		{Letter: 'S', Arg: getopt.RequiredArg, ArgName: "bytes", Usage: "capture length per packet (256)"},
		{Letter: 'B', Arg: getopt.RequiredArg, ArgName: "kilobytes", Usage: "kernel capture buffer size (0)"},
		{Letter: 'K', Arg: getopt.RequiredArg, ArgName: "bytes", Usage: "link layer header size"},
		{Letter: 'k', Usage: "count the link layer header in the packet size"},

		// Flow cache.
		{Letter: 's', Arg: getopt.RequiredArg, ArgName: "seconds", Usage: "scan for expired flows every seconds (5)"},
		{Letter: 'g', Arg: getopt.RequiredArg, ArgName: "seconds", Usage: "lifetime of fragmented flows (30)"},
		{Letter: 'd', Arg: getopt.RequiredArg, ArgName: "seconds", Usage: "idle timeout of a flow (60)"},
		{Letter: 'e', Arg: getopt.RequiredArg, ArgName: "seconds", Usage: "active timeout of a flow (300)"},
		{Letter: 'b', Arg: getopt.RequiredArg, ArgName: "flows", Usage: "allocate flow memory in bulks of flows (10000)"},
		{Letter: 'm', Arg: getopt.RequiredArg, ArgName: "kilobytes", Usage: "memory limit, 0 = none (0)"},
		{Letter: 'q', Arg: getopt.RequiredArg, ArgName: "flows", Usage: "length of the export queue (100)"},

		// Export.
		{Letter: 'n', Arg: getopt.RequiredArg, ArgName: "version", Usage: "NetFlow version 1, 5 or 7 (5)"},
		{Letter: 'a', Arg: getopt.RequiredArg, ArgName: "address", Usage: "source address of the exported datagrams"},
		{Letter: 'x', Arg: getopt.RequiredArg, ArgName: "in[:out]", Usage: "SNMP interface indexes put in the flows (0)"},
		{Letter: 't', Arg: getopt.RequiredArg, ArgName: "B:N", Usage: "pause N nanoseconds after every B bytes sent (0:0)"},

		// Running as a service.
		{Letter: 'r', Arg: getopt.RequiredArg, ArgName: "priority", Usage: "real-time priority 1..99, 0 = off (0)"},
		{Letter: 'c', Arg: getopt.RequiredArg, ArgName: "directory", Usage: "chroot to directory"},
		{Letter: 'u', Arg: getopt.RequiredArg, ArgName: "user", Usage: "run as user"},
		{Letter: 'v', Arg: getopt.RequiredArg, ArgName: "level", Usage: "highest log level logged, 0..7 (6)"},
		{Letter: 'l', Arg: getopt.RequiredArg, ArgName: "[dst][:id]", Usage: "log to 0 nowhere, 1 syslog, 2 stdout, 3 both (1); id names log and pid file"},
	},
}
