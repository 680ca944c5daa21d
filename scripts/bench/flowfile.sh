#!/usr/bin/env bash
# Reading and writing speed of the flow-file layer, against the targets of
# the foundation issue: reading an LZ4 file of 1M records at >= 10 million
# records/s per core with no allocation per record, writing LZ4 at >= 5
# million records/s. Prints the raw benchmark lines, then the figures.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin"

out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -run '^$' -bench 'Read|Write|DecodeV3' -benchmem -benchtime "${BENCHTIME:-5x}" -cpu 1,2 ./flowfile | tee "$out"

# metric NAME UNIT: the value printed before UNIT on the benchmark's line.
metric() {
	awk -v name="$1" -v unit="$2" '$1 == name { for (i = 2; i <= NF; i++) if ($i == unit) print $(i-1) }' "$out"
}
read1=$(metric BenchmarkReadLZ4 records/s)
read2=$(metric BenchmarkReadLZ4-2 records/s)
allocs=$(metric BenchmarkReadLZ4 allocs/op)
write2=$(metric BenchmarkWriteLZ4-2 records/s)
echo
printf 'read LZ4, 1 core:       %12.0f records/s  (target >= 10000000 per core)\n' "$read1"
printf 'read LZ4, 2 cores:      %12.0f records/s\n' "$read2"
printf 'allocations per record: %12.6f            (%s allocs for 1000000 records)\n' "$(awk -v a="$allocs" 'BEGIN { print a / 1000000 }')" "$allocs"
printf 'write LZ4, 2 cores:     %12.0f records/s  (target >= 5000000)\n' "$write2"
