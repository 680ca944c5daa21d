#!/usr/bin/env bash
# Checks `make install` into a scratch DESTDIR: the three binaries run and
# print their version, and the man pages land where man finds them.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
make -s install DESTDIR="$dest" PREFIX=/usr >/dev/null
for cmd in goprobe gocapd godump; do
	"$dest/usr/bin/$cmd" -V | grep -q "^$cmd: Version: " || { echo "check-install: $cmd -V failed" >&2; exit 1; }
	[[ -s $dest/usr/share/man/man1/$cmd.1 ]] || { echo "check-install: $cmd.1 not installed" >&2; exit 1; }
done
echo "check-install: make install puts 3 binaries and 3 man pages under DESTDIR/PREFIX"
