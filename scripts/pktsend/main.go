// Command pktsend sends Ethernet frames out of an interface at a requested
// rate, for a fixed time or number of frames, and reports what it sent:
// the load of scripts/bench/goprobe-live.sh, which runs it in one network
// namespace of a veth pair while a probe captures in the other. It is a
// developer tool; it is not installed.
//
// The frames come from pktgen's Traffic, built once into a ring and sent
// round and round: TCP connections, UDP exchanges and ICMP echoes between
// a few hundred hosts, thousands of 5-tuples, IPv4 behind a plain
// Ethernet header by default (what fprobe 1.1 reads), or with -mix all
// also IPv6 and 802.1Q tags. Their destination MACs are none of the
// receiving interface's, so its IP stack drops them without answering.
// They go out on an AF_PACKET socket in batches of -b with sendmmsg(2);
// the rate is kept batch by batch against the clock, so the sender never
// runs ahead of it for more than a batch.
//
//	pktsend -i veth0 -r 100000 -d 5s     100k frames/s for 5 seconds
//	pktsend -i veth0 -n 1000000          a million frames, as fast as it can
//
// The last line on stdout says what was sent; with -k it is key=value
// pairs for scripts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "pktsend:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pktsend", flag.ContinueOnError)
	fs.SetOutput(stderr)
	iface := fs.String("i", "", "interface to send on (required)")
	rate := fs.Float64("r", 0, "frames per second (0: as fast as possible)")
	duration := fs.Duration("d", 0, "send for this long (with -n: whichever ends first)")
	count := fs.Int64("n", 0, "frames to send")
	mix := fs.String("mix", "ipv4", "traffic: ipv4 (plain Ethernet, what fprobe reads) or all (also IPv6 and VLAN tags)")
	ring := fs.Int("R", 16384, "distinct frames, sent round and round")
	batch := fs.Int("b", 32, "frames per sendmmsg call")
	seed := fs.Uint64("seed", 1, "seed of the traffic")
	kv := fs.Bool("k", false, "report as key=value pairs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg := config{Rate: *rate, Duration: *duration, Count: *count, Ring: *ring, Batch: *batch, Seed: *seed}
	switch *mix {
	case "ipv4":
	case "all":
		cfg.Full = true
	default:
		return fmt.Errorf("-mix %q: want ipv4 or all", *mix)
	}
	if *iface == "" {
		return errors.New("-i is required")
	}
	if err := cfg.check(); err != nil {
		return err
	}
	s, err := openSender(*iface)
	if err != nil {
		return err
	}
	defer s.Close()
	rep, err := send(ctx, s, cfg)
	if *kv {
		fmt.Fprintf(stdout, "frames=%d bytes=%d seconds=%.3f frames_per_sec=%.0f\n",
			rep.Frames, rep.Bytes, rep.Elapsed.Seconds(), rep.FramesPerSec())
	} else {
		fmt.Fprintf(stdout, "sent %d frames (%d bytes) on %s in %.3f s: %.0f frames/s\n",
			rep.Frames, rep.Bytes, *iface, rep.Elapsed.Seconds(), rep.FramesPerSec())
	}
	return err
}
