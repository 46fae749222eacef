#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The benchmark's workloads are right (timing is never asserted): bench/
# run.sh, small, must finish with every boxq job run exactly once and
# accounted, the floor program's jobs all succeeding, and one table.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
command -v sqlite3 > /dev/null || skip "sqlite3 (the CLI) is missing"
OUT=$(mktemp -d /var/tmp/boxq-it.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
T=$OUT
SMALL=1 bash "$(dirname "$0")/../../bench/run.sh" "$BUILD" > "$T/out" 2> "$T/err"
rc=$?
cat "$T/out"
check "bench/run.sh succeeds (every job ran once and was accounted)" test "$rc" = 0
[ "$rc" = 0 ] || tail -20 "$T/err"
check "it prints the floor" grep -q "^floor: 40 jobs" "$T/out"
check "  boxq held/released with a ratio to it" grep -qE "^boxq: 40 held, then released +[0-9]+ jobs/s +[0-9.]+ ms +[0-9.]+" "$T/out"
check "  an array of tasks released" grep -qE "^boxq: one 40-task array, released +[0-9]+ jobs/s" "$T/out"
check "  qsub latency" grep -qE "^qsub latency p50 .* ms" "$T/out"
check "  the array" grep -qE "^qsub -J 1-1000 \(one call\) +[0-9.]+ s" "$T/out"
check "  the scheduling pass" grep -qE "^scheduling pass, 2000 queued jobs +[0-9.]+ ms" "$T/out"
check "  one finished job at scale" grep -qE "^qstat -x -f of one of 20000 finished +[0-9.]+ ms" "$T/out"
check "  qstat at scale" grep -qE "^qstat, 10000 queued \+ 20000 finished +[0-9.]+ ms" "$T/out"
check "  boxq-web's pages at scale" grep -qE "^boxq-web /, 10000 queued \+ 20000 finished +[0-9.]+ ms" "$T/out"
check "  and its history" grep -qE "^boxq-web /history over them +[0-9.]+ ms" "$T/out"
check "  the idle daemons' wakeups" grep -qE "^idle 5 s: boxqd wakeups +[0-9]+ +5 +[0-9.]+" "$T/out"
check "  and the worker's" grep -qE "^idle 5 s: worker \+ shepherds wakeups +[0-9]+ +5 +[0-9.]+" "$T/out"
check "no cgroup of the benchmark is left" sh -c "! ls -d /sys/fs/cgroup/*/boxq-bench-* /sys/fs/cgroup/boxq-bench-* 2>/dev/null | grep -q ."
T=$OUT/none # finish looks for daemon logs in $T; this test starts none itself
finish
