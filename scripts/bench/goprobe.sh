#!/usr/bin/env bash
# goprobe against softflowd 1.1 on the same capture. scripts/pcapgen writes
# a capture of PACKETS packets of pktgen.Traffic (FLOWS flows open at once,
# IPv4 and IPv6, TCP, UDP and ICMP, a fifth behind 802.1Q tags, frames cut
# at 128 bytes); then `softflowd -r FILE` and `goprobe --read FILE` read it
# in turn, RUNS times each, both exporting NetFlow v9 to a fresh gocapd on
# 127.0.0.1 (16 MiB socket buffer). /usr/bin/time gives each probe's
# elapsed time and peak RSS; godump -I counts what gocapd stored.
#
# softflowd runs twice: with its defaults (at most 8192 flows, -m, the
# least recently seen exported early past them) and as "softflowd-m",
# with -m as large as the capture's packets, so that it keeps every flow
# until its timeout as goprobe does (fprobe's defaults set no flow
# limit): the memory each needs for the same flows, and the speed at it.
#
# Prints a row per run and then, from the median times: the packets per
# second of each, the ratio goprobe/softflowd against each softflowd
# (target >= 3; and that of the fastest runs, for a machine shared with
# other work), the peak RSS of each (target: goprobe's no higher) and
# whether all delivered the same packet and byte totals, the packets
# being all of the capture's.
# Then the resident memory of each probe idle (reading the capture's
# header from a pipe that stays quiet for a second; goprobe writes no pid
# file) and the floor under goprobe's: scripts/rssfloor, the smallest Go
# program linked as goprobe is (the Go runtime and the C library; goprobe
# opens libpcap only to capture live or to filter),
# medians of RUNS. Last the start-up: the processor time of each probe
# reading a capture of one packet, and of the floor, per run (STARTS runs
# in a row under one /usr/bin/time, whose 10 ms steps are too coarse for
# one), medians of RUNS.
#
# Tune with environment variables:
#   PACKETS=1000000  packets in the capture
#   FLOWS=4096       flows open at a time and how many times as long as
#   LENGTH=1         usual (~15 packets) they are: the capture's shape.
#                    1 M packets make ~67 000 flows at the defaults (many
#                    flows: all stay in goprobe's cache, softflowd keeps
#                    8192), ~240 000 with FLOWS=65536, and ~700 with
#                    FLOWS=64 LENGTH=100 (few flows)
#   RUNS=3           runs of each probe
#   STARTS=20        start-ups timed together
#   SOFTFLOWD_FLAGS= more flags for softflowd (its flow limit is -m 8192)
#   GOPROBE_FLAGS=   more flags for goprobe: '-m 1500' bounds its cache near
#                    softflowd's 8192 flows; by default it keeps every flow
#                    until its timeout (a capture of 2 s keeps them all)
#   BENCH_DIR=dir    keep the work directory (capture, logs) there
#   LOAD=0           busy loops (nice 0) kept running while the probes run:
#                    goprobe on a machine busy with other work, where its
#                    meter works alone when that is faster (probe/decoder.go)
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin"
export TZ=UTC LC_ALL=C

packets=${PACKETS:-1000000}
flows=${FLOWS:-4096}
length=${LENGTH:-1}
runs=${RUNS:-3}
load=${LOAD:-0}
sf_flags=${SOFTFLOWD_FLAGS:-}
gp_flags=${GOPROBE_FLAGS:-}

for tool in softflowd ss; do
	command -v $tool >/dev/null || { echo "bench: $tool is missing (make deps)" >&2; exit 1; }
done
[[ -x /usr/bin/time ]] || { echo "bench: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
make -s build bin/rssfloor

work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
collector="" # the gocapd running now, stopped on the way out
busy=()      # the busy loops of LOAD, stopped on the way out
cleanup() {
	if [[ -n $collector ]]; then kill -TERM "$collector" 2>/dev/null || true; fi
	if ((${#busy[@]})); then kill "${busy[@]}" 2>/dev/null || true; fi
	[[ -n ${BENCH_DIR:-} ]] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

capture=$work/bench.pcap
go run ./scripts/pcapgen -n "$packets" -flows "$flows" -length "$length" -o "$capture" >"$work/capture.txt"
read -r _ cap_packets <"$work/capture.txt"
echo "capture: $cap_packets packets, $flows flows open at a time, $length times as long as usual ($(du -h "$capture" | cut -f1))"

# free_port prints a UDP port of 127.0.0.1 nobody uses.
free_port() {
	local p i
	for ((i = 0; i < 50; i++)); do
		p=$((20000 + RANDOM % 12000))
		[[ -z $(ss -Huan "sport = :$p") ]] && { echo $p; return; }
	done
	echo "bench: no free port" >&2
	exit 1
}

# run PROBE: one run of the probe into a fresh gocapd. Sets secs, cpu
# (user + system seconds), rss, stored_packets, stored_bytes, stored_flows
# and datagrams (as the probe counted them: softflowd's last lines,
# goprobe's counters at exit, logged to standard output by -l 2).
run() {
	local probe=$1 port dir=$work/flows log=$work/$1.log i
	rm -rf "$dir" && mkdir -p "$dir"
	port=$(free_port)
	bin/gocapd -b 127.0.0.1 -p "$port" -w "$dir" -t 3600 -B 16777216 >"$work/gocapd.log" 2>&1 &
	collector=$!
	for ((i = 0; i < 100; i++)); do
		[[ -n $(ss -Huan "sport = :$port") ]] && break
		sleep 0.05
	done
	local ok=1 t0=$EPOCHREALTIME
	case $probe in
	# shellcheck disable=SC2086 # the flags are words
	softflowd) /usr/bin/time -f '%e %M %U %S' -o "$work/time" softflowd -d -r "$capture" -v 9 -n "127.0.0.1:$port" $sf_flags >"$log" 2>&1 || ok=0 ;;
	# A capture of PACKETS packets has no more flows than that.
	# shellcheck disable=SC2086
	softflowd-m) /usr/bin/time -f '%e %M %U %S' -o "$work/time" softflowd -d -r "$capture" -v 9 -n "127.0.0.1:$port" $sf_flags -m "$cap_packets" >"$log" 2>&1 || ok=0 ;;
	# shellcheck disable=SC2086
	goprobe) /usr/bin/time -f '%e %M %U %S' -o "$work/time" bin/goprobe --read "$capture" -n 9 -l 2 $gp_flags "127.0.0.1:$port" >"$log" 2>&1 || ok=0 ;;
	esac
	local t1=$EPOCHREALTIME
	if ((!ok)); then
		echo "bench: $probe failed:" >&2
		cat "$log" >&2
		exit 1
	fi
	# The elapsed time to the microsecond: /usr/bin/time's %e counts
	# hundredths, too coarse for a few-flows run of 0.07 s.
	local user sys
	read -r _ rss user sys < <(tail -n 1 "$work/time")
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
	# gocapd has read everything once its socket stays empty.
	for ((i = 0; i < 100; i++)); do
		sleep 0.1
		[[ $(ss -Huan "sport = :$port" | awk '{ print $2 }') == 0 ]] && break
	done
	kill -TERM "$collector"
	wait "$collector" || true
	collector=""
	local info
	info=$(bin/godump -R "$dir" -I)
	stored_packets=$(sed -n 's/^Packets: //p' <<<"$info")
	stored_bytes=$(sed -n 's/^Bytes: //p' <<<"$info")
	stored_flows=$(sed -n 's/^Flows: //p' <<<"$info")
	case $probe in
	softflowd*) datagrams=$(sed -n 's/^Flows exported: .* in \([0-9]*\) packets.*/\1/p' "$log") ;;
	goprobe) datagrams=$(sed -n 's/.*; datagrams sent: \([0-9]*\), send errors.*/\1/p' "$log") ;;
	esac
}

declare -A times cpus rsses totals flows_dgram
probes="softflowd softflowd-m goprobe"
for ((i = 0; i < load; i++)); do
	bash -c 'while :; do :; done' &
	busy+=($!)
done
((load == 0)) || echo "load: $load busy loops"
printf '%-11s %3s %9s %12s %7s %9s %12s %14s\n' probe run seconds packets/s "cpu s" "RSS KiB" packets bytes
for ((r = 1; r <= runs; r++)); do
	for probe in $probes; do
		run $probe
		pps=$(awk -v p="$cap_packets" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? p / s : 0) }')
		printf '%-11s %3d %9s %12s %7s %9s %12s %14s\n' $probe "$r" "$secs" "$pps" "$cpu" "$rss" "$stored_packets" "$stored_bytes"
		times[$probe]+="$secs "
		flows_dgram[$probe]="$stored_flows flows in ${datagrams:-?} datagrams"
		cpus[$probe]+="$cpu "
		((rss > ${rsses[$probe]:-0})) && rsses[$probe]=$rss
		# Every probe's run must store what softflowd's first run stored.
		[[ -n ${ref_bytes:-} ]] || ref_bytes=$stored_bytes
		[[ $stored_packets == "$cap_packets" && $stored_bytes == "$ref_bytes" ]] || totals[$probe]=differ
	done
done

if ((${#busy[@]})); then
	kill "${busy[@]}"
	busy=()
fi

median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
gp=$(median "${times[goprobe]}")
echo
for probe in $probes; do
	m=$(median "${times[$probe]}")
	printf '%-11s median %6s s  %10s packets/s  %5s cpu s  peak RSS %7s KiB  totals %s\n' $probe "$m" \
		"$(awk -v p="$cap_packets" -v s="$m" 'BEGIN { printf "%.0f", (s > 0 ? p / s : 0) }')" "$(median "${cpus[$probe]}")" \
		"${rsses[$probe]}" "${totals[$probe]:-all packets, same bytes}"
done
# The fastest run of each: what each does when the machine leaves it
# alone, which goprobe's goroutines need more than softflowd's one.
fastest() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -n | head -n 1; }
for sfp in softflowd softflowd-m; do
	echo "against $sfp$([[ $sfp == softflowd ]] && echo " (its defaults: at most 8192 flows)" || echo " (-m $cap_packets: every flow kept, as goprobe does)"):"
	awk -v a="$(median "${times[$sfp]}")" -v b="$gp" -v n=$sfp 'BEGIN { printf "  goprobe/%s packets/s: %.2fx (target >= 3)\n", n, (b > 0 ? a / b : 0) }'
	awk -v a="$(fastest "${times[$sfp]}")" -v b="$(fastest "${times[goprobe]}")" -v n=$sfp \
		'BEGIN { printf "  goprobe/%s packets/s, fastest runs: %.2fx (%s s against %s s)\n", n, (b > 0 ? a / b : 0), b, a }'
	# On a machine shared with other work the elapsed times vary from
	# run to run; the processor time each probe used varies far less.
	awk -v a="$(median "${cpus[$sfp]}")" -v b="$(median "${cpus[goprobe]}")" -v n=$sfp \
		'BEGIN { printf "  goprobe/%s packets per cpu second: %.2fx\n", n, (b > 0 ? a / b : 0) }'
	echo "  peak RSS goprobe/$sfp: ${rsses[goprobe]}/${rsses[$sfp]} KiB (target: goprobe's no higher)"
done
# softflowd's flows are both directions of a connection in one, stored
# by gocapd as two (and more where its flow limit, -m 8192, expired them
# early); goprobe's one direction each.
echo "stored at the collector, last run: softflowd ${flows_dgram[softflowd]}, softflowd-m ${flows_dgram[softflowd-m]}, goprobe ${flows_dgram[goprobe]}"

# idle PROBE: the peak RSS of PROBE reading the capture's header from a
# pipe, and then nothing for a second.
idle() {
	local port
	port=$(free_port)
	case $1 in
	softflowd) { head -c 24 "$capture"; sleep 1; } | /usr/bin/time -f %M -o "$work/time" softflowd -d -r - -v 9 -n "127.0.0.1:$port" >/dev/null 2>&1 || true ;;
	goprobe) { head -c 24 "$capture"; sleep 1; } | /usr/bin/time -f %M -o "$work/time" bin/goprobe -i - --pidfile "" -n 9 -l 0 "127.0.0.1:$port" >/dev/null 2>&1 || true ;;
	floor) /usr/bin/time -f %M -o "$work/time" bin/rssfloor >/dev/null ;;
	esac
	tail -n 1 "$work/time"
}
declare -A idles
for ((r = 1; r <= runs; r++)); do
	for probe in softflowd goprobe floor; do
		idles[$probe]+="$(idle $probe) "
	done
done
floor=$(median "${idles[floor]}")
echo "idle RSS goprobe/softflowd: $(median "${idles[goprobe]}")/$(median "${idles[softflowd]}") KiB; floor (Go runtime, libc): $floor KiB"
echo "peak RSS above the floor, goprobe: $((${rsses[goprobe]} - floor)) KiB"

# mapped PROBE: the resident memory of PROBE idle, as above, by kind of
# mapping (/proc/PID/smaps half a second in): the program's own file,
# the shared libraries (the C library, its loader) and the anonymous
# memory (for goprobe Go's heap and stacks, the runtime's own, the
# threads'). A program's file and libraries count whole: on a kernel
# whose page cache holds them in large folios (Linux 6.18 on ext4
# here), a page touched maps its whole folio, up to hundreds of KiB, so
# their resident memory is their size, whatever touches them.
mapped() {
	local pid
	case $1 in
	softflowd) softflowd -d -r - -v 9 -n "127.0.0.1:$(free_port)" < <(head -c 24 "$capture"; sleep 1) >/dev/null 2>&1 & pid=$! ;;
	goprobe) bin/goprobe -i - --pidfile "" -n 9 -l 0 "127.0.0.1:$(free_port)" < <(head -c 24 "$capture"; sleep 1) >/dev/null 2>&1 & pid=$! ;;
	floor) bin/rssfloor 1s >/dev/null & pid=$! ;;
	esac
	sleep 0.5
	awk -v p="$1" '/^[0-9a-f]+-[0-9a-f]+ / { k = "anonymous"; if ($6 ~ /\.so/) k = "libraries"; else if ($6 ~ /^\//) k = "file" }
		/^Rss:/ { r[k] += $2 }
		END { printf "  %-9s file %5d, libraries %5d, anonymous %5d KiB\n", p, r["file"], r["libraries"], r["anonymous"] }' "/proc/$pid/smaps" || true
	wait $pid || true
}
echo "idle RSS by mapping:"
for probe in softflowd goprobe floor; do
	mapped $probe
done

# startup PROBE: the processor time in milliseconds of one start of PROBE
# on a capture of one packet, exporting to a gocapd (already running on
# $port), averaged over STARTS starts in a row.
startup() {
	local n=${STARTS:-20} cmd
	case $1 in
	softflowd) cmd="softflowd -d -r $one -v 9 -n 127.0.0.1:$port" ;;
	goprobe) cmd="bin/goprobe --read $one -n 9 -l 0 127.0.0.1:$port" ;;
	floor) cmd=bin/rssfloor ;;
	esac
	/usr/bin/time -f '%U %S' -o "$work/time" sh -c "for i in \$(seq $n); do $cmd >/dev/null 2>&1 || exit 1; done" ||
		{ echo "bench: $1 failed on a capture of one packet" >&2; exit 1; }
	tail -n 1 "$work/time" | awk -v n="$n" '{ printf "%.1f", ($1 + $2) * 1000 / n }'
}
one=$work/one.pcap
go run ./scripts/pcapgen -n 1 -o "$one" >/dev/null
port=$(free_port)
bin/gocapd -b 127.0.0.1 -p "$port" -w "$work" -t 3600 >"$work/gocapd.log" 2>&1 &
collector=$!
for ((i = 0; i < 100; i++)); do
	[[ -n $(ss -Huan "sport = :$port") ]] && break
	sleep 0.05
done
declare -A starts
for ((r = 1; r <= runs; r++)); do
	for probe in softflowd goprobe floor; do
		starts[$probe]+="$(startup $probe) "
	done
done
echo "start-up cpu ms goprobe/softflowd: $(median "${starts[goprobe]}")/$(median "${starts[softflowd]}"); floor: $(median "${starts[floor]}")"
kill -TERM "$collector"
wait "$collector" || true
collector=""
