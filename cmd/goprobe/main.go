// Command goprobe captures packets, builds flows and exports them as
// NetFlow. It replaces fprobe 1.1 and accepts its command line.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nfgo/nftools/internal/daemon"
	"github.com/nfgo/nftools/internal/getopt"
	"github.com/nfgo/nftools/internal/version"
	"github.com/nfgo/nftools/probe"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the whole command with its streams passed in; it returns the exit
// code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return spec.Main(args, stdout, stderr, func(c *getopt.Result) error {
		return action(c, stdin, stdout, stderr)
	})
}

func action(c *getopt.Result, stdin io.Reader, stdout, stderr io.Writer) error {
	switch {
	// fprobe prints its usage for -h and when called without arguments.
	case c.IsSet("h"), len(c.Options) == 0 && len(c.Args) == 0:
		return printUsage(stdout)
	case c.IsSet("V"):
		_, err := fmt.Fprintln(stdout, version.Banner(spec.Name))
		return err
	}
	o, err := parseOptions(c)
	if errors.Is(err, errUsage) {
		return printUsage(stdout)
	}
	if err != nil {
		return fail(stderr, err)
	}
	log := openLog(o, stdout)
	defer log.Close()
	// The collectors' sockets are opened before goprobe goes to the
	// background, as fprobe does, so that their errors reach the terminal.
	p, err := probe.New(probeConfig(o, log.Logf))
	if err != nil {
		daemon.Ready(err)
		return fail(stderr, err)
	}
	if !o.foreground() && !daemon.IsChild() {
		p.Close()
		// The background child opens everything again and reports here
		// whether the capture started.
		if _, err := daemon.Background(30 * time.Second); err != nil {
			return fail(stderr, err)
		}
		return nil
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1)
	defer signal.Stop(sigs)
	if o.stream() {
		// A write to a closed stdout (goprobe -l2 ... | head) must not
		// kill goprobe before it has exported its flows.
		signal.Ignore(syscall.SIGPIPE)
	}
	return serve(o, p, log, env{stdin: stdin, signals: sigs})
}

// fail prints an error: fprobe's own messages bare, as fprobe prints them,
// others after the program's name. The exit status is 1, as fprobe's.
func fail(stderr io.Writer, err error) error {
	var bare *bareError
	var ce *probe.CollectorError
	if errors.As(err, &bare) || errors.As(err, &ce) {
		fmt.Fprintln(stderr, err)
		return getopt.Exit("", 1)
	}
	return getopt.Exit(err.Error(), 1)
}
