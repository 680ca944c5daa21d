#!/usr/bin/env bash
# godump against nfdump 1.7.1 with filters, on the archive of godump.sh (at
# least 10 million generated flows in several LZ4 files). Five filters: one
# primitive; a 5-term and/or/not; ip in [ ] of 1000 addresses; a net list of
# 100 prefixes; a 20-term expression; each with -o null and with
# -s srcip/bytes. For each it prints the wall time of both, the ratio
# godump/nfdump (target <= 0.5), the CPU time (user + system) of both and
# its ratio, and the peak RSS of both (target: godump's no higher). As in
# godump.sh, the two run in turn, RUNS times each, their wall times taken
# with nanosecond clocks (/usr/bin/time's %e counts in 10 ms steps, 2% of
# a 0.45 s run), and beside the ratio of the best runs stands the median
# of the runs' ratios, which a neighbour's burst moves less. On a busy
# machine the wall times say more about the neighbours than about the
# programs; the CPU ratio stays put. Set FLOWS and FILES to change the
# archive, RUNS for the repetitions, BENCH_DIR to keep the archive between
# runs (the same directory godump.sh uses).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin"
export TZ=UTC

flows=${FLOWS:-10000000}
files=${FILES:-10}
runs=${RUNS:-3}
[[ -x bin/godump ]] || make -s build
command -v nfdump >/dev/null || { echo "bench: nfdump is missing (make deps)" >&2; exit 1; }

work=${BENCH_DIR:-$(mktemp -d)}
[[ -n ${BENCH_DIR:-} ]] || trap 'rm -rf "$work"' EXIT
archive=$work/archive
mkdir -p "$archive"
go build -o "$work/nfgen" ./scripts/nfgen
per=$((flows / files))
for ((i = 0; i < files; i++)); do
	name=$(date -u -d "2026-11-24 21:00 UTC + $((i * 5)) min" +nfcapd.%Y%m%d%H%M)
	[[ -s $archive/$name ]] && continue
	start=$(date -u -d "2026-11-24 21:00 UTC + $((i * 5)) min" +%Y-%m-%dT%H:%M:%SZ)
	"$work/nfgen" -n "$per" -z lz4 -seed $((i + 1)) -start "$start" -I bench -o "$archive/$name"
done
echo "archive: $(ls "$archive" | wc -l) LZ4 files, $flows flows, $(du -sh "$archive" | cut -f1)"

# The filters, in files both programs read with -f. The generator's
# addresses are 10.0-3.0-63.x inside and random ones outside.
filters=$work/filters
mkdir -p "$filters"
# The same five as internal/flowgen.BenchFilters, which the Go benchmarks run.
echo 'proto tcp' >"$filters/1-primitive"
echo 'proto tcp and (dst port 80 or dst port 443) and not src net 10.0.0.0/8 or proto udp' >"$filters/2-five-terms"
awk 'BEGIN { printf "ip in ["; for (i = 0; i < 1000; i++) printf " 10.%d.%d.%d", int(i / 250) % 4, i % 64, 1 + (i * 7) % 250; print " ]" }' >"$filters/3-ip-list-1000"
awk 'BEGIN { for (i = 0; i < 100; i++) printf "%snet %d.%d.0.0/16", (i ? " or " : ""), 20 + i, (i * 37) % 256; print "" }' >"$filters/4-net-list-100"
cat >"$filters/5-twenty-terms" <<'FILTER'
(proto tcp and (dst port 80 or dst port 443) and flags A and not flags R)
or (proto udp and (dst port 53 or src port 53) and packets < 10)
or (src net 10.0.0.0/16 and dst net 10.1.0.0/16 and bytes > 10k)
or (ipv6 and not proto icmp and tos 184 and duration > 1000)
or (in if 3 and out if 4 and next ip 10.0.0.254 and bpp > 500)
FILTER

# once CMD...: the wall seconds (nanosecond clocks around /usr/bin/time),
# the peak RSS (KiB) and the CPU seconds (user + system) of one run.
once() {
	local t0 t1 sec kib usr sys
	t0=$(date +%s%N)
	/usr/bin/time -f '%e %M %U %S' -o "$work/time" "$@" >/dev/null 2>"$work/err" || {
		echo "bench: $* failed:" >&2; cat "$work/err" >&2; exit 1; }
	t1=$(date +%s%N)
	read -r sec kib usr sys <"$work/time"
	awk -v a="$t0" -v b="$t1" -v k="$kib" -v u="$usr" -v s="$sys" \
		'BEGIN { printf "%.3f %s %.2f\n", (b - a) / 1e9, k, u + s }'
}

# measure ARGS...: RUNS runs of nfdump and godump with ARGS, in turn, so
# that both see the same load; prints for each its best wall seconds with
# the peak RSS and the CPU seconds of that run, then the median of the
# runs' ratios godump/nfdump.
measure() {
	local r med
	for ((r = 0; r < runs; r++)); do
		echo "$(once nfdump "$@") $(once bin/godump "$@")"
	done >"$work/runs"
	med=$(awk '{ printf "%.6f\n", ($1 > 0 ? $4 / $1 : 0) }' "$work/runs" | sort -g |
		awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
	echo "$(sort -g -k1,1 "$work/runs" | head -n 1 | cut -d' ' -f1-3) $(sort -g -k4,4 "$work/runs" | head -n 1 | cut -d' ' -f4-6) $med"
}

ratio() { awk -v g="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.2f", g / n; else print "n/a" }'; }

# The first rows, without a filter, are the floor the filtered reads
# stand on: a filter lets godump skip decoding (and, for -s, counting) the
# flows that fail it, but every record is still decompressed and its
# layout checked.
printf '\n%10s %10s %6s %6s %10s %10s %6s %12s %12s  %s\n' nfdump godump ratio median "nfdump CPU" "godump CPU" ratio "nfdump RSS" "godump RSS" job
for f in none "$filters"/*; do
	for job in "-o null" "-s srcip/bytes"; do
		sel=(-f "$f") what="$job -f $(basename "$f")"
		[[ $f == none ]] && sel=() what="$job (no filter)"
		# shellcheck disable=SC2086 # a job is a list of words
		read -r nt nr nc gt gr gc med < <(measure -R "$archive" $job "${sel[@]}")
		printf '%9ss %9ss %6s %6s %9ss %9ss %6s %8s KiB %8s KiB  %s\n' "$nt" "$gt" "$(ratio "$gt" "$nt")" "$med" \
			"$nc" "$gc" "$(ratio "$gc" "$nc")" "$nr" "$gr" "$what"
	done
done
