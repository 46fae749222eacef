#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The whole test suite, from a fresh Debian machine: installs what is
# needed, builds with -Werror, runs every test (units and integration tests
# against the real daemons), then builds again with AddressSanitizer and
# UndefinedBehaviorSanitizer and runs everything again, fuzzes the parsers
# for a bounded number of executions, then runs the cgroup v2 tests inside
# a real cgroup-v2 kernel under QEMU.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

BOXQ_WITH_VM=1 BOXQ_WITH_SLURM=1 BOXQ_WITH_BROWSER=1 scripts/install-deps.sh

echo "== build (-Wall -Wextra -Werror) and test"
scripts/build.sh build -DBOXQ_WERROR=ON
(cd build && ctest --output-on-failure --timeout 600)

echo "== build and test under AddressSanitizer + UndefinedBehaviorSanitizer"
BUILD_TYPE=Debug scripts/build.sh build-asan -DBOXQ_WERROR=ON -DBOXQ_ASAN=ON -DBOXQ_UBSAN=ON
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure --timeout 600)

echo "== fuzzing: every harness for a bounded number of executions (clang, ASan + UBSan)"
scripts/fuzz.sh "${BOXQ_FUZZ_RUNS:-1000000}"

if [ "${BOXQ_SKIP_VM:-0}" != 1 ]; then
  echo "== cgroup v2 tests in a pure cgroup-v2 kernel (QEMU)"
  tests/cgroup2/run-vm-tests.sh build
fi
echo "== all tests passed"
