package testutil

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
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
	n := nsCount.Add(1)
	tag := fmt.Sprintf("%d%c", os.Getpid()%100000, 'a'+rune(n%26))
	p := &VethPair{
		A: &Netns{Name: "nft" + tag + "A", ip: ip}, B: &Netns{Name: "nft" + tag + "B", ip: ip},
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

// Command returns a command that runs name with args inside the namespace.
func (n *Netns) Command(name string, args ...string) *exec.Cmd {
	return exec.Command(n.ip, append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// Do runs fn on an OS thread that has entered the namespace, so that the
// sockets fn opens belong to it (they stay there when fn returns). The
// thread is not given back to the Go runtime, which ends it.
func (n *Netns) Do(fn func()) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: the goroutine ends on a locked thread, and
		// the runtime ends the thread with it, namespace and all.
		f, err := os.Open("/var/run/netns/" + n.Name)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", n.Name, err)
			return
		}
		defer func() {
			if v := recover(); v != nil {
				errc <- fmt.Errorf("panic in namespace %s: %v", n.Name, v)
			}
		}()
		fn()
		errc <- nil
	}()
	return <-errc
}
