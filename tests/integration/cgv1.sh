#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The v1-only backend (cgroup_mode = v1), as on machines without the v2
# tree: no clone3 into a v2 cgroup, no cgroup.kill; limits, kill and
# accounting must still hold.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
[ -d /sys/fs/cgroup/memory ] && [ -d /sys/fs/cgroup/cpu ] || skip "no cgroup v1 controllers here"
start_boxq "cgroup_mode = v1"
cd "$WORK"
H=$HELPERS

check "the worker runs the v1 backend" has "$("$BIN/qstat" -B -f)" "cgroup_backend = v1"
id=$(echo "$H/memhog 256" | submit -N oom -l mem=64mb)
wait_job "$id" 60
check "v1: memory hog is OOM-killed" test "$(jfield "$id" end_reason)" = out-of-memory
check "v1: accounted by the v1 backend" test "$(afield "$id" cgroup_backend)" = v1
id=$(echo "$H/cpuburn 2 3" | submit -N burn -l ncpus=1)
wait_job "$id" 60
cpu=$(afield "$id" cpu | tr -d s)
wall=$(afield "$id" ru_wallclock | tr -d s)
check "v1: ncpus=1 holds 2 threads to about 1 CPU ($cpu s / $wall s)" \
  awk -v c="$cpu" -v w="$wall" 'BEGIN { exit !(c / w > 0.7 && c / w < 1.15) }'
marker=$((8000 + $$ % 1000))
id=$(printf 'setsid sleep %s.5 > /dev/null 2>&1 < /dev/null &\nsleep %s.6\n' "$marker" "$marker" |
  submit -N kill -l walltime=2)
wait_job "$id" 30
check "v1: walltime ends the job" test "$(jfield "$id" end_reason)" = timeout
check "v1: nothing of it survives" no_process "sleep $marker"
left=$(ls -d /sys/fs/cgroup/*/"$CG_PARENT"/job-* 2>/dev/null | wc -l)
check "v1: no job cgroup left ($left)" test "$left" -eq 0
check "v1: nothing in the v2 tree either" test ! -e "/sys/fs/cgroup/unified/$CG_PARENT"

finish
