package main

import (
	"errors"
	"fmt"
	"net/netip"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/nfgo/nftools/internal/cnum"
	"github.com/nfgo/nftools/internal/daemon"
	"github.com/nfgo/nftools/internal/getopt"
	"github.com/nfgo/nftools/internal/metrics/lite"
	"github.com/nfgo/nftools/probe"
)

// Log destinations of -l, bits as fprobe has them.
const (
	logSyslog = 1
	logStdout = 2
)

// pidDir is where the pid file goes, as fprobe's PID_DIR.
const pidDir = "/var/run"

// options is the command line after fprobe's checks.
type options struct {
	iface    string // -i; "-" reads a pcap stream on stdin
	readFile string // --read
	filter   string // -f
	promisc  bool   // no -p

	scan, frag, idle, active time.Duration // -s -g -d -e
	version                  int           // -n

	source   netip.Addr // -a
	in, out  uint32     // -x
	bulk     uint32     // -b: checked, no effect
	memoryKB int        // -m
	queue    int        // -q
	bufferKB int        // -B
	rtprio   int        // -r
	paceB    int        // -t B
	paceN    int        // -t N (ns)
	snaplen  int        // -S
	linkSize int        // -K; -1: the link type's header size
	withLink bool       // -k

	chroot, user string // -c -u

	level   daemon.Level // -v
	logDest int          // -l dst
	logID   string       // -l :id

	promAddr string // --metrics: where to serve Prometheus metrics
	// pidPath is --pidfile's file ("" for none) when pidSet.
	pidPath string
	pidSet  bool

	collectors []probe.Collector
}

// ident is the program's name in syslog and in the pid file's name, with
// -l's id in brackets as fprobe writes it: goprobe[id].
func (o *options) ident() string {
	if o.logID != "" {
		return spec.Name + "[" + o.logID + "]"
	}
	return spec.Name
}

// pidFile is /var/run/goprobe.pid, or /var/run/goprobe[id].pid with an id,
// or --pidfile's file; "" writes none. --read, a command that ends when
// its file does, writes none unless --pidfile asks: it would take the
// running probe's file (or find it taken), and a script's
// kill $(cat /var/run/goprobe.pid) would stop the wrong goprobe.
func (o *options) pidFile() string {
	switch {
	case o.pidSet:
		return o.pidPath
	case o.readFile != "":
		return ""
	}
	return pidDir + "/" + o.ident() + ".pid"
}

// stream reports whether goprobe reads a capture (stdin or --read) rather
// than an interface: it then stays in the foreground and never drops flows.
func (o *options) stream() bool { return o.iface == "-" || o.readFile != "" }

// foreground reports whether goprobe stays in the foreground: when it logs
// to stdout, as fprobe, or reads a capture.
func (o *options) foreground() bool { return o.logDest&logStdout != 0 || o.stream() }

// bareError is an error fprobe prints as it is, with no program name in
// front, so that a script reading fprobe's messages reads ours.
type bareError struct{ msg string }

func (e *bareError) Error() string { return e.msg }

func illegal(what string) error { return &bareError{"Illegal " + what} }

// errUsage asks for the usage text and exit status 0, fprobe's answer to a
// command line without collectors.
var errUsage = errors.New("usage")

// parseOptions checks the command line as fprobe 1.1 does, in its order,
// with its messages. Numbers are read with C's atoi, so "-s 5s" is 5
// seconds and "-d x" is 0, as with fprobe.
func parseOptions(c *getopt.Result) (*options, error) {
	o := &options{
		promisc: !c.IsSet("p"),
		scan:    5 * time.Second, frag: 30 * time.Second, idle: 60 * time.Second, active: 300 * time.Second,
		version:  5,
		bulk:     10000,
		queue:    100,
		snaplen:  256,
		linkSize: -1,
		withLink: c.IsSet("k"),
		level:    daemon.LevelInfo,
		logDest:  logSyslog,
		iface:    c.String("i"),
		readFile: c.String("read"),
		filter:   c.String("f"),
		chroot:   c.String("c"),
		user:     c.String("u"),
	}
	if o.iface != "" && o.readFile != "" {
		return nil, errors.New("-i and --read cannot be used together")
	}
	if o.stream() {
		// fprobe logs to stdout when it reads stdin; -l may say otherwise.
		o.logDest = logStdout
	}
	atoi := func(letter string) int64 { return cnum.Atoi(c.String(letter)) }
	if c.IsSet("S") {
		// 0 is the whole packet, as with libpcap.
		o.snaplen = int(max(atoi("S"), 0))
	}
	seconds := func(letter string, d *time.Duration) {
		if c.IsSet(letter) {
			*d = time.Duration(max(atoi(letter), 0)) * time.Second
		}
	}
	seconds("s", &o.scan)
	seconds("g", &o.frag)
	seconds("d", &o.idle)
	seconds("e", &o.active)
	if o.scan < time.Second {
		// fprobe scans without a pause then, busy on a core; a second
		// is as often as a scan can do any good.
		o.scan = time.Second
	}
	if c.IsSet("n") {
		switch v := atoi("n"); v {
		case 1, 5, 7, 9, 10:
			o.version = int(v)
		default:
			return nil, illegal("NetFlow version")
		}
	}
	if c.IsSet("v") {
		// fprobe's level is unsigned: a negative one logs everything.
		if v := atoi("v"); v >= 0 && v < int64(daemon.LevelDebug) {
			o.level = daemon.Level(v)
		} else {
			o.level = daemon.LevelDebug
		}
	}
	if c.IsSet("l") {
		dst, id, _ := strings.Cut(c.String("l"), ":")
		o.logID = id
		if dst != "" {
			o.logDest = int(cnum.Atoi(dst))
		}
	}
	if c.IsSet("q") {
		// fprobe's length is unsigned: only 0 is illegal.
		q := uint32(atoi("q"))
		if q < 1 {
			return nil, illegal("pending queue length")
		}
		o.queue = int(q)
	}
	if c.IsSet("r") {
		r := atoi("r")
		if r != 0 && (r < 1 || r > 99) {
			return nil, illegal("realtime priority")
		}
		o.rtprio = int(r)
	}
	if c.IsSet("B") {
		o.bufferKB = int(max(atoi("B"), 0))
	}
	if c.IsSet("b") {
		if o.bulk = uint32(atoi("b")); o.bulk < 1 {
			return nil, illegal("bulk size")
		}
	}
	if c.IsSet("m") {
		o.memoryKB = int(max(atoi("m"), 0))
	}
	if c.IsSet("x") {
		a, b, n := cnum.ScanPair(c.String("x"))
		if n > 0 {
			o.in, o.out = uint32(a), uint32(b)
		}
		if n == 1 {
			o.out = o.in
		}
	}
	if c.IsSet("t") {
		a, b, _ := cnum.ScanPair(c.String("t"))
		o.paceB, o.paceN = int(max(a, 0)), int(max(b, 0))
	}
	if c.IsSet("a") {
		a, err := probe.ResolveSource(c.String("a"))
		if err != nil {
			return nil, illegal("source address")
		}
		o.source = a
	}
	if c.IsSet("K") {
		if k := atoi("K"); k >= 0 {
			o.linkSize = int(k)
		}
	}
	if o.user != "" {
		if _, err := lookupUser(o.user); err != nil {
			return nil, &bareError{fmt.Sprintf("getpwnam(%s): Unknown user", o.user)}
		}
	}
	if c.IsSet("pidfile") {
		o.pidPath, o.pidSet = c.String("pidfile"), true
	}
	if c.IsSet("metrics") {
		o.promAddr = c.String("metrics")
		if err := lite.CheckAddr(o.promAddr); err != nil {
			return nil, fmt.Errorf("--metrics: %v", err)
		}
	}
	if len(c.Args) == 0 {
		return nil, errUsage
	}
	for i, arg := range c.Args {
		col, err := probe.ParseCollector(arg)
		if err != nil {
			return nil, &probe.CollectorError{Index: i + 1, Op: "parameters", Err: err}
		}
		o.collectors = append(o.collectors, col)
	}
	return o, nil
}

// lookupUser finds -u's user by name, or by number as the id command
// accepts it.
func lookupUser(name string) (*user.User, error) {
	u, err := user.Lookup(name)
	if err != nil {
		if _, nerr := strconv.Atoi(name); nerr == nil {
			return user.LookupId(name)
		}
	}
	return u, err
}
