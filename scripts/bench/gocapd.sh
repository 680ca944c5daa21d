#!/usr/bin/env bash
# gocapd against nfcapd 1.7.1: first each collector's capacity from a
# full socket (the drain), then the classic search for the highest
# loss-free rate under a live load, then CPU per flow under the same load.
#
# The drain (DRAIN=1): on loopback the sender's CPU time includes the
# kernel's delivery into the receiving socket (the softirq's skb, the copy
# into the socket's queue), some 230 ns a flow at 8 M flows/s with
# sendmmsg: on this project's 2-core machine the senders need 1.1-1.2
# cores there, so a collector under a live load gets less than one core
# and the loss-free rate found is the machine's, not the collector's. The
# drain takes the sender out: the collector starts with a socket buffer
# big enough for the whole load (-B DRAIN_BUFFER; net.core.rmem_max
# raised for the run and put back), is stopped (SIGSTOP), DRAIN_FLOWS
# flows are sent into its socket as fast as nfsend goes, then it is let
# go (SIGCONT) and timed until its socket is empty and it has been idle
# for 0.3 s (nfsend -drain polls /proc/net/udp and the collector's
# threads' CPU time every millisecond; the end is the last poll that
# found it busy). Then SIGTERM, and its files counted by the real nfdump.
# A drain passes when no flow is lost and the socket dropped nothing: its
# drop counter (/proc/net/udp, what ss shows as d) and sent against
# stored, with the system's UDP RcvbufErrors over the same time beside
# them. flows/s = stored / drain time; cpu and ns/flow are the
# collector's CPU time (user + system, every thread, to the nanosecond)
# over the drain; rq ms the time its threads waited, runnable, for a
# processor, and cs their context switches (schedstat, summed over the
# threads, from before the load to the end of the drain); disk MB what
# every process wrote to RUN_DIR's disk meanwhile (/proc/diskstats:
# gocapd's own 370-420 MB of a drain, and others' writes, which slow it).
# Both
# collectors drain in turn DRAIN_PAIRS times; the
# script prints the medians and the median of the pairs' ratios. What a
# drain does not measure: the collector's waits and wake-ups under a
# trickle (the socket is never empty until the end), which the paired
# runs below cover, and it reads datagrams the kernel queued seconds ago,
# out of the processor's caches, for both collectors alike.
#
# Pinning (PIN_COLLECTOR=1 PIN_SENDERS=0, taskset) keeps the senders'
# softirq work off the collector's processor in the search and the paired
# runs, and confines the collector to one processor in the drain as well
# (gocapd's receive loop, worker and writer then share it; nfcapd's two
# threads too).
#
# What a drain costs both collectors alike, on this machine (perf, v5,
# 104 bytes a flow in the file): the kernel's copy out of the socket
# (some 40-48 ns a flow) and into the page cache (47-55 ns), next to
# their own decoding (40-48 ns): twice nfcapd's rate needs gocapd on both
# processors at once, with nothing else running.
# Where a v5 drain's time went (capd15, load 4-9, 4 M flows; Go trace and
# schedstat): gocapd's receive loop was the busiest goroutine, running 66-80%
# of the drain (recvmmsg's copy out of a socket queued seconds ago is most of
# it), and waited for the worker (awaitWorker) 89-110 ms; the worker ran
# 37-40% and waited for a free block 55-78 ms while two direct writes were in
# flight most of the drain (the disk near 1.1 GB/s). Its threads waited for a
# processor about as long as they ran (rq ms ~ CPU) and switched 4 000-7 000
# times, against nfcapd's 600-1 300 switches and 40-130 ms waits: each
# hand-off between goroutines wakes a thread, which then queues behind the
# machine's other work. Through the page cache instead of direct writes the
# drain was no faster (2.4-10.8 M flows/s, bimodal, against 8.1-11.1), and
# earlier page-cache writes (when the encoder has no free block) 0.79x the
# rate: the disk is not what bounds it here.
# Those drains were measured with nfsend -drain's poller taking 40% of a
# core (it read /proc/net/udp and every thread's schedstat each
# millisecond, 280 us a poll; now the process's CPU clock, one system
# call), on the 2-core machine where gocapd needs both. Since (capd17, Go
# traces and perf sched, load 2-8 from other work): gocapd's v5 drains
# are bimodal by
# the machine's state, 0.25-0.34 s (12-17 M flows/s, about one core)
# while the disk and the processors are free, 0.6-0.7 s (6-7 M, half a
# core) while other sessions write or run: the worker then waits for a
# free block (its direct writes in flight) 240-360 ms of a 0.4-0.5 s drain
# (416 MB at 0.6-0.8 GB/s), so a v5 drain is bound by the disk (dd alone
# wrote 1.2-1.6 GB/s, one or two writes at a time: 12-15 M v5 flows/s at
# best) more than by the processors.
# nfcapd's page-cache writes are bimodal too: its CPU a flow went from
# 89 ns to 340-400 ns in the drains where others wrote, and a gocapd
# writing through the page cache took 5.6 times its CPU a flow then.
# A prototype whose flowfile writer went through the page cache while the
# receive loop saw a backlog (direct writes otherwise) drained at 1.8-1.9
# cores with 150-200 context switches: under DRAIN_RT=1, 3 pairs, v5 1.34
# times nfcapd's rate (21-23 M flows/s), v9 3.24; without it, at a load
# of 6, 0.93 times the direct writes' rate for 1.25 times the CPU a flow
# (the page cache's copy, where the processors were the bound).
# With sched_autogroup on (each session a group of its own), nice alone
# orders processes only within this script's session: NICE<0 also gives
# the session's group that nice for the run (/proc/PID/autogroup, put
# back at the end), so that other sessions' work on a shared machine
# takes less from the measurement.
#
# The search: scripts/nfsend replays
# NetFlow v9 and IPFIX datagrams on loopback at a rising rate until flows
# are lost. For each protocol it prints the highest loss-free flows/s of
# both collectors, the ratio gocapd/nfcapd (target >= 2) and their peak RSS
# (target: gocapd's no higher), then runs both once more under the same
# load (the lower of the two rates) to compare their RSS there.
#
# A step: a fresh collector on a free port of 127.0.0.1 writing into an
# empty directory (-w DIR -t 60 -I bench -B BUFFER, the same flags for
# both), RATE*DURATION flows sent at RATE flows/s, a wait until the
# collector is idle, SIGTERM, and the flows in its files counted by the
# real nfdump (the -o null summary: records actually read back).
# lost = sent - stored. A step passes when nothing is lost and the
# collector was idle within MAX_LAG seconds of the end of the load: a
# collector that queues what it cannot process yet (gocapd queues up to
# 16 MiB of datagrams) must not pass a rate it only survives for DURATION
# seconds. A failed rate is tried again (TRIES), as this machine may be
# busy with something else for a moment. The rate doubles from START_RATE
# until a rate fails (or MAX_RATE passes), then STEPS bisections narrow it;
# when every bisection passed, the rate that failed is tried once more (a
# moment of load elsewhere must not cap the search), and if it passes now
# the doubling goes on from there.
#
# The load comes from SENDERS nfsend processes, each sending its share of
# the rate as its own exporters, in batches of 64 datagrams a sendmmsg(2)
# call. A step whose senders together fell short of the rate says so and
# ends the search: the rate found is then a lower bound, a limit of the
# senders on this machine, not of the collector.
#
# Columns: lag/s how long the collector stayed busy after the load,
# k.drops datagrams the kernel dropped at the full socket (ss), cpu the
# collector's CPU over the step's DURATION (100% = one core), ns/flow its
# CPU time (user + system, the load and the drain after it; the
# scheduler's count of every thread, to the nanosecond) per flow stored,
# cs its threads' context switches over the step (schedstat: the
# scheduler costs a collector's wake-ups and hand-offs cause show there
# when CPU time alone is too noisy to tell), s.cpu the sender's, RSS KiB
# the collector's peak (/usr/bin/time %M, all of its life, shutdown
# included). Under the same load the script compares the two collectors'
# CPU per flow (target gocapd <= 0.6 of nfcapd's).
#
# Then, at each of RATES, both collectors run PAIRS times in turn (nfcapd,
# gocapd, nfcapd, ...) and the script prints the median CPU per flow of
# each, the median of the pairs' ratios gocapd/nfcapd (target <= 0.6),
# the median peak RSS and the median context switches: pairing keeps the
# ratio fair on a machine whose load drifts. A rate that loses flows is
# still measured (marked in the rows).
#
# Tune with environment variables:
#   DRAIN=1            0: skip the drain
#   DRAIN_FLOWS=4000000 flows queued for a drain (some 93 bytes of socket
#                      memory a v9 flow in datagrams of 24: 390 MB)
#   DRAIN_BUFFER=536870912 -B of the drain (the kernel doubles it)
#   DRAIN_PAIRS=3      drains of each collector, in turn
#   DRAIN_RT=0         1: the collectors drain under SCHED_FIFO (chrt -f 1),
#                      ahead of every other session's work for the drain's
#                      fraction of a second: their capacity where other
#                      work would take the processors from them (the disk
#                      stays shared). 3 pairs at a load of 4.5-6: v5
#                      gocapd 13.5-17.8 M flows/s at 1.4-1.5 cores, nfcapd
#                      14.8-15.9 M (ratio 1.01; gocapd bound by its direct
#                      writes, 395 MB at the disk's 1.2-1.6 GB/s), v9 2.02;
#                      without it both ran at 0.5-1.5 cores and 6-14 M by
#                      the moment's load. Some drains still run at half
#                      speed (4 of 42 of gocapd's; one with no other
#                      session writing to the disk: cause not found)
#   PIN_COLLECTOR=     processors of the collectors (taskset -c), e.g. 1
#   PIN_SENDERS=       processors of the senders, e.g. 0
#   NICE=0             nice of collectors and senders (and, below 0, of
#                      the session's autogroup for the run)
#   DURATION=5         seconds of load per step
#   START_RATE=1000000 flows/s of the first step
#   MAX_RATE=16000000  flows/s never exceeded
#   STEPS=4            bisections after the first failure
#   TRIES=2            runs before a rate counts as failed
#   PROTOS="v9 ipfix"  protocols, each measured on its own (v5 too)
#   COLLECTORS="nfcapd gocapd"
#   BUFFER=33554432    socket receive buffer for both (-B); run as root,
#                      the script raises net.core.rmem_max to it for the
#                      run (and puts it back), as both collectors ask with
#                      SO_RCVBUF, which that limit caps
#   PER_DATAGRAM=24    flows in each datagram
#   STREAMS=2          exporters (sockets, source ids) the load comes from
#   SENDERS=2          nfsend processes sharing the streams (at least one each)
#   MAX_LAG=0.25       seconds a collector may stay busy after the load; 0: any
#   SAME_LOAD=1        0: skip the runs of both at the same rate
#   SEARCH=1           0: skip the search for the loss-free rates
#   RATES="200000 800000" rates of the paired CPU comparison ("": none)
#   PAIRS=3            runs of each collector at each of RATES
#   EXTRA_FLAGS=       more flags for both collectors, e.g. -y (LZ4 files)
#   RUN_DIR=dir        where the collectors write (default: the work
#                      directory, on disk; /dev/shm takes the disk out)
#   MAX_SECONDS=570    time budget of the whole script; steps past it are skipped
#   BENCH_DIR=dir      keep the work directory (collector logs) there
#   GOCAPD=path        the gocapd to measure (default bin/gocapd, built if missing)
#   NFCAPD=path        what runs in nfcapd's place (default nfcapd): another
#                      gocapd build there compares two builds, paired
#   TRACE=1            gocapd writes a Go execution trace of each run
#                      beside its log in the work directory (keep it with
#                      BENCH_DIR; go tool trace FILE): where its goroutines
#                      wait. The tracer's CPU time counts as gocapd's, and
#                      keeps a drain from looking idle: read the trace, not
#                      the row
#   THREADS=1          a line under each row: the CPU of each of the
#                      collector's threads over the step (name and thread
#                      id, ms, busiest first) and of each sender (ms)
# The defaults take six to nine minutes. The drains alone, in one or two:
#   SEARCH=0 RATES= SAME_LOAD=0 PROTOS="v9 ipfix v5" NICE=-15 scripts/bench/gocapd.sh
# The loss-free rates of v9 alone,
# in under five minutes (no paired runs, 3 s steps, 3 bisections):
#   PROTOS=v9 RATES= SAME_LOAD=0 DURATION=3 STEPS=3 scripts/bench/gocapd.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin"
export TZ=UTC LC_ALL=C

duration=${DURATION:-5}
start_rate=${START_RATE:-1000000}
max_rate=${MAX_RATE:-16000000}
steps=${STEPS:-4}
tries=${TRIES:-2}
protos=${PROTOS:-"v9 ipfix"}
collectors=${COLLECTORS:-"nfcapd gocapd"}
buffer=${BUFFER:-33554432}
per=${PER_DATAGRAM:-24}
streams=${STREAMS:-2}
senders=${SENDERS:-2}
((streams >= senders)) || streams=$senders
max_lag=${MAX_LAG:-0.25}
same_load=${SAME_LOAD:-1}
search_rates=${SEARCH:-1}
rates=${RATES-200000 800000}
pairs=${PAIRS:-3}
extra=${EXTRA_FLAGS:-}
max_seconds=${MAX_SECONDS:-570}
threads=${THREADS:-0}
trace=${TRACE:-0}
drain=${DRAIN:-1}
drain_flows=${DRAIN_FLOWS:-4000000}
drain_pairs=${DRAIN_PAIRS:-3}
drain_buffer=${DRAIN_BUFFER:-536870912}
drain_rt=${DRAIN_RT:-0}
rt_pre=()
pin_collector=${PIN_COLLECTOR:-}
pin_senders=${PIN_SENDERS:-}
nice_level=${NICE:-0}

for tool in nfcapd nfdump ss pgrep taskset; do
	command -v $tool >/dev/null || { echo "bench: $tool is missing (make deps)" >&2; exit 1; }
done
[[ -x /usr/bin/time ]] || { echo "bench: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
gocapd=${GOCAPD:-$PWD/bin/gocapd}
[[ -n ${GOCAPD:-} || -x bin/gocapd ]] || make -s build

work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
run_dir=${RUN_DIR:-$work}
mkdir -p "$run_dir"
current="" # the collector running now, stopped on the way out
rmem_want=$buffer
((drain && drain_buffer > rmem_want)) && rmem_want=$drain_buffer
# A collector that another process keeps off its core for a moment must
# not lose flows for it, or the search measures the machine's other work,
# not the collector: on a busy machine both collectors lost flows with 8
# MiB at a fifth of a core. The drain needs its whole load to fit.
#
# net.core.rmem_max is the machine's, and runs of this script may overlap
# (helpers sharing a machine): each run counts itself in rmem_state under
# a lock, the first notes the value it found and the last one out puts it
# back. When every run put back what it had found, one that ended first
# lowered the limit under the other, whose next drains got a 64 MiB
# socket for their 366 MB and lost 80% of the flows. ensure_rmem raises
# it again before each collector starts, as a run of an older copy of
# this script may still lower it.
rmem_state=/run/lock/nftools-gocapd-bench-rmem
rmem_joined=0
rmem_join() {
	[[ -w /proc/sys/net/core/rmem_max ]] || return 0
	local users was
	exec {rmem_fd}>>"$rmem_state.lock"
	flock "$rmem_fd"
	read -r users was 2>/dev/null <"$rmem_state" || users=0
	((users > 0)) || was=$(cat /proc/sys/net/core/rmem_max)
	echo "$((users + 1)) $was" >"$rmem_state"
	rmem_joined=1
	ensure_rmem
	flock -u "$rmem_fd"
}
rmem_leave() {
	((rmem_joined)) || return 0
	local users was
	flock "$rmem_fd"
	read -r users was 2>/dev/null <"$rmem_state" || users=1
	if ((users <= 1)); then
		[[ -z ${was:-} ]] || echo "$was" >/proc/sys/net/core/rmem_max
		rm -f "$rmem_state"
	else
		echo "$((users - 1)) $was" >"$rmem_state"
	fi
	flock -u "$rmem_fd"
	rmem_joined=0
}
ensure_rmem() {
	if ((rmem_joined && $(cat /proc/sys/net/core/rmem_max) < rmem_want)); then
		echo "$rmem_want" >/proc/sys/net/core/rmem_max
	fi
}
rmem_join
# What runs the collectors and the senders: pinned to processors, at a
# priority.
coll_pre=() send_pre=()
[[ -z $pin_collector ]] || coll_pre+=(taskset -c "$pin_collector")
[[ -z $pin_senders ]] || send_pre+=(taskset -c "$pin_senders")
if ((nice_level != 0)); then
	coll_pre+=(nice -n "$nice_level")
	send_pre+=(nice -n "$nice_level")
fi
autogroup_was=""
if ((nice_level < 0)) && [[ -w /proc/$$/autogroup ]]; then
	autogroup_was=$(sed -n 's/.* nice \(-*[0-9]*\)$/\1/p' /proc/$$/autogroup)
	echo "$nice_level" >/proc/$$/autogroup || autogroup_was=""
fi
cleanup() {
	rmem_leave
	[[ -z $autogroup_was ]] || echo "$autogroup_was" >/proc/$$/autogroup
	if [[ -n $current ]] && kill -TERM "$current" 2>/dev/null; then sleep 1; fi
	rm -rf "${run_dir:?}/run"
	[[ -n ${BENCH_DIR:-} ]] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
go build -o "$work/nfsend" ./scripts/nfsend
nfsend=$work/nfsend
began=$SECONDS

declare -A bin=([nfcapd]=${NFCAPD:-$(command -v nfcapd)} [gocapd]=$gocapd)

# free_port prints a UDP port of 127.0.0.1 nobody uses.
free_port() {
	local p i
	for ((i = 0; i < 50; i++)); do
		p=$((20000 + RANDOM % 40000))
		[[ -z $(ss -Huan "sport = :$p") ]] && { echo $p; return; }
	done
	echo "bench: no free port" >&2
	exit 1
}

# sock PORT FIELD: Recv-Q (q), receive buffer (rb) or drops (d) of the socket.
sock() {
	local line
	line=$(ss -Huamn "sport = :$1" | tr -s ' \t\n' ' ')
	case $2 in
	q) awk '{ print $2 }' <<<"$line" ;;
	*) sed -n "s/.*[(,]$2\([0-9]*\)[,)].*/\1/p" <<<"$line" ;;
	esac
}

# cpu_ns PID: nanoseconds the process's threads ran (user and system
# time), from the scheduler's own count (/proc/PID/task/*/schedstat):
# /proc/PID/stat counts in clock ticks of 10 ms, a fifth of what a
# collector uses at 800 000 flows/s in a 5 s step.
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }'; }

# sched_wait PID: nanoseconds the process's threads waited runnable for a
# processor and their time slices (context switches in), summed
# (/proc/PID/task/*/schedstat, fields 2 and 3).
sched_wait() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ w += $2; n += $3 } END { printf "%.0f %d", w, n }'; }

# disk_written: sectors (512 bytes) written so far to the disk that holds
# RUN_DIR, by every process (/proc/diskstats), or nothing when that is no
# disk there (tmpfs).
run_disk=$(basename "$(df --output=source "$run_dir" 2>/dev/null | tail -n 1)")
disk_written() { awk -v d="$run_disk" '$3 == d { print $10 }' /proc/diskstats; }

# threads_ns PID: each thread's name and nanoseconds, "name=ns" a word.
threads_ns() {
	local t
	for t in /proc/"$1"/task/*; do
		printf '%s=%s ' "$(tr -d ' ' <"$t/comm" 2>/dev/null)$(basename "$t")" "$(cut -d' ' -f1 "$t/schedstat" 2>/dev/null)"
	done
}

# start_collector COLLECTOR DIR BUFFER LOG: the collector on a free port
# of 127.0.0.1 writing into DIR, its socket buffer -B BUFFER, on the
# processors of PIN_COLLECTOR and at NICE, under /usr/bin/time for its
# peak RSS. Sets port, tpid (time's) and cpid (the collector's).
start_collector() {
	local coll=$1 dir=$2 buf=$3 log=$4 i
	ensure_rmem
	port=$(free_port) cpid=""
	local env=()
	# a Go execution trace of gocapd's run beside its log (TRACE=1)
	((trace)) && [[ $coll == gocapd ]] && env=(env GOCAPD_TRACE="${log%.log}.trace")
	# shellcheck disable=SC2086 # EXTRA_FLAGS are words
	"${rt_pre[@]}" "${coll_pre[@]}" "${env[@]}" /usr/bin/time -f %M -o "$work/rss" "${bin[$coll]}" -b 127.0.0.1 -p "$port" -w "$dir" -t 60 -I bench -B "$buf" $extra >"$log" 2>&1 &
	tpid=$!
	for ((i = 0; i < 100; i++)); do # the collector is the child of time
		cpid=$(pgrep -P "$tpid" || true)
		[[ -n $cpid && -n $(ss -Huan "sport = :$port") ]] && break
		sleep 0.05
	done
	if [[ -z $cpid || -z $(ss -Huan "sport = :$port") ]]; then
		echo "bench: $coll did not start:" >&2
		cat "$log" >&2
		exit 1
	fi
	current=$cpid
}

# stop_collector COLLECTOR DIR: SIGTERM, wait for it to write its files,
# and count the flows in them with the real nfdump (the -o null summary:
# records actually read back). Sets rss (KiB) and stored.
stop_collector() {
	local coll=$1 dir=$2 i
	kill -TERM "$cpid"
	for ((i = 0; i < 1200; i++)); do # up to 2 minutes to flush and close
		kill -0 "$tpid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$tpid" 2>/dev/null; then
		echo "bench: $coll ignored SIGTERM for 2 minutes; killed" >&2
		kill -KILL "$cpid" 2>/dev/null || true
	fi
	wait "$tpid" || true
	current=""
	rss=$(tail -n 1 "$work/rss")
	[[ $rss =~ ^[0-9]+$ ]] || rss=0
	stored=$( (nfdump -R "$dir" -o null 2>/dev/null || true) | sed -n 's/^Summary: total flows: \([0-9]*\),.*/\1/p')
	stored=${stored:-0}
	rm -rf "$dir"
}

# step COLLECTOR PROTO RATE [NOTE]: one run at RATE flows/s, printed as a
# row of the table. Sets sent, stored, loss, lag, drops, rss, cpu, nsf,
# scpu, rb; returns whether the step passed.
# settle_disk: the previous run's writes reach the disk before the next
# collector starts. nfcapd writes through the page cache and leaves its
# run's data (400 MB in a drain) to the kernel's writeback, which then
# ran during the next run; gocapd's O_DIRECT writes wait for the disk, so
# gocapd, which always ran after nfcapd, drained v5 at 6.0-6.5 M flows/s
# with 60-82% of a core, against 11.4-12.1 M with 123-134% on tmpfs or
# after another gocapd (3 drains each, quiet): the drain ratio was 0.48
# for that reason.
settle_disk() { sync; }

step() {
	local coll=$1 proto=$2 rate=$3 note=${4:-}
	local dir=$run_dir/run log=$work/$coll-$proto-$rate.log
	# set -e does not hold in a function called by if: check by hand.
	rm -rf "$dir" && mkdir -p "$dir" || exit 1
	settle_disk
	local i
	start_collector "$coll" "$dir" "$buffer" "$log"
	rb=$(sock "$port" rb)
	local flows=$((rate * duration)) t0 busy_until last now same=0 achieved
	t0=$(cpu_ns "$cpid")
	local w0 w1
	w0=$(sched_wait "$cpid")
	local th0=""
	((threads)) && th0=$(threads_ns "$cpid")
	# Sender j sends streams first..first+n-1 and their share of the
	# rate and the flows.
	local j first=0 n spids=() failed=0
	for ((j = 0; j < senders; j++)); do
		n=$(((streams + j) / senders))
		"${send_pre[@]}" /usr/bin/time -f '%e %U %S' -o "$work/sendtime.$j" "$nfsend" -H 127.0.0.1 -p "$port" -v "$proto" \
			-r $((rate * n / streams)) -c $((flows * n / streams)) -d $((3 * duration + 10))s \
			-s "$n" -first "$first" -n "$per" -k >"$work/send.$j" &
		spids+=($!)
		first=$((first + n))
	done
	for j in "${spids[@]}"; do
		wait "$j" || failed=1
	done
	((failed == 0)) || { echo "bench: nfsend failed" >&2; exit 1; }
	local sent_at=$EPOCHREALTIME
	# the senders' CPU over the longest of their runs; flows and rates add up
	scpu=$(for ((j = 0; j < senders; j++)); do tail -n 1 "$work/sendtime.$j"; done |
		awk '{ cpu += $2 + $3; if ($1 > e) e = $1 } END { printf "%.0f", (e > 0 ? 100 * cpu / e : 0) }')
	scpu_ms=$(for ((j = 0; j < senders; j++)); do tail -n 1 "$work/sendtime.$j"; done | awk '{ printf "%s%d", (NR > 1 ? "+" : ""), 1000 * ($2 + $3) }')
	sent=$(cat "$work"/send.* | sed -n 's/.* flows=\([0-9]*\) .*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
	achieved=$(cat "$work"/send.* | sed -n 's/.* flows_per_sec=\([0-9]*\) .*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
	rm -f "$work"/send.* "$work"/sendtime.*
	# Idle: the socket empty and at most 10 ms of CPU a poll, for 0.6 s
	# running. Busy: the last poll that was not idle.
	last=$(cpu_ns "$cpid")
	busy_until=$sent_at
	for ((i = 0; i < 1200; i++)); do # 60 s at most
		sleep 0.05
		now=$(cpu_ns "$cpid")
		if [[ $(sock "$port" q) == 0 ]] && ((now - last <= 10000000)); then
			((++same >= 12)) && break
		else
			same=0
			busy_until=$EPOCHREALTIME
		fi
		last=$now
	done
	((i < 1200)) || echo "bench: $coll still busy 60 s after the load" >&2
	lag=$(awk -v a="$busy_until" -v b="$sent_at" 'BEGIN { printf "%.2f", a - b }')
	drops=$(sock "$port" d)
	local t1
	t1=$(cpu_ns "$cpid")
	w1=$(sched_wait "$cpid")
	# the collector's threads' context switches over the step
	cs=$(awk -v a="$w0" -v b="$w1" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%d", y[2] - x[2] }')
	local th1=""
	((threads)) && th1=$(threads_ns "$cpid")
	cpu=$(awk -v t="$t1" -v t0="$t0" -v d="$duration" 'BEGIN { printf "%.0f", 100 * (t - t0) / 1e9 / d }')
	stop_collector "$coll" "$dir"
	loss=$((sent - stored))
	nsf=$(awk -v t="$t1" -v t0="$t0" -v n="$stored" 'BEGIN { if (n > 0) printf "%.0f", (t - t0) / n; else print "-" }')

	local verdict=pass qo
	if ((loss != 0)); then
		verdict=FAIL
		# the last Totals line of gocapd's log (one a rotation and one at exit)
		qo=$(sed -n 's/.*Queue Overflow: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
		((${qo:-0} > 0)) && verdict="FAIL (queue overflow: $qo datagrams)"
	elif ! awk -v l="$lag" -v m="$max_lag" 'BEGIN { exit !(m <= 0 || l <= m) }'; then
		verdict="FAIL (lag)"
	fi
	if awk -v a="$achieved" -v r="$rate" 'BEGIN { exit !(a < 0.97 * r) }'; then
		verdict="FAIL (the senders reached only $achieved flows/s)"
		sender_limited=1
	fi
	printf '%-7s %-6s %10d %11d %11d %9d %6s %8s %5s%% %7s %6s %5s%% %9s  %s%s\n' "$coll" "$proto" "$rate" "$sent" "$stored" "$loss" \
		"$lag" "${drops:-?}" "$cpu" "$nsf" "$cs" "$scpu" "$rss" "$verdict" "$note"
	if ((threads)); then
		# each thread's CPU over the step, busiest first, in ms
		awk -v a="$th0" -v b="$th1" 'BEGIN {
			n = split(a, x, " "); for (i = 1; i <= n; i++) { split(x[i], kv, "="); was[kv[1]] = kv[2] }
			n = split(b, x, " "); for (i = 1; i <= n; i++) { split(x[i], kv, "="); d = kv[2] - was[kv[1]]; if (d >= 1e6) printf "%d %s\n", d / 1e6, kv[1] }
		}' | sort -rn | awk -v s="$scpu_ms" '{ line = line " " $2 " " $1 } END { printf "    threads (ms):%s; senders %s\n", line, s }'
	fi
	((rss > ${peak_rss[$coll-$proto]:-0})) && peak_rss[$coll-$proto]=$rss
	buffers[$coll]=$rb
	[[ $verdict == pass ]]
}

# attempt COLLECTOR PROTO RATE: step, tried again on failure up to TRIES.
attempt() {
	local t
	for ((t = 1; t <= tries; t++)); do
		if ((t > 1)); then
			within_budget || return 1
			step "$@" " (try $t)" && return 0
		else
			step "$@" && return 0
		fi
	done
	return 1
}

# within_budget: whether another step fits in MAX_SECONDS.
within_budget() {
	if ((SECONDS - began + duration + 10 > max_seconds)); then
		if [[ -z ${budget_said:-} ]]; then
			echo "bench: time budget of $max_seconds s reached; skipping the remaining steps" >&2
			budget_said=1
		fi
		return 1
	fi
}

# search COLLECTOR PROTO: doubling then bisection. Sets best (highest
# passing rate), best_rss and capped (1: the collector failed no rate,
# best is a lower bound).
search() {
	local coll=$1 proto=$2 rate=$start_rate lo=0 hi=0 i lo_rss=0 round top retried=" "
	sender_limited=0
	for ((round = 0; round < 4; round++)); do
		for ((i = 0; i < 40; i++)); do
			within_budget || break
			if attempt "$coll" "$proto" "$rate"; then
				lo=$rate lo_rss=$rss
				((rate < max_rate)) || break
				rate=$((2 * rate > max_rate ? max_rate : 2 * rate))
			else
				hi=$rate
				break
			fi
		done
		((sender_limited)) && break
		top=$hi
		for ((i = 0; hi > 0 && i < steps; i++)); do
			rate=$(((lo + hi) / 2 / 1000 * 1000))
			((rate > lo && rate < hi)) || break
			within_budget || break
			if attempt "$coll" "$proto" "$rate"; then
				lo=$rate lo_rss=$rss
			else
				hi=$rate
			fi
			((sender_limited)) && break
		done
		# Every bisection passed: try the rate that failed once more.
		((top > 0 && hi == top && !sender_limited)) || break
		[[ $retried != *" $top "* ]] || break
		retried+="$top "
		within_budget || break
		step "$coll" "$proto" "$top" " (failed before; tried again)" || break
		lo=$top lo_rss=$rss hi=0
		((top < max_rate)) || break
		rate=$((2 * top > max_rate ? max_rate : 2 * top))
	done
	best=$lo best_rss=$lo_rss capped=$((hi == 0 || sender_limited ? 1 : 0))
}

# drain_step COLLECTOR PROTO: the collector stopped, DRAIN_FLOWS flows
# sent into its socket as fast as nfsend goes, the collector let go and
# timed until its socket is empty and it is idle (nfsend -drain), then
# stopped and its flows counted. A row of the drain table; sets drate
# (flows/s), dnsf (CPU ns a flow) and rss; returns whether nothing was
# lost.
drain_step() {
	local coll=$1 proto=$2 dir=$run_dir/run log=$work/drain-$1-$2.log out
	rm -rf "$dir" && mkdir -p "$dir" || exit 1
	settle_disk
	((drain_rt)) && rt_pre=(chrt -f 1)
	start_collector "$coll" "$dir" "$drain_buffer" "$log"
	rt_pre=()
	rb=$(sock "$port" rb)
	local w0 w1 wr0 wr1
	w0=$(sched_wait "$cpid")
	wr0=$(disk_written)
	if ! out=$("${send_pre[@]}" "$nfsend" -H 127.0.0.1 -p "$port" -v "$proto" -c "$drain_flows" \
		-s "$streams" -n "$per" -k -drain "$cpid" 2>&1); then
		echo "bench: nfsend -drain failed: $out" >&2
		exit 1
	fi
	w1=$(sched_wait "$cpid")
	wr1=$(disk_written)
	# MB written to the run directory's disk, by every process, from
	# before the load to the end of the drain: a collector's own writes
	# (gocapd writes past the page cache, nfcapd leaves most of it to
	# the kernel's writeback) and other sessions', which slow a drain
	local wmb=-
	[[ -n $wr0 && -n $wr1 ]] && wmb=$(((wr1 - wr0) / 2048))
	# the collector's threads' time waiting for a processor (ms) and
	# their context switches over the drain (stopped while the load
	# is sent, idle for its last 0.3 s)
	local rqw cs
	read -r rqw cs < <(awk -v a="$w0" -v b="$w1" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.0f %d\n", (y[1] - x[1]) / 1e6, y[2] - x[2] }')
	local th=""
	((threads)) && th=$(threads_ns "$cpid")
	stop_collector "$coll" "$dir"
	val() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$out"; }
	sent=$(val flows) drops=$(val socket_drops)
	local queued secs cpu_ns rcv_err verdict=pass
	queued=$(val queued_bytes) secs=$(val drain_seconds) cpu_ns=$(val drain_cpu_ns) rcv_err=$(val rcvbuf_errors)
	loss=$((sent - stored))
	drate=$(awk -v n="$stored" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
	dnsf=$(awk -v t="$cpu_ns" -v n="$stored" 'BEGIN { if (n > 0) printf "%.0f", t / n; else print "-" }')
	cpu=$(awk -v t="$cpu_ns" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? 100 * t / 1e9 / s : 0) }')
	if ((loss != 0 || drops != 0)); then
		verdict="FAIL (lost $loss, the socket dropped $drops: DRAIN_FLOWS too many for -B $drain_buffer?)"
	fi
	printf '%-7s %-6s %9d %9d %6d %9d %7d %7s %8s %9d %4s%% %7s %7s %7s %7s %8s  %s\n' "$coll" "$proto" "$sent" "$stored" "$loss" \
		$((queued / 1048576)) "$drops" "$rcv_err" "$secs" "$drate" "$cpu" "$dnsf" "$rqw" "$cs" "$wmb" "$rss" "$verdict"
	if ((threads)); then
		# each thread's CPU over the collector's life, busiest first, in ms
		awk -v b="$th" 'BEGIN { n = split(b, x, " "); for (i = 1; i <= n; i++) { split(x[i], kv, "="); if (kv[2] >= 1e6) printf "%d %s\n", kv[2] / 1e6, kv[1] } }' |
			sort -rn | awk '{ line = line " " $2 " " $1 } END { printf "    threads (ms, whole life):%s\n", line }'
	fi
	[[ $verdict == pass ]]
}

declare -A peak_rss=() buffers=() result=() result_rss=() result_capped=()
echo "machine: $(nproc) cores, $(uname -r), $(awk '/MemTotal/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
echo "nfcapd:  ${bin[nfcapd]} ($("${bin[nfcapd]}" -V 2>&1 | head -n 1))"
echo "gocapd:  ${bin[gocapd]} ($("${bin[gocapd]}" -V 2>&1 | head -n 1))"
echo "load:    scripts/nfsend: $senders processes, $streams exporters on 127.0.0.1, $per flows a datagram, the template every 20 datagrams, ${duration} s a step"
echo "flags:   -b 127.0.0.1 -p PORT -w DIR -t 60 -I bench -B $buffer${extra:+ $extra} for both (net.core.rmem_max=$(cat /proc/sys/net/core/rmem_max)); DIR in $run_dir ($(stat -f -c %T "$run_dir"))"
echo "pass:    no flow lost (nfdump -R DIR -o null), idle within ${max_lag} s of the end of the load; $tries tries"
echo "cpus:    collectors on ${pin_collector:-any}, senders on ${pin_senders:-any}, nice $nice_level (autogroup: $(cat /proc/$$/autogroup 2>/dev/null || echo none))"
echo
# median VALUES...: the median of numbers.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A drained=()
if ((drain)); then
	echo "== drain: $drain_flows flows queued in a stopped collector's socket (-B $drain_buffer), then drained; $drain_pairs runs of each in turn"
	printf '%-7s %-6s %9s %9s %6s %9s %7s %7s %8s %9s %5s %7s %7s %7s %7s %8s  %s\n' collector proto sent stored lost "queued MB" k.drops rcvbufE drain/s flows/s cpu ns/flow "rq ms" "cs" "disk MB" "RSS KiB" verdict
	for proto in $protos; do
		declare -a g_rate=() n_rate=() rratios=() g_dnsf=() n_dnsf=() cratios=()
		for ((p = 0; p < drain_pairs; p++)); do
			within_budget || break
			drain_step nfcapd "$proto" || true
			n_r=$drate n_c=$dnsf
			within_budget || break
			drain_step gocapd "$proto" || true
			if ((loss == 0 && n_r > 0 && drate > 0)) && [[ $n_c =~ ^[0-9]+$ && $dnsf =~ ^[0-9]+$ ]]; then
				n_rate+=("$n_r") g_rate+=("$drate") n_dnsf+=("$n_c") g_dnsf+=("$dnsf")
				rratios+=("$(awk -v g="$drate" -v n="$n_r" 'BEGIN { printf "%.3f", g / n }')")
				cratios+=("$(awk -v g="$dnsf" -v n="$n_c" 'BEGIN { printf "%.3f", g / n }')")
			fi
		done
		if ((${#rratios[@]} > 0)); then
			drained[$proto]=$(awk -v g="$(median "${g_rate[@]}")" -v n="$(median "${n_rate[@]}")" -v r="$(median "${rratios[@]}")" \
				-v gc="$(median "${g_dnsf[@]}")" -v nc="$(median "${n_dnsf[@]}")" -v c="$(median "${cratios[@]}")" -v k="${#rratios[@]}" 'BEGIN {
				printf "gocapd %d flows/s, nfcapd %d flows/s, ratio %.2f (target >= 2: %s); CPU a flow gocapd %d ns, nfcapd %d ns, ratio %.2f (median of %d pairs)",
					g, n, r, (r >= 2 ? "met" : "NOT met"), gc, nc, c, k }')
			echo "drain $proto: ${drained[$proto]}"
		fi
		unset g_rate n_rate rratios g_dnsf n_dnsf cratios
	done
	echo
fi
if ((search_rates)); then
	printf '%-7s %-6s %10s %11s %11s %9s %6s %8s %6s %7s %6s %6s %9s  %s\n' collector proto flows/s sent stored lost lag/s k.drops cpu ns/flow cs s.cpu "RSS KiB" verdict
	for proto in $protos; do
		for coll in $collectors; do
			search "$coll" "$proto"
			result[$coll-$proto]=$best result_rss[$coll-$proto]=$best_rss result_capped[$coll-$proto]=$capped
		done
	done

	echo
	echo "socket receive buffer (ss rb): $(for c in $collectors; do printf '%s %s, ' "$c" "${buffers[$c]:-?}"; done)requested -B $buffer"
	for proto in $protos; do
		echo
		echo "== $proto"
		for coll in $collectors; do
			mark=""
			((${result_capped[$coll-$proto]:-0})) && mark=" (the collector failed no rate: a lower bound)"
			printf '%-7s highest loss-free rate %9s flows/s%s; RSS there %s KiB, peak RSS over all its steps %s KiB\n' \
				"$coll" "${result[$coll-$proto]:-0}" "$mark" "${result_rss[$coll-$proto]:-?}" "${peak_rss[$coll-$proto]:-?}"
		done
		n=${result[nfcapd-$proto]:-0} g=${result[gocapd-$proto]:-0}
		if ((n > 0 && g > 0)); then
			awk -v g="$g" -v n="$n" 'BEGIN { r = g / n; printf "ratio   gocapd/nfcapd %.2f (target >= 2: %s)\n", r, (r >= 2 ? "met" : "NOT met") }'
		fi
		if ((same_load && n > 0 && g > 0)); then
			common=$((n < g ? n : g))
			echo "same load, $common flows/s:"
			declare -A same_rss=() same_nsf=()
			for coll in $collectors; do
				within_budget || break
				attempt "$coll" "$proto" "$common" >"$work/same" || true
				sed 's/^/  /' "$work/same"
				same_rss[$coll]=$rss same_nsf[$coll]=$nsf
			done
			if [[ ${same_nsf[nfcapd]:-} =~ ^[0-9]+$ && ${same_nsf[gocapd]:-} =~ ^[0-9]+$ ]]; then
				awk -v g="${same_nsf[gocapd]}" -v n="${same_nsf[nfcapd]}" 'BEGIN { r = g / n;
					printf "CPU per flow under the same load: gocapd %d ns, nfcapd %d ns, ratio %.2f (target <= 0.6: %s)\n", g, n, r, (r <= 0.6 ? "met" : "NOT met") }'
			fi
			if [[ -n ${same_rss[nfcapd]:-} && -n ${same_rss[gocapd]:-} ]]; then
				v="NOT met"
				((same_rss[gocapd] <= same_rss[nfcapd])) && v=met
				echo "peak RSS under the same load: gocapd ${same_rss[gocapd]} KiB, nfcapd ${same_rss[nfcapd]} KiB (target gocapd no higher: $v)"
			fi
			unset same_rss same_nsf
		fi
	done
fi
declare -A cmp=()
for proto in $protos; do
	for rate in $rates; do
		within_budget || break
		echo
		echo "== $proto at $rate flows/s, $pairs runs of each in turn"
		declare -a g_nsf=() n_nsf=() ratios=() g_rss=() n_rss=() g_cs=() n_cs=()
		for ((p = 0; p < pairs; p++)); do
			within_budget || break
			step nfcapd "$proto" "$rate" >"$work/pair" || true
			sed 's/^/  /' "$work/pair"
			nfcapd_nsf=$nsf nfcapd_rss=$rss nfcapd_cs=$cs
			within_budget || break
			step gocapd "$proto" "$rate" >"$work/pair" || true
			sed 's/^/  /' "$work/pair"
			if [[ $nfcapd_nsf =~ ^[0-9]+$ && $nsf =~ ^[0-9]+$ ]]; then
				n_nsf+=("$nfcapd_nsf") g_nsf+=("$nsf") n_rss+=("$nfcapd_rss") g_rss+=("$rss") n_cs+=("$nfcapd_cs") g_cs+=("$cs")
				ratios+=("$(awk -v g="$nsf" -v n="$nfcapd_nsf" 'BEGIN { printf "%.3f", g / n }')")
			fi
		done
		if ((${#ratios[@]} > 0)); then
			r=$(median "${ratios[@]}")
			line=$(awk -v g="$(median "${g_nsf[@]}")" -v n="$(median "${n_nsf[@]}")" -v r="$r" -v k="${#ratios[@]}" \
				-v gr="$(median "${g_rss[@]}")" -v nr="$(median "${n_rss[@]}")" \
				-v gc="$(median "${g_cs[@]}")" -v nc="$(median "${n_cs[@]}")" 'BEGIN {
				printf "CPU per flow: gocapd %d ns, nfcapd %d ns, ratio %.2f (median of %d pairs; target <= 0.6: %s); peak RSS gocapd %d KiB, nfcapd %d KiB; context switches gocapd %d, nfcapd %d",
					g, n, r, k, (r <= 0.6 ? "met" : "NOT met"), gr, nr, gc, nc }')
			echo "$line"
			cmp[$proto-$rate]=$line
		fi
		unset g_nsf n_nsf ratios g_rss n_rss g_cs n_cs
	done
done
if ((${#cmp[@]} > 0)); then
	echo
	echo "== CPU per flow, paired${extra:+ (flags $extra)}"
	for proto in $protos; do
		for rate in $rates; do
			[[ -n ${cmp[$proto-$rate]:-} ]] && printf '%-6s %8s flows/s  %s\n' "$proto" "$rate" "${cmp[$proto-$rate]}"
		done
	done
fi
if ((${#drained[@]} > 0)); then
	echo
	echo "== drain (capacity: flows/s from a full socket)"
	for proto in $protos; do
		[[ -n ${drained[$proto]:-} ]] && printf '%-6s %s\n' "$proto" "${drained[$proto]}"
	done
fi
echo
echo "took $((SECONDS - began)) s"
