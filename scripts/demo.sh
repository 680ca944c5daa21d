#!/usr/bin/env bash
# The demo: the home lab with our three tools. gocapd starts exactly as in
# the lab (-I Exporter_#1 -D -p PORT -w DIR -S1, with a short -t), goprobe
# exports the bundled capture into it as fprobe would (-i - on standard
# input with NetFlow v5, --read with v9) and, run as root, also captures
# live on a veth pair between two network namespaces the script makes
# (ping, a TCP connection and UDP, exported as IPFIX); then the lab's
# godump commands read the files (-I, -B -o extended, the -s top tens),
# and the real nfdump checks that it reads them the same way.
#
# As root, gocapd and every goprobe run inside the first namespace (its
# loopback is the lab's 127.0.0.1), so that nothing touches this machine's
# own interfaces; the namespaces are deleted at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
export TZ=UTC

pcap=../shared/testdata/nfcapd-1.7.1/lo.pcap
[[ -f $pcap ]] || { echo "demo: $pcap is missing (the shared folder must lie beside the repository)" >&2; exit 1; }

work=$(mktemp -d)
dir=$work/nfdump
mkdir -p "$dir"
pidfile=$work/gocapd.pid
probepid=$work/goprobe.pid
live=0
[[ $(id -u) -eq 0 ]] && live=1
nsA=nftdemo$$A nsB=nftdemo$$B
ifA=vdA$$ ifB=vdB$$
addrA=10.201.0.1 addrB=10.201.0.2
lab=()

# stop sends SIGTERM to the process in a pid file and waits for its end.
stop() {
	local pid
	[[ -s $1 ]] || return 0
	pid=$(cat "$1")
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	echo "demo: pid $pid did not end" >&2
	return 1
}
cleanup() {
	stop "$probepid" || true
	stop "$pidfile" || true
	if ((live)); then ip netns del "$nsA" 2>/dev/null || true; ip netns del "$nsB" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n==> %s\n' "$*"; }

if ((live)); then
	# Without IPv6 on the veth pair, whose neighbour discovery would add
	# flows of its own timing to the live part.
	for ns in "$nsA" "$nsB"; do
		ip netns add "$ns"
		ip netns exec "$ns" sh -c 'echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6'
		ip -n "$ns" link set lo up
	done
	ip -n "$nsA" link add "$ifA" type veth peer name "$ifB" netns "$nsB"
	ip -n "$nsA" addr add "$addrA/24" dev "$ifA"
	ip -n "$nsB" addr add "$addrB/24" dev "$ifB"
	ip -n "$nsA" link set "$ifA" up
	ip -n "$nsB" link set "$ifB" up
	lab=(ip netns exec "$nsA")
	echo "demo: running as root: the lab runs in network namespace $nsA, linked to $nsB by the veth pair $ifA/$ifB ($addrA, $addrB)"
else
	echo "demo: not root: the lab runs on this machine's loopback, without the live capture"
fi

# A free UDP port on the lab's loopback.
port=$("${lab[@]}" python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# drained waits until nothing waits in gocapd's socket: gocapd, like
# nfcapd, stops reading at SIGTERM. The queue is the fifth column of
# /proc/net/udp{,6} (tx:rx in hex); the port is in the local address.
drained() {
	local hex
	hex=$(printf '%04X' "$port")
	for _ in $(seq 100); do
		if ! "${lab[@]}" awk -v p=":$hex" '$2 ~ p"$" { split($5, q, ":"); if (q[2] != "00000000") busy = 1 } END { exit !busy }' /proc/net/udp /proc/net/udp6; then
			return 0
		fi
		sleep 0.1
	done
}

step "gocapd -I Exporter_#1 -D -p $port -w $dir -S1 -t 60 -P $pidfile"
"${lab[@]}" bin/gocapd -I 'Exporter_#1' -D -p "$port" -w "$dir" -S1 -t 60 -P "$pidfile"
echo "gocapd runs in the background as pid $(cat "$pidfile")"

step "goprobe -i - -n 5 127.0.0.1:$port < lo.pcap    (a capture on standard input, as fprobe -i - reads it: NetFlow v5)"
"${lab[@]}" bin/goprobe -i - -n 5 "127.0.0.1:$port" <"$pcap"

step "goprobe --read lo.pcap -n 9 127.0.0.1:$port    (the same capture as NetFlow v9, with its IPv6 flows)"
"${lab[@]}" bin/goprobe --read "$pcap" -n 9 "127.0.0.1:$port"

if ((live)); then
	step "goprobe -i $ifA -n 10 127.0.0.1:$port    (live on the veth pair, IPFIX; logging to stdout: -l 2)"
	"${lab[@]}" bin/goprobe -l 2 --pidfile="$probepid" -i "$ifA" -n 10 "127.0.0.1:$port" >"$work/goprobe.log" 2>&1 &
	for _ in $(seq 100); do grep -q 'collector #1: ' "$work/goprobe.log" && break; sleep 0.1; done
	grep -q 'collector #1: ' "$work/goprobe.log" || { cat "$work/goprobe.log"; echo "demo: goprobe did not start" >&2; exit 1; }

	echo "-- ping -c 3 $addrB (from $nsA)"
	ip netns exec "$nsA" ping -c 3 -i 0.2 -W 2 "$addrB" | grep -E 'transmitted'
	echo "-- a TCP connection and 3 UDP datagrams from $nsA to servers in $nsB"
	ip netns exec "$nsB" python3 -c '
import socket, sys
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind((sys.argv[1], 8080)); t.listen(1)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((sys.argv[1], 5555))
print("ready", flush=True)
c, _ = t.accept()
n = 0
while True:
    b = c.recv(65536)
    if not b: break
    n += len(b)
c.sendall(b"received %d bytes\n" % n); c.close()
for _ in range(3):
    d, peer = u.recvfrom(2048); u.sendto(d.upper(), peer)
' "$addrB" >"$work/servers.log" 2>&1 &
	servers=$!
	for _ in $(seq 50); do grep -q ready "$work/servers.log" && break; sleep 0.1; done
	ip netns exec "$nsA" python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], 8080), timeout=5)
c.sendall(b"x" * 3000); c.shutdown(socket.SHUT_WR)
print("tcp:", c.makefile().readline().strip()); c.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(5)
for i in range(3):
    u.sendto(b"hello %d" % i, (sys.argv[1], 5555)); print("udp:", u.recv(2048).decode())
' "$addrB"
	wait "$servers"

	echo "-- stop goprobe (SIGTERM: it exports its cache, then ends)"
	stop "$probepid"
	cat "$work/goprobe.log"
fi

step "stop gocapd: it flushes everything into its file and exits"
drained
stop "$pidfile"
find "$dir" -type f | sed "s|$dir/||" | sort

step "godump -R $dir -I"
bin/godump -R "$dir" -I

step "godump -B -R $dir -o extended"
bin/godump -B -R "$dir" -o extended

step "godump -B -R $dir -s srcip/bytes -s dstip/bytes -s proto/bytes -n 10"
bin/godump -B -R "$dir" -s srcip/bytes -s dstip/bytes -s proto/bytes -n 10

step "godump -E on the first file"
bin/godump -E "$(find "$dir" -type f -name 'nfcapd.2*' | sort | head -1)"

step "the real nfdump 1.7.1 reads gocapd's files exactly as godump does"
nosys() { grep -v '^Sys:'; }
diff <(bin/godump -R "$dir" -I) <(nfdump -R "$dir" -I)
diff <(bin/godump -R "$dir" -o extended | nosys) <(nfdump -R "$dir" -o extended | nosys)
# Without -O nfdump prints aggregated flows in the order of its hash
# table; godump prints them by first seen. Compare them as sets.
diff <(bin/godump -B -R "$dir" -o extended | nosys | sort) <(nfdump -B -R "$dir" -o extended | nosys | sort)
# nfdump 1.7.1's element statistics print an IPv6 address whose upper 96
# bits are zero as IPv4 (::1 as 0.0.0.1; nfdump-cli.md section 13, quirk
# 8), godump prints it as it is: godump's lines are put into nfdump's
# form only for this comparison, in the same column width.
v6asv4() {
	python3 -c '
import ipaddress, re, sys
def v4(m):
    try:
        a = ipaddress.IPv6Address(m.group(2))
    except ValueError:
        return m.group(0)
    if int(a) >> 32:
        return m.group(0)
    s = str(ipaddress.IPv4Address(int(a)))
    return " " * (len(m.group(0)) - len(s)) + s
for line in sys.stdin:
    sys.stdout.write(re.sub(r"( +)([0-9a-fA-F:]*::[0-9a-fA-F:.]*)(?= )", v4, line))
'
}
lab_s=(-B -R "$dir" -s srcip/bytes -s dstip/bytes -s proto/bytes -n 10)
diff <(bin/godump "${lab_s[@]}" 2>&1 | nosys | v6asv4) <(nfdump "${lab_s[@]}" 2>&1 | nosys)
echo "identical: -I, -o extended, -B -o extended and the -s tables (::1 as nfdump 1.7.1 prints it in the last)"

echo
echo "demo: done"
