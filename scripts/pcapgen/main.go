// Command pcapgen writes a capture of synthetic traffic (classic pcap,
// Ethernet; see pktgen.Traffic) for goprobe's benchmark and demos: TCP
// connections, UDP and ICMP echoes over IPv4 and IPv6, some in VLANs. It
// prints the packets it wrote. It is a developer tool; it is not
// installed.
//
//	pcapgen -n 1000000 -o /tmp/bench.pcap
//	pcapgen -n 1000000 -flows 64 -length 100 -o /tmp/few-flows.pcap
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/nfgo/nftools/internal/pktgen"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "pcapgen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("pcapgen", flag.ContinueOnError)
	n := fs.Int("n", 100000, "packets")
	v4 := fs.Bool("4", false, "IPv4 only and no VLAN tags (what fprobe reads)")
	flows := fs.Int("flows", pktgen.Concurrent, "flows open at a time")
	length := fs.Int("length", 1, "flows this many times as long as usual (about 15 packets): fewer flows")
	snaplen := fs.Int("snaplen", 128, "bytes of each frame written (0: whole frames)")
	seed := fs.Uint64("seed", 1, "random seed")
	start := fs.String("start", "2026-11-24T21:40:00Z", "time of the first packet (RFC 3339)")
	out := fs.String("o", "", "output file (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("-o is required")
	}
	t0, err := time.Parse(time.RFC3339, *start)
	if err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	g := pktgen.NewTrafficFlows(*seed, t0.UnixNano(), *flows, *length)
	if *v4 {
		g.IPv4Only()
	}
	w := pktgen.NewPcap(f, 1, pktgen.PcapOptions{SnapLen: *snaplen})
	for range *n {
		w.Write(g.Next())
	}
	err = w.Err()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*out)
		return err
	}
	fmt.Printf("packets %d\n", *n)
	return nil
}
