package flowgen

import (
	"fmt"
	"strings"
)

// BenchFilters returns the five filters of scripts/bench/filter.sh, built
// as that script builds them, in its order: one primitive, a 5-term
// and/or/not, an ip list of 1000 addresses, an or of 100 networks and a
// 20-term expression. The filter benchmarks and the tests that check the
// reader's selection on record bytes run the same ones.
func BenchFilters() []string {
	var ips, nets strings.Builder
	ips.WriteString("ip in [")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&ips, " 10.%d.%d.%d", i/250%4, i%64, 1+(i*7)%250)
	}
	ips.WriteString(" ]")
	for i := 0; i < 100; i++ {
		if i > 0 {
			nets.WriteString(" or ")
		}
		fmt.Fprintf(&nets, "net %d.%d.0.0/16", 20+i, (i*37)%256)
	}
	return []string{
		"proto tcp",
		"proto tcp and (dst port 80 or dst port 443) and not src net 10.0.0.0/8 or proto udp",
		ips.String(),
		nets.String(),
		`(proto tcp and (dst port 80 or dst port 443) and flags A and not flags R)
or (proto udp and (dst port 53 or src port 53) and packets < 10)
or (src net 10.0.0.0/16 and dst net 10.1.0.0/16 and bytes > 10k)
or (ipv6 and not proto icmp and tos 184 and duration > 1000)
or (in if 3 and out if 4 and next ip 10.0.0.254 and bpp > 500)`,
	}
}
