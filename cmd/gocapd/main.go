// Command gocapd collects NetFlow and IPFIX datagrams into flow files. It
// replaces nfcapd 1.7.1 and accepts its command line.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nfgo/nftools/collector"
	"github.com/nfgo/nftools/expire"
	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/internal/cnum"
	"github.com/nfgo/nftools/internal/daemon"
	"github.com/nfgo/nftools/internal/getopt/ucli"
	"github.com/nfgo/nftools/internal/metrics"
	"github.com/nfgo/nftools/internal/pcapudp"
	"github.com/nfgo/nftools/internal/version"
	"github.com/nfgo/nftools/nfconf"
	"github.com/nfgo/nftools/output"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command with its streams passed in; it returns the exit
// code.
func run(args []string, stdout, stderr io.Writer) int {
	return ucli.Main(spec, args, stdout, stderr, func(c *cli.Context) error {
		return action(c, stdout, stderr)
	})
}

// options is the command line after checking.
type options struct {
	listen    collector.ListenConfig
	cfg       collector.Config
	pcapFile  string        // -f: read this capture file instead of the socket
	metric    string        // -m: the metric socket
	metricInt time.Duration // -i
	promAddr  string        // --metrics: where to serve Prometheus metrics
	daemonize bool
	pidFile   string
	user      string
	group     string
}

func action(c *cli.Context, stdout, stderr io.Writer) error {
	switch {
	case c.Bool("h"):
		return spec.PrintUsage(c.App.Writer)
	case c.Bool("V"):
		_, err := fmt.Fprintln(c.App.Writer, version.Banner(spec.Name))
		return err
	}
	if c.Args().Len() > 0 {
		return fmt.Errorf("unexpected argument %q", c.Args().First())
	}
	var notes []string
	o, err := parseOptions(c, &notes)
	if err != nil {
		return err
	}
	if o.daemonize && !daemon.IsChild() {
		_, err := daemon.Background(30 * time.Second)
		return err
	}

	log := daemon.NewStreamLogger(stderr)
	if daemon.IsChild() {
		if l, err := daemon.NewSyslogLogger(spec.Name); err == nil {
			log = l
		}
	}
	defer log.Close()
	for _, n := range notes {
		log.Infof("%s", n)
	}
	if o.cfg.Verbose > 2 && !daemon.IsChild() {
		// -E, or -vvv: every record on stdout as nfcapd prints it. A
		// daemon has no stdout to print to (nfcapd's goes to /dev/null).
		printRecords(&o.cfg, stdout)
	}
	err = serve(o, log)
	daemon.Ready(err)
	var pcapErr *pcapudp.Error
	if errors.As(err, &pcapErr) {
		// nfcapd's status for a capture file it cannot read.
		log.Errorf("%v", err)
		return cli.Exit("", 255)
	}
	if err != nil {
		log.Errorf("%v", err)
		log.Errorf("Terminated due to errors")
		return cli.Exit("", 1)
	}
	return nil
}

// serve binds the socket (or opens the capture file of -f), drops
// privileges and collects until a signal (or the end of the file).
func serve(o *options, log *daemon.Logger) error {
	o.cfg.Infof, o.cfg.Errorf = log.Infof, log.Errorf
	if o.cfg.Verbose > 0 {
		log.Infof("Verbose log level: %d", o.cfg.Verbose)
	}
	var conn *net.UDPConn
	var pcap *pcapudp.Reader
	closeInput := func() {
		if conn != nil {
			conn.Close()
		}
		if pcap != nil {
			pcap.Close()
		}
	}
	if o.pcapFile != "" {
		// nfcapd opens no socket with -f.
		log.Infof("Setup pcap reader")
		var err error
		if pcap, err = pcapudp.Open(o.pcapFile); err != nil {
			return err
		}
		pcap.Notef = log.Infof
	} else {
		// nfcapd logs the socket buffer after the "Bound to" line.
		var bufLog []string
		o.listen.Logf = func(format string, args ...any) { bufLog = append(bufLog, fmt.Sprintf(format, args...)) }
		c, bound, err := collector.Listen(o.listen)
		if err != nil {
			return fmt.Errorf("Receive socket error: %w", err)
		}
		conn = c
		log.Infof("%s", bound)
		for _, l := range bufLog {
			log.Infof("%s", l)
		}
	}
	// The metrics socket is bound before privileges are dropped, as the
	// flow socket is, so that any port works.
	var prom *metrics.Server
	if o.promAddr != "" {
		var err error
		if prom, err = metrics.Listen(o.promAddr); err != nil {
			closeInput()
			return fmt.Errorf("Metrics socket error: %w", err)
		}
		defer prom.Close()
	}
	if o.pidFile != "" {
		if err := daemon.WritePidFile(o.pidFile); err != nil {
			closeInput()
			return err
		}
		defer daemon.RemovePidFile(o.pidFile)
	}
	if err := daemon.DropPrivileges(o.user, o.group); err != nil {
		closeInput()
		return fmt.Errorf("drop privileges: %w", err)
	}
	o.cfg.Started = func() {
		log.Infof("Startup %s.", spec.Name)
		daemon.Ready(nil)
	}
	if o.metric != "" {
		o.cfg.Metrics = collector.NewMetrics(o.metric, o.metricInt, o.cfg.Verbose > 0, log.Infof, log.Errorf)
	}
	var col *collector.Collector
	var err error
	if pcap != nil {
		col, err = collector.NewFromPcap(o.cfg, pcap)
	} else {
		col, err = collector.New(o.cfg, conn)
	}
	if err != nil {
		closeInput()
		return err
	}
	for _, u := range collector.CheckCommand(o.cfg.Command) {
		log.Errorf("Unknown format token '%s'", u)
	}
	if prom != nil {
		if err := prom.Serve(log.Errorf, col.Prometheus()); err != nil {
			closeInput()
			return err
		}
		log.Infof("Serving metrics at http://%s%s", prom.Addr(), metrics.Path)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			col.Rotate()
		}
	}()

	stopTrace, err := startTrace()
	if err != nil {
		closeInput()
		return err
	}
	err = col.Run(ctx)
	stopTrace()
	log.Infof("Terminating %s.", spec.Name)
	return err
}

// printRecords makes the collector print every record it stores on w, in
// the style of nfcapd -E, flushed whenever the collector has caught up with
// the datagrams received. If w fails (a closed pipe: gocapd -E | head),
// printing stops with one error in the log and collecting goes on.
func printRecords(cfg *collector.Config, w io.Writer) {
	// Without this a write to a closed stdout pipe would kill gocapd with
	// SIGPIPE, losing the open files.
	signal.Ignore(syscall.SIGPIPE)
	p := output.NewCollectorPrinter(w)
	failed := false
	report := func(err error) {
		if err != nil && !failed {
			failed = true
			cfg.Errorf("ERROR: printing records stopped: %v", err)
		}
	}
	cfg.OnFlow = func(r *flow.Record) {
		if !failed {
			report(p.Print(r))
		}
	}
	cfg.Idle = func() {
		if !failed {
			report(p.Flush())
		}
	}
}

// parseOptions checks the command line the way nfcapd does.
func parseOptions(c *cli.Context, notes *[]string) (*options, error) {
	o := &options{}
	// nfcapd checks these files while it reads its options, before
	// anything else.
	if c.IsSet("C") {
		if err := nfconf.CheckFlag(c.String("C")); err != nil {
			return nil, err
		}
	}
	if c.IsSet("f") {
		o.pcapFile = c.String("f")
		if fi, err := os.Stat(o.pcapFile); err != nil || !fi.Mode().IsRegular() {
			return nil, cli.Exit("Not a regular file: "+o.pcapFile, 254)
		}
	}
	o.metricInt = collector.DefaultMetricInterval
	if c.IsSet("i") {
		n := cnum.Atoi(c.String("i"))
		if n < 10 {
			return nil, errors.New("metric interval < 10s not allowed")
		}
		o.metricInt = time.Duration(n) * time.Second
	}
	o.metric = c.String("m")
	if c.IsSet("metrics") {
		o.promAddr = c.String("metrics")
		if err := metrics.CheckAddr(o.promAddr); err != nil {
			return nil, fmt.Errorf("--metrics: %v", err)
		}
		o.cfg.TrackDiskUsage = true
	}
	if c.IsSet("T") {
		*notes = append(*notes, "Option -T no longer supported and ignored")
	}
	o.listen.Port = "9995"
	if c.IsSet("p") {
		o.listen.Port = c.String("p")
	}
	o.listen.Host = c.String("b")
	if c.Bool("4") && c.Bool("6") {
		return nil, errors.New("ERROR, Accepts only one protocol IPv4 or IPv6!")
	}
	if c.Bool("4") {
		o.listen.Family = 4
	}
	if c.Bool("6") {
		o.listen.Family = 6
	}
	o.listen.Group = c.String("J")
	if o.listen.Group != "" && o.listen.Host != "" {
		return nil, errors.New("ERROR, -b and -j are mutually exclusive!!")
	}
	if c.IsSet("B") {
		n, err := strconv.Atoi(c.String("B"))
		if err != nil || n < 0 {
			return nil, errors.New("Argument error for -B")
		}
		o.listen.Buffer = n
	}

	cfg := &o.cfg
	cfg.Interval = 300 * time.Second
	if c.IsSet("t") {
		// nfcapd reads -t with atoi and refuses what is below 2 with a
		// message that says "<= 2s"; 2 itself works.
		n := cnum.Atoi(c.String("t"))
		if n < 2 {
			return nil, errors.New("time interval <= 2s not allowed")
		}
		cfg.Interval = time.Duration(n) * time.Second
	}
	if c.IsSet("S") {
		n, err := strconv.Atoi(c.String("S"))
		if err != nil || n < 0 || n > flowfile.MaxLayout {
			return nil, fmt.Errorf("No such subdir level %s", c.String("S"))
		}
		cfg.Layout = n
	}
	cfg.Zone = c.Bool("Z")
	cfg.Expire = c.Bool("e")
	if cfg.Zone && cfg.Expire {
		return nil, errors.New("ERROR, -Z timezone extension breaks expire -e")
	}
	if err := parseLimits(c, &cfg.ExpireLimits, cfg.Expire); err != nil {
		return nil, err
	}
	cfg.Command = c.String("x")
	cfg.Verbose = c.Count("v")
	if c.Bool("E") {
		// nfcapd's -E sets its verbose level to 3, which prints the
		// records.
		cfg.Verbose = max(cfg.Verbose, 3)
	}

	methods := 0
	for _, l := range []string{"z", "y", "j"} {
		if c.IsSet(l) {
			methods++
		}
	}
	if methods > 1 {
		return nil, errors.New("ERROR, Use either -z, -j or -y for compression")
	}
	switch {
	case c.IsSet("y"):
		cfg.Compression = flowfile.LZ4
	case c.IsSet("j"):
		cfg.Compression = flowfile.BZ2
	case c.IsSet("z"):
		cfg.Compression = flowfile.LZO
		if v := c.String("z"); v != "" {
			comp, lvl, err := flowfile.ParseCompression(v)
			if err != nil {
				return nil, err
			}
			cfg.Compression, cfg.Level = comp, lvl
		}
	}

	if c.IsSet("s") {
		n, err := strconv.ParseInt(c.String("s"), 10, 64)
		if err != nil || n == 0 || n > 10000000 || n < -10000000 {
			return nil, fmt.Errorf("Invalid sampling rate: %s", c.String("s"))
		}
		cfg.DefaultSampling = n
	}
	reps := c.StringSlice("R")
	if len(reps) > 8 {
		return nil, errors.New("ERROR, up to 8 repeaters allowed")
	}
	for _, r := range reps {
		ap, err := parseRepeater(r)
		if err != nil {
			return nil, err
		}
		cfg.Repeaters = append(cfg.Repeaters, ap)
	}

	if c.IsSet("max-exporters") {
		n, err := strconv.Atoi(c.String("max-exporters"))
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("ERROR, --max-exporters takes a number from 1 to 65535: %s", c.String("max-exporters"))
		}
		cfg.MaxExporters = n
	}
	if c.IsSet("template-memory") {
		// nfexpire's sizes, as --maxsize takes them.
		n, err := expire.ParseSize(c.String("template-memory"))
		if err != nil {
			return nil, fmt.Errorf("--template-memory: %v", err)
		}
		if n < 1<<20 || n > 1<<50 {
			return nil, fmt.Errorf("--template-memory: %s is not from 1M to 1P", c.String("template-memory"))
		}
		cfg.TemplateMemory = int64(n)
	}

	ident := "none"
	if c.IsSet("I") {
		ident = c.String("I")
	}
	dir := c.String("w")
	if c.IsSet("l") {
		*notes = append(*notes, "-l is a legacy option and may get removed in future. Please use -w to set output directory")
		if dir == "" {
			dir = c.String("l")
		}
	}
	// nfcapd adds -n and -M sources while it reads the command line, in
	// their order, and -w after it; a source for one exporter (-n) never
	// goes with one for any exporter (-w, -M), nor -M with -w.
	var added []string // the "Add flow source" lines printed before an error
	addErr := func(lines ...string) error {
		return errors.New(strings.Join(append(added, lines...), "\n"))
	}
	mixErr := func(what string) error {
		return addErr("Can not mix IP specific and any IP sources", what)
	}
	firstM := ucli.Parsed(c).First('M')
	for i, n := range c.StringSlice("n") {
		if c.IsSet("M") && firstM < nthIndex(c, 'n', i) {
			return nil, mixErr("Failed to add flow source")
		}
		s, err := collector.ParseSource(n)
		if err != nil {
			return nil, err
		}
		if err := checkIdent(s.Ident); err != nil {
			return nil, addErr(err.Error(), "Failed to add flow source")
		}
		if s.Dir, err = realDir(s.Dir); err != nil {
			return nil, err
		}
		cfg.Sources = append(cfg.Sources, s)
		added = append(added, fmt.Sprintf("Add flow source: ident: %s, IP: %s, flowdir: %s", s.Ident, s.Addr, s.Dir))
	}
	if c.IsSet("M") {
		if len(cfg.Sources) > 0 {
			return nil, mixErr("Failed to add dynamic flowdir")
		}
		d, err := realDir(c.String("M"))
		if err != nil {
			return nil, err
		}
		cfg.DynamicDir = d
	}
	if dir != "" {
		if len(cfg.Sources) > 0 || cfg.DynamicDir != "" {
			return nil, mixErr("Failed to add default data collector directory")
		}
		d, err := realDir(dir)
		if err != nil {
			return nil, err
		}
		// nfcapd checks the ident of -I only here, after the directory:
		// with -n or -M alone it is never used.
		if err := checkIdent(ident); err != nil {
			return nil, fmt.Errorf("%v\nFailed to add default data collector directory", err)
		}
		cfg.Sources = append(cfg.Sources, collector.Source{Ident: ident, Dir: d})
	}
	exps, err := nfconf.Exporters(c.String("C"), configPaths())
	if err != nil {
		return nil, err
	}
	for _, e := range exps {
		s, err := configSource(cfg, e)
		if err != nil {
			return nil, fmt.Errorf("%v\nFailed to add exporter from config file", err)
		}
		cfg.Sources = append(cfg.Sources, s)
	}
	if len(cfg.Sources) == 0 && cfg.DynamicDir == "" {
		return nil, errors.New("ERROR, No source configurations found")
	}
	if c.IsSet("i") && o.metricInt > cfg.Interval {
		*notes = append(*notes, fmt.Sprintf("metric interval %d > twin %d", o.metricInt/time.Second, cfg.Interval/time.Second))
	}

	o.daemonize = c.Bool("D")
	o.pidFile = c.String("P")
	if o.pidFile != "" {
		p, err := filepath.Abs(o.pidFile)
		if err != nil {
			return nil, err
		}
		o.pidFile = p
	}
	o.user, o.group = c.String("u"), c.String("g")
	return o, nil
}

// parseLimits reads --maxsize, --maxlife and --watermark, the limits of
// -e, in nfexpire's syntax.
func parseLimits(c *cli.Context, l *expire.Limits, expiring bool) error {
	for _, o := range []struct {
		name  string
		parse func(string) (uint64, error)
		v     *uint64
		set   *bool
	}{
		{"maxsize", expire.ParseSize, &l.MaxSize, &l.SetMaxSize},
		{"maxlife", expire.ParseLifetime, &l.Lifetime, &l.SetLifetime},
		{"watermark", expire.ParseWatermark, &l.Watermark, &l.SetWatermark},
	} {
		if !c.IsSet(o.name) {
			continue
		}
		if !expiring {
			return fmt.Errorf("--%s is a limit of -e: add -e", o.name)
		}
		v, err := o.parse(c.String(o.name))
		if err != nil {
			return fmt.Errorf("--%s: %v", o.name, err)
		}
		*o.v, *o.set = v, true
	}
	return nil
}

// checkIdent refuses an ident as nfcapd refuses it (a space: nfdump's
// ident filter could not match it) or as nfdump could not store it.
func checkIdent(ident string) error {
	if strings.Contains(ident, " ") {
		return fmt.Errorf("spaces not allowed in ident string: %s", ident)
	}
	return flowfile.CheckIdent(ident)
}

// nthIndex returns the position in the command line of the i-th
// occurrence of letter, or -1.
func nthIndex(c *cli.Context, letter rune, i int) int {
	for k, o := range ucli.Parsed(c).Options {
		if o.Letter == letter {
			if i == 0 {
				return k
			}
			i--
		}
	}
	return -1
}

// realDir returns the real path of an existing directory, as nfcapd stores
// -w.
func realDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return "", fmt.Errorf("path does not exist: %s\nNo valid directory: %s", dir, dir)
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("No valid directory: %s", dir)
	}
	return abs, nil
}

// parseRepeater reads -R host[/port] (port 9995 by default).
func parseRepeater(s string) (netip.AddrPort, error) {
	host, port, ok := strings.Cut(s, "/")
	if !ok {
		port = "9995"
	}
	a, err := net.ResolveUDPAddr("udp", net.JoinHostPort(host, port))
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("repeater %s: %w", s, err)
	}
	return a.AddrPort(), nil
}

// configPaths says where the config file is looked for without -C; tests
// replace it.
var configPaths = nfconf.DefaultPaths

// configSource checks an exporter of the config file as nfcapd 1.7.1 adds
// it, in its order: no mixing with -w or -M (sources for any exporter),
// an IPv6 address when it has a colon and IPv4 otherwise, an ident without
// spaces, an existing directory.
func configSource(cfg *collector.Config, e nfconf.Exporter) (collector.Source, error) {
	mixed := cfg.DynamicDir != ""
	for _, s := range cfg.Sources {
		mixed = mixed || !s.Addr.IsValid()
	}
	if mixed {
		return collector.Source{}, errors.New("Can not mix IP specific and any IP sources")
	}
	ip, err := netip.ParseAddr(e.IP)
	if err != nil || ip.Zone() != "" || ip.Is6() != strings.Contains(e.IP, ":") {
		return collector.Source{}, fmt.Errorf("Unparsable IP address: %s", e.IP)
	}
	if len(e.Ident) >= 128 {
		return collector.Source{}, fmt.Errorf("Source identifier too long: %s", e.Ident)
	}
	if err := checkIdent(e.Ident); err != nil {
		return collector.Source{}, err
	}
	fi, err := os.Stat(e.Dir)
	switch {
	case err != nil:
		return collector.Source{}, fmt.Errorf("path does not exist: %s", e.Dir)
	case !fi.IsDir():
		return collector.Source{}, fmt.Errorf("not a directory: %s", e.Dir)
	}
	dir, err := realDir(e.Dir)
	if err != nil {
		return collector.Source{}, err
	}
	return collector.Source{Ident: e.Ident, Dir: dir, Addr: ip.Unmap()}, nil
}
