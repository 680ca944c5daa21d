// Command pktdrops prints the kernel's counters of another process's
// packet sockets: the frames that reached them and the frames dropped
// because their buffer or ring was full, summed over the process's
// AF_PACKET sockets. scripts/bench/goprobe-live.sh reads fprobe's kernel
// drops with it, as fprobe 1.1 (built without its debug counters) never
// calls pcap_stats(3) and so never tells; ss(8) cannot either, since the
// drops of a packet ring are not counted among the socket's own.
//
// It duplicates each socket with pidfd_getfd(2) (root, or ptrace rights
// on the process) and asks PACKET_STATISTICS, which, as the kernel keeps
// them, also resets the counters: a process that reads them itself (as
// libpcap's pcap_stats does) misses what pktdrops took. It is a developer
// tool; it is not installed.
//
//	pktdrops PID     prints "sockets=1 packets=N drops=M"
package main

import (
	"fmt"
	"os"
	"strconv"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: pktdrops PID")
		os.Exit(2)
	}
	pid, err := strconv.Atoi(os.Args[1])
	if err != nil || pid <= 0 {
		fmt.Fprintf(os.Stderr, "pktdrops: %q is not a process id\n", os.Args[1])
		os.Exit(2)
	}
	st, err := stats(pid)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pktdrops:", err)
		os.Exit(1)
	}
	fmt.Printf("sockets=%d packets=%d drops=%d\n", st.Sockets, st.Packets, st.Drops)
}

// counters are the sums over a process's packet sockets.
type counters struct {
	Sockets int
	Packets uint64 // frames that reached the sockets, the dropped ones included
	Drops   uint64 // frames dropped for want of room
}
