package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nfgo/nftools/internal/daemon"
	"github.com/nfgo/nftools/internal/getopt"
	"github.com/nfgo/nftools/internal/metrics/lite"
	"github.com/nfgo/nftools/internal/version"
	"github.com/nfgo/nftools/probe"
)

// env is what serve takes from the process: stdin and the signals.
type env struct {
	stdin   io.Reader
	signals <-chan os.Signal
}

// input is an open packet source with its decoder and flow cache.
type input interface {
	probe.Meter
	Close() error
}

// inputInfo describes an input for the log.
type inputInfo struct {
	Name       string // the interface, "-" or the file
	LinkName   string // the link type's name, as libpcap's: "EN10MB"
	Link       int    // the link type's number
	LinkHeader int    // the link header size (-K, or the link type's)
}

// minQueue is the shortest export queue, in flows: fprobe's default -q of
// 100 counts packets between its capture and its cache, a queue goprobe
// does not have; 100 flows would make a capture read wait for the sender
// every few dozen flows.
const minQueue = 1024

// probeConfig turns the options into the probe's setting.
func probeConfig(o *options, logf func(daemon.Level, string, ...any)) probe.Config {
	return probe.Config{
		Collectors:       o.collectors,
		Source:           o.source,
		NewEncoder:       newEncoder(o),
		QueueLen:         max(o.queue, minQueue),
		Scan:             o.scan,
		PaceBytes:        o.paceB,
		PaceDelay:        time.Duration(o.paceN),
		Live:             !o.stream(),
		RealtimePriority: o.rtprio,
		// A daemon's parent waits for this: the capture runs.
		Started: func() { daemon.Ready(nil) },
		Logf:    logf,
	}
}

// openLog opens the log as -l and -v say: stdout, syslog, both or none.
// Without a syslog to talk to, goprobe logs where else -l says, as
// fprobe's syslog(3) calls go nowhere then.
func openLog(o *options, stdout io.Writer) *daemon.Logger {
	cfg := daemon.LogConfig{Tag: o.ident(), MaxLevel: o.level, LevelPrefix: true}
	if o.logDest&logStdout != 0 {
		cfg.Stream = stdout
	}
	if o.logDest&logSyslog != 0 {
		cfg.Syslog = true
		if l, err := daemon.NewLogger(cfg); err == nil {
			return l
		}
		cfg.Syslog = false
	}
	l, _ := daemon.NewLogger(cfg)
	return l
}

// serve captures and exports until a signal or the end of the input, with
// fprobe's log lines, and returns the exit status's error.
func serve(o *options, p *probe.Probe, log *daemon.Logger, e env) error {
	crit := func(format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		log.Logf(daemon.LevelCrit, "%s", msg)
		daemon.Ready(errors.New(msg))
		return getopt.Exit("", 1)
	}
	log.Infof("Starting %s...", version.Version)
	// The metrics are served from the start, before the chroot and before
	// the privileges go, so that any address and port work and a scrape
	// answers while -i - waits for its stream's header.
	if o.promAddr != "" {
		prom, err := lite.Listen(o.promAddr)
		if err != nil {
			p.Close()
			return crit("%v", err)
		}
		defer prom.Close()
		prom.Serve(log.Errorf, p.AddMetrics)
		log.Infof("Serving metrics at http://%s%s", prom.Addr(), lite.Path)
	}
	in, info, err := openInput(o, e.stdin, p)
	if err != nil {
		p.Close()
		return crit("%v", err)
	}
	defer in.Close()
	if o.chroot != "" {
		if err := chroot(o.chroot); err != nil {
			p.Close()
			return crit("could not chroot to %s: %s", o.chroot, daemon.Strerror(err))
		}
	}
	// The pid file is written in the new root, as fprobe's, but before the
	// privileges go, unlike fprobe's, which then cannot write to /var/run.
	pidFile := o.pidFile()
	if pidFile != "" {
		if err := daemon.WritePidFile(pidFile); err != nil {
			log.Errorf("Can't create pid file. %v", err)
			pidFile = ""
		}
	}
	if err := daemon.DropPrivileges(o.user, ""); err != nil {
		p.Close()
		removePidFile(pidFile)
		return crit("%v", err)
	}
	logStart(log, o, p, info)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case sig := <-e.signals:
				switch sig {
				case syscall.SIGUSR1:
					p.RequestStats()
				default:
					if ctx.Err() == nil {
						log.Infof("%s received. Emitting flows cache...", signalName(sig))
						cancel()
					}
				}
			}
		}
	}()
	err = p.Run(ctx, in)
	close(stop)
	wg.Wait()
	var setup *probe.SetupError
	if errors.As(err, &setup) {
		removePidFile(pidFile)
		return crit("%v", err)
	}
	if ctx.Err() == nil {
		if err != nil {
			log.Errorf("capture terminated: %v", err)
		} else {
			log.Infof("capture terminated: end of input")
		}
		log.Infof("Emitting flows cache...")
	}
	p.LogStats()
	removePidFile(pidFile)
	log.Infof("Done.")
	if err != nil {
		return getopt.Exit("", 1)
	}
	return nil
}

// removePidFile removes the pid file if goprobe wrote it.
func removePidFile(path string) {
	if path != "" {
		daemon.RemovePidFile(path)
	}
}

// signalName names a signal as fprobe's log does: "SIGTERM".
func signalName(sig os.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	}
	return strings.ToUpper(sig.String())
}

// logStart writes fprobe's start lines: the pid, the interface, the filter,
// the options and the collectors.
func logStart(log *daemon.Logger, o *options, p *probe.Probe, info inputInfo) {
	log.Infof("pid: %d", os.Getpid())
	log.Infof("interface: %s, datalink: %s (%d)", info.Name, info.LinkName, info.Link)
	log.Infof("filter: \"%s\"", o.filter)
	log.Infof("%s", optionsLine(o, info.LinkHeader))
	for i, c := range o.collectors {
		log.Infof("collector #%d: %s/%s/%s", i+1, p.RemoteAddr(i), p.BindAddr(i), c.Mode)
	}
}

// optionsLine is fprobe's "options:" log line; K is the link header size in
// use.
func optionsLine(o *options, k int) string {
	p := 0
	if o.promisc {
		p = 1
	}
	a := "0.0.0.0"
	if o.source.IsValid() {
		a = o.source.String()
	}
	k1 := 0
	if o.withLink {
		k1 = 1
	}
	l := fmt.Sprint(o.logDest)
	if o.logID != "" {
		l += ":" + o.logID
	}
	return fmt.Sprintf("options: p=%d s=%d g=%d d=%d e=%d n=%d a=%s x=%d:%d b=%d m=%d q=%d B=%d r=%d t=%d:%d S=%d K=%d k=%d c=%s u=%s v=%d l=%s",
		p, int(o.scan.Seconds()), int(o.frag.Seconds()), int(o.idle.Seconds()), int(o.active.Seconds()),
		o.version, a, o.in, o.out, o.bulk, o.memoryKB, o.queue, o.bufferKB, o.rtprio, o.paceB, o.paceN,
		o.snaplen, k, k1, o.chroot, o.user, int(o.level), l)
}

// chroot changes the root to dir, as fprobe -c does: into it, then there.
func chroot(dir string) error {
	if err := syscall.Chdir(dir); err != nil {
		return err
	}
	return syscall.Chroot(".")
}
