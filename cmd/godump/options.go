package main

import "github.com/nfgo/nftools/internal/getopt"

// spec declares every option of nfdump 1.7.1 (getopt string
// "6aA:Bbc:C:D:E:G:s:ghn:i:jf:qyzr:v:w:J:M:NImO:R:XZt:TVv:x:l:L:o:"), with
// -z taking an optional compression method as later nfdump versions do.
// Only the options marked Implemented work in this release; man/godump.1
// documents exactly those.
var spec = &getopt.Spec{
	Name:     "godump",
	Synopsis: "[options] [filter]",
	Options: []getopt.Option{
		{Letter: 'h', Usage: "print this help and exit", Implemented: true},
		{Letter: 'V', Usage: "print the version and exit", Implemented: true},

		// Input.
		{Letter: 'r', Arg: getopt.RequiredArg, ArgName: "file", Usage: "read flows from file; a directory is read like -R", Implemented: true},
		{Letter: 'R', Arg: getopt.RequiredArg, ArgName: "expr", Usage: "read a directory recursively, or dir/first[:last] files by name", Implemented: true},
		{Letter: 'M', Arg: getopt.RequiredArg, ArgName: "dirs", Usage: "read the -r/-R files in each of /prefix/dir1:dir2:...", Implemented: true},
		{Letter: 't', Arg: getopt.RequiredArg, ArgName: "window", Usage: "time window yyyy/MM/dd.hh:mm:ss[-yyyy/MM/dd.hh:mm:ss], the ISO form, +N or -N seconds", Implemented: true},
		{Letter: 'f', Arg: getopt.RequiredArg, ArgName: "file", Usage: "read the filter from file", Implemented: true},
		{Letter: 'c', Arg: getopt.RequiredArg, ArgName: "num", Usage: "stop after num records passed the filter", Implemented: true},

		// Output.
		{Letter: 'o', Arg: getopt.RequiredArg, ArgName: "mode", Usage: "output format: raw, line, long, extended, csv, json, pipe, null or fmt:...", Implemented: true},
		{Letter: '6', Usage: "print IPv6 addresses in full length", Implemented: true},
		{Letter: 'q', Usage: "quiet: no header, summary or statistics titles", Implemented: true},
		{Letter: 'N', Usage: "print plain numbers without M/G scaling", Implemented: true},
		{Letter: 'T', Usage: "put a Ctrl-A before every IP address (for NfSen)", Implemented: true},
		{Letter: 'w', Arg: getopt.RequiredArg, ArgName: "file", Usage: "write the records that passed to a flow file instead of printing", Implemented: true},
		{Letter: 'z', Arg: getopt.OptionalArg, ArgName: "method", Usage: "compress the -w file with LZO, or with lz4, bz2 or zstd[:level]", Implemented: true},
		{Letter: 'y', Usage: "compress the -w file with LZ4", Implemented: true},
		{Letter: 'j', Usage: "compress the -w file with BZ2", Implemented: true},

		// Aggregation, sorting and statistics.
		{Letter: 'a', Usage: "aggregate flows on proto, addresses and ports", Implemented: true},
		{Letter: 'A', Arg: getopt.RequiredArg, Repeat: true, ArgName: "list", Usage: "aggregate on a comma separated list of fields, e.g. srcip4/24,dstport", Implemented: true},
		{Letter: 'b', Usage: "aggregate bidirectional flows", Implemented: true},
		{Letter: 'B', Usage: "aggregate bidirectional flows and guess the direction", Implemented: true},
		{Letter: 'O', Arg: getopt.RequiredArg, ArgName: "order", Usage: "sort records by order[:a|:d], e.g. tstart or bytes", Implemented: true},
		{Letter: 'm', Usage: "deprecated: the same as -O tstart", Implemented: true},
		{Letter: 's', Arg: getopt.RequiredArg, Repeat: true, ArgName: "stat", Usage: "top N statistics: element[:p][/order...], e.g. srcip/bytes", Implemented: true},
		{Letter: 'n', Arg: getopt.RequiredArg, ArgName: "num", Usage: "top N for -s (10), record limit for -a/-O (0 = no limit)", Implemented: true},
		{Letter: 'l', Arg: getopt.RequiredArg, ArgName: "limit", Usage: "packet limit [+|-]N[k|m|g] for -s element statistics", Implemented: true},
		{Letter: 'L', Arg: getopt.RequiredArg, ArgName: "limit", Usage: "byte limit [+|-]N[k|m|g] for -s element statistics", Implemented: true},

		// File information and maintenance.
		{Letter: 'I', Usage: "print the summed statistics records of the input files", Implemented: true},
		{Letter: 'g', Usage: "print one gnuplot line per input file", Implemented: true},
		{Letter: 'v', Arg: getopt.RequiredArg, ArgName: "file", Usage: "verify file and print its header and blocks", Implemented: true},
		{Letter: 'E', Arg: getopt.RequiredArg, ArgName: "file", Usage: "list the exporters and samplers recorded in file", Implemented: true},
		{Letter: 'x', Arg: getopt.RequiredArg, ArgName: "file", Usage: "dump the extension maps of an nfdump 1.6 file"},
		{Letter: 'J', Arg: getopt.RequiredArg, ArgName: "num", Usage: "recompress the -r/-R files in place: 0 none, 1 LZO, 2 BZ2, 3 LZ4, 4 ZSTD", Implemented: true},
		{Letter: 'i', Arg: getopt.RequiredArg, ArgName: "ident", Usage: "change the ident of the -r file", Implemented: true},

		// Filter checks.
		{Letter: 'X', Usage: "dump the compiled filter and exit", Implemented: true},
		{Letter: 'Z', Usage: "check the filter syntax and exit", Implemented: true},

		// Configuration and lookups.
		{Letter: 'C', Arg: getopt.RequiredArg, ArgName: "file", Usage: "read the config file, or none"},
		{Letter: 'G', Arg: getopt.RequiredArg, ArgName: "geodb", Usage: "look up countries and AS numbers in geodb, or none"},
		{Letter: 'D', Arg: getopt.RequiredArg, ArgName: "server", Usage: "resolve host names in the filter with this name server", Implemented: true},
	},
}
