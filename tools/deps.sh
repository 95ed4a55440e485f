#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Install every Debian package that xlb's build, tests and demo need.
# Idempotent: installs only what is missing.  Run as root (make deps).
set -euo pipefail

PKGS=(
	# build
	make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config
	linux-libc-dev libjansson-dev libsystemd-dev libcurl4-openssl-dev libmicrohttpd-dev
	# tests
	libcmocka-dev python3 python3-scapy iproute2 ethtool procps util-linux iputils-ping
	curl prometheus openssl
	# sanitizer runtimes for the userspace tests
	libasan8 libubsan1
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#PKGS[@]} packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing ${missing[*]}; run 'make deps' as root" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Packages with a service (prometheus) must not start it: the tests run
# their own instance, and in a container the start fails and fails the
# install.  A policy-rc.d of our own, unless one is already there.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# xlb deps.sh: no service starts during the install\nexit 101\n' >"$policy"
	chmod 0755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Where a service manager runs, the package enabled and may have started
# one: xlb needs only the binaries.
if [ -d /run/systemd/system ] && systemctl is-active -q prometheus 2>/dev/null; then
	systemctl stop prometheus || true
fi
