//go:build linux

package testutil

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// Netns is a network namespace a test made with ip(8), so that live
// capture tests send their traffic on interfaces of their own and never
// on the machine's network.
type Netns struct {
	Name string
	ip   string
}

// VethPair is two namespaces joined by a veth pair: A's end (IfA, AddrA)
// and B's end (IfB, AddrB), both up, on a /24 of their own, with lo up in
// both.
type VethPair struct {
	A, B         *Netns
	IfA, IfB     string
	AddrA, AddrB netip.Addr
}

var nsCount atomic.Uint32

// nsPrefix starts the names of the namespaces NewVethPair makes; the test
// process's pid follows, so that removeStale can tell whose they are.
const nsPrefix = "nftp"

var staleName = regexp.MustCompile(`^` + nsPrefix + `(\d+)[a-z][AB]$`)

// NewVethPair makes the two namespaces and their veth pair, named after
// the test process and a counter so that tests running at once never
// meet, and deletes them when the test ends. It needs root and ip(8):
// without them it fails under CI and skips elsewhere.
func NewVethPair(t testing.TB) *VethPair {
	t.Helper()
	ip, err := exec.LookPath("ip")
	if err != nil {
		Missing(t, "ip(8) (iproute2)")
	}
	if os.Geteuid() != 0 {
		Missing(t, "root (network namespaces)")
	}
	removeStale(ip)
	n := nsCount.Add(1)
	// The pid is at most 7 digits (pid_max is 2^22 at the most): the
	// interfaces' names stay within the kernel's 15 characters.
	tag := fmt.Sprintf("%d%c", os.Getpid(), 'a'+rune(n%26))
	p := &VethPair{
		A: &Netns{Name: nsPrefix + tag + "A", ip: ip}, B: &Netns{Name: nsPrefix + tag + "B", ip: ip},
		IfA: "vA" + tag, IfB: "vB" + tag,
		// 10.200.x.1 and .2: a /24 per pair, unlikely to be routed here,
		// and only inside the namespaces anyway.
		AddrA: netip.AddrFrom4([4]byte{10, 200, byte(n), 1}), AddrB: netip.AddrFrom4([4]byte{10, 200, byte(n), 2}),
	}
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ip, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	for _, ns := range []*Netns{p.A, p.B} {
		run("netns", "add", ns.Name)
		t.Cleanup(func() { exec.Command(ip, "netns", "del", ns.Name).Run() })
		run("-n", ns.Name, "link", "set", "lo", "up")
	}
	run("-n", p.A.Name, "link", "add", p.IfA, "type", "veth", "peer", "name", p.IfB, "netns", p.B.Name)
	run("-n", p.A.Name, "addr", "add", p.AddrA.String()+"/24", "dev", p.IfA)
	run("-n", p.B.Name, "addr", "add", p.AddrB.String()+"/24", "dev", p.IfB)
	run("-n", p.A.Name, "link", "set", p.IfA, "up")
	run("-n", p.B.Name, "link", "set", p.IfB, "up")
	return p
}

// removeStale deletes the namespaces of test processes that ended without
// their cleanup (a test binary's timeout panics past it).
func removeStale(ip string) {
	paths, _ := filepath.Glob("/var/run/netns/" + nsPrefix + "*")
	for _, path := range paths {
		m := staleName.FindStringSubmatch(filepath.Base(path))
		if m == nil {
			continue
		}
		if _, err := os.Stat("/proc/" + m[1]); errors.Is(err, os.ErrNotExist) {
			exec.Command(ip, "netns", "del", m[0]).Run()
		}
	}
}

// Promiscuity returns the promiscuous mode count of interface ifname in
// the namespace, as ip -d link shows it (libpcap's promiscuous mode is a
// packet socket's membership, which the count includes).
func (n *Netns) Promiscuity(t testing.TB, ifname string) int {
	t.Helper()
	out, err := exec.Command(n.ip, "-n", n.Name, "-d", "link", "show", ifname).CombinedOutput()
	if err != nil {
		t.Fatalf("ip -n %s -d link show %s: %v\n%s", n.Name, ifname, err, out)
	}
	m := regexp.MustCompile(`promiscuity (\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no promiscuity in ip's details of %s:\n%s", ifname, out)
	}
	c, _ := strconv.Atoi(string(m[1]))
	return c
}

// Command returns a command that runs name with args inside the namespace.
func (n *Netns) Command(name string, args ...string) *exec.Cmd {
	return exec.Command(n.ip, append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// Do runs fn on an OS thread that has entered the namespace, so that the
// sockets fn opens belong to it (they stay there when fn returns). The
// thread is not given back to the Go runtime, which ends it. fn may use
// require: a failure that ends its goroutine is returned as an error.
func (n *Netns) Do(fn func()) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: the goroutine ends on a locked thread, and
		// the runtime ends the thread with it, namespace and all.
		err := fmt.Errorf("in namespace %s: the function ended its goroutine (a failed require?)", n.Name)
		defer func() {
			if v := recover(); v != nil {
				err = fmt.Errorf("panic in namespace %s: %v", n.Name, v)
			}
			errc <- err
		}()
		f, e := os.Open("/var/run/netns/" + n.Name)
		if e != nil {
			err = e
			return
		}
		defer f.Close()
		if e := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); e != nil {
			err = fmt.Errorf("setns %s: %w", n.Name, e)
			return
		}
		fn()
		err = nil
	}()
	return <-errc
}
