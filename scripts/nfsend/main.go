// Command nfsend replays NetFlow v9 or IPFIX datagrams to a collector at a
// requested rate, for a fixed time or number of flows, and reports what it
// sent: the load of scripts/bench/gocapd.sh. It is a developer tool; it is
// not installed.
//
// Every stream (-s) is an exporter with its own socket and source id (v9)
// or observation domain (IPFIX), starting at 1. It announces one template,
// re-sends it every -T data datagrams as routers do, numbers its datagrams
// as RFC 3954 and RFC 7011 ask, and sends -n flows in every data datagram.
// The flows differ in every field; their times lie shortly before the
// start. The datagrams are built once and patched (sequence number, header
// time, a byte count that grows by one per pass through the ring) before
// each send, and go out in batches of -b with sendmmsg(2), so the sender
// outruns the collectors.
//
//	nfsend -p 9995 -v 9 -r 200000 -d 10s       200k flows/s for 10 seconds
//	nfsend -p 9995 -v 10 -c 1000000 -D 5000    a million flows, 5000 datagrams/s
//	nfsend -p 9995 -c 1000000                  a million flows, as fast as it can
//	nfsend -p 9995 -r 1e6 -d 5s -s 2 -first 2  exporters 3 and 4, beside another nfsend's 1 and 2
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
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "nfsend:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("nfsend", flag.ContinueOnError)
	fs.SetOutput(stderr)
	host := fs.String("H", "127.0.0.1", "collector host")
	port := fs.Int("p", 9995, "collector UDP port")
	version := fs.String("v", "9", "protocol: 5, 9 or 10 (ipfix)")
	per := fs.Int("n", 24, "flows in each data datagram")
	flowRate := fs.Float64("r", 0, "flows per second, all streams together (0: as fast as possible)")
	dgramRate := fs.Float64("D", 0, "data datagrams per second instead of -r")
	duration := fs.Duration("d", 0, "send for this long (with -c: whichever ends first)")
	count := fs.Int64("c", 0, "flows to send, rounded up to whole datagrams per stream")
	streams := fs.Int("s", 1, "streams: exporters, each with its own socket and source id")
	first := fs.Int("first", 0, "number of the first stream (source id first+1): several nfsend processes send as distinct exporters")
	tmplEvery := fs.Int("T", 20, "re-send the template after this many data datagrams (Cisco's default)")
	ring := fs.Int("R", 4096, "precomputed data datagrams per stream")
	batch := fs.Int("b", 64, "datagrams per sendmmsg call")
	seed := fs.Uint64("seed", 1, "seed of the flow content")
	kv := fs.Bool("k", false, "report as key=value pairs")
	drainPid := fs.Int("drain", 0, "the collector's process id: stop it, send, let it go and time it until idle (see drain_linux.go)")
	drainPoll := fs.Duration("drain-poll", time.Millisecond, "how often -drain reads the collector's socket and CPU time")
	drainQuiet := fs.Duration("drain-quiet", 300*time.Millisecond, "idle this long: the drain is over")
	drainTrace := fs.Bool("drain-trace", false, "print each -drain poll on stderr: seconds, bytes queued, the collector's CPU ns since the poll before")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg := config{
		Addr:          net.JoinHostPort(*host, strconv.Itoa(*port)),
		PerDatagram:   *per,
		FlowRate:      *flowRate,
		Duration:      *duration,
		Count:         *count,
		Streams:       *streams,
		FirstStream:   *first,
		TemplateEvery: *tmplEvery,
		Ring:          *ring,
		Batch:         *batch,
		Seed:          *seed,
		Base:          time.Now(),
	}
	switch strings.ToLower(*version) {
	case "5", "v5":
		cfg.Version = 5
	case "9", "v9":
		cfg.Version = 9
	case "10", "ipfix":
		cfg.Version = 10
	default:
		return fmt.Errorf("-v %s: want 5, 9 or 10 (ipfix)", *version)
	}
	if *dgramRate > 0 {
		if *flowRate > 0 {
			return errors.New("give -r or -D, not both")
		}
		cfg.FlowRate = *dgramRate * float64(*per)
	}
	if *drainPid == 0 {
		rep, err := send(ctx, cfg)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, rep.line(&cfg, *kv))
		return nil
	}
	d, err := newDrain(*drainPid, cfg.Addr, *drainPoll, *drainQuiet)
	if err != nil {
		return err
	}
	if *drainTrace {
		d.trace = stderr
	}
	if err := d.stop(); err != nil {
		d.resume()
		return err
	}
	rep, err := send(ctx, cfg)
	if err != nil {
		d.resume()
		return err
	}
	dr, err := d.run()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, rep.line(&cfg, *kv)+dr.line(rep.Flows, *kv))
	return nil
}

// line is the drain's part of the report line.
func (d drainReport) line(flows int64, kv bool) string {
	secs := d.Elapsed.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(flows) / secs
	}
	nsFlow := 0.0
	if flows > 0 {
		nsFlow = float64(d.CPU.Nanoseconds()) / float64(flows)
	}
	if kv {
		return fmt.Sprintf(" queued_bytes=%d socket_drops=%d rcvbuf_errors=%d drain_seconds=%.4f drain_cpu_ns=%d drain_flows_per_sec=%.0f drain_ns_per_flow=%.1f polls_busy=%d polls_idle=%d",
			d.Queued, d.SockDrops, d.RcvbufErrs, secs, d.CPU.Nanoseconds(), rate, nsFlow, d.PollsBusy, d.PollsIdle)
	}
	return fmt.Sprintf("; drained %d queued bytes in %.4f s (%.0f flows/s), %.3f s of the collector's CPU (%.1f ns a flow); the socket dropped %d datagrams, the system's UDP receive buffers %d",
		d.Queued, secs, rate, d.CPU.Seconds(), nsFlow, d.SockDrops, d.RcvbufErrs)
}

// line is the report line: what was sent, to where, and how fast.
func (r report) line(cfg *config, kv bool) string {
	secs := r.Elapsed.Seconds()
	proto := "v9"
	switch cfg.Version {
	case 10:
		proto = "ipfix"
	case 5:
		proto = "v5"
	}
	if kv {
		return fmt.Sprintf("proto=%s flows=%d datagrams=%d templates=%d bytes=%d seconds=%.3f flows_per_sec=%.0f requested_flows_per_sec=%.0f streams=%d per_datagram=%d",
			proto, r.Flows, r.Datagrams, r.Templates, r.Bytes, secs, r.FlowsPerSec(), cfg.FlowRate, cfg.Streams, cfg.PerDatagram)
	}
	return fmt.Sprintf("nfsend: %s to %s: %d flows in %d datagrams (%d of them templates, %d bytes) from %d streams in %.3f s: %.0f flows/s, %.0f datagrams/s",
		proto, cfg.Addr, r.Flows, r.Datagrams, r.Templates, r.Bytes, cfg.Streams, secs, r.FlowsPerSec(), float64(r.Datagrams)/max(secs, 1e-9))
}
