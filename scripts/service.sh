#!/usr/bin/env bash
# Installs (or uninstalls) what runs gocapd and goprobe as services: the
# systemd units from packaging/systemd (with the install's paths filled in), the
# /etc/default files and the sysusers.d entry of their system user.
#
#   scripts/service.sh install|uninstall
#   scripts/service.sh render DIR    (only the units, into DIR)
#
# Reads DESTDIR, BINDIR, SYSCONFDIR, UNITDIR and SYSUSERSDIR from the
# environment (the Makefile passes its own). An existing /etc/default file
# is never overwritten, and uninstall removes one only while it is still
# the file this project ships: an admin's settings stay. Without DESTDIR,
# install also creates the user with systemd-sysusers where it exists.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DESTDIR:=}"
: "${BINDIR:?}" "${SYSCONFDIR:?}"
units=(gocapd.service gocapd@.service goprobe.service)
defaults=(gocapd goprobe)

# render writes a unit template with this install's paths.
render() {
	sed -e "s|@BINDIR@|$BINDIR|g" -e "s|@SYSCONFDIR@|$SYSCONFDIR|g" "$1"
}

# render_units writes every unit into the directory $1.
render_units() {
	install -d "$1"
	for u in "${units[@]}"; do
		render "packaging/systemd/$u.in" >"$1/$u"
		chmod 0644 "$1/$u"
	done
}

case ${1:-} in
render)
	render_units "${2:?usage: $0 render DIR}"
	;;
install)
	: "${UNITDIR:?}" "${SYSUSERSDIR:?}"
	install -d "$DESTDIR$SYSCONFDIR/default" "$DESTDIR$SYSUSERSDIR"
	render_units "$DESTDIR$UNITDIR"
	for d in "${defaults[@]}"; do
		target=$DESTDIR$SYSCONFDIR/default/$d
		if [[ -e $target ]]; then
			echo "service.sh: keeping the existing $target"
		else
			install -m 0644 "packaging/default/$d" "$target"
		fi
	done
	install -m 0644 packaging/sysusers.d/nftools.conf "$DESTDIR$SYSUSERSDIR/nftools.conf"
	if [[ -z $DESTDIR ]] && command -v systemd-sysusers >/dev/null; then
		systemd-sysusers "$SYSUSERSDIR/nftools.conf"
	fi
	if [[ -z $DESTDIR && -d /run/systemd/system ]]; then
		systemctl daemon-reload
	fi
	;;
uninstall)
	: "${UNITDIR:?}" "${SYSUSERSDIR:?}"
	for u in "${units[@]}"; do
		rm -f "$DESTDIR$UNITDIR/$u"
	done
	for d in "${defaults[@]}"; do
		target=$DESTDIR$SYSCONFDIR/default/$d
		if [[ -e $target ]] && ! cmp -s "packaging/default/$d" "$target"; then
			echo "service.sh: keeping $target, changed since it was installed"
		else
			rm -f "$target"
		fi
	done
	rm -f "$DESTDIR$SYSUSERSDIR/nftools.conf"
	;;
*)
	echo "usage: $0 install|uninstall" >&2
	exit 2
	;;
esac
