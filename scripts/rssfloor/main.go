// Command rssfloor is the smallest Go program linked as goprobe is (cgo,
// libpcap, position-independent): it prints libpcap's version and, given
// an argument, waits that long before it exits. scripts/bench/goprobe.sh
// measures its resident memory as the floor under goprobe's, the part no
// Go program that captures through libpcap can do without: the Go
// runtime, the C library, libpcap and what they load. It is a developer
// tool; it is not installed.
package main

/*
#cgo LDFLAGS: -lpcap
#include <pcap.h>
*/
import "C"

import (
	"os"
	"time"
)

func main() {
	os.Stdout.WriteString(C.GoString(C.pcap_lib_version()) + "\n")
	if len(os.Args) > 1 {
		if d, err := time.ParseDuration(os.Args[1]); err == nil {
			time.Sleep(d)
		}
	}
}
