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
id=$(printf 'setsid %s 81.5 > /dev/null 2>&1 < /dev/null &\n%s 81.6\n' "$TSLEEP" "$TSLEEP" |
  submit -N kill -l walltime=2)
wait_job "$id" 30
check "v1: walltime ends the job" test "$(jfield "$id" end_reason)" = timeout
check "v1: nothing of it survives" no_process "$TSLEEP 81"
# A cgroup of the next job's name, left by a run that died with its machine
# and with a process still in it: the job empties it, replaces it, and
# records only its own use.
held=$(echo true | submit -h -N probe)
next=$((held + 1))
stale=/sys/fs/cgroup/memory/$CG_JOBS/job-$next
mkdir "$stale"
"$TSLEEP" 91.7 &
spid=$!
echo "$spid" > "$stale/cgroup.procs"
id=$(echo "$H/memhog 8" | submit -N fresh -l mem=256mb)
check "v1: the next job takes the id of the stale cgroup" test "$id" = "$next"
wait_job "$id" 30
check "v1: it completes in place of the stale cgroup" test "$(jfield "$id" end_reason)" = completed
wait "$spid" 2> /dev/null
check "v1: what the stale cgroup held was killed" no_process "$TSLEEP 91"
peak=$("$BIN/qacct" -j "$id" | awk '$1 == "mem_peak" { print $2 }')
check "v1: its peak memory is its 8 MiB and a little ($peak bytes)" \
  test "$peak" -ge 8388608 -a "$peak" -lt 33554432
"$BIN/qdel" "$held" > /dev/null
check "v1: no job cgroup left" eventually sh -c "! ls -d /sys/fs/cgroup/*/$CG_JOBS/job-* 2>/dev/null | grep -q ."
check "v1: nothing in the v2 tree either" test ! -e "/sys/fs/cgroup/unified/$CG_PARENT"

finish
