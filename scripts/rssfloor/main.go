// Command rssfloor is the smallest Go program linked as goprobe is (cgo,
// the C library, position-independent): it prints its process id, asked
// of the C library, and, given an argument, waits that long before it exits.
// scripts/bench/goprobe.sh measures its resident memory and start-up as
// the floor under goprobe's, the part no Go program that can capture
// through libpcap can do without: the Go runtime and the C library.
// goprobe opens libpcap only when it captures live or compiles a filter
// (capture/pcap's lib.go), so a capture read and an idle goprobe -i - load
// no more than this. It is a developer tool; it is not installed.
package main

/*
#include <unistd.h>
*/
import "C"

import (
	"os"
	"strconv"
	"time"
)

func main() {
	os.Stdout.WriteString("pid " + strconv.Itoa(int(C.getpid())) + "\n")
	if len(os.Args) > 1 {
		if d, err := time.ParseDuration(os.Args[1]); err == nil {
			time.Sleep(d)
		}
	}
}
