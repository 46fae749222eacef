#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fuzz.sh [RUNS]: builds the libFuzzer harnesses with clang (ASan + UBSan)
# and runs each for RUNS executions (default 200000) from its seed corpus.
# New inputs go to a scratch directory, never into the repository. Any
# crash, leak or sanitizer report fails the run and leaves the input in
# build-fuzz/artifacts/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-200000}
cd "$top"
command -v clang > /dev/null || { echo "fuzz.sh: clang is missing (scripts/install-deps.sh)" >&2; exit 1; }
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DBOXQ_FUZZ=ON -DBOXQ_WERROR=ON > /dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzz_proto fuzz_qsub fuzz_res fuzz_cfg > /dev/null
mkdir -p build-fuzz/artifacts
for f in proto qsub res cfg; do
  work=$(mktemp -d)
  start=$(date +%s)
  if ! build-fuzz/tests/fuzz_$f -runs="$runs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=build-fuzz/artifacts/$f- "$work" "tests/fuzz/corpus/$f" > "build-fuzz/fuzz_$f.log" 2>&1; then
    tail -n 40 "build-fuzz/fuzz_$f.log"
    echo "fuzz_$f: FAILED (input in build-fuzz/artifacts/)"
    rm -rf "$work"
    exit 1
  fi
  execs=$(grep -Eo 'Done [0-9]+ runs' "build-fuzz/fuzz_$f.log" | grep -Eo '[0-9]+' || echo "$runs")
  cov=$(grep -Eo 'cov: [0-9]+' "build-fuzz/fuzz_$f.log" | tail -1 | grep -Eo '[0-9]+' || echo '?')
  echo "fuzz_$f: $execs executions in $(($(date +%s) - start)) s, coverage $cov edges, 0 crashes"
  rm -rf "$work"
done
