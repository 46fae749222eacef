#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what boxq needs to build and test, from Debian's packages.
# Safe to run again: it installs only what is missing.
set -euo pipefail

packages=(build-essential cmake pkg-config libsqlite3-dev libuv1-dev libinih-dev libcmocka-dev
          util-linux procps iproute2 sqlite3 jq curl clang libclang-rt-14-dev
          snakemake toil tzdata python3 python3-drmaa gridengine-drmaa-dev
          libnss-wrapper # bench/scale.sh's made-up users
          libmicrohttpd-dev) # boxq-web
[ "${BOXQ_WITH_VM:-0}" = 1 ] && packages+=(qemu-system-x86 zstd xz-utils cpio)
# boxq-web's tests: a real browser, a real Prometheus parser.
[ "${BOXQ_WITH_BROWSER:-0}" = 1 ] &&
  packages+=(chromium chromium-driver python3-selenium python3-prometheus-client)
# The test suite compares boxq's Slurm commands with real Slurm (a private
# slurmctld it starts): only for the tests, never on a box running boxq.
[ "${BOXQ_WITH_SLURM:-0}" = 1 ] && packages+=(slurmctld slurm-client)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: everything is installed"
  exit 0
fi
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
