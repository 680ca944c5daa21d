#!/usr/bin/env bash
# Checks `make install` and `make uninstall` in a scratch DESTDIR: the three
# binaries run and print their version, the man pages land where man finds
# them, the units and /etc/default files are in place with the install's
# paths, an admin's /etc/default file is neither overwritten nor removed,
# and uninstall leaves no file behind.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
fail() { echo "check-install: $*" >&2; exit 1; }

make -s install DESTDIR="$dest" PREFIX=/usr >/dev/null
# goprobe's page is in section 8, where fprobe's is.
for page in goprobe.8 gocapd.1 godump.1; do
	cmd=${page%.*} section=${page##*.}
	"$dest/usr/bin/$cmd" -V | grep -q "^$cmd: Version: " || fail "$cmd -V failed"
	[[ -s $dest/usr/share/man/man$section/$page ]] || fail "$page not installed in man$section"
done
for u in gocapd.service gocapd@.service goprobe.service; do
	f=$dest/usr/lib/systemd/system/$u
	[[ -s $f ]] || fail "$u not installed"
	grep -q '^ExecStart=/usr/bin/go' "$f" || fail "$u: ExecStart does not run /usr/bin/..."
	! grep -q '@[A-Z]*@' "$f" || fail "$u: a placeholder is left"
done
for d in gocapd goprobe; do
	cmp -s "packaging/default/$d" "$dest/etc/default/$d" || fail "/etc/default/$d not installed"
done
[[ -s $dest/usr/lib/sysusers.d/nftools.conf ]] || fail "sysusers.d/nftools.conf not installed"

# An admin's setting survives a second install and the uninstall.
echo 'OPTIONS="-w /srv/flows -p 9995"' >"$dest/etc/default/gocapd"
make -s install DESTDIR="$dest" PREFIX=/usr >/dev/null
grep -q /srv/flows "$dest/etc/default/gocapd" || fail "install overwrote an existing /etc/default/gocapd"
make -s uninstall DESTDIR="$dest" PREFIX=/usr >/dev/null
grep -q /srv/flows "$dest/etc/default/gocapd" || fail "uninstall removed a changed /etc/default/gocapd"
rm "$dest/etc/default/gocapd"
left=$(find "$dest" -type f)
[[ -z $left ]] || fail "uninstall left $left"
echo "check-install: make install puts 3 binaries, 3 man pages, 3 units and 2 default files under DESTDIR/PREFIX; uninstall takes them away and keeps an admin's"
