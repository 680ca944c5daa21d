package main

import "github.com/nfgo/nftools/internal/getopt"

// spec declares every option of nfcapd 1.7.1 (getopt string
// "46B:b:C:DeEf:g:hI:i:jJ:l:m:M:n:p:P:rRs:S:t:T:u:vVw:x:yzZ"), with two
// changes: -R takes its host[/port] value, as the Debian 1.7.1 binary and
// later versions parse it (the string above has no ':' after R), and -z
// takes an optional compression method as later nfcapd versions do. Long
// options add what nfcapd leaves to other programs (the limits of -e,
// which nfexpire would set) and the bounds against floods that nfcapd
// does not have. Every option is implemented; man/gocapd.1 documents
// each.
var spec = &getopt.Spec{
	Name:     "gocapd",
	Synopsis: "[options]",
	Options: []getopt.Option{
		{Letter: 'h', Usage: "print this help and exit", Implemented: true},
		{Letter: 'V', Usage: "print the version and exit", Implemented: true},

		// Where flows come from.
		{Letter: 'p', Arg: getopt.RequiredArg, ArgName: "port", Usage: "listen on this UDP port (9995)", Implemented: true},
		{Letter: 'b', Arg: getopt.RequiredArg, ArgName: "host", Usage: "bind the socket to this host or address", Implemented: true},
		{Letter: '4', Usage: "listen on IPv4 (default)", Implemented: true},
		{Letter: '6', Usage: "listen on IPv6", Implemented: true},
		{Letter: 'J', Arg: getopt.RequiredArg, ArgName: "group", Usage: "join this multicast group", Implemented: true},
		{Letter: 'B', Arg: getopt.RequiredArg, ArgName: "bytes", Usage: "socket receive buffer size", Implemented: true},
		{Letter: 'R', Arg: getopt.RequiredArg, Repeat: true, ArgName: "host[/port]", Usage: "repeat the received packets to host/port (up to 8 times)", Implemented: true},
		{Letter: 's', Arg: getopt.RequiredArg, ArgName: "rate", Usage: "default sampling rate; a negative rate overrides the exporter's", Implemented: true},
		{Letter: 'f', Arg: getopt.RequiredArg, ArgName: "file", Usage: "read the datagrams from a pcap file instead of the socket (debugging)", Implemented: true},

		// Where flows go.
		{Letter: 'w', Arg: getopt.RequiredArg, ArgName: "dir", Usage: "store the flow files in dir", Implemented: true},
		{Letter: 'l', Arg: getopt.RequiredArg, ArgName: "dir", Usage: "legacy name of -w", Implemented: true},
		{Letter: 'n', Arg: getopt.RequiredArg, Repeat: true, ArgName: "ident,IP,dir", Usage: "store the flows of the exporter IP in dir under ident", Implemented: true},
		{Letter: 'M', Arg: getopt.RequiredArg, ArgName: "dir", Usage: "store each exporter's flows in its own sub directory of dir", Implemented: true},
		{Letter: 'I', Arg: getopt.RequiredArg, ArgName: "ident", Usage: "ident stored in the flow files (none)", Implemented: true},
		{Letter: 'S', Arg: getopt.RequiredArg, ArgName: "layout", Usage: "sub directory layout of the flow files", Implemented: true},
		{Letter: 't', Arg: getopt.RequiredArg, ArgName: "seconds", Usage: "rotate the flow file every seconds (300)", Implemented: true},
		{Letter: 'Z', Usage: "add the timezone offset to the file names", Implemented: true},
		{Letter: 'z', Arg: getopt.OptionalArg, ArgName: "method", Usage: "compress the flow files with LZO, or with lz4, bz2 or zstd[:level]", Implemented: true},
		{Letter: 'y', Usage: "compress the flow files with LZ4", Implemented: true},
		{Letter: 'j', Usage: "compress the flow files with BZ2", Implemented: true},
		{Letter: 'x', Arg: getopt.RequiredArg, ArgName: "command", Usage: "run command after each rotation (%f, %d and more are expanded)", Implemented: true},
		{Letter: 'e', Usage: "expire old files after each rotation", Implemented: true},
		{Long: "maxsize", Arg: getopt.RequiredArg, ArgName: "size", Usage: "with -e: keep the flow files under size (100M, 1.5G; as nfexpire -s)", Implemented: true},
		{Long: "maxlife", Arg: getopt.RequiredArg, ArgName: "time", Usage: "with -e: keep the flow files for time (31d, 1w2d, 36H; as nfexpire -t)", Implemented: true},
		{Long: "watermark", Arg: getopt.RequiredArg, ArgName: "percent", Usage: "with -e: expire down to percent of a limit (95; as nfexpire -w)", Implemented: true},
		{Letter: 'C', Arg: getopt.RequiredArg, ArgName: "file", Usage: "read the config file, or none", Implemented: true},

		// Running as a service.
		{Letter: 'D', Usage: "run in the background", Implemented: true},
		{Letter: 'P', Arg: getopt.RequiredArg, ArgName: "file", Usage: "write the process id to file", Implemented: true},
		{Letter: 'u', Arg: getopt.RequiredArg, ArgName: "user", Usage: "run as user", Implemented: true},
		{Letter: 'g', Arg: getopt.RequiredArg, ArgName: "group", Usage: "run as group", Implemented: true},
		{Letter: 'm', Arg: getopt.RequiredArg, ArgName: "socket", Usage: "send metrics to this unix socket", Implemented: true},
		{Letter: 'i', Arg: getopt.RequiredArg, ArgName: "seconds", Usage: "metric interval (60)", Implemented: true},
		{Long: "metrics", Arg: getopt.RequiredArg, ArgName: "addr", Usage: "serve Prometheus metrics over HTTP at addr (host:port or :port), path /metrics", Implemented: true},

		// Bounds against floods, which nfcapd does not have: long
		// options only, so no letter can clash with a later nfcapd.
		{Long: "max-exporters", Arg: getopt.RequiredArg, ArgName: "n", Usage: "know at most n exporters at once; the one silent longest makes room (1024)", Implemented: true},
		{Long: "template-memory", Arg: getopt.RequiredArg, ArgName: "bytes", Usage: "memory for the templates of all exporters (64M; a size as --maxsize takes it)", Implemented: true},

		// Diagnostics.
		{Letter: 'v', Repeat: true, Usage: "log more; repeat for more (three times: as -E)", Implemented: true},
		{Letter: 'E', Usage: "print every received record on stdout (verbose level 3)", Implemented: true},
		{Letter: 'r', Usage: "report sequence number errors", Implemented: true},
		{Letter: 'T', Arg: getopt.RequiredArg, ArgName: "ext", Usage: "no longer supported; ignored", Implemented: true},
	},
}
