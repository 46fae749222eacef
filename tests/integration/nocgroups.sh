#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Without usable cgroups the worker refuses to start, unless the
# configuration explicitly allows jobs without limits; then every job's
# record says so.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
notcg=$(mktemp -d /var/tmp/boxq-notcg.XXXXXX)
trap 'rm -rf "$notcg"' EXIT
start_boxq "cgroup_mount = $notcg" "allow_no_cgroups = true"
trap 'stop_boxq; rm -rf "$notcg"' EXIT
cd "$WORK"

# The same configuration without allow_no_cgroups: refused, clearly.
sed 's/^allow_no_cgroups = true$//' "$BOXQ_CONFIG" > "$T/strict.ini"
sed -i "s|^state_dir = .*|state_dir = $T/strict|" "$T/strict.ini"
out=$(timeout 10 "$BUILD/worker/boxq-worker" -c "$T/strict.ini" 2>&1)
rc=$?
check "without cgroups the worker refuses to start" test "$rc" -ne 0 -a "$rc" -ne 124
check "and says why and how to override" has "$out" "no usable cgroups.*allow_no_cgroups"
check "the worker said it runs without limits" grep -q "WITHOUT cpu, memory or process limits" "$T/worker.log"

id=$(echo "$HELPERS/cpuburn 1 1; echo pid=\$\$" | submit -N unlimited -l mem=64mb)
wait_job "$id"
check "the job still ran, in its own PID namespace" grep -qx "pid=2" "$WORK/unlimited.o$id"
check "its record says it ran without limits" has "$(jfield "$id" comment)" "without cgroup limits"
check "qacct names no cgroup backend" test "$(afield "$id" cgroup_backend)" = none
cpu=$(afield "$id" cpu | tr -d s)
check "CPU time still accounted, from rusage ($cpu s)" awk -v c="$cpu" 'BEGIN { exit !(c > 0.8) }'

finish
