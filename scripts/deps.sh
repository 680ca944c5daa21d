#!/usr/bin/env bash
# Installs what the build and the tests need, when it is missing: the real
# nfdump/nfcapd, softflowd, fprobe and tshark used as oracles, libpcap for
# goprobe, mandoc for the man-page checks, systemd-analyze for the unit
# checks, lintian for the package check, ping for the demo's live part.
# Idempotent and non-interactive; needs root (or sudo) only when something
# is missing.
set -euo pipefail

# Debian package for each command (or file) the project needs.
declare -A want=(
	[nfdump]=nfdump [nfcapd]=nfdump [nfreplay]=nfdump
	[softflowd]=softflowd [fprobe]=fprobe [tshark]=tshark
	[mandoc]=mandoc [gcc]=gcc [readelf]=binutils [strace]=strace [/usr/bin/time]=time [ip]=iproute2 [ping]=iputils-ping [python3]=python3-minimal
	[/usr/include/pcap/pcap.h]=libpcap-dev
	[systemd-analyze]=systemd [/bin/kill]=procps [lintian]=lintian [adduser]=adduser
)

missing=()
for what in "${!want[@]}"; do
	if [[ $what == /* ]]; then
		[[ -e $what ]] && continue
	elif PATH="$PATH:/usr/sbin:/sbin" command -v "$what" >/dev/null 2>&1; then
		continue
	fi
	missing+=("${want[$what]}")
done

if ((${#missing[@]} == 0)); then
	echo "deps: everything is installed"
	exit 0
fi

mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "deps: installing ${pkgs[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
	command -v sudo >/dev/null || { echo "deps: need root to install ${pkgs[*]}" >&2; exit 1; }
	sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# The packages' own services must not start on this machine: the tests run
# the tools themselves, on loopback ports of their choosing.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
	printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
	$sudo chmod +x "$policy"
	created_policy=1
fi
trap '[[ $created_policy == 1 ]] && $sudo rm -f "$policy"' EXIT
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
echo "deps: done"
