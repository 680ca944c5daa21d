#!/usr/bin/env bash
# godump against nfdump 1.7.1 on the same generated archive: at least 10
# million flows in several LZ4 files. For each job it prints the wall time
# of both, the ratio godump/nfdump (target <= 0.7) and the peak RSS of both
# (target: godump's no higher). Set FLOWS and FILES to change the archive,
# RUNS for the repetitions (the best run counts), JOBS for other jobs
# (options separated by ';'). Beyond the issue's four jobs the defaults
# time the lab's -B -s command and an -A aggregation.
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

# measure CMD...: best wall seconds and the peak RSS (KiB) of that run.
measure() {
	local best="" rss=""
	for ((r = 0; r < runs; r++)); do
		/usr/bin/time -f '%e %M' -o "$work/time" "$@" >/dev/null 2>"$work/err" || {
			echo "bench: $* failed:" >&2; cat "$work/err" >&2; exit 1; }
		read -r sec kib <"$work/time"
		if [[ -z $best ]] || awk -v a="$sec" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$sec rss=$kib
		fi
	done
	echo "$best $rss"
}

printf '\n%10s %10s %8s %12s %12s  %s\n' nfdump godump ratio "nfdump RSS" "godump RSS" job
IFS=';' read -r -a jobs <<<"${JOBS:-"-o csv;-o line;-I;-o null;-B -s srcip/bytes -s dstip/bytes -s proto/bytes -n 10;-A srcip4/24,dstport -o null"}"
for job in "${jobs[@]}"; do
	read -r nt nr < <(measure nfdump -R "$archive" $job)
	read -r gt gr < <(measure bin/godump -R "$archive" $job)
	ratio=$(awk -v g="$gt" -v n="$nt" 'BEGIN { if (n > 0) printf "%.2f", g / n; else print "n/a" }')
	printf '%9ss %9ss %8s %8s KiB %8s KiB  %s\n' "$nt" "$gt" "$ratio" "$nr" "$gr" "-R archive $job"
done
