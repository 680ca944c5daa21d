#!/usr/bin/env bash
# godump against nfdump 1.7.1 on a small archive, where every command is
# start-up and fixed costs: the lab's commands (README) on the sample
# archive nfcapd 1.7.1 wrote (../shared/testdata/nfcapd-1.7.1/flows, a
# home network's few thousand flows in one-minute files, stored plain as
# nfcapd stores them) and on one file of it.
#
# Each command runs under `perf stat -r REPEAT -e task-clock`, godump and
# nfdump in turn, ROUNDS times, so that both see the machine as it is in
# the same moments. Prints, per command, the medians over the rounds of
# the processor time (task-clock, ms) and the wall time (ms) of a run of
# each, and of the ratios godump/nfdump of the rounds (target <= 1). The
# processor time is the figure to trust on a shared machine; the wall time
# is also a start's waiting (threads, the scheduler).
#
# Tune with environment variables:
#   ROUNDS=10     rounds, each a perf stat of each tool
#   REPEAT=20     runs of a command in each perf stat
#   FLOWS_DIR=dir another archive of small files
#   GODUMP=path   another godump binary (default bin/godump, built if missing)
#   JOBS=...      other jobs: option sets separated by ';', where @ is the
#                 -R directory or the -r file
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin"
export TZ=UTC LC_ALL=C

rounds=${ROUNDS:-10}
repeat=${REPEAT:-20}
dir=${FLOWS_DIR:-../shared/testdata/nfcapd-1.7.1/flows}
godump=${GODUMP:-bin/godump}
[[ -n ${GODUMP:-} || -x bin/godump ]] || make -s build
for tool in nfdump perf python3; do
	command -v $tool >/dev/null || { echo "bench: $tool is missing" >&2; exit 1; }
done
[[ -d $dir ]] || { echo "bench: no archive at $dir" >&2; exit 1; }
file=$(find "$dir" -type f -name 'nfcapd.*' | sort | tail -n 1)
[[ -n $file ]] || { echo "bench: no nfcapd.* file under $dir" >&2; exit 1; }

jobs=${JOBS:-"-R @ -I;-B -R @ -o extended;-B -R @ -s srcip/bytes -s dstip/bytes -s proto/bytes -n 10;-R @ -s srcip/bytes -n 10;-R @ -o line;-r @ -o line;-r @ -s srcip/bytes -n 10"}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# stat CMD...: one perf stat of CMD; prints "cpu-ms wall-ms" per run.
stat() {
	perf stat -x, -r "$repeat" -e task-clock,duration_time "$@" 2>"$work/perf" >/dev/null ||
		{ echo "bench: $* failed:" >&2; cat "$work/perf" >&2; exit 1; }
	awk -F, '/task-clock/ { c = $1 } /duration_time/ { w = $1 / 1e6 } END { print c, w }' "$work/perf"
}

echo "load: $(cut -d' ' -f1-3 /proc/loadavg); $rounds rounds of perf stat -r $repeat of each tool"
printf '%-58s %9s %9s %6s   %9s %9s %6s\n' command "nfdump" "godump" ratio "nfdump" "godump" ratio
printf '%-58s %9s %9s %6s   %9s %9s %6s\n' "" "CPU ms" "CPU ms" "" "wall ms" "wall ms" ""
IFS=';' read -ra list <<<"$jobs"
for job in "${list[@]}"; do
	case $job in
	*"-r @"*) args=${job//@/$file} ;;
	*) args=${job//@/$dir} ;;
	esac
	# shellcheck disable=SC2086 # the options are words
	for ((i = 0; i < rounds; i++)); do
		echo "$(stat nfdump $args) $(stat "$godump" $args)"
	done >"$work/rounds"
	python3 - "$job" "$work/rounds" <<'EOF'
import statistics as st, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[2]) if l.strip()]
med = lambda xs: st.median(xs)
nc, nw, gc, gw = (med([r[i] for r in rows]) for i in range(4))
rc = med([r[2] / r[0] for r in rows])
rw = med([r[3] / r[1] for r in rows])
print("%-58s %9.2f %9.2f %6.2f   %9.2f %9.2f %6.2f" % (sys.argv[1], nc, gc, rc, nw, gw, rw))
EOF
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
