#!/usr/bin/env bash
# The demo: the longest real path that exists today. The flow-file layer
# copies a file written by the real nfcapd 1.7.1 and writes a generated
# hour of flows, in every compression nfdump 1.7.1 knows; the real nfdump
# verifies each file and prints it. When gocapd and godump land, this
# becomes the home lab: gocapd receiving, godump reading.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
export TZ=UTC

samples=../shared/testdata/nfcapd-1.7.1
sample=$samples/flows/2026/11/24/nfcapd.202611242140
[[ -f $sample ]] || { echo "demo: $sample is missing (the shared folder must lie beside the repository)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/nfgen" ./scripts/nfgen

step() { printf '\n==> %s\n' "$*"; }

step "our tools"
bin/godump -V
bin/gocapd -V
bin/goprobe -V

step "copy a file of the real nfcapd 1.7.1 with our reader and writer, in every compression"
for z in none lzo bz2 lz4; do
	"$work/nfgen" -copy "$sample" -z "$z" -o "$work/copy-$z"
	nfdump -v "$work/copy-$z" | grep -E '^(Version|Data blks)'
	# The copy must print exactly what the original prints.
	diff <(nfdump -r "$sample" -o extended | grep -v '^Sys:') \
	     <(nfdump -r "$work/copy-$z" -o extended | grep -v '^Sys:') >/dev/null
	echo "    nfdump -o extended of the $z copy is identical to the original"
done

step "write 200000 generated flows with LZ4 and let the real nfdump read them"
"$work/nfgen" -n 200000 -z lz4 -I demo -o "$work/nfcapd.202611242140"
nfdump -v "$work/nfcapd.202611242140" | grep -E '^(Version|Data blks|Records)'
nfdump -r "$work/nfcapd.202611242140" -I | head -4
nfdump -r "$work/nfcapd.202611242140" -o extended -c 8 | grep -v '^Sys:'

step "the top talkers of the generated file, as nfdump sees them"
nfdump -q -r "$work/nfcapd.202611242140" -s srcip/bytes -n 5

echo
echo "demo: done"
