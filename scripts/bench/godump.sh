#!/usr/bin/env bash
# godump against nfdump 1.7.1 on the same generated archives, one of each
# shape (scripts/nfgen -shape): home, a few hundred hosts on a few
# services, and border, an edge router's mix of 24 exporters, about 200 k
# hosts (IPv4 and IPv6) and 50 k ports, where aggregation and statistics
# tables hold hundreds of thousands of rows. Each archive has FLOWS flows
# in FILES LZ4 files. For each job and shape it prints the wall time of
# both (the best of RUNS, to the millisecond, the two run in turn), the
# ratio godump/nfdump of the best runs (target <= 0.5), the median of
# the ratios of the runs taken in turn with their range (lowest-highest:
# on the shared machine a row's median moved 0.36-0.68 between sessions),
# the median of the ratios of their CPU times (user + system, which other
# work on the machine moves less than wall time), and the peak RSS of both
# (target: godump's no higher, apart from the Go runtime's few MB).
#
# Tune with environment variables:
#   FLOWS=10000000  flows in each archive
#   FILES=10        files in each archive
#   SHAPES="home border"
#   RUNS=3          runs of each command; the best counts
#   JOBS=...        other jobs: option sets separated by ';'
#   BENCH_DIR=dir   keep the archives there (generated once, reused)
#   NFDUMP=path     what runs in nfdump's place (default nfdump), e.g.
#                   another godump build, to compare two builds the same way
#   GODUMP=path     what runs as godump (default bin/godump)
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin"
export TZ=UTC

flows=${FLOWS:-10000000}
files=${FILES:-10}
runs=${RUNS:-3}
shapes=${SHAPES:-"home border"}
nfdump_cmd=${NFDUMP:-nfdump}
godump_cmd=${GODUMP:-bin/godump}
[[ -n ${GODUMP:-} || -x bin/godump ]] || make -s build
command -v "$nfdump_cmd" >/dev/null || { echo "bench: $nfdump_cmd is missing (make deps)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "bench: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }

work=${BENCH_DIR:-$(mktemp -d)}
[[ -n ${BENCH_DIR:-} ]] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
go build -o "$work/nfgen" ./scripts/nfgen

# archive SHAPE: generates the archive of a shape (unless there) and
# prints its directory. A partly written file is removed and made again.
archive() {
	local dir=$work/$1-$flows-$files per=$((flows / files)) i name start
	mkdir -p "$dir"
	for ((i = 0; i < files; i++)); do
		name=$(date -u -d "2026-11-24 21:00 UTC + $((i * 5)) min" +nfcapd.%Y%m%d%H%M)
		[[ -s $dir/$name ]] && continue
		start=$(date -u -d "2026-11-24 21:00 UTC + $((i * 5)) min" +%Y-%m-%dT%H:%M:%SZ)
		"$work/nfgen" -shape "$1" -n "$per" -z lz4 -seed $((i + 1)) -start "$start" -I bench -o "$dir/$name.tmp" >&2
		mv "$dir/$name.tmp" "$dir/$name"
	done
	echo "$dir"
}

# once CMD...: the wall seconds, the peak RSS (KiB) and the CPU seconds
# (user + system, in time's 10 ms steps) of one run. The wall time is
# taken around /usr/bin/time with nanosecond clocks, as time's own %e
# counts in 10 ms steps: -o null and -s on 2 M flows take 60-200 ms,
# where a step is a twentieth of the ratio.
once() {
	local kib user sys t0 t1
	t0=$(date +%s%N)
	/usr/bin/time -f '%M %U %S' -o "$work/time" "$@" >/dev/null 2>"$work/err" || {
		echo "bench: $* failed:" >&2; cat "$work/err" >&2; exit 1; }
	t1=$(date +%s%N)
	read -r kib user sys <"$work/time"
	awk -v a="$t0" -v b="$t1" -v k="$kib" -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f %s %.2f\n", (b - a) / 1e9, k, u + s }'
}

# median: the median of the numbers on stdin, one a line.
median() {
	sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# measure ARGS...: RUNS runs of nfdump and godump with ARGS, in turn, so
# that both see the same load; prints the best wall seconds of each with
# the peak RSS of that run, the median of the runs' ratios godump/nfdump,
# which on a shared machine moves less than the ratio of the best runs,
# their range, and the median of the runs' ratios of CPU time.
measure() {
	local r nt nr nc gt gr gc med range cpu
	for ((r = 0; r < runs; r++)); do
		read -r nt nr nc < <(once "$nfdump_cmd" "$@")
		read -r gt gr gc < <(once "$godump_cmd" "$@")
		echo "$nt $nr $gt $gr $nc $gc"
	done >"$work/runs"
	med=$(awk '{ printf "%.6f\n", ($1 > 0 ? $3 / $1 : 0) }' "$work/runs" | median)
	range=$(awk '{ r = $1 > 0 ? $3 / $1 : 0; if (NR == 1 || r < lo) lo = r; if (NR == 1 || r > hi) hi = r }
		END { printf "%.2f-%.2f", lo, hi }' "$work/runs")
	cpu=$(awk '{ printf "%.6f\n", ($5 > 0 ? $6 / $5 : 0) }' "$work/runs" | median)
	read -r nt nr < <(sort -g -k1,1 "$work/runs" | head -n 1 | cut -d' ' -f1,2)
	read -r gt gr < <(sort -g -k3,3 "$work/runs" | head -n 1 | cut -d' ' -f3,4)
	echo "$nt $nr $gt $gr $med $range $cpu"
}

declare -A dirs
for shape in $shapes; do
	dirs[$shape]=$(archive "$shape")
	echo "$shape archive: $files LZ4 files, $flows flows, $(du -shL "${dirs[$shape]}" | cut -f1)"
done

default_jobs="-o csv;-o line;-o json;-o null;-I;-s srcip/bytes -n 10"
default_jobs+=";-B -s srcip/bytes -s dstip/bytes -s proto/bytes -n 10"
default_jobs+=";-a;-A srcip,dstport;-A srcip,dstport -O bytes -n 20;-B"
# The same top list over the TCP flows only: aggregation behind a filter
# (both tools take the filter's words as separate arguments).
default_jobs+=";-A srcip,dstport -O bytes -n 20 proto tcp"
IFS=';' read -r -a jobs <<<"${JOBS:-$default_jobs}"
printf '\n%-7s %10s %10s %8s %8s %10s %8s %12s %12s  %s\n' shape nfdump godump ratio median range "CPU med" "nfdump RSS" "godump RSS" job
for job in "${jobs[@]}"; do
	for shape in $shapes; do
		# shellcheck disable=SC2086 # a job is a list of words
		read -r nt nr gt gr med range cpu < <(measure -R "${dirs[$shape]}" $job)
		ratio=$(awk -v g="$gt" -v n="$nt" 'BEGIN { if (n > 0) printf "%.2f", g / n; else print "n/a" }')
		printf '%-7s %9ss %9ss %8s %8s %10s %8s %8s KiB %8s KiB  %s\n' "$shape" "$nt" "$gt" "$ratio" "$med" "$range" "$cpu" "$nr" "$gr" "-R archive $job"
	done
done
