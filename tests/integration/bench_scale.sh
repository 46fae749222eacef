#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/scale.sh's workloads are right (timing is never asserted), small:
# 16 CPUs of 5 made-up users, 40 running, 20 for latency, 4 submitters.
# It fails by itself if a wide job never starts, fair share does not hold,
# or a submitted job does not run exactly once.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
command -v sqlite3 > /dev/null || skip "sqlite3 (the CLI) is missing"
command -v setpriv > /dev/null || skip "setpriv (util-linux) is missing"
ls /usr/lib/*/libnss_wrapper.so > /dev/null 2>&1 || skip "libnss_wrapper (libnss-wrapper) is missing"
if ldd "$BUILD/worker/boxq-worker" 2> /dev/null | grep -q libasan; then
  skip "nss_wrapper loads libc with RTLD_DEEPBIND in the shepherds, which AddressSanitizer refuses; the plain build runs this"
fi
OUT=$(mktemp -d /var/tmp/boxq-it.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
T=$OUT
SMALL=1 bash "$(dirname "$0")/../../bench/scale.sh" "$BUILD" > "$T/scale" 2> "$T/scale.err"
rc=$?
cat "$T/scale"
check "bench/scale.sh succeeds (fair share held, every job ran once)" test "$rc" = 0
[ "$rc" = 0 ] || tail -20 "$T/scale.err"
check "  the wide box's last start" grep -qE "^wide: 16 jobs of 5 users released, last start +[0-9.]+ ms" "$T/scale"
check "  the full passes' p50 and p99" grep -qE "^wide: full pass p99 \(over [0-9]+ passes\) +[0-9.]+ ms" "$T/scale"
check "  the next wave from the lighter users" grep -qE "^wide: next 16 starts from the lighter users +16 of 16" "$T/scale"
check "  memory per running job" grep -qE "^running 40: PSS per job .* [0-9]+ KiB +512 KiB" "$T/scale"
check "  the daemons' CPU while jobs run" grep -qE "^running 40: boxqd \+ worker CPU, 3 s +[0-9.]+ %" "$T/scale"
check "  latency beside the floor's" grep -qE "^latency, qsub to first command, p50 \(20 jobs\) +[0-9.]+ ms +[0-9.]+ ms" "$T/scale"
check "  concurrent submitters against one" grep -qE "^submitters: 4 x 20 at once, jobs/s +[0-9]+ +[0-9]+" "$T/scale"
check "no cgroup of the scale benchmark is left" sh -c "! ls -d /sys/fs/cgroup/*/boxq-scale-* /sys/fs/cgroup/boxq-scale-* 2>/dev/null | grep -q ."
T=$OUT/none # finish looks for daemon logs in $T; this test starts none itself
finish
