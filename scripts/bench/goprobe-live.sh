#!/usr/bin/env bash
# goprobe against fprobe 1.1 capturing live, under the same load. Needs
# root: it makes two network namespaces joined by a veth pair (named after
# its pid, deleted on the way out), and nothing it sends leaves them.
#
# A step: in the receiving namespace a fresh gocapd on 127.0.0.1 (16 MiB
# socket buffer) and the probe under test capturing on its end of the pair
# (`fprobe -i IF -l 2 FLAGS 127.0.0.1:PORT`, goprobe with the same command
# line, and goprobe -n 9 beside them); in the sending namespace
# scripts/pktsend sends pktgen's traffic (thousands of 5-tuples, TCP, UDP
# and ICMP, IPv4 behind plain Ethernet, which fprobe reads) at RATE
# frames/s for DURATION seconds; then, once the probe is idle, SIGTERM
# (both export their whole cache on it), and godump -I counts what gocapd
# stored. The rates climb a ladder, the last one (0) as fast as the sender
# goes; every run goes up the whole ladder, probes taking turns at each
# rate so that a busy moment of the machine falls on all of them.
#
# Columns: achieved the sender's rate, delivered the frames the receiving
# interface took (its rx_packets), counted what the probe read off its
# packet socket (goprobe: its own counters line at exit; fprobe: the
# socket's, read by scripts/pktdrops, as fprobe reports nothing),
# k.drops the frames the kernel dropped at the probe's full ring
# (pcap_stats for goprobe, PACKET_STATISTICS for fprobe), flows and
# packets what gocapd stored, seq its sequence failures (datagrams lost
# on the way), lost = delivered - stored packets (dropped by the kernel,
# or by the probe itself: fprobe's capture thread throws a packet away
# when its pending queue, -q 100, is full, and libpcap hands it the
# kernel's ring a block of hundreds of packets at a time, so fprobe
# loses most of them at any rate; fprobe-q below is fprobe -q 10000),
# cpu the probe's processor time
# over the step (user + system, all threads; 100% = a core) and ns/pkt
# that time per delivered frame. Verdicts: "pass" nothing dropped or
# lost; "loss" no kernel drop but packets lost all the same; "DROP" kernel
# drops; "short" the sender reached less than 95% of the rate (the step
# counts neither way).
#
# The result: for each probe the highest rate it held without kernel
# drops, and the highest it held without losing a packet anywhere (each
# in more than half of its runs, every lower rate held too), the ratios
# goprobe/fprobe, and the median ns/pkt at each rate with its spread.
#
# Tune with environment variables:
#   RATES="50000 100000 200000 400000 600000 800000 0"
#                     frames/s of the steps; 0: as fast as the sender goes
#   DURATION=3        seconds of load a step
#   RUNS=3            times up the ladder
#   PROBES="fprobe goprobe goprobe-v9"; fprobe-q is fprobe -q 10000, whose
#                     pending queue holds a block of libpcap's ring
#   PROBE_FLAGS=-fip  options for every probe (Debian's default for fprobe)
#   FPROBE_FLAGS=     more options for fprobe only (-q 10000: a longer
#                     pending queue), GOPROBE_FLAGS= for goprobe only
#   BENCH_DIR=dir     keep the work directory (logs, flows) there
# The defaults take eight to twelve minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
export TZ=UTC LC_ALL=C

rates=${RATES:-"50000 100000 200000 400000 600000 800000 0"}
duration=${DURATION:-3}
runs=${RUNS:-3}
probes=${PROBES:-"fprobe goprobe goprobe-v9"}
flags=${PROBE_FLAGS:--fip}
fp_flags=${FPROBE_FLAGS:-}
gp_flags=${GOPROBE_FLAGS:-}

if ((EUID != 0)); then
	echo "bench: goprobe-live.sh needs root (network namespaces, packet sockets)" >&2
	exit 1
fi
for tool in ip fprobe ss getconf; do
	command -v $tool >/dev/null || { echo "bench: $tool is missing (make deps)" >&2; exit 1; }
done
make -s build

work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
tag=lb$$
nsS=${tag}s nsR=${tag}r ifS=${tag}s ifR=${tag}r
port=9995    # the receiving namespace is ours: nothing else listens there
pids=()      # the probe and gocapd running now, stopped on the way out
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	ip netns del "$nsS" 2>/dev/null || true
	ip netns del "$nsR" 2>/dev/null || true
	[[ -n ${BENCH_DIR:-} ]] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

go build -o "$work/pktsend" ./scripts/pktsend
go build -o "$work/pktdrops" ./scripts/pktdrops
hz=$(getconf CLK_TCK)

# The lab: S sends on ifS, R receives on ifR. No IPv6, so that the
# kernel's own neighbour discovery adds no frame to the count.
for ns in "$nsS" "$nsR"; do
	ip netns add "$ns"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link set lo up
done
ip -n "$nsS" link add "$ifS" type veth peer name "$ifR" netns "$nsR"
ip -n "$nsS" link set "$ifS" up
ip -n "$nsR" link set "$ifR" up
# inR runs a command in R (not for one put in the background: $! would be
# the function's subshell).
inR() { ip netns exec "$nsR" "$@"; }

# cpu_ticks PID: user+system clock ticks of the process, all threads.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
rx_packets() { inR cat "/sys/class/net/$ifR/statistics/rx_packets"; }

# wait_packet_socket PID: until the process has a packet socket bound and
# running (/proc/net/packet's R column), then a moment for its filter.
wait_packet_socket() {
	local i inodes
	for ((i = 0; i < 100; i++)); do
		inodes=$(find "/proc/$1/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n' || true)
		if [[ -n $inodes ]] && awk 'NR > 1 && $6 == 1 { print $9 }' "/proc/$1/net/packet" 2>/dev/null | grep -qxF "$inodes"; then
			sleep 0.3
			return 0
		fi
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# wait_idle PID: until the process has used no processor time for 0.5 s
# (30 s at most).
wait_idle() {
	local i last now same=0
	last=$(cpu_ticks "$1")
	for ((i = 0; i < 300 && same < 5; i++)); do
		sleep 0.1
		now=$(cpu_ticks "$1")
		if ((now == last)); then ((++same)); else same=0; fi
		last=$now
	done
}

# stop PID: SIGTERM and wait (a minute at most, then SIGKILL).
stop() {
	local i
	kill -TERM "$1" 2>/dev/null || true
	for ((i = 0; i < 600; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	pids=()
}

# step PROBE RATE RUN: one row of the table. Sets verdict, nspp, achieved.
step() {
	local probe=$1 rate=$2 run=$3 dir=$work/flows log=$work/$1-$2-$3.log i
	rm -rf "$dir" && mkdir -p "$dir"
	ip netns exec "$nsR" bin/gocapd -b 127.0.0.1 -p $port -w "$dir" -t 3600 -B 16777216 >"$work/gocapd.log" 2>&1 &
	local cpid=$!
	pids=("$cpid")
	for ((i = 0; i < 100; i++)); do
		[[ -n $(inR ss -Huan "sport = :$port") ]] && break
		sleep 0.05
	done
	local cmd
	case $probe in
	# shellcheck disable=SC2206 # the flags are words
	fprobe) cmd=(fprobe $fp_flags) ;;
	# shellcheck disable=SC2206
	fprobe-q) cmd=(fprobe -q 10000 $fp_flags) ;;
	# shellcheck disable=SC2206
	goprobe) cmd=(bin/goprobe $gp_flags) ;;
	# shellcheck disable=SC2206
	goprobe-v9) cmd=(bin/goprobe -n 9 $gp_flags) ;;
	*) echo "bench: no probe $probe" >&2; exit 1 ;;
	esac
	# -l 2:TAG: its own pid file (/var/run/fprobe[TAG].pid), not the one
	# of a probe this machine runs, nor the one the lab's test stops.
	# shellcheck disable=SC2086 # the flags are words
	ip netns exec "$nsR" "${cmd[@]}" -i "$ifR" -l "2:$tag" $flags 127.0.0.1:$port >"$log" 2>&1 &
	local ppid=$!
	pids=("$ppid" "$cpid")
	if ! wait_packet_socket "$ppid"; then
		echo "bench: $probe did not open its capture:" >&2
		cat "$log" >&2
		exit 1
	fi
	local rx0 t0 rx1 t1
	rx0=$(rx_packets)
	t0=$(cpu_ticks "$ppid")
	ip netns exec "$nsS" "$work/pktsend" -i "$ifS" -r "$rate" -d "${duration}s" -k >"$work/send" ||
		{ echo "bench: pktsend failed" >&2; exit 1; }
	wait_idle "$ppid"
	rx1=$(rx_packets)
	t1=$(cpu_ticks "$ppid")
	local sent delivered=$((rx1 - rx0)) counted kdrops
	sent=$(sed -n 's/.*frames=\([0-9]*\) .*/\1/p' "$work/send")
	achieved=$(sed -n 's/.* frames_per_sec=\([0-9]*\).*/\1/p' "$work/send")
	if [[ $probe == fprobe* ]]; then
		local st
		st=$("$work/pktdrops" "$ppid")
		kdrops=$(sed -n 's/.* drops=\([0-9]*\).*/\1/p' <<<"$st")
		counted=$(($(sed -n 's/.* packets=\([0-9]*\) .*/\1/p' <<<"$st") - kdrops))
	fi
	stop "$ppid"
	pids=("$cpid")
	if [[ $probe != fprobe* ]]; then
		# the last counters line, written at exit
		local line
		line=$(grep 'packets: .* dropped by kernel' "$log" | tail -n 1)
		counted=$(sed -n 's/.*packets: \([0-9]*\) .*/\1/p' <<<"$line")
		kdrops=$(sed -n 's/.*dropped by kernel: \([0-9]*\).*/\1/p' <<<"$line")
	fi
	# gocapd has read everything once its socket stays empty.
	for ((i = 0; i < 100; i++)); do
		sleep 0.1
		[[ $(inR ss -Huan "sport = :$port" | awk '{ print $2 }') == 0 ]] && break
	done
	stop "$cpid"
	local info flows stored seq
	info=$(bin/godump -R "$dir" -I)
	flows=$(sed -n 's/^Flows: //p' <<<"$info")
	stored=$(sed -n 's/^Packets: //p' <<<"$info")
	seq=$(sed -n 's/^Sequence failures: //p' <<<"$info")
	local lost=$((delivered - ${stored:-0}))
	local cpu
	cpu=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v d="$duration" 'BEGIN { printf "%.0f", 100 * t / hz / d }')
	nspp=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v n="$delivered" 'BEGIN { if (n > 0) printf "%.0f", 1e9 * t / hz / n; else print "-" }')
	verdict=pass
	if ((rate > 0)) && awk -v a="$achieved" -v r="$rate" 'BEGIN { exit !(a < 0.95 * r) }'; then
		verdict=short
	elif ((${kdrops:-1} != 0)); then
		verdict=DROP
	elif ((lost != 0)); then
		verdict=loss
	fi
	printf '%-10s %3d %7s %8s %9s %9s %9s %8s %6s %9s %4s %8s %4s%% %6s  %s\n' "$probe" "$run" "$rate" "$sent" "$achieved" \
		"$delivered" "${counted:-?}" "${kdrops:-?}" "${flows:-?}" "${stored:-?}" "${seq:-?}" "$lost" "$cpu" "$nspp" "$verdict"
}

declare -A passes=() kpasses=() tries=() nsppx=() achievedx=()
echo "machine: $(nproc) cores, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
echo "fprobe:  $(command -v fprobe) ($(fprobe -h | head -n 1))"
echo "goprobe: $PWD/bin/goprobe ($(bin/goprobe -h 2>&1 | head -n 1))"
echo "command: PROBE -i $ifR -l 2:$tag $flags 127.0.0.1:$port (goprobe-v9: goprobe -n 9 ...), into gocapd -B 16777216"
echo "load:    scripts/pktsend -i $ifS -r RATE -d ${duration}s from the other namespace; ladder: $rates; $runs runs"
echo
printf '%-10s %3s %7s %8s %9s %9s %9s %8s %6s %9s %4s %8s %5s %6s  %s\n' probe run rate sent achieved delivered counted k.drops flows packets seq lost cpu ns/pkt verdict
began=$SECONDS
for ((r = 1; r <= runs; r++)); do
	for rate in $rates; do
		for probe in $probes; do
			step "$probe" "$rate" "$r"
			k=$probe-$rate
			nsppx[$k]+="$nspp "
			achievedx[$k]+="$achieved "
			[[ $verdict == short ]] && continue
			tries[$k]=$((${tries[$k]:-0} + 1))
			[[ $verdict == pass ]] && passes[$k]=$((${passes[$k]:-0} + 1))
			[[ $verdict == pass || $verdict == loss ]] && kpasses[$k]=$((${kpasses[$k]:-0} + 1))
		done
	done
done

median() { tr ' ' '\n' <<<"$1" | sed '/^$/d;/^-$/d' | sort -n | awk '{ a[NR] = $1 } END { print (NR ? a[int((NR + 1) / 2)] : "-") }'; }
spread() { tr ' ' '\n' <<<"$1" | sed '/^$/d;/^-$/d' | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print (NR ? lo "-" hi : "-") }'; }

# highest PROBE PASSES: the highest rate of the ladder PROBE held in more
# than half of its runs, every lower rate held too; for the last step,
# flat out, the median rate the sender reached.
highest() {
	local probe=$1 rate k h=""
	local -n ok=$2
	for rate in $rates; do
		k=$probe-$rate
		((${tries[$k]:-0} > 0 && 2 * ${ok[$k]:-0} > ${tries[$k]:-0})) || break
		if ((rate == 0)); then h=$(median "${achievedx[$k]}"); else h=$rate; fi
	done
	echo "${h:-0}"
}

echo
echo "ns of probe cpu per delivered frame, median (min-max over the runs); runs without kernel drops, runs without loss:"
printf '%-10s' probe
for rate in $rates; do printf ' %26s' "$( ((rate)) && echo "$rate/s" || echo "flat out")"; done
echo
for probe in $probes; do
	printf '%-10s' "$probe"
	for rate in $rates; do
		k=$probe-$rate
		printf ' %26s' "$(median "${nsppx[$k]}") ($(spread "${nsppx[$k]}")) ${kpasses[$k]:-0},${passes[$k]:-0}/${tries[$k]:-0}"
	done
	echo
done
rate_text() { if (($1 > 0)); then echo "$1 frames/s"; else echo "none of the ladder"; fi; }
echo
declare -A kbest=() best=()
for probe in $probes; do
	kbest[$probe]=$(highest "$probe" kpasses)
	best[$probe]=$(highest "$probe" passes)
	printf '%-10s highest rate without kernel drops: %s; without losing a packet: %s\n' "$probe" \
		"$(rate_text "${kbest[$probe]}")" "$(rate_text "${best[$probe]}")"
done
for ref in fprobe fprobe-q; do
	for probe in goprobe goprobe-v9; do
		[[ -n ${kbest[$probe]:-} && -n ${kbest[$ref]:-} ]] || continue
		awk -v g="${kbest[$probe]}" -v f="${kbest[$ref]}" -v gl="${best[$probe]}" -v fl="${best[$ref]}" -v p="$probe" -v r="$ref" 'BEGIN {
			printf "ratio %s/%s: %s without kernel drops, %s without loss\n", p, r,
				(f > 0 ? sprintf("%.2f", g / f) : "-"), (fl > 0 ? sprintf("%.2f", gl / fl) : "- (" r " lost packets at every rate)") }'
	done
done
echo "load average at the end $(cut -d' ' -f1-3 /proc/loadavg); took $((SECONDS - began)) s"
