//go:build !cgo

package inet

import (
	"context"
	"net"
	"net/netip"
)

// Without cgo (no C library to ask), net's resolver answers.

func lookupHost(host string, family Family) ([]netip.Addr, error) {
	network := map[Family]string{Any: "ip", IPv4: "ip4", IPv6: "ip6"}[family]
	addrs, err := net.DefaultResolver.LookupNetIP(context.Background(), network, host)
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	return addrs, err
}

func lookupPort(network, service string) (int, error) {
	return net.LookupPort(network, service)
}
