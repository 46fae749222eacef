#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# build.sh [BUILD_DIR] [cmake options...]: configures and builds boxq.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build}
shift || true
cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@" > /dev/null
cmake --build "$dir" -j "$(nproc)"
